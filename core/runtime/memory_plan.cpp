#include "core/runtime/memory_plan.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "core/util/error.h"
#include "core/util/limits.h"

namespace dnnf {

namespace {

size_t align_up(size_t bytes) { return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

bool lifetimes_overlap(const BufferLifetime& a, const BufferLifetime& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

}  // namespace

MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers) {
  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  std::vector<size_t> sizes(buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i) {
    const BufferLifetime& b = buffers[i];
    check(b.first_step <= b.last_step, "buffer ", b.id, " ends (step ", b.last_step, ") before it starts (step ",
          b.first_step, ")");
    sizes[i] = align_up(b.bytes);
    plan.total_bytes += sizes[i];
  }

  // Largest first; ties by first use then input order, so plans are deterministic.
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (sizes[a] != sizes[b]) return sizes[a] > sizes[b];
    return buffers[a].first_step < buffers[b].first_step;
  });

  std::vector<size_t> placed;     // indices in placement order
  std::vector<size_t> neighbors;  // placed buffers live at the same time as the current one
  for (size_t i : order) {
    if (sizes[i] == 0) continue;  // occupies nothing; offset 0
    neighbors.clear();
    for (size_t j : placed)
      if (lifetimes_overlap(buffers[i], buffers[j])) neighbors.push_back(j);
    std::sort(neighbors.begin(), neighbors.end(),
              [&](size_t a, size_t b) { return plan.offsets[a] < plan.offsets[b]; });

    // Walk the gaps between neighbors in address order; keep the smallest that fits.
    size_t best_offset = 0, best_gap = std::numeric_limits<size_t>::max();
    size_t gap_start = 0;
    for (size_t j : neighbors) {
      if (plan.offsets[j] >= gap_start) {
        size_t gap = plan.offsets[j] - gap_start;
        if (gap >= sizes[i] && gap < best_gap) {
          best_gap = gap;
          best_offset = gap_start;
        }
      }
      gap_start = std::max(gap_start, plan.offsets[j] + sizes[j]);
    }
    plan.offsets[i] = best_gap != std::numeric_limits<size_t>::max() ? best_offset : gap_start;
    plan.arena_bytes = std::max(plan.arena_bytes, plan.offsets[i] + sizes[i]);
    placed.push_back(i);
  }
  return plan;
}

void check_plan_memory(size_t arena_bytes, size_t weight_bytes, const std::string& what) {
  const size_t total = arena_bytes + weight_bytes;
  if (total > size_t(limits().plan_memory))
    limit_exceeded("plan-memory", what + " needs " + std::to_string(total) + " bytes (arena " +
                                      std::to_string(arena_bytes) + " + weights " + std::to_string(weight_bytes) + ")");
}

}  // namespace dnnf
