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

namespace {

// The orders place() tries; the plan keeps the smallest arena (ties: the earliest order).
// Largest first is TFLite's "greedy by size"; it leaves holes when large buffers with
// staggered lifetimes come first (EfficientNet-B0's fused plan: 4.01 MB against 3.21 MB
// alive at its busiest step), which placing in order of first use, or longest-lived
// first, fills.
enum class PlaceOrder { BySize, ByFirstUse, ByLifetime };

// Greedy over buffers that never share bytes while alive together, in `how` order.
MemoryPlan place(const std::vector<BufferLifetime>& buffers, PlaceOrder how) {
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

  // Ties by size, then first use, then input order, so plans are deterministic.
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  auto span = [&](size_t i) { return buffers[i].last_step - buffers[i].first_step; };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (how == PlaceOrder::ByFirstUse && buffers[a].first_step != buffers[b].first_step)
      return buffers[a].first_step < buffers[b].first_step;
    if (how == PlaceOrder::ByLifetime && span(a) != span(b)) return span(a) > span(b);
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

MemoryPlan place(const std::vector<BufferLifetime>& buffers) {
  MemoryPlan best = place(buffers, PlaceOrder::BySize);
  for (PlaceOrder how : {PlaceOrder::ByFirstUse, PlaceOrder::ByLifetime}) {
    MemoryPlan p = place(buffers, how);
    if (p.arena_bytes < best.arena_bytes) best = std::move(p);
  }
  return best;
}

}  // namespace

MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers, const std::vector<InPlace>& in_place) {
  for (const BufferLifetime& b : buffers)
    check(b.first_step <= b.last_step, "buffer ", b.id, " ends (step ", b.last_step, ") before it starts (step ",
          b.first_step, ")");
  if (in_place.empty()) return place(buffers);
  // Group each output with the buffer whose bytes it takes; a group is one buffer for the
  // placement, alive from its first member's first step to its last member's last step.
  std::vector<size_t> root(buffers.size());
  std::iota(root.begin(), root.end(), size_t{0});
  std::vector<int64_t> last(buffers.size());
  std::vector<bool> grouped(buffers.size(), false);  // in a group of two or more
  for (size_t i = 0; i < buffers.size(); ++i) last[i] = buffers[i].last_step;
  std::vector<InPlace> order = in_place;  // by the step writing the output: chains form in run order
  std::stable_sort(order.begin(), order.end(), [&](const InPlace& a, const InPlace& b) {
    return buffers.at(a.output).first_step < buffers.at(b.output).first_step;
  });
  size_t shared = 0;
  for (const InPlace& p : order) {
    const size_t in = root.at(p.input), out = p.output;
    if (out == p.input || grouped[out] || in == out) continue;
    const BufferLifetime& o = buffers[out];
    if (last[in] != o.first_step || buffers[in].first_step >= o.first_step) continue;  // input alive after
    if (align_up(buffers[in].bytes) != align_up(o.bytes)) continue;
    root[out] = in;
    grouped[out] = grouped[in] = true;
    last[in] = std::max(last[in], o.last_step);
    ++shared;
  }
  std::vector<BufferLifetime> groups;
  std::vector<size_t> group_of(buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i)
    if (root[i] == i) {
      group_of[i] = groups.size();
      groups.push_back({buffers[i].id, buffers[i].bytes, buffers[i].first_step, last[i]});
    }
  MemoryPlan g = place(groups);
  MemoryPlan plan;
  plan.offsets.resize(buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i) {
    plan.offsets[i] = g.offsets[group_of[root[i]]];
    plan.total_bytes += align_up(buffers[i].bytes);
  }
  plan.arena_bytes = g.arena_bytes;
  plan.in_place = shared;
  return plan;
}

void check_plan_memory(size_t arena_bytes, size_t weight_bytes, const std::string& what) {
  const size_t total = arena_bytes + weight_bytes;
  if (total > size_t(limits().plan_memory))
    limit_exceeded("plan-memory", what + " needs " + std::to_string(total) + " bytes (arena " +
                                      std::to_string(arena_bytes) + " + weights " + std::to_string(weight_bytes) + ")");
}

}  // namespace dnnf
