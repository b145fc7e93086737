// Layout rules: Transpose and Reorganize (Reshape/Flatten/Squeeze/Unsqueeze) chains
// collapsed, and Transposes moved through One-to-One operators so that pairs cancel.
#include <algorithm>
#include <set>

#include "core/rewrite/rules/algebra_support.h"

namespace dnnf::rewrite {

namespace {

using alg::is_plain;

constexpr int64_t kMaxTransposedConstant = int64_t(1) << 20;

// The permutation of a Transpose node (default: reversed axes); nullopt if invalid.
std::optional<std::vector<int64_t>> permutation(const Node& n, int64_t rank) {
  std::vector<int64_t> p = n.attr_ints("perm");
  if (p.empty()) {
    if (rank < 0) return std::nullopt;
    for (int64_t i = rank - 1; i >= 0; --i) p.push_back(i);
  }
  if (rank >= 0 && int64_t(p.size()) != rank) return std::nullopt;
  std::vector<bool> seen(p.size(), false);
  for (int64_t v : p) {
    if (v < 0 || v >= int64_t(p.size()) || seen[size_t(v)]) return std::nullopt;
    seen[size_t(v)] = true;
  }
  return p;
}

int64_t rank_of(const RewriteEnv& env, const std::string& v) {
  const TensorType* t = env.type(v);
  return t && t->has_shape ? t->rank() : -1;
}

// Transpose_p2(Transpose_p1(x)) == Transpose_q(x) with q[i] = p1[p2[i]].
std::vector<int64_t> compose(const std::vector<int64_t>& p1, const std::vector<int64_t>& p2) {
  std::vector<int64_t> q(p2.size());
  for (size_t i = 0; i < p2.size(); ++i) q[i] = p1[size_t(p2[i])];
  return q;
}

bool is_identity(const std::vector<int64_t>& p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != int64_t(i)) return false;
  return true;
}

// A value may replace a graph output unless it is itself an input, constant or output.
bool may_alias_output(const RewriteEnv& env, const std::string& root_out, const std::string& v) {
  if (!env.is_graph_output(root_out)) return true;
  return !env.graph().is_graph_input(v) && !env.constant(v) && !env.is_graph_output(v);
}

// The result of Transpose_q(v), or v itself for the identity (when allowed).
std::string transpose_or_self(const RewriteEnv& env, Builder& b, const std::string& root_out, const std::string& v,
                              const std::vector<int64_t>& q) {
  if (is_identity(q) && may_alias_output(env, root_out, v)) return v;
  return b.add("Transpose", {v}, {{"perm", Attribute::from_ints(q)}});
}

class TransposeCompose : public NamedRule {
 public:
  TransposeCompose()
      : NamedRule("transpose-compose", "layout",
                  "Transpose(Transpose(x,p1),p2) -> Transpose(x,q), q[i] = p1[p2[i]] (identity q -> x)") {}
  std::vector<std::string> roots() const override { return {"Transpose"}; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& n) const override {
    if (!is_plain(n, "Transpose") || !n.has_input(0) || n.outputs.size() != 1) return std::nullopt;
    const Node* inner = env.producer(n.inputs[0]);
    if (!inner || !is_plain(*inner, "Transpose") || !inner->has_input(0) || inner->outputs.size() != 1)
      return std::nullopt;
    const std::string& x = inner->inputs[0];
    const int64_t rank = rank_of(env, x);
    auto p1 = permutation(*inner, rank);
    auto p2 = permutation(n, rank);
    if (!p1 || !p2 || p1->size() != p2->size()) return std::nullopt;
    Rewrite rw;
    rw.root = n.id;
    rw.matched = {inner->id, n.id};
    Builder b(rw);
    rw.replace.emplace_back(n.outputs[0], transpose_or_self(env, b, n.outputs[0], x, compose(*p1, *p2)));
    rw.reason = description();
    return rw;
  }
};

// A Transpose that only moves size-1 dims keeps the row-major element order: a reshape.
bool is_trivial_transpose(const RewriteEnv& env, const Node& n) {
  if (!is_plain(n, "Transpose") || !n.has_input(0) || n.outputs.size() != 1) return false;
  const TensorType* t = env.type(n.inputs[0]);
  if (!t || !t->is_static()) return false;
  auto p = permutation(n, t->rank());
  if (!p) return false;
  int64_t last = -1;
  for (int64_t axis : *p) {
    if (t->dims[size_t(axis)].value == 1) continue;
    if (axis < last) return false;
    last = axis;
  }
  return true;
}

// Reshape, Flatten, Squeeze, Unsqueeze, or a Transpose that is a reshape.
bool is_reorganize(const RewriteEnv& env, const Node& n) {
  static const std::set<std::string> ops = {"Reshape", "Flatten", "Squeeze", "Unsqueeze"};
  if (n.op_type == "Transpose") return is_trivial_transpose(env, n);
  return ops.count(n.op_type) && is_plain(n, n.op_type) && n.has_input(0) && n.outputs.size() == 1;
}

class ReshapeChain : public NamedRule {
 public:
  ReshapeChain()
      : NamedRule("reshape-chain", "layout",
                  "Reshape|Flatten|Squeeze|Unsqueeze(...(Reshape(x))) with a static final shape -> Reshape(x, shape) "
                  "(a Transpose moving only size-1 dims counts as a reshape)") {}
  std::vector<std::string> roots() const override {
    return {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose"};
  }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& n) const override {
    if (!is_reorganize(env, n)) return std::nullopt;
    const std::string& out = n.outputs[0];
    const TensorType* ot = env.type(out);
    if (!ot || !ot->is_static()) return std::nullopt;
    // When every reader continues the chain, the longer chain collapses through this node.
    const auto& readers = env.consumers(out);
    if (!env.is_graph_output(out) && !readers.empty() &&
        std::all_of(readers.begin(), readers.end(), [&](const Node* c) {
          return is_reorganize(env, *c) && c->inputs[0] == out &&
                 std::count(c->inputs.begin(), c->inputs.end(), out) == 1 && env.type(c->outputs[0]) &&
                 env.type(c->outputs[0])->is_static();
        }))
      return std::nullopt;
    Rewrite rw;
    rw.root = n.id;
    rw.matched = {n.id};
    std::string x = n.inputs[0];
    for (const Node* p = env.producer(x); p && is_reorganize(env, *p) && p->outputs[0] == x && rw.matched.size() < 16;
         p = env.producer(x)) {
      rw.matched.push_back(p->id);
      x = p->inputs[0];
    }
    if (rw.matched.size() < 2) return std::nullopt;
    const Shape shape = *ot->static_shape();
    const int64_t opset = env.graph().opset("");
    const bool has_zero = std::find(shape.begin(), shape.end(), 0) != shape.end();
    if (has_zero && opset < 14) return std::nullopt;
    Builder b(rw);
    std::string result;
    const TensorType* xt = env.type(x);
    if (xt && alg::provably_same_shape(*xt, *ot) && may_alias_output(env, out, x)) {
      result = x;
    } else if (opset < 5) {
      result = b.add("Reshape", {x}, {{"shape", Attribute::from_ints(shape)}});
    } else {
      std::map<std::string, Attribute> attrs;
      if (has_zero) attrs["allowzero"] = Attribute::from_int(1);
      result = b.add("Reshape", {x, b.constant(Tensor::vector_i64(shape))}, attrs);
    }
    rw.replace.emplace_back(out, result);
    rw.reason = description();
    return rw;
  }
};

// A One-to-One operator that can run on the untransposed tensor: an elementwise or
// activation operator with one non-constant input; its other inputs are constants that
// do not broadcast it (scalars as they are, others transposed at compile time).
struct ChainLink {
  const Node* node = nullptr;
  size_t main = 0;
};

std::optional<ChainLink> one_to_one_link(const RewriteEnv& env, const Node& n, const std::string& value) {
  if (!is_plain(n, n.op_type) || n.outputs.size() != 1 || n.outputs[0] != value) return std::nullopt;
  if (n.has_attr("axis") || n.has_attr("axes") || n.has_attr("broadcast")) return std::nullopt;
  const OpInfo* row = OpRegistry::instance().find_any(n.domain, n.op_type);
  if (!row || row->mapping != MappingType::OneToOne || (row->family != "elementwise" && row->family != "activation"))
    return std::nullopt;
  static const std::set<std::string> excluded = {"Softmax", "LogSoftmax", "Hardmax"};
  if (excluded.count(n.op_type)) return std::nullopt;
  std::optional<size_t> main;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i].empty() || env.constant(n.inputs[i])) continue;
    if (main) return std::nullopt;
    main = i;
  }
  if (!main) return std::nullopt;
  const TensorType* mt = env.type(n.inputs[*main]);
  const TensorType* ot = env.type(value);
  if (!mt || !ot || !alg::provably_same_shape(*mt, *ot)) return std::nullopt;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (i == *main || n.inputs[i].empty()) continue;
    const Tensor* c = env.constant(n.inputs[i]);
    if (c->numel() > kMaxTransposedConstant || !alg::neutral_broadcast(*mt, c->shape())) return std::nullopt;
  }
  return ChainLink{&n, *main};
}

// A constant that broadcasts against Transpose_p(x) rewritten to broadcast against x.
Tensor untranspose_constant(const Graph& g, const Tensor& c, const std::vector<int64_t>& p) {
  if (c.numel() == 1) return c;
  Shape padded(p.size() - c.shape().size(), 1);
  padded.insert(padded.end(), c.shape().begin(), c.shape().end());
  std::vector<int64_t> inv(p.size());
  for (size_t i = 0; i < p.size(); ++i) inv[size_t(p[i])] = int64_t(i);
  Node t;
  t.op_type = "Transpose";
  t.inputs = {"c"};
  t.outputs = {"y"};
  t.attrs["perm"] = Attribute::from_ints(inv);
  const Tensor r = c.reshaped(padded);
  std::vector<Tensor> out = evaluate_node(g, t, {&r});
  check(!out.empty(), "transposing a constant produced no value");
  return out[0];
}

class TransposeThroughOneToOne : public NamedRule {
 public:
  TransposeThroughOneToOne()
      : NamedRule("transpose-through-elementwise", "layout",
                  "Transpose_p2(U(Transpose_p1(x))) -> U(x) when p1.p2 = id, else Transpose_{p1.p2}(U(x)) "
                  "(U: chain of One-to-One ops with constant operands)") {}
  std::vector<std::string> roots() const override { return {"Transpose"}; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& n) const override {
    if (!is_plain(n, "Transpose") || !n.has_input(0) || n.outputs.size() != 1) return std::nullopt;
    std::vector<ChainLink> chain;
    std::string v = n.inputs[0];
    const Node* inner = nullptr;
    while (chain.size() < 16) {
      const Node* p = env.producer(v);
      if (!p) return std::nullopt;
      if (is_plain(*p, "Transpose")) {
        inner = p;
        break;
      }
      if (env.uses(v) != 1) return std::nullopt;
      std::optional<ChainLink> link = one_to_one_link(env, *p, v);
      if (!link) return std::nullopt;
      chain.push_back(*link);
      v = p->inputs[link->main];
    }
    if (!inner || chain.empty() || !inner->has_input(0) || inner->outputs.size() != 1) return std::nullopt;
    const std::string& x = inner->inputs[0];
    const int64_t rank = rank_of(env, x);
    auto p1 = permutation(*inner, rank);
    auto p2 = permutation(n, rank);
    if (!p1 || !p2 || p1->size() != p2->size()) return std::nullopt;
    Rewrite rw;
    rw.root = n.id;
    rw.matched = {n.id};
    for (const ChainLink& l : chain) rw.matched.push_back(l.node->id);
    rw.matched.push_back(inner->id);
    Builder b(rw);
    std::string cur = x;
    try {
      for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        std::vector<std::string> inputs = it->node->inputs;
        for (size_t i = 0; i < inputs.size(); ++i) {
          if (i == it->main || inputs[i].empty()) continue;
          const Tensor* c = env.constant(inputs[i]);
          if (c->numel() != 1) inputs[i] = b.constant(untranspose_constant(env.graph(), *c, *p1));
        }
        inputs[it->main] = cur;
        cur = b.add(it->node->op_type, inputs, it->node->attrs, 1, it->node->domain);
      }
    } catch (const Error&) {
      return std::nullopt;
    }
    rw.replace.emplace_back(n.outputs[0], transpose_or_self(env, b, n.outputs[0], cur, compose(*p1, *p2)));
    rw.reason = description();
    return rw;
  }
};

}  // namespace

void add_layout_rules(RuleList& r) {
  r.push_back(std::make_unique<TransposeCompose>());
  r.push_back(std::make_unique<ReshapeChain>());
  r.push_back(std::make_unique<TransposeThroughOneToOne>());
}

}  // namespace dnnf::rewrite
