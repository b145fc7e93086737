// Static memory planning: places every intermediate buffer of an ordered execution at an
// offset in one arena, so that buffers alive at the same time never share bytes while
// buffers with disjoint lifetimes reuse the same memory.
//
// Strategy: greedy placement, each buffer into the smallest gap (best fit) between the
// already placed buffers whose lifetimes overlap its own, or after all of them if no gap
// is large enough. Three orders are tried and the smallest arena kept: largest first
// (TFLite's "greedy by size"), first use first, and longest-lived first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dnnf {

constexpr size_t kArenaAlignment = 64;  // every offset is a multiple of this (cache lines, AVX-512)

struct BufferLifetime {
  int64_t id = 0;          // caller's name for the buffer; not interpreted
  size_t bytes = 0;
  int64_t first_step = 0;  // first and last step (inclusive) at which the buffer is live
  int64_t last_step = 0;
};

// A buffer that may take the bytes of another one in place: the kernel writing `output`
// reads each element of `input` before writing the element of `output` at the same
// index, and reads no other element of it (an element-wise stage). Indices into the
// buffers given to plan_memory.
struct InPlace {
  size_t output = 0;
  size_t input = 0;
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // offsets[i] belongs to buffers[i] of the input
  size_t arena_bytes = 0;       // the arena to allocate (a multiple of kArenaAlignment)
  size_t total_bytes = 0;       // sum of the aligned buffer sizes: the arena without reuse
  size_t in_place = 0;          // outputs placed on their input's bytes
  // How many times smaller the arena is than one allocation per buffer (>= 1).
  double reuse_ratio() const { return arena_bytes ? double(total_bytes) / double(arena_bytes) : 1.0; }
};

// Throws dnnf::Error if a buffer's last_step precedes its first_step.
// `in_place`: an output shares its input's bytes when the input's last step is the
// output's first step (the input dies where the output is written; an input that an
// earlier output already took counts with that output's lifetime) and both have the same
// aligned size. Otherwise the pair is ignored. A buffer shared this way has the offset of
// the buffer whose bytes it took.
MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers, const std::vector<InPlace>& in_place = {});

// Throws dnnf::Error when the arena plus the weights a plan keeps (initializers, folded
// constants) are over the limit plan-memory (core/util/limits.h); `what` names the plan.
void check_plan_memory(size_t arena_bytes, size_t weight_bytes, const std::string& what);

}  // namespace dnnf
