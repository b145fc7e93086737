// Heap blocks handed to generated kernels as opaque "packed" handles (packed GEMM B,
// packed convolution weights). One allocation: a header saying what it holds, then
// 64-byte aligned floats. All kinds are freed by dnnf_release_packed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dnnf_kernels {

// conv_winograd: the transformed weights of a Winograd convolution (conv2d_winograd.cpp).
enum class PackedKind : uint32_t { gemm_b = 1, conv_weight = 2, gemm_a = 3, conv_winograd = 4, conv_pointwise_t = 5 };

struct PackedHeader {
  uint32_t magic;
  PackedKind kind;
  int64_t dims[6];  // kind-specific geometry, checked when the block is used
  int64_t floats;   // size of data()
  float* data() { return reinterpret_cast<float*>(reinterpret_cast<char*>(this) + kDataOffset); }
  const float* data() const {
    return reinterpret_cast<const float*>(reinterpret_cast<const char*>(this) + kDataOffset);
  }
  static constexpr size_t kDataOffset = 128;
};

// A zero-filled block for `floats` floats; throws std::bad_alloc when out of memory.
PackedHeader* allocate_packed(PackedKind kind, int64_t floats);

// The header of a handle from allocate_packed; throws std::invalid_argument when `p`
// is not such a block or holds another kind.
const PackedHeader* packed_header(const void* p, PackedKind kind);

// Whether `p` is a block from allocate_packed holding `kind`.
bool packed_is(const void* p, PackedKind kind);

void free_packed(void* p);

}  // namespace dnnf_kernels
