// Commutative rules: a reduction and an elementwise operator swap places so that the
// elementwise work runs on the reduced (smaller) tensor. ReduceProd(Exp(A)) ->
// Exp(ReduceSum(A)), ReduceSum(BitShift(A, s)) -> BitShift(ReduceSum(A), s), and the
// reductions that commute with a scalar-constant elementwise operator.
#include <cmath>

#include "core/rewrite/rules/algebra_support.h"

namespace dnnf::rewrite::alg {

namespace {

// ReduceProd(Exp(A)) -> Exp(ReduceSum(A)), same axes and keepdims. exp(sum) can
// overflow to inf where the product of exps would too, but the intermediate values
// differ (a product of tiny exps underflowing to 0 against a finite exp of the sum).
class ReduceProdExp : public NamedRule {
 public:
  ReduceProdExp()
      : NamedRule("reduceprod-exp", "commutative",
                  "ReduceProd(Exp(A)) -> Exp(ReduceSum(A)) (same axes/keepdims; overflow behaviour may differ)") {}
  std::vector<std::string> roots() const override { return {"ReduceProd"}; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& n) const override {
    if (!is_plain(n, "ReduceProd") || !n.has_input(0) || n.outputs.size() != 1) return std::nullopt;
    const Node* e = env.producer(n.inputs[0]);
    if (!e || !is_plain(*e, "Exp") || e->inputs.size() != 1 || !e->has_input(0)) return std::nullopt;
    if (!is_float_value(env, e->inputs[0])) return std::nullopt;
    std::optional<ReduceAxes> axes = reduce_axes(env, n);
    if (!axes || (axes->axes.empty() && axes->noop_with_empty_axes)) return std::nullopt;
    Rewrite rw;
    rw.root = n.id;
    rw.matched = {e->id, n.id};
    Builder b(rw);
    const std::string s = emit_reduce(env, b, "ReduceSum", e->inputs[0], *axes);
    if (s.empty()) return std::nullopt;
    rw.replace.emplace_back(n.outputs[0], b.add("Exp", {s}));
    rw.reason = description();
    return rw;
  }
};

// ReduceSum(BitShift(A, s, LEFT)) -> BitShift(ReduceSum(A), s, LEFT) for one shift amount
// s: a left shift multiplies by 2^s, which distributes over the sum in the unsigned
// modular arithmetic both sides use. As in the paper, overflow is assumed to behave the
// same (wrap-around); right shifts drop low bits and never commute.
class ReduceSumBitShift : public NamedRule {
 public:
  ReduceSumBitShift()
      : NamedRule("reducesum-bitshift", "commutative",
                  "ReduceSum(BitShift(A,s,LEFT)) -> BitShift(ReduceSum(A),s,LEFT) (scalar s; overflow assumed as in the paper)") {}
  std::vector<std::string> roots() const override { return {"ReduceSum"}; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& n) const override {
    if (!modern_broadcasting(env) || !is_plain(n, "ReduceSum") || !n.has_input(0) || n.outputs.size() != 1)
      return std::nullopt;
    const Node* s = env.producer(n.inputs[0]);
    if (!s || !is_binary(*s, "BitShift") || s->attr_string("direction", "") != "LEFT") return std::nullopt;
    const TensorType* at = env.type(s->inputs[0]);
    if (!at || !at->has_shape || dtype_is_signed(at->dtype) || !dtype_is_integer(at->dtype)) return std::nullopt;
    const Tensor* amount = scalar_constant(env, s->inputs[1], at->rank());
    if (!amount) return std::nullopt;
    Rewrite rw;
    rw.root = n.id;
    rw.matched = {s->id, n.id};
    Builder b(rw);
    const std::string r = emit_copy(b, n, s->inputs[0]);
    std::map<std::string, Attribute> attrs = {{"direction", Attribute::from_string("LEFT")}};
    rw.replace.emplace_back(n.outputs[0], b.add("BitShift", {r, b.constant(amount->reshaped({}))}, attrs));
    rw.reason = description();
    return rw;
  }
};

// Reductions commuting with a scalar-constant elementwise operator (or Neg):
//   Mean/Max/Min/LogSumExp(A + c) -> Reduce(A) + c  (and A - c, c - A for Mean/Max/Min,
//   where Max/Min swap under c - A), Sum(A + c) -> Sum(A) + N*c with N reduced elements,
//   Max/Min(A * c) -> Max/Min(A) * c for c > 0, Min/Max for c < 0 (also A / c),
//   SumSquare(A*c) -> SumSquare(A)*c^2, L1/L2(A*c) -> L1/L2(A)*|c|,
//   Sum/Mean(-A) -> -Sum/Mean(A), Max(-A) -> -Min(A), L1/L2/SumSquare(-A) -> L1/L2/SumSquare(A).
class ReduceScalarCommute : public NamedRule {
 public:
  ReduceScalarCommute()
      : NamedRule("reduce-scalar-commute", "commutative",
                  "Reduce(A op c) -> Reduce'(A) op c' (Mean/Max/Min/LogSumExp(A+c) -> R(A)+c, Sum(A+c) -> Sum(A)+N*c, "
                  "Max(A*c) -> Max|Min(A)*c, L2(A*c) -> L2(A)*|c|, Max(-A) -> -Min(A), ...)") {}
  std::vector<std::string> roots() const override {
    return {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceLogSumExp", "ReduceSumSquare", "ReduceL1",
            "ReduceL2"};
  }

  std::optional<Rewrite> match(const RewriteEnv& env, const Node& n) const override {
    if (!modern_broadcasting(env) || !is_plain(n, n.op_type) || !n.has_input(0) || n.outputs.size() != 1)
      return std::nullopt;
    if (!is_float_value(env, n.outputs[0])) return std::nullopt;
    const Node* e = env.producer(n.inputs[0]);
    if (!e) return std::nullopt;
    // Identify A, c and the form of the elementwise operator.
    enum class Form { AddC, SubC, CSub, MulC, DivC, Neg } form;
    std::string a;
    const Tensor* c = nullptr;
    auto scalar_side = [&](size_t side) -> bool {
      const std::string& x = e->inputs[1 - side];
      const TensorType* xt = env.type(x);
      if (!xt || !xt->has_shape || env.constant(x)) return false;
      c = scalar_constant(env, e->inputs[side], xt->rank());
      if (!c) return false;
      a = x;
      return true;
    };
    if (is_plain(*e, "Neg") && e->inputs.size() == 1 && e->has_input(0)) {
      form = Form::Neg;
      a = e->inputs[0];
    } else if (is_binary(*e, "Add") && (scalar_side(1) || scalar_side(0))) {
      form = Form::AddC;
    } else if (is_binary(*e, "Sub") && scalar_side(1)) {
      form = Form::SubC;
    } else if (is_binary(*e, "Sub") && scalar_side(0)) {
      form = Form::CSub;
    } else if (is_binary(*e, "Mul") && (scalar_side(1) || scalar_side(0))) {
      form = Form::MulC;
    } else if (is_binary(*e, "Div") && scalar_side(1)) {
      form = Form::DivC;
    } else {
      return std::nullopt;
    }
    const TensorType* at = env.type(a);
    const TensorType* ot = env.type(n.outputs[0]);
    if (!at || !ot) return std::nullopt;
    const DType dt = ot->dtype;
    const double cv = c ? c->get_f64(0) : 0.0;
    if (c && !std::isfinite(cv)) return std::nullopt;
    const std::string& op = n.op_type;
    const std::string other = op == "ReduceMax" ? "ReduceMin" : op == "ReduceMin" ? "ReduceMax" : op;

    // What to emit: reduce (op or swapped) over A, then an elementwise op with a new
    // scalar (or Neg, or nothing).
    std::string reduce_op = op;
    std::string post;          // "", "Add", "Sub", "Mul", "Div", "Neg", "RSub" (k - r)
    double k = 0;
    const bool is_mean_like = op == "ReduceMean" || op == "ReduceMax" || op == "ReduceMin";
    switch (form) {
      case Form::AddC:
      case Form::SubC:
      case Form::CSub: {
        if (!(is_mean_like || op == "ReduceSum" || (op == "ReduceLogSumExp" && form != Form::CSub))) return std::nullopt;
        k = cv;
        if (op == "ReduceSum") {
          auto in = at->static_shape();
          auto out = ot->static_shape();
          if (!in || !out) return std::nullopt;
          const int64_t ni = shape_numel(*in), no = shape_numel(*out);
          if (ni == 0 || no == 0) return std::nullopt;
          k = cv * double(ni / no);
        }
        if (form == Form::CSub) {
          post = "RSub";
          reduce_op = other;  // c - A: the max of c - A is c - min(A)
        } else {
          post = form == Form::AddC ? "Add" : "Sub";
        }
        break;
      }
      case Form::MulC:
      case Form::DivC: {
        if (cv == 0) return std::nullopt;
        if (op == "ReduceMax" || op == "ReduceMin") {
          k = cv;
          if (cv < 0) reduce_op = other;
        } else if (op == "ReduceSumSquare") {
          k = cv * cv;
        } else if (op == "ReduceL1" || op == "ReduceL2") {
          k = std::fabs(cv);
        } else {
          return std::nullopt;  // Sum/Mean: reduce-scalar-mul
        }
        post = form == Form::MulC ? "Mul" : "Div";
        break;
      }
      case Form::Neg: {
        if (op == "ReduceSum" || op == "ReduceMean") post = "Neg";
        else if (op == "ReduceMax" || op == "ReduceMin") { post = "Neg"; reduce_op = other; }
        else if (op == "ReduceSumSquare" || op == "ReduceL1" || op == "ReduceL2") post = "";
        else return std::nullopt;
        break;
      }
    }
    // Max/Min over an empty set give the lowest/highest value; keep away from them.
    if ((op == "ReduceMax" || op == "ReduceMin") && (!at->is_static() || at->numel_or(0) == 0)) return std::nullopt;

    Rewrite rw;
    rw.root = n.id;
    rw.matched = {e->id, n.id};
    Builder b(rw);
    const std::string r = emit_copy(b, n, a, reduce_op);
    std::string result;
    if (post.empty()) result = r;
    else if (post == "Neg") result = b.add("Neg", {r});
    else if (post == "RSub") result = b.add("Sub", {b.constant(scalar_tensor(dt, k)), r});
    else result = b.add(post, {r, b.constant(scalar_tensor(dt, k))});
    rw.replace.emplace_back(n.outputs[0], result);
    rw.reason = description();
    return rw;
  }
};

}  // namespace

void add_commutative_rules(RuleList& r) {
  r.push_back(std::make_unique<ReduceProdExp>());
  r.push_back(std::make_unique<ReduceSumBitShift>());
  r.push_back(std::make_unique<ReduceScalarCommute>());
}

}  // namespace dnnf::rewrite::alg
