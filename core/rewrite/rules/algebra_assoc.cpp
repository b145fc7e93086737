// Associative rules: products and sums are flattened into trees of signed leaves
// (Mul/Div: factor or divisor; Add/Sub: added or subtracted) and rebuilt after a
// simplification: constants folded together, pairs sqrt(B)*sqrt(B) and Abs(A)*Abs(C)
// merged, or just regrouped so that small operands meet first. Plus the Table 4 rule
// Recip(A)*Recip(A*B) and removal of identity elements.
#include <algorithm>
#include <map>

#include "core/rewrite/rules/algebra_support.h"

namespace dnnf::rewrite::alg {

namespace {

enum class TreeKind { Product, Sum };
enum class TreeMode { ConstantChain, Regroup, SqrtPair, AbsPair };

struct Leaf {
  std::string value;
  int sign = 1;        // +1: factor / added term; -1: divisor / subtracted term
  TensorType type;
};

struct Operand {
  std::string value;
  TensorType type;
  int sign = 1;
};

const char* combine_op(TreeKind k) { return k == TreeKind::Product ? "Mul" : "Add"; }
const char* inverse_op(TreeKind k) { return k == TreeKind::Product ? "Div" : "Sub"; }

bool tree_op(const Node& n, TreeKind k) {
  return is_binary(n, combine_op(k)) || is_binary(n, inverse_op(k));
}

// Combines signed operands, always the pair whose broadcast result is smallest, so that
// e.g. (A*R)*(R*C) with a small R computes R*R first. Two factors (terms) of the same
// sign combine with Mul (Add) and keep it; a factor and a divisor combine with Div (Sub).
// A result that is still a divisor (subtracted term) at the end gets a Reciprocal (Neg).
std::optional<Operand> combine_all(Builder& b, TreeKind kind, std::vector<Operand> ops) {
  if (ops.empty()) return std::nullopt;
  while (ops.size() > 1) {
    size_t bi = 0, bj = 1;
    double best = -1;
    std::optional<TensorType> best_type;
    for (size_t i = 0; i < ops.size(); ++i)
      for (size_t j = i + 1; j < ops.size(); ++j) {
        std::optional<TensorType> t = broadcast_types(ops[i].type, ops[j].type);
        if (!t) return std::nullopt;
        const double est = estimated_numel(*t);
        if (best < 0 || est < best) {
          best = est;
          bi = i;
          bj = j;
          best_type = t;
        }
      }
    const Operand& x = ops[bi];
    const Operand& y = ops[bj];
    Operand merged;
    merged.type = *best_type;
    if (x.sign == y.sign) {
      merged.value = b.add(combine_op(kind), {x.value, y.value});
      merged.sign = x.sign;
    } else {
      const Operand& pos = x.sign > 0 ? x : y;
      const Operand& neg = x.sign > 0 ? y : x;
      merged.value = b.add(inverse_op(kind), {pos.value, neg.value});
      merged.sign = 1;
    }
    ops.erase(ops.begin() + long(bj));
    ops[bi] = merged;
  }
  if (ops[0].sign < 0) {
    ops[0].value = b.add(kind == TreeKind::Product ? "Reciprocal" : "Neg", {ops[0].value});
    ops[0].sign = 1;
  }
  return ops[0];
}

// Emits the value of a signed-leaf tree (optionally with a folded constant K).
std::optional<Operand> rebuild(Builder& b, TreeKind kind, const std::vector<Leaf>& leaves,
                               const std::optional<Tensor>& k, const TensorType& out_type) {
  std::vector<Operand> ops;
  std::optional<TensorType> all;
  for (const Leaf& l : leaves) {
    ops.push_back({l.value, l.type, l.sign});
    all = all ? broadcast_types(*all, l.type) : std::optional<TensorType>(l.type);
    if (!all) return std::nullopt;
  }
  if (k) {
    const bool identity = kind == TreeKind::Product ? is_splat(*k, 1.0) : is_splat(*k, 0.0);
    // The identity element can go when the other operands already give the output's shape.
    const bool droppable = identity && all && provably_same_shape(*all, out_type);
    if (!droppable) ops.push_back({b.constant(*k), TensorType(k->dtype(), k->shape()), 1});
  }
  return combine_all(b, kind, ops);
}

class TreeRule : public NamedRule {
 public:
  TreeRule(std::string name, std::string description, TreeKind kind, TreeMode mode)
      : NamedRule(std::move(name), "associative", std::move(description)), kind_(kind), mode_(mode) {}

  std::vector<std::string> roots() const override { return {combine_op(kind_), inverse_op(kind_)}; }

  std::optional<Rewrite> match(const RewriteEnv& env, const Node& root) const override {
    if (!modern_broadcasting(env) || !tree_op(root, kind_)) return std::nullopt;
    const std::string& out = root.outputs[0];
    const TensorType* out_type = env.type(out);
    if (!out_type || !dtype_is_float(out_type->dtype) || !out_type->has_shape) return std::nullopt;
    // Only at the top of a tree: a single reader of the same kind would absorb this node.
    if (env.uses(out) == 1 && !env.is_graph_output(out)) {
      const Node* c = env.consumers(out).front();
      if (tree_op(*c, kind_) && env.type(c->outputs[0]) && env.type(c->outputs[0])->dtype == out_type->dtype)
        return std::nullopt;
    }
    Rewrite rw;
    rw.root = root.id;
    std::vector<Leaf> leaves;
    int budget = 12;
    if (!flatten(env, out, 1, true, out_type->dtype, leaves, rw.matched, budget)) return std::nullopt;
    if (leaves.size() < 2) return std::nullopt;
    // A node reading one single-use value twice (Mul(t, t)) flattens it twice: t*t is
    // the same product, but the node is listed once.
    std::vector<NodeId> unique;
    for (NodeId id : rw.matched)
      if (std::find(unique.begin(), unique.end(), id) == unique.end()) unique.push_back(id);
    rw.matched = std::move(unique);

    Builder b(rw);
    std::optional<Tensor> k;
    try {
      switch (mode_) {
        case TreeMode::ConstantChain:
          if (!fold_constants(env, leaves, k)) return std::nullopt;
          break;
        case TreeMode::Regroup:
          if (leaves.size() < 3) return std::nullopt;
          break;
        case TreeMode::SqrtPair:
          if (!merge_sqrt_pairs(env, leaves, rw.matched)) return std::nullopt;
          break;
        case TreeMode::AbsPair:
          if (!merge_abs(env, b, leaves, rw.matched)) return std::nullopt;
          break;
      }
    } catch (const Error&) {
      return std::nullopt;  // a constant the reference kernel cannot fold
    }
    std::string result;
    if (leaves.size() == 1 && !k && leaves[0].sign > 0) {
      result = leaves[0].value;
    } else {
      std::optional<Operand> r = rebuild(b, kind_, leaves, k, *out_type);
      if (!r) return std::nullopt;
      result = r->value;
    }
    rw.replace.emplace_back(out, result);
    rw.reason = description();
    return rw;
  }

 private:
  bool flatten(const RewriteEnv& env, const std::string& v, int sign, bool is_root, DType dtype,
               std::vector<Leaf>& leaves, std::vector<NodeId>& nodes, int& budget) const {
    const Node* n = env.producer(v);
    const TensorType* t = env.type(v);
    if (!t || t->dtype != dtype || !t->has_shape) return false;
    if (n && tree_op(*n, kind_) && n->outputs[0] == v && (is_root || env.uses(v) == 1) && budget > 0) {
      --budget;
      nodes.push_back(n->id);
      const int second = n->op_type == inverse_op(kind_) ? -sign : sign;
      return flatten(env, n->inputs[0], sign, false, dtype, leaves, nodes, budget) &&
             flatten(env, n->inputs[1], second, false, dtype, leaves, nodes, budget);
    }
    leaves.push_back({v, sign, *t});
    return true;
  }

  // Folds every constant leaf into one constant K; needs two constants and a non-constant.
  bool fold_constants(const RewriteEnv& env, std::vector<Leaf>& leaves, std::optional<Tensor>& k) const {
    std::vector<Leaf> rest;
    size_t n_const = 0;
    for (const Leaf& l : leaves) {
      const Tensor* c = env.constant(l.value);
      if (!c) {
        rest.push_back(l);
        continue;
      }
      ++n_const;
      const Graph& g = env.graph();
      if (!k) {
        if (l.sign > 0) k = *c;
        else k = kind_ == TreeKind::Product ? fold_unary(g, "Reciprocal", *c) : fold_unary(g, "Neg", *c);
      } else {
        k = fold_binary(g, l.sign > 0 ? combine_op(kind_) : inverse_op(kind_), *k, *c);
      }
    }
    if (n_const < 2 || rest.empty()) return false;
    leaves = std::move(rest);
    return true;
  }

  // sqrt(B) * sqrt(B) -> B (both factors or both divisors), B known non-negative.
  bool merge_sqrt_pairs(const RewriteEnv& env, std::vector<Leaf>& leaves, std::vector<NodeId>& matched) const {
    if (kind_ != TreeKind::Product) return false;
    bool merged = false;
    std::vector<bool> used(leaves.size(), false);
    std::vector<Leaf> out;
    for (size_t i = 0; i < leaves.size(); ++i) {
      if (used[i]) continue;
      const Node* si = env.producer(leaves[i].value);
      if (si && is_plain(*si, "Sqrt") && si->inputs.size() == 1 && si->has_input(0) &&
          known_nonnegative(env, si->inputs[0])) {
        for (size_t j = i + 1; j < leaves.size(); ++j) {
          if (used[j] || leaves[j].sign != leaves[i].sign) continue;
          const Node* sj = env.producer(leaves[j].value);
          if (!sj || !is_plain(*sj, "Sqrt") || sj->inputs.size() != 1 || sj->inputs[0] != si->inputs[0]) continue;
          const TensorType* bt = env.type(si->inputs[0]);
          if (!bt) continue;
          used[i] = used[j] = true;
          out.push_back({si->inputs[0], leaves[i].sign, *bt});
          for (const Node* s : {si, sj})
            if (std::find(matched.begin(), matched.end(), s->id) == matched.end()) matched.push_back(s->id);
          merged = true;
          break;
        }
      }
      if (!used[i]) out.push_back(leaves[i]);
    }
    if (merged) leaves = std::move(out);
    return merged;
  }

  // Abs(A) * ... * Abs(C) -> Abs(A * C) * ... (divisors: Abs(A)/Abs(C) -> Abs(A/C)).
  bool merge_abs(const RewriteEnv& env, Builder& b, std::vector<Leaf>& leaves, std::vector<NodeId>& matched) const {
    if (kind_ != TreeKind::Product) return false;
    std::vector<Leaf> inner, rest;
    int balance = 0;
    for (const Leaf& l : leaves) {
      const Node* a = env.producer(l.value);
      const TensorType* at = a && is_plain(*a, "Abs") && a->inputs.size() == 1 && a->has_input(0)
                                 ? env.type(a->inputs[0]) : nullptr;
      if (!at || !at->has_shape) {
        rest.push_back(l);
        continue;
      }
      inner.push_back({a->inputs[0], l.sign, *at});
      balance += l.sign;
      if (std::find(matched.begin(), matched.end(), a->id) == matched.end()) matched.push_back(a->id);
    }
    if (inner.size() < 2) return false;
    const int outer_sign = balance >= 0 ? 1 : -1;
    std::optional<TensorType> all;
    for (Leaf& l : inner) {
      l.sign *= outer_sign;
      all = all ? broadcast_types(*all, l.type) : std::optional<TensorType>(l.type);
      if (!all) return false;
    }
    std::optional<Operand> prod = rebuild(b, TreeKind::Product, inner, std::nullopt, *all);
    if (!prod) return false;
    rest.push_back({b.add("Abs", {prod->value}), outer_sign, prod->type});
    leaves = std::move(rest);
    return true;
  }

  TreeKind kind_;
  TreeMode mode_;
};

// Recip(A) * Recip(A*B) -> Square(Recip(A)) * Recip(B); Recip(B) is folded when B is
// constant, which is where the rewrite removes work (the paper lists no FLOP change).
std::unique_ptr<Rule> recip_product_rule() {
  Alternative a;
  a.pattern = op("Mul", {op("Reciprocal", {any("A")}, "ra"), op("Reciprocal", {op("Mul", {any("A"), any("B")})})},
                 "root");
  a.condition = [](const RewriteEnv& env, const Bindings& b) {
    return is_binary(*b.nodes.at("root"), "Mul") && is_float_value(env, b.v("A")) && is_float_value(env, b.v("B"));
  };
  a.build = [](const RewriteEnv& env, const Bindings& bind, Builder& b) {
    const std::string ra = bind.nodes.at("ra")->outputs[0];
    const std::string sq = b.add("Mul", {ra, ra});
    const std::string& B = bind.v("B");
    const Tensor* cb = env.constant(B);
    const std::string rb = cb ? b.constant(fold_unary(env.graph(), "Reciprocal", *cb)) : b.add("Reciprocal", {B});
    return b.add("Mul", {sq, rb});
  };
  return make_alternatives_rule("recip-product", "associative",
                                "Recip(A)*Recip(A*B) -> Square(Recip(A))*Recip(B) (Recip(B) folded when B is constant)",
                                {a});
}

// x*1, 1*x, x+0, 0+x, x-0, x/1, Pow(x,1) -> x when the constant does not broadcast x.
class RemoveIdentityElement : public NamedRule {
 public:
  RemoveIdentityElement()
      : NamedRule("remove-identity-element", "associative",
                  "x*1, x+0, x-0, x/1, Pow(x,1) -> x (only when x already has the output's shape)") {}
  std::vector<std::string> roots() const override { return {"Mul", "Add", "Sub", "Div", "Pow"}; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& n) const override {
    if (!is_binary(n, n.op_type)) return std::nullopt;
    const bool commutes = n.op_type == "Mul" || n.op_type == "Add";
    const double identity = (n.op_type == "Add" || n.op_type == "Sub") ? 0.0 : 1.0;
    const TensorType* out = env.type(n.outputs[0]);
    if (!out) return std::nullopt;
    for (int side = 1; side >= (commutes ? 0 : 1); --side) {
      const Tensor* c = env.constant(n.inputs[size_t(side)]);
      if (!c || c->dtype() == DType::String || !is_splat(*c, identity)) continue;
      const std::string& x = n.inputs[size_t(1 - side)];
      const TensorType* xt = env.type(x);
      if (!xt || xt->dtype != out->dtype || !neutral_broadcast(*xt, c->shape())) continue;
      return bypass(n, x, n.op_type + " by its identity element");
    }
    return std::nullopt;
  }
};

}  // namespace

void add_associative_rules(RuleList& r) {
  r.push_back(std::make_unique<TreeRule>(
      "mul-constant-chain",
      "(x*c1)*c2 -> x*(c1*c2), (x/c1)*c2 -> x*(c2/c1), (x*c1)/c2, (x/c1)/c2: constants of a Mul/Div tree folded",
      TreeKind::Product, TreeMode::ConstantChain));
  r.push_back(std::make_unique<TreeRule>(
      "add-constant-chain",
      "(x+c1)+c2 -> x+(c1+c2), (x-c1)+c2 -> x+(c2-c1): constants of an Add/Sub tree folded", TreeKind::Sum,
      TreeMode::ConstantChain));
  r.push_back(std::make_unique<TreeRule>(
      "mul-sqrt-pair", "(A*sqrt(B))*(sqrt(B)*C) -> A*B*C, sqrt(B)*sqrt(B) -> B (B known non-negative)",
      TreeKind::Product, TreeMode::SqrtPair));
  r.push_back(std::make_unique<TreeRule>("mul-abs-pair", "Abs(A)*B*Abs(C) -> Abs(A*C)*B (also Abs(A)/Abs(C) -> Abs(A/C))",
                                         TreeKind::Product, TreeMode::AbsPair));
  r.push_back(std::make_unique<TreeRule>(
      "mul-regroup-small-first",
      "(A*R)*(R*C) -> A*Square(R)*C for small R (e.g. ReduceSum(B)): a Mul/Div tree regrouped, smallest operands first",
      TreeKind::Product, TreeMode::Regroup));
  r.push_back(std::make_unique<TreeRule>(
      "add-regroup-small-first", "(A+r1)+(r2+C) -> (A+C)+(r1+r2) for small r1, r2: an Add/Sub tree regrouped, smallest first",
      TreeKind::Sum, TreeMode::Regroup));
  r.push_back(recip_product_rule());
  r.push_back(std::make_unique<RemoveIdentityElement>());
}

}  // namespace dnnf::rewrite::alg
