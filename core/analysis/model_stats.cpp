#include "core/analysis/model_stats.h"

#include "core/ir/op_registry.h"

namespace dnnf {

namespace {
}  // namespace

ModelStats compute_model_stats(const Model& model) {
  const Graph& g = model.graph;
  const OpRegistry& registry = OpRegistry::instance();
  ModelStats s;
  s.node_count = g.nodes.size();
  s.node_count_recursive = count_nodes_recursive(g);
  s.opsets = g.opsets;
  s.ir_version = model.ir_version;
  for (const auto& [name, t] : g.initializers) s.parameter_count += t.numel();
  for (const Node& n : g.nodes) {
    ++s.op_histogram[n.op_type];
    const auto in = g.types_of(n.inputs);
    const auto out = g.types_of(n.outputs);
    ++s.mapping_histogram[mapping_type_name(registry.mapping_of(n, in, out))];
    if (n.op_type == "Constant")
      if (const Attribute* a = n.attr("value"); a && a->kind == Attribute::Kind::Tensor)
        s.parameter_count += a->t.numel();
    bool all_static = true;
    for (const TensorType& t : out)
      if (!t.is_static() && t.dtype != DType::Undefined) all_static = false;
    if (!all_static) ++s.nodes_without_static_cost;
    s.flops += registry.cost_of(n, in, out).flops;
  }
  return s;
}

}  // namespace dnnf
