#include "core/rewrite/rules/rule_helpers.h"

#include <cstring>

namespace dnnf::rewrite {

std::vector<Tensor> evaluate_node(const Graph& graph, const Node& node, const std::vector<const Tensor*>& inputs) {
  const OpInfo& row = OpRegistry::instance().lookup(node, graph);
  KernelContext ctx{node, graph.opset(node.domain == "ai.onnx" ? "" : node.domain), inputs, {}};
  if (ctx.opset == 0) ctx.opset = 21;
  return row.kernel(ctx);
}

Rewrite bypass(const Node& node, const std::string& replacement, const std::string& reason) {
  Rewrite rw;
  rw.root = node.id;
  rw.matched = {node.id};
  rw.replace.emplace_back(node.outputs[0], replacement);
  rw.reason = reason;
  return rw;
}

bool same_tensor(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  if (a.dtype() == DType::String) return a.strings() == b.strings();
  return a.nbytes() == b.nbytes() && (a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

bool same_attribute(const Attribute& a, const Attribute& b) {
  if (a.kind != b.kind) return false;
  using K = Attribute::Kind;
  switch (a.kind) {
    case K::Float: return a.f == b.f;
    case K::Int: return a.i == b.i;
    case K::String: return a.s == b.s;
    case K::Tensor: return same_tensor(a.t, b.t);
    case K::Floats: return a.floats == b.floats;
    case K::Ints: return a.ints == b.ints;
    case K::Strings: return a.strings == b.strings;
    case K::Tensors:
      if (a.tensors.size() != b.tensors.size()) return false;
      for (size_t i = 0; i < a.tensors.size(); ++i)
        if (!same_tensor(a.tensors[i], b.tensors[i])) return false;
      return true;
    case K::Graph:
    case K::Graphs:
      return false;  // subgraphs are never considered equal
  }
  return false;
}

bool only_first_output_used(const RewriteEnv& env, const Node& n) {
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (!n.outputs[i].empty() && env.uses(n.outputs[i]) > 0) return false;
  return true;
}

}  // namespace dnnf::rewrite
