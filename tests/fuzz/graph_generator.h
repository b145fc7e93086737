// A structured generator of valid-but-odd graphs for the fuzzers of the graph passes:
// the fuzz bytes choose operators from the op registry, their inputs (graph inputs of
// odd shapes with size-0 and size-1 dims, constants, earlier values reused), odd
// attributes (negative, huge, empty, NaN) and outputs. Every node is kept only if dnnf's
// own shape function accepts it, so the result imports like a model a user could hand
// over, and whatever a later pass does with it is the pass's responsibility.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include "core/ir/graph.h"

namespace dnnf::fuzz {

// At most `max_nodes` nodes. Never throws dnnf::Error (rejected nodes are dropped).
Model generate_model(FuzzedDataProvider& in, int max_nodes = 24);

}  // namespace dnnf::fuzz
