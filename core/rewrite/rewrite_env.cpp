#include "core/rewrite/rewrite_env.h"

namespace dnnf::rewrite {

RewriteEnv::RewriteEnv(const Graph& graph) : graph_(graph) {
  for (const Node& n : graph.nodes) {
    for (const std::string& o : n.outputs)
      if (!o.empty()) producer_[o] = &n;
    for (const std::string& in : node_reads(n)) {
      auto& list = consumers_[in];
      if (list.empty() || list.back() != &n) list.push_back(&n);
    }
    if (n.op_type == "Constant" && n.outputs.size() == 1) {
      if (const Attribute* a = n.attr("value"); a && a->kind == Attribute::Kind::Tensor)
        constant_nodes_[n.outputs[0]] = a->t;
    }
  }
  for (const ValueInfo& v : graph.outputs) outputs_[v.name] = true;
}

const Node* RewriteEnv::producer(const std::string& value) const {
  auto it = producer_.find(value);
  return it == producer_.end() ? nullptr : it->second;
}

const std::vector<const Node*>& RewriteEnv::consumers(const std::string& value) const {
  static const std::vector<const Node*> none;
  auto it = consumers_.find(value);
  return it == consumers_.end() ? none : it->second;
}

size_t RewriteEnv::uses(const std::string& value) const {
  return consumers(value).size() + (is_graph_output(value) ? 1 : 0);
}

const Tensor* RewriteEnv::constant(const std::string& value) const {
  auto it = graph_.initializers.find(value);
  if (it != graph_.initializers.end()) return &it->second;
  auto jt = constant_nodes_.find(value);
  return jt == constant_nodes_.end() ? nullptr : &jt->second;
}

std::optional<Shape> RewriteEnv::shape(const std::string& value) const {
  const TensorType* t = type(value);
  return t ? t->static_shape() : std::nullopt;
}

const MathProps* RewriteEnv::props(const Node& node) const {
  const OpInfo* row = OpRegistry::instance().find_any(node.domain, node.op_type);
  return row ? &row->props : nullptr;
}

std::optional<double> splat_value(const Tensor& t) {
  if (t.numel() == 0 || t.dtype() == DType::String) return std::nullopt;
  const double v = t.get_f64(0);
  for (int64_t i = 1; i < t.numel(); ++i)
    if (t.get_f64(i) != v) return std::nullopt;
  return v;
}

bool is_splat(const Tensor& t, double v) {
  auto s = splat_value(t);
  return s && *s == v;
}

}  // namespace dnnf::rewrite
