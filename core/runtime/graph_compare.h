// Runs two graphs that should compute the same function on the same seeded random
// inputs and compares their outputs (used by `dnnf optimize --verify` and the tests).
#pragma once

#include <cstdint>

#include "core/ir/graph.h"
#include "core/runtime/compare.h"

namespace dnnf {

// Inputs are made for `reference` and bound by name in `candidate`; outputs are
// compared by position. The result names the first output that differs; its
// max_rel_error is the largest over all outputs.
CompareResult compare_graph_outputs(const Graph& reference, const Graph& candidate, const Tolerance& tol,
                                    uint64_t seed = 42);

}  // namespace dnnf
