// Distributive rules: common factors pulled out of sums (A*B + A*C -> A*(B+C),
// B/A + C/A -> (B+C)/A, A + A*B -> A*(B+1), X*X - X*C -> X*(X-C)) and scalar factors
// pulled out of linear reductions (ReduceSum(A*c) -> c*ReduceSum(A)).
#include "core/rewrite/rules/algebra_support.h"

namespace dnnf::rewrite::alg {

namespace {

// Every Op node of the binding is a plain binary node (no legacy broadcast attributes)
// and the root computes in a float type (reassociation changes rounding only).
bool plain_float(const RewriteEnv& env, const Bindings& b) {
  for (const auto& [k, n] : b.nodes) {
    if (n->inputs.size() != 2 || !is_binary(*n, n->op_type)) return false;
  }
  const Node* root = b.nodes.at("root");
  return is_float_value(env, root->outputs[0]);
}

std::string fold_or_add(const RewriteEnv& env, Builder& b, const std::string& op, const std::string& x,
                        const std::string& y) {
  const Tensor* cx = env.constant(x);
  const Tensor* cy = env.constant(y);
  if (cx && cy) return b.constant(fold_binary(env.graph(), op, *cx, *cy));
  return b.add(op, {x, y});
}

std::unique_ptr<Rule> factor_common_mul() {
  std::vector<Alternative> alts;
  for (const char* r : {"Add", "Sub"}) {
    Alternative a;
    const std::string root = r;
    a.pattern = op(root, {op("Mul", {any("A"), any("B")}, "m1"), op("Mul", {any("A"), any("C")}, "m2")}, "root");
    a.condition = plain_float;
    a.build = [root](const RewriteEnv& env, const Bindings& bind, Builder& b) {
      return b.add("Mul", {bind.v("A"), fold_or_add(env, b, root, bind.v("B"), bind.v("C"))});
    };
    alts.push_back(a);
  }
  return make_alternatives_rule("factor-common-mul", "distributive", "A*B + A*C -> A*(B+C), A*B - A*C -> A*(B-C)",
                                alts);
}

std::unique_ptr<Rule> factor_common_div() {
  std::vector<Alternative> alts;
  for (const char* r : {"Add", "Sub"}) {
    Alternative a;
    const std::string root = r;
    a.pattern = op(root, {op("Div", {any("B"), any("A")}, "d1"), op("Div", {any("C"), any("A")}, "d2")}, "root");
    a.condition = plain_float;
    a.build = [root](const RewriteEnv& env, const Bindings& bind, Builder& b) {
      return b.add("Div", {fold_or_add(env, b, root, bind.v("B"), bind.v("C")), bind.v("A")});
    };
    alts.push_back(a);
  }
  return make_alternatives_rule("factor-common-div", "distributive", "B/A + C/A -> (B+C)/A, B/A - C/A -> (B-C)/A",
                                alts);
}

// A + A*B -> A*(B+1); A - A*B -> A*(1-B); A*B - A -> A*(B-1). B+1 is folded when B is a
// constant; otherwise A is read once instead of twice (fewer bytes, the paper's note).
std::unique_ptr<Rule> factor_self() {
  struct Form {
    const char* root;
    bool mul_first;      // the Mul is the root's first operand
    bool one_first;      // the new constant 1 is the first operand of the inner op
  };
  std::vector<Alternative> alts;
  for (const Form f : {Form{"Add", false, false}, Form{"Sub", false, true}, Form{"Sub", true, false}}) {
    Alternative a;
    Pattern mul = op("Mul", {any("A"), any("B")}, "m");
    a.pattern = f.mul_first ? op(f.root, {mul, any("A")}, "root") : op(f.root, {any("A"), mul}, "root");
    a.condition = plain_float;
    const std::string inner = f.root;
    const bool one_first = f.one_first;
    a.build = [inner, one_first](const RewriteEnv& env, const Bindings& bind, Builder& b) {
      const TensorType* t = env.type(bind.v("B"));
      if (!t) return std::string();
      const std::string one = b.scalar_like(1.0, t->dtype);
      const Tensor* cb = env.constant(bind.v("B"));
      std::string s;
      if (cb) {
        const Tensor o = scalar_tensor(t->dtype, 1.0);
        s = b.constant(one_first ? fold_binary(env.graph(), inner, o, *cb) : fold_binary(env.graph(), inner, *cb, o));
      } else {
        s = one_first ? b.add(inner, {one, bind.v("B")}) : b.add(inner, {bind.v("B"), one});
      }
      return b.add("Mul", {bind.v("A"), s});
    };
    alts.push_back(a);
  }
  return make_alternatives_rule("factor-self", "distributive", "A + A*B -> A*(B+1), A - A*B -> A*(1-B), A*B - A -> A*(B-1)",
                                alts);
}

// X*X - X*C -> X*(X-C) with X*X written Mul(X,X) or Pow(X,2); also X*C - X*X and X*X + X*C.
std::unique_ptr<Rule> factor_square() {
  std::vector<Alternative> alts;
  auto square_is_valid = [](const RewriteEnv& env, const Bindings& b) {
    auto it = b.values.find("P");
    if (it != b.values.end()) {
      const Tensor* p = env.constant(it->second);
      if (!p || !is_splat(*p, 2.0)) return false;
      const TensorType* xt = env.type(b.v("X"));
      // Pow(X, 2) has X's shape only when the exponent does not broadcast it.
      if (!xt || !neutral_broadcast(*xt, p->shape())) return false;
    }
    return plain_float(env, b);
  };
  for (int sq_kind = 0; sq_kind < 2; ++sq_kind) {
    struct Form {
      const char* root;
      bool square_first;
    };
    for (const Form f : {Form{"Sub", true}, Form{"Sub", false}, Form{"Add", true}}) {
      Pattern sq = sq_kind == 0 ? op("Mul", {any("X"), any("X")}, "sq") : op("Pow", {any("X"), cst("P")}, "sq");
      Pattern xc = op("Mul", {any("X"), any("C")}, "xc");
      Alternative a;
      a.pattern = f.square_first ? op(f.root, {sq, xc}, "root") : op(f.root, {xc, sq}, "root");
      a.condition = square_is_valid;
      const std::string root = f.root;
      const bool square_first = f.square_first;
      a.build = [root, square_first](const RewriteEnv&, const Bindings& bind, Builder& b) {
        const std::string& X = bind.v("X");
        const std::string& C = bind.v("C");
        const std::string inner = square_first ? b.add(root, {X, C}) : b.add(root, {C, X});
        return b.add("Mul", {X, inner});
      };
      alts.push_back(a);
    }
  }
  return make_alternatives_rule("factor-square-minus", "distributive",
                                "X*X - X*C -> X*(X-C) (X*X as Mul(X,X) or Pow(X,2); also X*C - X*X, X*X + X*C)", alts);
}

// ReduceSum/ReduceMean(A*c) -> ReduceSum/ReduceMean(A)*c and (A/c) -> Reduce(A)/c for a
// scalar constant c: the scale is applied to the (smaller) reduced tensor.
class ReduceScalarMul : public NamedRule {
 public:
  ReduceScalarMul()
      : NamedRule("reduce-scalar-mul", "distributive",
                  "ReduceSum(A*c) -> c*ReduceSum(A), ReduceSum(A/c) -> ReduceSum(A)/c (c scalar constant; also ReduceMean)") {}
  std::vector<std::string> roots() const override { return {"ReduceSum", "ReduceMean"}; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& n) const override {
    if (!modern_broadcasting(env) || !is_plain(n, n.op_type) || !n.has_input(0) || n.outputs.size() != 1)
      return std::nullopt;
    const Node* m = env.producer(n.inputs[0]);
    if (!m || !(is_binary(*m, "Mul") || is_binary(*m, "Div"))) return std::nullopt;
    if (!is_float_value(env, n.outputs[0])) return std::nullopt;
    for (int side = 1; side >= 0; --side) {
      if (m->op_type == "Div" && side == 0) break;
      const std::string& a = m->inputs[size_t(1 - side)];
      const TensorType* at = env.type(a);
      if (!at || !at->has_shape || env.constant(a)) continue;
      const Tensor* c = scalar_constant(env, m->inputs[size_t(side)], at->rank());
      if (!c) continue;
      Rewrite rw;
      rw.root = n.id;
      rw.matched = {m->id, n.id};
      Builder b(rw);
      const std::string r = emit_copy(b, n, a);
      rw.replace.emplace_back(n.outputs[0], b.add(m->op_type, {r, b.constant(c->reshaped({}))}));
      rw.reason = description();
      return rw;
    }
    return std::nullopt;
  }
};

// One step x -> x op c (or c op x) of an affine chain.
struct AffineStep {
  const Node* node = nullptr;
  const Tensor* c = nullptr;
  bool const_first = false;
};

bool affine_op(const Node& n) {
  return is_binary(n, "Add") || is_binary(n, "Sub") || is_binary(n, "Mul") || is_binary(n, "Div");
}

// The step of node n when exactly one operand is a constant (c / x is not affine).
std::optional<AffineStep> affine_step(const RewriteEnv& env, const Node& n) {
  if (!affine_op(n)) return std::nullopt;
  const Tensor* c0 = env.constant(n.inputs[0]);
  const Tensor* c1 = env.constant(n.inputs[1]);
  if ((c0 == nullptr) == (c1 == nullptr)) return std::nullopt;
  if (c0 && n.op_type == "Div") return std::nullopt;
  const Tensor* c = c0 ? c0 : c1;
  if (c->dtype() == DType::String || c->numel() > (int64_t(1) << 20)) return std::nullopt;
  return AffineStep{&n, c, c0 != nullptr};
}

bool additive(const std::string& op) { return op == "Add" || op == "Sub"; }

// The base of an affine chain: a single-use Add/Sub tree whose constant terms can join
// the chain's shift; without constants (or not a sum) the base is one term.
struct BaseSum {
  struct Term {
    std::string value;
    int sign;
  };
  struct Constant {
    const Tensor* value;
    int sign;
  };
  std::vector<Term> terms;
  std::vector<Constant> constants;
  std::vector<NodeId> nodes;
};

void flatten_sum(const RewriteEnv& env, const std::string& v, int sign, bool top, BaseSum& s) {
  const Node* p = env.producer(v);
  const Tensor* c = env.constant(v);
  if (c && c->dtype() != DType::String && c->numel() <= (int64_t(1) << 20)) {
    s.constants.push_back({c, sign});
    return;
  }
  if (p && (is_binary(*p, "Add") || is_binary(*p, "Sub")) && (top || env.uses(v) == 1) && s.nodes.size() < 8) {
    s.nodes.push_back(p->id);
    flatten_sum(env, p->inputs[0], sign, false, s);
    flatten_sum(env, p->inputs[1], p->op_type == "Sub" ? -sign : sign, false, s);
    return;
  }
  s.terms.push_back({v, sign});
}

void collect_base(const RewriteEnv& env, const std::string& x, BaseSum& s) {
  if (env.uses(x) == 1) flatten_sum(env, x, 1, true, s);
  if (s.constants.empty() || s.terms.empty()) s = BaseSum{{{x, 1}}, {}, {}};
}

// A chain of Add/Sub/Mul/Div by constants, mixing the additive and multiplicative kinds,
// becomes x*k + b with k and b folded at compile time: ((x + c1) * c2) + c3 ->
// x*c2 + (c1*c2 + c3). Constant terms of a sum at the base join the shift too:
// ((x + c0 + y) * c1) + c2 -> (x + y)*c1 + (c0*c1 + c2). Pure Mul/Div or Add/Sub chains
// are the *-constant-chain rules.
class AffineChain : public NamedRule {
 public:
  AffineChain()
      : NamedRule("affine-chain", "distributive",
                  "((x + c1) * c2) + c3 -> x*c2 + (c1*c2 + c3): a chain of constant Add/Sub/Mul/Div -> x*k + b (constant terms of a sum at its base included)") {}
  std::vector<std::string> roots() const override { return {"Add", "Sub", "Mul", "Div"}; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& n) const override {
    if (!modern_broadcasting(env)) return std::nullopt;
    std::optional<AffineStep> top = affine_step(env, n);
    if (!top) return std::nullopt;
    const std::string& out = n.outputs[0];
    const TensorType* ot = env.type(out);
    if (!ot || !dtype_is_float(ot->dtype) || !ot->has_shape) return std::nullopt;
    // Only at the top of a chain.
    if (env.uses(out) == 1 && !env.is_graph_output(out) && affine_step(env, *env.consumers(out).front()))
      return std::nullopt;
    std::vector<AffineStep> steps = {*top};  // top-down
    std::string x = n.inputs[top->const_first ? 1 : 0];
    while (steps.size() < 16 && env.uses(x) == 1) {
      const Node* p = env.producer(x);
      if (!p) break;
      std::optional<AffineStep> s = affine_step(env, *p);
      if (!s) break;
      steps.push_back(*s);
      x = p->inputs[s->const_first ? 1 : 0];
    }
    // The chain's base may be a sum with constant terms, (x + c0 + y): the constants join b.
    BaseSum base;
    collect_base(env, x, base);
    bool any_add = !base.constants.empty(), any_mul = false;
    for (const AffineStep& s : steps) (additive(s.node->op_type) ? any_add : any_mul) = true;
    if (!any_add || !any_mul) return std::nullopt;
    std::optional<TensorType> xt;  // type of the base without its constants
    for (const BaseSum::Term& t : base.terms) {
      const TensorType* tt = env.type(t.value);
      if (!tt || tt->dtype != ot->dtype || !tt->has_shape) return std::nullopt;
      xt = xt ? broadcast_types(*xt, *tt) : std::optional<TensorType>(*tt);
      if (!xt) return std::nullopt;
    }
    if (!xt) return std::nullopt;

    const Graph& g = env.graph();
    std::optional<Tensor> k, b;  // absent: 1 and 0
    try {
      for (const BaseSum::Constant& c : base.constants) {
        if (c.sign > 0) b = b ? fold_binary(g, "Add", *b, *c.value) : *c.value;
        else b = b ? fold_binary(g, "Sub", *b, *c.value) : fold_unary(g, "Neg", *c.value);
      }
      for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
        const std::string& op = it->node->op_type;
        const Tensor& c = *it->c;
        if (op == "Add") {
          b = b ? fold_binary(g, "Add", *b, c) : c;
        } else if (op == "Sub" && !it->const_first) {
          b = b ? fold_binary(g, "Sub", *b, c) : fold_unary(g, "Neg", c);
        } else if (op == "Sub") {  // c - (k*x + b) = (-k)*x + (c - b)
          k = k ? fold_unary(g, "Neg", *k) : scalar_tensor(ot->dtype, -1.0);
          b = b ? fold_binary(g, "Sub", c, *b) : c;
        } else {  // Mul, Div by c
          k = k ? fold_binary(g, op, *k, c) : (op == "Mul" ? c : fold_binary(g, "Div", scalar_tensor(ot->dtype, 1.0), c));
          if (b) b = fold_binary(g, op, *b, c);
        }
      }
    } catch (const Error&) {
      return std::nullopt;
    }
    auto type_of = [](const Tensor& t) { return TensorType(t.dtype(), t.shape()); };
    // Identity parts go when the rest already has the output's shape.
    if (k && is_splat(*k, 1.0)) {
      std::optional<TensorType> rest = b ? broadcast_types(*xt, type_of(*b)) : xt;
      if (rest && provably_same_shape(*rest, *ot)) k.reset();
    }
    if (b && is_splat(*b, 0.0)) {
      std::optional<TensorType> rest = k ? broadcast_types(*xt, type_of(*k)) : xt;
      if (rest && provably_same_shape(*rest, *ot)) b.reset();
    }
    // Operators before and after: the chain plus the base sum's nodes, against the
    // base's own sum, the scale and the shift.
    bool any_positive = false;
    for (const BaseSum::Term& t : base.terms) any_positive = any_positive || t.sign > 0;
    const size_t before = steps.size() + base.nodes.size();
    const size_t after = (base.terms.size() - 1) + (any_positive ? 0 : 1) + (k ? 1 : 0) + (b ? 1 : 0);
    if (after >= before) return std::nullopt;

    Rewrite rw;
    rw.root = n.id;
    for (const AffineStep& s : steps) rw.matched.push_back(s.node->id);
    for (NodeId id : base.nodes) rw.matched.push_back(id);
    Builder bl(rw);
    std::string v;
    for (const BaseSum::Term& t : base.terms)
      if (t.sign > 0) v = v.empty() ? t.value : bl.add("Add", {v, t.value});
    for (const BaseSum::Term& t : base.terms) {
      if (t.sign > 0) continue;
      v = v.empty() ? bl.add("Neg", {t.value}) : bl.add("Sub", {v, t.value});
    }
    if (k) v = bl.add("Mul", {v, bl.constant(*k)});
    if (b) v = bl.add("Add", {v, bl.constant(*b)});
    rw.replace.emplace_back(out, v);
    rw.reason = description();
    return rw;
  }
};

}  // namespace

void add_distributive_rules(RuleList& r) {
  r.push_back(std::make_unique<AffineChain>());
  r.push_back(factor_common_mul());
  r.push_back(factor_common_div());
  r.push_back(factor_self());
  r.push_back(factor_square());
  r.push_back(std::make_unique<ReduceScalarMul>());
}

}  // namespace dnnf::rewrite::alg
