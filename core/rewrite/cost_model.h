// The rewrite cost model: FLOPs first, then operator count, then bytes moved.
#pragma once

#include <vector>

#include "core/journal/journal.h"

namespace dnnf::rewrite {

// Cost of one node from the registry's cost function and the graph's value types.
CostSnapshot node_cost(const Graph& graph, const Node& node);
CostSnapshot graph_cost(const Graph& graph);
// Strictly cheaper: fewer FLOPs, else fewer nodes, else fewer bytes.
bool cheaper(const CostSnapshot& after, const CostSnapshot& before);
// Sum of node costs with types looked up through `type_of`.
CostSnapshot nodes_cost(const std::vector<const Node*>& nodes,
                        const std::function<const TensorType*(const std::string&)>& type_of);

}  // namespace dnnf::rewrite
