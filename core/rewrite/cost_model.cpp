#include "core/rewrite/cost_model.h"

#include "core/ir/op_registry.h"

namespace dnnf::rewrite {

namespace {
std::vector<TensorType> types(const std::vector<std::string>& names,
                              const std::function<const TensorType*(const std::string&)>& type_of) {
  std::vector<TensorType> out;
  out.reserve(names.size());
  for (const std::string& n : names) {
    const TensorType* t = n.empty() ? nullptr : type_of(n);
    out.push_back(t ? *t : TensorType());
  }
  return out;
}
}  // namespace

CostSnapshot nodes_cost(const std::vector<const Node*>& nodes,
                        const std::function<const TensorType*(const std::string&)>& type_of) {
  CostSnapshot c;
  const OpRegistry& registry = OpRegistry::instance();
  for (const Node* n : nodes) {
    const OpCost oc = registry.cost_of(*n, types(n->inputs, type_of), types(n->outputs, type_of));
    c.nodes += 1;
    // Constant nodes are data: they cost a node but no arithmetic or traffic.
    if (n->op_type == "Constant") continue;
    c.flops += oc.flops;
    c.bytes += oc.bytes;
  }
  return c;
}

CostSnapshot node_cost(const Graph& graph, const Node& node) {
  return nodes_cost({&node}, [&](const std::string& v) { return graph.type_of(v); });
}

CostSnapshot graph_cost(const Graph& graph) {
  std::vector<const Node*> all;
  all.reserve(graph.nodes.size());
  for (const Node& n : graph.nodes) all.push_back(&n);
  return nodes_cost(all, [&](const std::string& v) { return graph.type_of(v); });
}

bool cheaper(const CostSnapshot& after, const CostSnapshot& before) {
  // Relative epsilon so that float noise in FLOP sums does not decide.
  const double eps = 1e-9 * std::max(1.0, before.flops);
  if (after.flops < before.flops - eps) return true;
  if (after.flops > before.flops + eps) return false;
  if (after.nodes != before.nodes) return after.nodes < before.nodes;
  return after.bytes < before.bytes - 1e-9 * std::max(1.0, before.bytes);
}

}  // namespace dnnf::rewrite
