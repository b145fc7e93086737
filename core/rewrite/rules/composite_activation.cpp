// Point-wise activation composites (GELU erf/tanh, SiLU, HardSwish, Mish) recognised
// by their algebra rather than by one operand order: the element-wise subgraph under
// a root is translated into a canonical polynomial over x and transcendental atoms
// (Erf(p), Tanh(p), Sigmoid(p), Softplus(p), clip01(p) for HardSigmoid and Clip), with
// p itself canonical. Then x*0.5*(1+Erf(x/sqrt2)), 0.5*x + 0.5*x*Erf(x*0.7071),
// x*(1+Erf(..))/2 ... all give the same canonical form, and so do the tanh GELU with
// x^3 as Pow(x,3), x*x*x or factored as k*x*(1 + 0.044715*x*x).
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "core/rewrite/rules/composite_common.h"

namespace dnnf::rewrite::composite {

namespace {

// A monomial: (atom, power) pairs sorted by atom; atom 0 is x.
using Mono = std::vector<std::pair<int, int>>;

struct Poly {
  std::map<Mono, double> terms;  // no zero coefficients
};

bool operator==(const Poly& a, const Poly& b) { return a.terms == b.terms; }

constexpr size_t kMaxTerms = 48;
constexpr int kMaxPower = 8;

struct AtomDef {
  std::string fn;  // "x", "Erf", "Tanh", "Sigmoid", "Softplus", "clip01"
  Poly arg;
};

// Canonical polynomials over interned atoms.
class Algebra {
 public:
  Algebra() { atoms_.push_back({"x", {}}); }

  const AtomDef& atom(int id) const { return atoms_[size_t(id)]; }

  Poly atom_poly(const std::string& fn, const Poly& arg) {
    for (size_t i = 1; i < atoms_.size(); ++i)
      if (atoms_[i].fn == fn && atoms_[i].arg == arg) return monomial({{int(i), 1}}, 1.0);
    atoms_.push_back({fn, arg});
    return monomial({{int(atoms_.size() - 1), 1}}, 1.0);
  }
  static Poly x() { return monomial({{0, 1}}, 1.0); }
  static Poly constant(double c) { return monomial({}, c); }
  static Poly monomial(Mono m, double c) {
    Poly p;
    if (c != 0) p.terms[std::move(m)] = c;
    return p;
  }
  static std::optional<double> as_constant(const Poly& p) {
    if (p.terms.empty()) return 0.0;
    if (p.terms.size() == 1 && p.terms.begin()->first.empty()) return p.terms.begin()->second;
    return std::nullopt;
  }
  static Poly add(const Poly& a, const Poly& b, double sb = 1.0) {
    Poly r = a;
    for (const auto& [m, c] : b.terms) {
      const double v = (r.terms.count(m) ? r.terms[m] : 0.0) + sb * c;
      if (v == 0) r.terms.erase(m);
      else r.terms[m] = v;
    }
    return r;
  }
  static Poly scale(const Poly& a, double s) {
    Poly r;
    if (s == 0) return r;
    for (const auto& [m, c] : a.terms) r.terms[m] = c * s;
    return r;
  }
  static std::optional<Poly> mul(const Poly& a, const Poly& b) {
    Poly r;
    for (const auto& [ma, ca] : a.terms)
      for (const auto& [mb, cb] : b.terms) {
        std::map<int, int> powers;
        for (const auto& [atom, p] : ma) powers[atom] += p;
        for (const auto& [atom, p] : mb) powers[atom] += p;
        Mono m;
        for (const auto& [atom, p] : powers) {
          if (p > kMaxPower) return std::nullopt;
          m.emplace_back(atom, p);
        }
        r = add(r, monomial(m, ca * cb));
        if (r.terms.size() > kMaxTerms) return std::nullopt;
      }
    return r;
  }

 private:
  std::vector<AtomDef> atoms_;
};

// Coefficients agree to float32 export precision (0.7978846 for sqrt(2/pi) ...).
bool near(double a, double b) { return std::fabs(a - b) <= 1e-5 * std::fabs(b); }

// Translates the element-wise subgraph that computes a value into a Poly in x.
class Translator {
 public:
  Translator(const RewriteEnv& env, Algebra& alg, std::string x)
      : env_(env), alg_(alg), x_(std::move(x)), x_rank_(rank_of(env, x_)) {}

  std::optional<Poly> value(const std::string& v) {
    if (v == x_) return Algebra::x();
    auto it = memo_.find(v);
    if (it != memo_.end()) return it->second;
    if (const auto c = scalar_constant(env_, v, x_rank_ >= 0 ? x_rank_ : 0)) return Algebra::constant(*c);
    const Node* n = env_.producer(v);
    if (!n || !(n->domain.empty() || n->domain == "ai.onnx") || n->outputs.empty() || n->outputs[0] != v) return std::nullopt;
    if (--budget_ < 0 || !is_float_value(env_, v)) return std::nullopt;
    std::optional<Poly> r = node(*n);
    if (!r) return std::nullopt;
    nodes_.add(n);
    memo_[v] = *r;
    return r;
  }

  const NodeSet& nodes() const { return nodes_; }

 private:
  std::optional<Poly> node(const Node& n) {
    const std::string& op = n.op_type;
    auto in = [&](size_t i) -> std::optional<Poly> {
      if (!n.has_input(i)) return std::nullopt;
      return value(n.inputs[i]);
    };
    if ((op == "Identity" || op == "Cast") && n.inputs.size() == 1) {
      if (op == "Cast" && skip_noop_casts(env_, n.outputs[0]) == n.outputs[0]) return std::nullopt;
      return in(0);
    }
    if ((op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow") && n.inputs.size() == 2) {
      auto a = in(0), b = in(1);
      if (!a || !b) return std::nullopt;
      if (op == "Add") return Algebra::add(*a, *b);
      if (op == "Sub") return Algebra::add(*a, *b, -1.0);
      if (op == "Mul") return Algebra::mul(*a, *b);
      const auto cb = Algebra::as_constant(*b);
      if (!cb) return std::nullopt;
      if (op == "Div") {
        if (*cb == 0) return std::nullopt;
        return Algebra::scale(*a, 1.0 / *cb);
      }
      if (const auto ca = Algebra::as_constant(*a)) return Algebra::constant(std::pow(*ca, *cb));
      const double e = *cb;
      if (e != std::floor(e) || e < 1 || e > 4) return std::nullopt;
      Poly r = *a;
      for (int i = 1; i < int(e); ++i) {
        auto m = Algebra::mul(r, *a);
        if (!m) return std::nullopt;
        r = *m;
      }
      return r;
    }
    if (n.inputs.size() != 1 && op != "Clip") return std::nullopt;
    auto a = in(0);
    if (!a) return std::nullopt;
    const auto ca = Algebra::as_constant(*a);
    if (op == "Neg") return Algebra::scale(*a, -1.0);
    if (op == "Sqrt" || op == "Reciprocal" || op == "Exp") {
      if (!ca) return std::nullopt;  // only constant sub-expressions such as Sqrt(2)
      if (op == "Sqrt") return *ca < 0 ? std::nullopt : std::optional<Poly>(Algebra::constant(std::sqrt(*ca)));
      if (op == "Exp") return Algebra::constant(std::exp(*ca));
      return *ca == 0 ? std::nullopt : std::optional<Poly>(Algebra::constant(1.0 / *ca));
    }
    if (op == "Erf" || op == "Tanh" || op == "Sigmoid" || op == "Softplus") {
      if (ca) {
        const double v = *ca;
        if (op == "Erf") return Algebra::constant(std::erf(v));
        if (op == "Tanh") return Algebra::constant(std::tanh(v));
        if (op == "Sigmoid") return Algebra::constant(1.0 / (1.0 + std::exp(-v)));
        return Algebra::constant(std::log1p(std::exp(v)));
      }
      return alg_.atom_poly(op, *a);
    }
    if (op == "HardSigmoid") {
      // max(0, min(1, alpha*x + beta))
      const double alpha = n.attr_float("alpha", 0.2f), beta = n.attr_float("beta", 0.5f);
      return clip01(Algebra::add(Algebra::scale(*a, alpha), Algebra::constant(beta)));
    }
    if (op == "Clip") {
      double lo = 0, hi = 0;
      if (n.inputs.size() > 1) {
        if (n.inputs.size() != 3 || !n.has_input(1) || !n.has_input(2)) return std::nullopt;
        const auto l = scalar_constant(env_, n.inputs[1], 0), h = scalar_constant(env_, n.inputs[2], 0);
        if (!l || !h) return std::nullopt;
        lo = *l;
        hi = *h;
      } else {
        if (!n.has_attr("min") || !n.has_attr("max")) return std::nullopt;
        lo = n.attr_float("min", 0.0f);
        hi = n.attr_float("max", 0.0f);
      }
      if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return std::nullopt;
      // clip(p, lo, hi) = lo + (hi - lo) * clip01((p - lo) / (hi - lo))
      const double w = hi - lo;
      auto c = clip01(Algebra::scale(Algebra::add(*a, Algebra::constant(lo), -1.0), 1.0 / w));
      if (!c) return std::nullopt;
      return Algebra::add(Algebra::constant(lo), Algebra::scale(*c, w));
    }
    return std::nullopt;
  }

  std::optional<Poly> clip01(const Poly& arg) {
    if (const auto c = Algebra::as_constant(arg)) return Algebra::constant(std::clamp(*c, 0.0, 1.0));
    return alg_.atom_poly("clip01", arg);
  }

  const RewriteEnv& env_;
  Algebra& alg_;
  std::string x_;
  int64_t x_rank_;
  std::map<std::string, Poly> memo_;
  NodeSet nodes_;
  int budget_ = 32;
};

// ---- canonical forms of the targets ------------------------------------------------------

// p == sum of coeffs[m] * m exactly in monomials, approximately in coefficients.
bool poly_is(const Poly& p, const std::vector<std::pair<Mono, double>>& want) {
  if (p.terms.size() != want.size()) return false;
  for (const auto& [m, c] : want) {
    auto it = p.terms.find(m);
    if (it == p.terms.end() || !near(it->second, c)) return false;
  }
  return true;
}

// The atom id of the single non-x atom in `p`'s monomial x*atom (coefficient c), if
// that atom is `fn`.
std::optional<int> x_times_atom(const Algebra& alg, const Mono& m, const std::string& fn) {
  if (m.size() != 2 || m[0] != std::pair<int, int>{0, 1} || m[1].second != 1) return std::nullopt;
  if (alg.atom(m[1].first).fn != fn) return std::nullopt;
  return m[1].first;
}

// c * x * fn(arg) (and optionally + c * x) with the atom's argument checked by `arg_ok`.
bool x_times_fn(const Algebra& alg, const Poly& p, const std::string& fn, double c, bool plus_x,
                const std::function<bool(const Poly&)>& arg_ok) {
  if (p.terms.size() != (plus_x ? 2u : 1u)) return false;
  if (plus_x) {
    auto it = p.terms.find(Mono{{0, 1}});
    if (it == p.terms.end() || !near(it->second, c)) return false;
  }
  for (const auto& [m, coef] : p.terms) {
    if (plus_x && m == Mono{{0, 1}}) continue;
    const auto a = x_times_atom(alg, m, fn);
    if (!a || !near(coef, c) || !arg_ok(alg.atom(*a).arg)) return false;
  }
  return true;
}

const double kInvSqrt2 = 1.0 / std::sqrt(2.0);
const double kSqrt2OverPi = std::sqrt(2.0 / 3.14159265358979323846);

struct Target {
  std::string rule, description;
  std::vector<std::string> key_ops;  // the subgraph must contain one of these
  std::string op;                    // dnnf operator emitted
  std::map<std::string, Attribute> attrs;
  std::function<bool(const Algebra&, const Poly&)> is;
};

std::vector<Target> targets() {
  std::vector<Target> t;
  t.push_back({"gelu-from-erf", "x * 0.5 * (1 + Erf(x / sqrt(2))) (any order) -> dnnf.Gelu(x)", {"Erf"}, "Gelu",
               {{"approximate", Attribute::from_string("none")}}, [](const Algebra& alg, const Poly& p) {
                 return x_times_fn(alg, p, "Erf", 0.5, true,
                                   [](const Poly& a) { return poly_is(a, {{Mono{{0, 1}}, kInvSqrt2}}); });
               }});
  t.push_back({"gelu-from-tanh",
               "0.5 * x * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 * x^3))) -> dnnf.Gelu(x, approximate=tanh)",
               {"Tanh"}, "Gelu", {{"approximate", Attribute::from_string("tanh")}},
               [](const Algebra& alg, const Poly& p) {
                 return x_times_fn(alg, p, "Tanh", 0.5, true, [](const Poly& a) {
                   return poly_is(a, {{Mono{{0, 1}}, kSqrt2OverPi}, {Mono{{0, 3}}, kSqrt2OverPi * 0.044715}});
                 });
               }});
  t.push_back({"silu-from-sigmoid", "x * Sigmoid(x) -> dnnf.Silu(x)", {"Sigmoid"}, "Silu", {},
               [](const Algebra& alg, const Poly& p) {
                 return x_times_fn(alg, p, "Sigmoid", 1.0, false,
                                   [](const Poly& a) { return poly_is(a, {{Mono{{0, 1}}, 1.0}}); });
               }});
  t.push_back({"hardswish-from-primitives",
               "x * HardSigmoid(x, 1/6, 0.5) or x * Clip(x + 3, 0, 6) / 6 -> dnnf.HardSwish(x)",
               {"HardSigmoid", "Clip"}, "HardSwish", {}, [](const Algebra& alg, const Poly& p) {
                 return x_times_fn(alg, p, "clip01", 1.0, false, [](const Poly& a) {
                   return poly_is(a, {{Mono{{0, 1}}, 1.0 / 6.0}, {Mono{}, 0.5}});
                 });
               }});
  t.push_back({"mish-from-primitives", "x * Tanh(Softplus(x)) -> dnnf.Mish(x)", {"Softplus"}, "Mish", {},
               [](const Algebra& alg, const Poly& p) {
                 return x_times_fn(alg, p, "Tanh", 1.0, false, [&alg](const Poly& a) {
                   if (a.terms.size() != 1 || !near(a.terms.begin()->second, 1.0)) return false;
                   const Mono& m = a.terms.begin()->first;
                   if (m.size() != 1 || m[0].second != 1) return false;
                   const AtomDef& sp = alg.atom(m[0].first);
                   return sp.fn == "Softplus" && poly_is(sp.arg, {{Mono{{0, 1}}, 1.0}});
                 });
               }});
  return t;
}

bool translatable(const std::string& op) {
  static const std::vector<std::string> ops = {"Add", "Sub", "Mul", "Div", "Pow", "Neg", "Sqrt", "Reciprocal",
                                               "Exp", "Erf", "Tanh", "Sigmoid", "Softplus", "HardSigmoid",
                                               "Clip", "Identity", "Cast"};
  return std::find(ops.begin(), ops.end(), op) != ops.end();
}

class ActivationRule : public NamedRule {
 public:
  explicit ActivationRule(Target t) : NamedRule(t.rule, "composite", t.description), t_(std::move(t)) {}
  std::vector<std::string> roots() const override { return {"Mul", "Div", "Add"}; }

  std::optional<Rewrite> match(const RewriteEnv& env, const Node& root) const override {
    if (root.outputs.empty() || !is_float_value(env, root.outputs[0])) return std::nullopt;
    // The element-wise region under the root, and the values it reads: x is one of them.
    std::vector<const Node*> region = {&root};
    std::vector<std::string> candidates;
    bool has_key = false;
    for (size_t i = 0; i < region.size() && region.size() < 32; ++i) {
      for (const std::string& in : region[i]->inputs) {
        if (in.empty() || env.constant(in)) continue;
        const Node* p = env.producer(in);
        const bool inner = p && translatable(p->op_type) && (p->domain.empty() || p->domain == "ai.onnx") &&
                           std::find(region.begin(), region.end(), p) == region.end();
        if (inner) {
          region.push_back(p);
          if (std::find(t_.key_ops.begin(), t_.key_ops.end(), p->op_type) != t_.key_ops.end()) has_key = true;
        }
        if (std::find(candidates.begin(), candidates.end(), in) == candidates.end()) candidates.push_back(in);
      }
    }
    if (!has_key) return std::nullopt;
    for (const std::string& x : candidates) {
      if (!is_float_value(env, x)) continue;
      Algebra alg;
      Translator tr(env, alg, x);
      const auto p = tr.value(root.outputs[0]);
      if (!p || !t_.is(alg, *p) || !closed_match(env, tr.nodes(), root.id)) continue;
      Rewrite rw;
      rw.root = root.id;
      rw.matched = tr.nodes().ids;
      Builder b(rw);
      rw.replace.emplace_back(root.outputs[0], b.add(t_.op, {x}, t_.attrs, 1, kDomain));
      rw.reason = description();
      return rw;
    }
    return std::nullopt;
  }

 private:
  Target t_;
};

}  // namespace

void add_activation_rules(RuleList& r) {
  for (Target& t : targets()) r.push_back(std::make_unique<ActivationRule>(std::move(t)));
}

}  // namespace dnnf::rewrite::composite
