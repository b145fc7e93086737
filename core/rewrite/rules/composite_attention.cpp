// Softmax written out (Exp(x - ReduceMax(x)) / ReduceSum(...), with or without the
// max) and scaled-dot-product attention MatMul(Softmax(MatMul(Q, Kt) * s [+ mask]), V).
#include <cmath>

#include "core/rewrite/rules/composite_common.h"

namespace dnnf::rewrite::composite {

namespace {

// The single reduction axis of a keepdims Reduce* node, normalised when the rank is known.
std::optional<int64_t> single_axis(const RewriteEnv& env, const Node& n, int64_t rank) {
  if (!keeps_dims(n)) return std::nullopt;
  const auto axes = reduce_axes(env, n);
  if (!axes || axes->size() != 1) return std::nullopt;
  int64_t a = (*axes)[0];
  if (rank >= 0) {
    if (a < -rank || a >= rank) return std::nullopt;
    if (a < 0) a += rank;
  } else if (a >= 0) {
    return std::nullopt;  // a positive axis cannot be compared without the rank
  }
  return a;
}

// exp(x - ReduceMax(x)) or exp(x); returns x and, when the max is there, its axis.
struct ExpOf {
  std::string x;
  std::optional<int64_t> max_axis;
};

std::optional<ExpOf> parse_exp(const RewriteEnv& env, const std::string& v, NodeSet& nodes) {
  NodeSet local;
  const Node* e = producer_of(env, v, "Exp", &local);
  if (!e || !e->has_input(0)) return std::nullopt;
  local.add(e);
  ExpOf r;
  r.x = e->inputs[0];
  if (const Node* sub = producer_of(env, e->inputs[0], "Sub", &local)) {
    const Node* mx = sub->inputs.size() == 2 ? producer_of(env, sub->inputs[1], "ReduceMax", &local) : nullptr;
    if (mx && mx->has_input(0) && same_value(env, mx->inputs[0], sub->inputs[0])) {
      const auto axis = single_axis(env, *mx, rank_of(env, sub->inputs[0]));
      if (axis) {
        local.add(sub);
        local.add(mx);
        r.x = sub->inputs[0];
        r.max_axis = axis;
      }
    }
  }
  nodes.add_all(local);
  return r;
}

class SoftmaxFromPrimitives : public NamedRule {
 public:
  SoftmaxFromPrimitives()
      : NamedRule("softmax-from-primitives", "composite",
                  "Exp(x - ReduceMax(x)) / ReduceSum(Exp(x - ReduceMax(x))) (or without the max), one axis "
                  "-> dnnf.Softmax(x, axis)") {}
  std::vector<std::string> roots() const override { return {"Div", "Mul"}; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& root) const override {
    if (root.inputs.size() != 2 || root.outputs.empty() || !is_float_value(env, root.outputs[0]))
      return std::nullopt;
    for (int side = 0; side < 2; ++side) {
      if (side == 1 && root.op_type == "Div") break;
      NodeSet nodes;
      nodes.add(&root);
      std::string sum_v = root.inputs[size_t(1 - side)];
      if (root.op_type == "Mul") {
        const Node* rc = producer_of(env, sum_v, "Reciprocal", &nodes);
        if (!rc || !rc->has_input(0)) continue;
        nodes.add(rc);
        sum_v = rc->inputs[0];
      }
      const auto num = parse_exp(env, root.inputs[size_t(side)], nodes);
      if (!num || !is_float_value(env, num->x)) continue;
      const Node* rs = producer_of(env, sum_v, "ReduceSum", &nodes);
      if (!rs || !rs->has_input(0)) continue;
      nodes.add(rs);
      const int64_t rank = rank_of(env, num->x);
      const auto axis = single_axis(env, *rs, rank);
      if (!axis || (num->max_axis && *num->max_axis != *axis)) continue;
      // The sum reads the same exponentials (or a second Exp of the same argument).
      if (!same_value(env, rs->inputs[0], root.inputs[size_t(side)])) {
        const auto den = parse_exp(env, rs->inputs[0], nodes);
        if (!den || !same_value(env, den->x, num->x) || den->max_axis != num->max_axis) continue;
      }
      // Softmax keeps the shape of x: the division must not broadcast it.
      const TensorType* xt = env.type(num->x);
      const TensorType* yt = env.type(root.outputs[0]);
      if (!xt || !yt || !xt->has_shape || !yt->has_shape || xt->rank() != yt->rank() || xt->rank() == 0) continue;
      if (!closed_match(env, nodes, root.id)) continue;
      Rewrite rw;
      rw.root = root.id;
      rw.matched = nodes.ids;
      Builder b(rw);
      rw.replace.emplace_back(root.outputs[0],
                              b.add("Softmax", {num->x}, {{"axis", Attribute::from_int(*axis)}}, 1, kDomain));
      rw.reason = description();
      return rw;
    }
    return std::nullopt;
  }
};

// The pieces of softmax((Q @ Kt) * scale [+ mask | Where(mask, ., fill)] [+ bias]) @ V.
struct AttentionParts {
  std::string q, kt;
  std::string bool_mask, add_mask;  // Where condition; additive mask (outside the Where)
  bool mask_inverted = false;       // Where(mask, fill, scores)
  double scale = 1.0;
  double fill = 0.0;
  NodeSet nodes;
};

// A Softmax over the last axis (ai.onnx at any opset, or dnnf.Softmax).
bool softmax_over_last_axis(const RewriteEnv& env, const Node& sm) {
  if (!sm.has_input(0)) return false;
  const int64_t rank = rank_of(env, sm.inputs[0]);
  if (sm.domain == kDomain) {
    const int64_t a = sm.attr_int("axis", -1);
    return a == -1 || (rank >= 0 && a == rank - 1);
  }
  if (!(sm.domain.empty() || sm.domain == "ai.onnx")) return false;
  const int64_t opset = env.graph().opset("");
  const bool legacy = opset > 0 && opset < 13;
  const int64_t a = sm.attr_int("axis", legacy ? 1 : -1);
  if (a == -1) return true;  // the last axis, coerced to 2-D or not
  return rank >= 0 && a == rank - 1;
}

// Scalar scale factor of Mul(v, c) / Mul(c, v) / Div(v, c): the other operand and c.
std::optional<std::pair<std::string, double>> scalar_scaling(const RewriteEnv& env, const Node& n, int64_t rank) {
  if (n.inputs.size() != 2) return std::nullopt;
  const int64_t max_rank = rank >= 0 ? rank : 0;
  if (n.op_type == "Div") {
    const auto c = scalar_constant(env, n.inputs[1], max_rank);
    if (!c || *c == 0) return std::nullopt;
    return std::make_pair(n.inputs[0], 1.0 / *c);
  }
  if (n.op_type != "Mul") return std::nullopt;
  for (int side = 0; side < 2; ++side)
    if (const auto c = scalar_constant(env, n.inputs[size_t(1 - side)], max_rank))
      return std::make_pair(n.inputs[size_t(side)], *c);
  return std::nullopt;
}

// Walks from the softmax input to the score MatMul through scalings and one mask.
bool parse_scores(const RewriteEnv& env, const std::string& v, double outer_scale, AttentionParts& a, int depth) {
  if (depth > 6) return false;
  NodeSet local;
  const std::string src = skip_noop_casts(env, v, &local);
  const Node* n = env.producer(src);
  if (!n || !(n->domain.empty() || n->domain == "ai.onnx") || n->outputs.empty() || n->outputs[0] != src)
    return false;
  const int64_t rank = rank_of(env, src);
  if (n->op_type == "MatMul" && n->inputs.size() == 2) {
    double s = outer_scale;
    std::string sides[2];
    for (int i = 0; i < 2; ++i) {
      sides[i] = n->inputs[size_t(i)];
      // Q / sqrt(d) or Kt * c before the product (one scaling per side).
      NodeSet sl;
      const std::string ss = skip_noop_casts(env, sides[i], &sl);
      const Node* p = env.producer(ss);
      if (p && (p->domain.empty() || p->domain == "ai.onnx") && (p->op_type == "Mul" || p->op_type == "Div") &&
          env.uses(ss) == 1 && env.uses(sides[i]) == 1) {
        if (const auto sc = scalar_scaling(env, *p, rank_of(env, ss))) {
          sl.add(p);
          local.add_all(sl);
          sides[i] = sc->first;
          s *= sc->second;
        }
      }
    }
    local.add(n);
    a.q = sides[0];
    a.kt = sides[1];
    a.scale = s;
    a.nodes.add_all(local);
    return is_float_value(env, a.q);
  }
  if (n->op_type == "Mul" || n->op_type == "Div") {
    const auto sc = scalar_scaling(env, *n, rank);
    if (!sc) return false;
    AttentionParts trial = a;
    trial.nodes.add_all(local);
    trial.nodes.add(n);
    if (!parse_scores(env, sc->first, outer_scale * sc->second, trial, depth + 1)) return false;
    a = trial;
    return true;
  }
  if (n->op_type == "Add" && n->inputs.size() == 2) {
    // One additive mask, outside the Where if there is one; (s + m) * c would scale
    // the mask too.
    if (!a.add_mask.empty() || !a.bool_mask.empty() || outer_scale != 1.0) return false;
    for (int side = 0; side < 2; ++side) {
      AttentionParts trial = a;
      trial.nodes.add_all(local);
      trial.nodes.add(n);
      trial.add_mask = n->inputs[size_t(1 - side)];
      if (parse_scores(env, n->inputs[size_t(side)], 1.0, trial, depth + 1)) {
        a = trial;
        return true;
      }
    }
    return false;
  }
  if (n->op_type == "Where" && n->inputs.size() == 3) {
    if (!a.bool_mask.empty()) return false;
    const TensorType* ct = env.type(n->inputs[0]);
    if (!ct || ct->dtype != DType::Bool) return false;
    for (int side = 1; side <= 2; ++side) {
      const auto fill = scalar_constant(env, n->inputs[size_t(3 - side)], rank >= 0 ? rank : 0);
      if (!fill) continue;
      AttentionParts trial = a;
      trial.nodes.add_all(local);
      trial.nodes.add(n);
      trial.bool_mask = n->inputs[0];
      trial.mask_inverted = side == 2;
      trial.fill = *fill * outer_scale;
      if (parse_scores(env, n->inputs[size_t(side)], outer_scale, trial, depth + 1)) {
        a = trial;
        return true;
      }
    }
    return false;
  }
  return false;
}

class AttentionFromPrimitives : public NamedRule {
 public:
  AttentionFromPrimitives()
      : NamedRule("attention-from-primitives", "composite",
                  "MatMul(Softmax(MatMul(Q, Kt) * scale [+ mask | Where(mask, ., fill)] [+ bias]), V) "
                  "-> dnnf.Attention(Q, Kt, V, mask, bias)") {}
  std::vector<std::string> roots() const override { return {"MatMul"}; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& root) const override {
    if (root.inputs.size() != 2 || root.outputs.empty() || !is_float_value(env, root.outputs[0]))
      return std::nullopt;
    AttentionParts a;
    a.nodes.add(&root);
    const std::string p = skip_noop_casts(env, root.inputs[0], &a.nodes);
    const Node* sm = env.producer(p);
    if (!sm || sm->op_type != "Softmax" || sm->outputs.empty() || sm->outputs[0] != p) return std::nullopt;
    if (!softmax_over_last_axis(env, *sm)) return std::nullopt;
    a.nodes.add(sm);
    if (!parse_scores(env, sm->inputs[0], 1.0, a, 0)) return std::nullopt;
    if (!std::isfinite(float(a.scale)) || a.scale == 0 || std::isnan(a.fill)) return std::nullopt;
    // Q, Kt, V and the scores are all of rank >= 2 (a 1-D operand changes the
    // MatMul promotion rules between the two forms).
    for (const std::string& v : {a.q, a.kt, root.inputs[1]})
      if (rank_of(env, v) < 2) return std::nullopt;
    if (!closed_match(env, a.nodes, root.id)) return std::nullopt;
    Rewrite rw;
    rw.root = root.id;
    rw.matched = a.nodes.ids;
    Builder b(rw);
    std::vector<std::string> inputs = {a.q, a.kt, root.inputs[1]};
    std::map<std::string, Attribute> attrs;
    if (a.scale != 1.0) attrs["scale"] = Attribute::from_float(float(a.scale));
    if (!a.bool_mask.empty()) {
      inputs.push_back(a.mask_inverted ? b.add("Not", {a.bool_mask}) : a.bool_mask);
      attrs["mask_fill"] = Attribute::from_float(float(a.fill));
    }
    if (!a.add_mask.empty()) inputs.push_back(a.add_mask);  // after the Where: the bias input
    rw.replace.emplace_back(root.outputs[0], b.add("Attention", inputs, attrs, 1, kDomain));
    rw.reason = description();
    return rw;
  }
};

}  // namespace

void add_attention_rules(RuleList& r) {
  r.push_back(std::make_unique<SoftmaxFromPrimitives>());
  r.push_back(std::make_unique<AttentionFromPrimitives>());
}

}  // namespace dnnf::rewrite::composite
