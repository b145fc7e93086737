// Many-to-Many + Many-to-Many pairs that the C++ kernels run one group at a time, so the
// tensor between them is never in memory whole (the table breaks such pairs; the planner
// joins their blocks after growth, see Planner::chain_blocks):
//   - a depthwise Conv per channel group of the pointwise Conv feeding it (channel_chain.h);
//   - a MatMul per column block of the MatMul feeding it (matmul_chain.h);
//   - an Attention per head of the projections feeding it (head_chain.h).
#pragma once

#include <cstdint>
#include <string>

#include "core/ir/graph.h"

namespace dnnf::codegen {

// Why the target runs `consumer` chained to `producer` (for the journal), or "" when it
// does not.
std::string chain_reason(const Graph& graph, const Node& producer, const Node& consumer);

// Group size for `count` units of `unit_floats` floats each: as many units as keep a
// group within `budget_bytes`, at least `minimum`; the groups balanced (144 channels at
// 56 x 56: six of 24, not 120 and 24) and rounded up to a multiple of 8.
int64_t balanced_group(int64_t count, int64_t unit_floats, int64_t budget_bytes, int64_t minimum);

}  // namespace dnnf::codegen
