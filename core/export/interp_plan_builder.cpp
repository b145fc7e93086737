#include "core/export/interp_plan_builder.h"

#include "core/util/error.h"

namespace dnnf::exporter {

InterpPlanBuilder::InterpPlanBuilder(const Graph& graph, const std::map<std::string, Tensor>& constants,
                                     WeightsWriter& weights, std::string weight_prefix)
    : g_(graph), constants_(constants), weights_(weights), prefix_(std::move(weight_prefix)) {
  plan_.graph.name = graph.name;
  plan_.graph.opsets = graph.opsets;
}

void InterpPlanBuilder::note_read(const std::string& v, const Node& reader) {
  if (v.empty() || computed_.count(v) || known_.count(v)) return;
  known_[v] = true;
  const Tensor* c = nullptr;
  if (auto it = g_.initializers.find(v); it != g_.initializers.end()) c = &it->second;
  else if (auto it2 = constants_.find(v); it2 != constants_.end()) c = &it2->second;
  if (c) {
    check(c->dtype() != DType::String, reader.label(), " reads string constant '", v,
          "', which a bundle cannot carry");
    dnnf_bundle::InterpWeight w;
    w.name = v;
    w.dtype = c->dtype();
    w.shape = c->shape();
    w.offset = weights_.add(prefix_ + v, *c);
    plan_.weights.push_back(std::move(w));
    return;
  }
  const TensorType* t = g_.type_of(v);
  check(t && t->is_static() && t->dtype != DType::String && t->dtype != DType::Undefined, reader.label(),
        " reads '", v, "' (", t ? t->str() : std::string("no type"),
        ") from generated code or the model's inputs, which needs a fixed shape and a numeric type");
  plan_.imports.push_back({v, t->dtype, *t->static_shape()});
}

size_t InterpPlanBuilder::add_step(const std::vector<NodeId>& nodes) {
  std::vector<uint32_t> indexes;
  for (NodeId id : nodes) {
    const Node* n = g_.find_node(id);
    check(n != nullptr, "interpreted step: node #", id, " is not in the graph");
    for (const std::string& v : node_reads(*n)) note_read(v, *n);
    auto note_type = [&](const std::string& v) {
      if (const TensorType* t = v.empty() ? nullptr : g_.type_of(v)) plan_.graph.value_types[v] = *t;
    };
    for (const std::string& v : n->inputs) note_type(v);
    for (const std::string& v : n->outputs) {
      note_type(v);
      if (!v.empty()) computed_[v] = true;
    }
    indexes.push_back(uint32_t(plan_.graph.nodes.size()));
    plan_.graph.nodes.push_back(*n);
    plan_.graph.reserve_ids_past(n->id);
  }
  plan_.steps.push_back(std::move(indexes));
  return plan_.steps.size() - 1;
}

dnnf_bundle::InterpPlan InterpPlanBuilder::finish() const {
  dnnf_bundle::InterpPlan p = plan_;
  p.weights_bytes = weights_.bytes().size();
  return p;
}

}  // namespace dnnf::exporter
