#include "core/runtime/load_time_values.h"

#include "core/fusion/fusion_plan.h"

namespace dnnf {

TensorMap compute_load_time_values(const Graph& g) {
  TensorMap values;
  const std::vector<bool> load_time = fusion::load_time_nodes(g);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (!load_time[i]) continue;
    const Node& n = g.nodes[i];
    std::vector<Tensor> out = run_node(g, n, [&](const std::string& v) -> const Tensor* {
      if (auto it = values.find(v); it != values.end()) return &it->second;
      if (auto it = g.initializers.find(v); it != g.initializers.end()) return &it->second;
      return nullptr;
    });
    for (size_t k = 0; k < n.outputs.size(); ++k)
      if (!n.outputs[k].empty()) values[n.outputs[k]] = std::move(out[k]);
  }
  return values;
}

}  // namespace dnnf
