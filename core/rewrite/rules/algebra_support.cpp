#include "core/rewrite/rules/algebra_support.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/util/error.h"

namespace dnnf::rewrite::alg {

bool is_float_value(const RewriteEnv& env, const std::string& v) {
  const TensorType* t = env.type(v);
  return t && dtype_is_float(t->dtype);
}

bool modern_broadcasting(const RewriteEnv& env) { return env.graph().opset("") >= 7; }

bool is_plain(const Node& n, const std::string& op_type) {
  if (n.op_type != op_type || !(n.domain.empty() || n.domain == "ai.onnx")) return false;
  if (n.outputs.empty()) return false;
  for (const std::string& o : n.outputs)
    if (o.empty()) return false;
  return true;
}

bool is_binary(const Node& n, const std::string& op_type) {
  return is_plain(n, op_type) && n.inputs.size() == 2 && n.outputs.size() == 1 && n.has_input(0) &&
         n.has_input(1) && !n.has_attr("broadcast") && !n.has_attr("axis");
}

std::optional<TensorType> broadcast_types(const TensorType& a, const TensorType& b) {
  if (!a.has_shape || !b.has_shape) return std::nullopt;
  const size_t r = std::max(a.dims.size(), b.dims.size());
  std::vector<Dim> out(r);
  for (size_t i = 0; i < r; ++i) {
    const bool ha = i < a.dims.size(), hb = i < b.dims.size();
    const Dim da = ha ? a.dims[a.dims.size() - 1 - i] : Dim(1);
    const Dim db = hb ? b.dims[b.dims.size() - 1 - i] : Dim(1);
    Dim d;
    if (da.known() && da.value == 1) d = db;
    else if (db.known() && db.value == 1) d = da;
    else if (da.known() && db.known()) {
      if (da.value != db.value) return std::nullopt;
      d = da;
    } else if (da.known()) d = da;
    else if (db.known()) d = db;
    else if (!da.symbol.empty() && da.symbol == db.symbol) d = da;
    else d = Dim();
    out[r - 1 - i] = d;
  }
  return TensorType(a.dtype, out);
}

bool provably_same_shape(const TensorType& a, const TensorType& b) {
  if (!a.has_shape || !b.has_shape || a.dims.size() != b.dims.size()) return false;
  for (size_t i = 0; i < a.dims.size(); ++i) {
    const Dim& x = a.dims[i];
    const Dim& y = b.dims[i];
    if (x.known() && y.known()) {
      if (x.value != y.value) return false;
    } else if (x.known() || y.known() || x.symbol.empty() || x.symbol != y.symbol) {
      return false;
    }
  }
  return true;
}

bool neutral_broadcast(const TensorType& x, const Shape& c) {
  if (!x.has_shape || c.size() > x.dims.size()) return false;
  for (size_t i = 0; i < c.size(); ++i) {
    const int64_t cd = c[c.size() - 1 - i];
    const Dim& xd = x.dims[x.dims.size() - 1 - i];
    if (cd == 1) continue;
    if (!xd.known() || xd.value != cd) return false;
  }
  return true;
}

double estimated_numel(const TensorType& t) {
  if (!t.has_shape) return 1e15;
  double n = 1;
  for (const Dim& d : t.dims) n *= d.known() ? double(d.value) : 1024.0;
  return n;
}

const Tensor* scalar_constant(const RewriteEnv& env, const std::string& v, int64_t max_rank) {
  const Tensor* t = env.constant(v);
  if (!t || t->numel() != 1 || t->rank() > max_rank || t->dtype() == DType::String) return nullptr;
  return t;
}

Tensor scalar_tensor(DType dtype, double v) {
  Tensor t(dtype, {});
  t.set_f64(0, v);
  return t;
}

Tensor fold_binary(const Graph& g, const std::string& op, const Tensor& a, const Tensor& b) {
  Node n;
  n.op_type = op;
  n.inputs = {"a", "b"};
  n.outputs = {"y"};
  std::vector<Tensor> out = evaluate_node(g, n, {&a, &b});
  check(!out.empty(), "folding ", op, " produced no value");
  return out[0];
}

Tensor fold_unary(const Graph& g, const std::string& op, const Tensor& a) {
  Node n;
  n.op_type = op;
  n.inputs = {"a"};
  n.outputs = {"y"};
  std::vector<Tensor> out = evaluate_node(g, n, {&a});
  check(!out.empty(), "folding ", op, " produced no value");
  return out[0];
}

namespace {

bool constant_nonnegative(const Tensor& t) {
  if (t.dtype() == DType::String || t.dtype() == DType::Bool) return t.dtype() == DType::Bool;
  if (t.numel() > (int64_t(1) << 20)) return false;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const double v = t.get_f64(i);
    if (!(v >= 0) && !std::isnan(v)) return false;
  }
  return true;
}

bool even_integer_splat(const Tensor& t) {
  auto v = splat_value(t);
  return v && std::isfinite(*v) && std::fmod(*v, 2.0) == 0.0;
}

}  // namespace

bool known_nonnegative(const RewriteEnv& env, const std::string& v, int depth) {
  if (v.empty()) return false;
  if (const Tensor* t = env.constant(v)) return constant_nonnegative(*t);
  if (depth <= 0) return false;
  const Node* n = env.producer(v);
  if (!n || !(n->domain.empty() || n->domain == "ai.onnx") || n->outputs.empty() || n->outputs[0] != v)
    return false;
  static const std::set<std::string> always = {"Abs", "Exp", "Relu", "Sigmoid", "Softmax", "Sqrt", "Softplus",
                                               "HardSigmoid", "ReduceSumSquare", "ReduceL1", "ReduceL2"};
  if (always.count(n->op_type)) return true;
  auto all_inputs = [&](size_t from, size_t to) {
    for (size_t i = from; i < std::min(to, n->inputs.size()); ++i)
      if (!n->has_input(i) || !known_nonnegative(env, n->inputs[i], depth - 1)) return false;
    return true;
  };
  const std::string& op = n->op_type;
  if (op == "Mul") {
    if (n->inputs.size() == 2 && n->inputs[0] == n->inputs[1]) return true;
    return all_inputs(0, 2);
  }
  if (op == "Pow") {
    if (n->inputs.size() == 2)
      if (const Tensor* e = env.constant(n->inputs[1]); e && even_integer_splat(*e)) return true;
    return all_inputs(0, 1);
  }
  if (op == "Clip") {
    // Opset 11+: min is input 1; before, an attribute.
    if (n->has_input(1)) {
      const Tensor* lo = env.constant(n->inputs[1]);
      return lo && lo->numel() == 1 && lo->get_f64(0) >= 0;
    }
    if (n->has_attr("min")) return n->attr_float("min", -1) >= 0;
    return all_inputs(0, 1);
  }
  if (op == "Max") {
    for (const std::string& in : n->inputs)
      if (!in.empty() && known_nonnegative(env, in, depth - 1)) return true;
    return false;
  }
  static const std::set<std::string> closed_all = {"Add", "Sum", "Min", "Mean", "Concat"};
  if (closed_all.count(op)) return all_inputs(0, n->inputs.size());
  static const std::set<std::string> closed_first = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
                                                     "ReduceProd"};
  if (closed_first.count(op)) return all_inputs(0, 1);
  if (op == "Cast") {
    // Between float types the sign survives (integers could wrap).
    const TensorType* in = n->has_input(0) ? env.type(n->inputs[0]) : nullptr;
    const TensorType* out = env.type(v);
    return in && out && dtype_is_float(in->dtype) && dtype_is_float(out->dtype) && all_inputs(0, 1);
  }
  static const std::set<std::string> movement = {"Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze",
                                                 "Identity", "Expand", "Tile", "Slice", "Gather"};
  if (movement.count(op)) return all_inputs(0, 1);
  return false;
}

int axes_input_since(const std::string& reduce_op) { return reduce_op == "ReduceSum" ? 13 : 18; }

std::optional<ReduceAxes> reduce_axes(const RewriteEnv& env, const Node& n) {
  ReduceAxes r;
  r.keepdims = n.attr_int("keepdims", 1) != 0;
  if (env.graph().opset("") >= axes_input_since(n.op_type)) {
    r.noop_with_empty_axes = n.attr_int("noop_with_empty_axes", 0) != 0;
    if (n.has_input(1)) {
      const Tensor* t = env.constant(n.inputs[1]);
      if (!t) return std::nullopt;
      r.axes = t->to_i64_vector();
    }
  } else {
    r.axes = n.attr_ints("axes");
  }
  return r;
}

std::string emit_reduce(const RewriteEnv& env, Builder& b, const std::string& op, const std::string& x,
                        const ReduceAxes& axes) {
  std::map<std::string, Attribute> attrs;
  attrs["keepdims"] = Attribute::from_int(axes.keepdims ? 1 : 0);
  std::vector<std::string> inputs = {x};
  if (env.graph().opset("") >= axes_input_since(op)) {
    if (axes.noop_with_empty_axes) attrs["noop_with_empty_axes"] = Attribute::from_int(1);
    if (!axes.axes.empty()) inputs.push_back(b.constant(Tensor::vector_i64(axes.axes)));
  } else {
    if (axes.noop_with_empty_axes && axes.axes.empty()) return "";  // not expressible
    if (!axes.axes.empty()) attrs["axes"] = Attribute::from_ints(axes.axes);
  }
  return b.add(op, inputs, attrs);
}

std::string emit_copy(Builder& b, const Node& n, const std::string& x, const std::string& op_type) {
  std::vector<std::string> inputs = n.inputs;
  inputs[0] = x;
  return b.add(op_type.empty() ? n.op_type : op_type, inputs, n.attrs, 1, n.domain);
}

namespace {

class AlternativesRule : public NamedRule {
 public:
  AlternativesRule(std::string name, std::string family, std::string description, std::vector<Alternative> alts)
      : NamedRule(std::move(name), std::move(family), std::move(description)), alts_(std::move(alts)) {}

  std::vector<std::string> roots() const override {
    std::vector<std::string> r;
    for (const Alternative& a : alts_)
      if (std::find(r.begin(), r.end(), a.pattern.op) == r.end()) r.push_back(a.pattern.op);
    return r;
  }

  std::optional<Rewrite> match(const RewriteEnv& env, const Node& root) const override {
    if (root.outputs.empty() || !modern_broadcasting(env)) return std::nullopt;
    for (const Alternative& a : alts_) {
      if (a.pattern.op != root.op_type) continue;
      Bindings b;
      if (!match_pattern(env, a.pattern, root.outputs[0], b)) continue;
      if (a.condition && !a.condition(env, b)) continue;
      Rewrite rw;
      rw.root = root.id;
      rw.matched = b.matched;
      Builder builder(rw);
      std::string result;
      try {
        result = a.build(env, b, builder);
      } catch (const Error&) {
        result.clear();  // a constant that cannot be folded: no proposal
      }
      if (result.empty()) continue;
      rw.replace.emplace_back(root.outputs[0], result);
      rw.reason = description();
      return rw;
    }
    return std::nullopt;
  }

 private:
  std::vector<Alternative> alts_;
};

}  // namespace

std::unique_ptr<Rule> make_alternatives_rule(std::string name, std::string family, std::string description,
                                             std::vector<Alternative> alternatives) {
  return std::make_unique<AlternativesRule>(std::move(name), std::move(family), std::move(description),
                                            std::move(alternatives));
}

Pattern with_condition(Pattern p, std::function<bool(const Node&)> cond) {
  p.node_condition = std::move(cond);
  return p;
}

}  // namespace dnnf::rewrite::alg
