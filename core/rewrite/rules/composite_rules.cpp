// Composite-operator recognition: decomposed LayerNorm, RMSNorm, GELU, SiLU, HardSwish,
// Mish, Softmax and scaled-dot-product attention, as PyTorch and TF exporters write
// them, become one node of the "dnnf" domain (core/ops/composite_ops.cpp), so that
// fusion planning sees one operator per composite. The rules live in
// composite_norm.cpp, composite_activation.cpp and composite_attention.cpp; this file
// holds their shared helpers.
#include <algorithm>
#include <unordered_set>

#include "core/rewrite/rules/composite_common.h"

namespace dnnf::rewrite {

namespace composite {

void NodeSet::add(const Node* n) {
  if (!n || has(n->id)) return;
  ids.push_back(n->id);
  nodes.push_back(n);
}

void NodeSet::add_all(const NodeSet& other) {
  for (const Node* n : other.nodes) add(n);
}

bool NodeSet::has(NodeId id) const { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

namespace {
bool onnx_domain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }
}  // namespace

std::string skip_noop_casts(const RewriteEnv& env, std::string v, NodeSet* seen) {
  for (int guard = 0; guard < 16; ++guard) {
    const Node* n = env.producer(v);
    if (!n || n->op_type != "Cast" || !onnx_domain(*n) || !n->has_input(0) || n->outputs.empty() ||
        n->outputs[0] != v)
      break;
    const TensorType* in = env.type(n->inputs[0]);
    const TensorType* out = env.type(v);
    if (!in || !out || in->dtype != out->dtype || in->dtype == DType::Undefined) break;
    if (seen) seen->add(n);
    v = n->inputs[0];
  }
  return v;
}

const Node* producer_of(const RewriteEnv& env, const std::string& v, const char* op, NodeSet* seen) {
  NodeSet casts;
  const std::string src = skip_noop_casts(env, v, &casts);
  const Node* n = env.producer(src);
  if (!n || n->op_type != op || !onnx_domain(*n) || n->outputs.empty() || n->outputs[0] != src) return nullptr;
  if (seen) seen->add_all(casts);
  return n;
}

std::optional<std::vector<int64_t>> reduce_axes(const RewriteEnv& env, const Node& n) {
  if (n.attr_int("noop_with_empty_axes", 0) != 0) return std::nullopt;
  if (n.has_input(1)) {
    const Tensor* t = env.constant(n.inputs[1]);
    if (!t || t->numel() == 0) return std::nullopt;
    return t->to_i64_vector();
  }
  if (n.inputs.size() > 2) return std::nullopt;
  std::vector<int64_t> axes = n.attr_ints("axes");
  if (axes.empty()) return std::nullopt;
  return axes;
}

bool keeps_dims(const Node& n) { return n.attr_int("keepdims", 1) != 0; }

std::optional<int64_t> trailing_axis(std::vector<int64_t> axes, int64_t rank) {
  if (axes.empty()) return std::nullopt;
  for (int64_t& a : axes) {
    if (rank >= 0) {
      if (a < -rank || a >= rank) return std::nullopt;
      if (a >= 0) a -= rank;
    } else if (a >= 0) {
      return std::nullopt;  // a positive axis is trailing only for a known rank
    }
  }
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) return std::nullopt;
  const int64_t k = int64_t(axes.size());
  for (int64_t i = 0; i < k; ++i)
    if (axes[size_t(i)] != i - k) return std::nullopt;
  return -k;
}

int64_t rank_of(const RewriteEnv& env, const std::string& v) {
  const TensorType* t = env.type(v);
  return t && t->has_shape ? t->rank() : -1;
}

bool is_float_value(const RewriteEnv& env, const std::string& v) {
  const TensorType* t = env.type(v);
  return t && dtype_is_float(t->dtype);
}

std::optional<double> scalar_constant(const RewriteEnv& env, const std::string& v, int64_t max_rank) {
  const Tensor* t = env.constant(v);
  if (!t || t->numel() != 1 || t->dtype() == DType::String) return std::nullopt;
  if (max_rank >= 0 && t->rank() > max_rank) return std::nullopt;
  return t->get_f64(0);
}

bool is_suffix_shape(const Shape& p, const TensorType& x, int64_t axis) {
  const int64_t pr = int64_t(p.size());
  if (!x.has_shape) return pr == 0;  // only a scalar is safe against an unknown rank
  if (pr > x.rank() || axis >= 0 || -axis > x.rank()) return false;
  const int64_t k = -axis;
  for (int64_t i = 0; i < pr; ++i) {
    const int64_t from_end = pr - i;  // 1 = last axis
    const int64_t d = p[size_t(i)];
    if (d == 1) continue;
    if (from_end > k) return false;  // varies along an outer axis
    const Dim& xd = x.dims[size_t(x.rank() - from_end)];
    if (!xd.known() || xd.value != d) return false;
  }
  return true;
}

bool is_suffix_param(const RewriteEnv& env, const std::string& p, const std::string& x, int64_t axis) {
  const TensorType* pt = env.type(p);
  const TensorType* xt = env.type(x);
  if (!pt || !xt || pt->dtype != xt->dtype) return false;
  const std::optional<Shape> ps = pt->static_shape();
  return ps && is_suffix_shape(*ps, *xt, axis);
}

bool same_value(const RewriteEnv& env, const std::string& a, const std::string& b) {
  return a == b || skip_noop_casts(env, a) == skip_noop_casts(env, b);
}

bool closed_match(const RewriteEnv& env, const NodeSet& matched, NodeId root) {
  std::unordered_set<NodeId> in(matched.ids.begin(), matched.ids.end());
  for (const Node* n : matched.nodes) {
    if (n->id == root) continue;
    for (const std::string& o : n->outputs) {
      if (o.empty()) continue;
      if (env.is_graph_output(o)) return false;
      for (const Node* c : env.consumers(o))
        if (!in.count(c->id)) return false;
    }
  }
  return true;
}

std::optional<Tensor> fold_binary(const char* op, const Tensor& a, const Tensor& b) {
  const OpInfo* row = OpRegistry::instance().find_any("", op);
  if (!row || !row->kernel || a.dtype() != b.dtype()) return std::nullopt;
  Node n;
  n.op_type = op;
  n.inputs = {"a", "b"};
  n.outputs = {"y"};
  KernelContext ctx{n, 21, {&a, &b}, nullptr};
  try {
    std::vector<Tensor> out = row->kernel(ctx);
    if (out.empty()) return std::nullopt;
    return out[0];
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace composite

void add_composite_rules(RuleList& r) {
  composite::add_norm_rules(r);
  composite::add_activation_rules(r);
  composite::add_attention_rules(r);
}

}  // namespace dnnf::rewrite
