// Normalisation composites: LayerNorm written out by PyTorch (ReduceMean, Sub, Pow,
// ReduceMean, Add eps, Sqrt, Div, then * gamma + beta) and by keras2onnx/tf2onnx
// (x * k + (beta - mean * k) with k = gamma / sqrt(var + eps)), RMSNorm, and the
// absorption of a later per-feature scale/shift into a recognised normalisation.
#include <cmath>

#include "core/rewrite/rules/composite_common.h"

namespace dnnf::rewrite::composite {

namespace {

// A factor of a product: value ^ power (power is +1 or -1).
struct Factor {
  std::string value;
  int power = 1;
};

// Splits `v` into the factors of its Mul / Div / Reciprocal tree. Intermediate
// products are expanded only when read once (the root always), so shared
// subexpressions stay single factors.
void flatten_product(const RewriteEnv& env, const std::string& v, int power, bool is_root, NodeSet& nodes,
                     std::vector<Factor>& out, int depth = 0) {
  NodeSet casts;
  const std::string src = skip_noop_casts(env, v, &casts);
  const Node* n = env.producer(src);
  const bool expandable = n && (n->domain.empty() || n->domain == "ai.onnx") && !n->outputs.empty() &&
                          n->outputs[0] == src && depth < 8 &&
                          (is_root || (env.uses(v) == 1 && env.uses(src) == 1)) &&
                          ((n->op_type == "Mul" && n->inputs.size() == 2) ||
                           (n->op_type == "Div" && n->inputs.size() == 2) ||
                           (n->op_type == "Reciprocal" && n->inputs.size() == 1));
  if (!expandable) {
    out.push_back({v, power});
    return;
  }
  nodes.add_all(casts);
  nodes.add(n);
  if (n->op_type == "Reciprocal") {
    flatten_product(env, n->inputs[0], -power, false, nodes, out, depth + 1);
  } else {
    flatten_product(env, n->inputs[0], power, false, nodes, out, depth + 1);
    flatten_product(env, n->inputs[1], n->op_type == "Div" ? -power : power, false, nodes, out, depth + 1);
  }
}

// mean = ReduceMean(x) over the trailing axes, keepdims.
struct Mean {
  std::string x;
  int64_t axis = 0;
};

std::optional<Mean> parse_mean(const RewriteEnv& env, const std::string& v, NodeSet& nodes) {
  NodeSet local;
  const Node* rm = producer_of(env, v, "ReduceMean", &local);
  if (!rm || !rm->has_input(0) || !keeps_dims(*rm)) return std::nullopt;
  const auto axes = reduce_axes(env, *rm);
  if (!axes) return std::nullopt;
  const auto axis = trailing_axis(*axes, rank_of(env, rm->inputs[0]));
  if (!axis) return std::nullopt;
  local.add(rm);
  nodes.add_all(local);
  return Mean{rm->inputs[0], *axis};
}

// d = x - ReduceMean(x).
struct Centered {
  std::string x, mean;
  int64_t axis = 0;
};

std::optional<Centered> parse_centered(const RewriteEnv& env, const std::string& v, NodeSet& nodes) {
  NodeSet local;
  const Node* sub = producer_of(env, v, "Sub", &local);
  if (!sub || sub->inputs.size() != 2) return std::nullopt;
  const auto mean = parse_mean(env, sub->inputs[1], local);
  if (!mean || !same_value(env, mean->x, sub->inputs[0])) return std::nullopt;
  local.add(sub);
  nodes.add_all(local);
  return Centered{sub->inputs[0], sub->inputs[1], mean->axis};
}

// b * b written as Pow(b, 2) or Mul(b, b); returns b.
std::optional<std::string> parse_square(const RewriteEnv& env, const std::string& v, NodeSet& nodes) {
  NodeSet local;
  if (const Node* p = producer_of(env, v, "Pow", &local)) {
    const auto e = p->inputs.size() == 2 ? scalar_constant(env, p->inputs[1]) : std::nullopt;
    if (!e || *e != 2.0) return std::nullopt;
    local.add(p);
    nodes.add_all(local);
    return p->inputs[0];
  }
  if (const Node* m = producer_of(env, v, "Mul", &local)) {
    if (m->inputs.size() != 2 || !same_value(env, m->inputs[0], m->inputs[1])) return std::nullopt;
    local.add(m);
    nodes.add_all(local);
    return m->inputs[0];
  }
  return std::nullopt;
}

// var = ReduceMean(b * b) over the trailing axes, keepdims; returns b and the axis.
struct MeanSquare {
  std::string base;
  int64_t axis = 0;
};

std::optional<MeanSquare> parse_mean_square(const RewriteEnv& env, const std::string& v, NodeSet& nodes) {
  NodeSet local;
  const auto mean = parse_mean(env, v, local);
  if (!mean) return std::nullopt;
  const auto base = parse_square(env, mean->x, local);
  if (!base) return std::nullopt;
  nodes.add_all(local);
  return MeanSquare{*base, mean->axis};
}

// A factor that is (var + eps) ^ -1/2: Sqrt(u)^-1, Reciprocal(Sqrt(u)) (already
// flattened to Sqrt(u)^-1) or Pow(u, -0.5); u = var + eps or var.
struct InvStd {
  std::string var;
  double eps = 0;
};

std::optional<InvStd> parse_inv_std(const RewriteEnv& env, const Factor& f, NodeSet& nodes) {
  NodeSet local;
  std::string u;
  if (const Node* s = producer_of(env, f.value, "Sqrt", &local)) {
    if (f.power != -1 || !s->has_input(0)) return std::nullopt;
    local.add(s);
    u = s->inputs[0];
  } else if (const Node* p = producer_of(env, f.value, "Pow", &local)) {
    const auto e = p->inputs.size() == 2 ? scalar_constant(env, p->inputs[1]) : std::nullopt;
    if (!e || *e * f.power != -0.5) return std::nullopt;
    local.add(p);
    u = p->inputs[0];
  } else {
    return std::nullopt;
  }
  InvStd r;
  r.var = u;
  if (const Node* add = producer_of(env, u, "Add", &local)) {
    for (int side = 0; side < 2 && add->inputs.size() == 2; ++side) {
      const int64_t var_rank = rank_of(env, add->inputs[size_t(side)]);
      const auto eps = scalar_constant(env, add->inputs[size_t(1 - side)], var_rank >= 0 ? var_rank : 0);
      if (!eps || *eps < 0) continue;
      local.add(add);
      r.var = add->inputs[size_t(side)];
      r.eps = *eps;
      break;
    }
  }
  nodes.add_all(local);
  return r;
}

// The pieces of a recognised normalisation.
struct NormParts {
  std::string x;
  int64_t axis = -1;  // -k: normalised over the last k axes
  double eps = 0;
  std::string scale, bias;              // existing values, or empty
  std::optional<Tensor> bias_constant;  // a shift computed here (Sub by a constant)
  NodeSet nodes;
};

// The normalised product (x - mean) / sqrt(var + eps) [* gamma] (rms = false) or
// x / sqrt(mean(x^2) + eps) [* gamma] (rms = true) at value `v`.
std::optional<NormParts> parse_norm_product(const RewriteEnv& env, const std::string& v, bool is_root, bool rms) {
  NormParts parts;
  std::vector<Factor> factors;
  flatten_product(env, v, 1, is_root, parts.nodes, factors);
  if (factors.size() < 2 || factors.size() > 3) return std::nullopt;
  for (size_t i = 0; i < factors.size(); ++i) {
    NodeSet local;
    const auto inv = parse_inv_std(env, factors[i], local);
    if (!inv) continue;
    const auto ms = parse_mean_square(env, inv->var, local);
    if (!ms) continue;
    std::optional<Centered> centered = parse_centered(env, ms->base, local);
    if (rms == centered.has_value()) continue;  // LN needs x - mean; RMS must not be one
    if (centered && centered->axis != ms->axis) continue;
    // The numerator: the centred value (possibly a second Sub node of the same
    // operands, as PyTorch 1.x exports it) or x itself.
    std::optional<size_t> num;
    for (size_t j = 0; j < factors.size() && !num; ++j) {
      if (j == i || factors[j].power != 1) continue;
      if (rms) {
        if (same_value(env, factors[j].value, ms->base)) num = j;
        continue;
      }
      NodeSet nl;
      const auto c2 = parse_centered(env, factors[j].value, nl);
      if (c2 && same_value(env, c2->x, centered->x) && same_value(env, c2->mean, centered->mean)) {
        local.add_all(nl);
        num = j;
      }
    }
    if (!num) continue;
    parts.x = rms ? ms->base : centered->x;
    parts.axis = ms->axis;
    parts.eps = inv->eps;
    for (size_t j = 0; j < factors.size(); ++j) {
      if (j == i || j == *num) continue;
      if (factors[j].power != 1 || !is_suffix_param(env, factors[j].value, parts.x, parts.axis)) return std::nullopt;
      parts.scale = factors[j].value;
    }
    if (!is_float_value(env, parts.x)) return std::nullopt;
    parts.nodes.add_all(local);
    return parts;
  }
  return std::nullopt;
}

// The normalisation at a root: the product itself, or product + beta, product - c.
std::optional<NormParts> parse_norm_root(const RewriteEnv& env, const Node& root, bool rms) {
  if (root.outputs.empty() || !is_float_value(env, root.outputs[0])) return std::nullopt;
  if (root.op_type == "Mul" || root.op_type == "Div") {
    auto parts = parse_norm_product(env, root.outputs[0], true, rms);
    if (parts) parts->nodes.add(&root);
    return parts;
  }
  if (rms || root.inputs.size() != 2) return std::nullopt;  // RMSNormalization has no shift
  for (int side = 0; side < 2; ++side) {
    if (side == 1 && root.op_type == "Sub") break;
    const std::string& prod = root.inputs[size_t(side)];
    const std::string& shift = root.inputs[size_t(1 - side)];
    auto parts = parse_norm_product(env, prod, false, rms);
    if (!parts) continue;
    if (root.op_type == "Add") {
      if (!is_suffix_param(env, shift, parts->x, parts->axis)) continue;
      parts->bias = shift;
    } else {
      const Tensor* c = env.constant(shift);
      if (!c || !is_suffix_param(env, shift, parts->x, parts->axis)) continue;
      Tensor neg = c->clone();
      for (int64_t i = 0; i < neg.numel(); ++i) neg.set_f64(i, -c->get_f64(i));
      parts->bias_constant = neg;
    }
    parts->nodes.add(&root);
    return parts;
  }
  return std::nullopt;
}

std::optional<Rewrite> emit_norm(const RewriteEnv& env, const Node& root, NormParts& parts, bool rms,
                                 const std::string& reason) {
  if (!closed_match(env, parts.nodes, root.id)) return std::nullopt;
  Rewrite rw;
  rw.root = root.id;
  rw.matched = parts.nodes.ids;
  Builder b(rw);
  std::string bias = parts.bias;
  if (parts.bias_constant) bias = b.constant(*parts.bias_constant);
  std::vector<std::string> inputs = {parts.x, parts.scale};
  if (!rms && !bias.empty()) inputs.push_back(bias);
  while (inputs.size() > 1 && inputs.back().empty()) inputs.pop_back();
  std::map<std::string, Attribute> attrs = {{"axis", Attribute::from_int(parts.axis)},
                                            {"epsilon", Attribute::from_float(float(parts.eps))}};
  const std::string out = b.add(rms ? "RMSNormalization" : "LayerNormalization", inputs, attrs, 1, kDomain);
  rw.replace.emplace_back(root.outputs[0], out);
  rw.reason = reason;
  return rw;
}

class LayerNormFromPrimitives : public NamedRule {
 public:
  LayerNormFromPrimitives()
      : NamedRule("layernorm-from-primitives", "composite",
                  "(x - ReduceMean(x)) / Sqrt(ReduceMean((x - mean)^2) + eps) [* gamma] [+ beta] "
                  "-> dnnf.LayerNormalization(x, gamma, beta)") {}
  std::vector<std::string> roots() const override { return {"Div", "Mul", "Add", "Sub"}; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& root) const override {
    auto parts = parse_norm_root(env, root, false);
    if (!parts) return std::nullopt;
    return emit_norm(env, root, *parts, false, description());
  }
};

class RmsNormFromPrimitives : public NamedRule {
 public:
  RmsNormFromPrimitives()
      : NamedRule("rmsnorm-from-primitives", "composite",
                  "x / Sqrt(ReduceMean(x*x) + eps) [* gamma] (or x * Reciprocal(...)) "
                  "-> dnnf.RMSNormalization(x, gamma)") {}
  std::vector<std::string> roots() const override { return {"Div", "Mul"}; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& root) const override {
    auto parts = parse_norm_root(env, root, true);
    if (!parts) return std::nullopt;
    return emit_norm(env, root, *parts, true, description());
  }
};

// keras2onnx / tf2onnx: k = gamma * Reciprocal(Sqrt(var + eps)) (or without gamma);
// y = x * k + (beta - mean * k), or x * k - mean * k without beta.
class LayerNormTfForm : public NamedRule {
 public:
  LayerNormTfForm()
      : NamedRule("layernorm-tf-form", "composite",
                  "x*k + (beta - mean*k), k = gamma/Sqrt(var + eps) -> dnnf.LayerNormalization(x, gamma, beta)") {}
  std::vector<std::string> roots() const override { return {"Add", "Sub"}; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& root) const override {
    if (root.inputs.size() != 2 || root.outputs.empty() || !is_float_value(env, root.outputs[0]))
      return std::nullopt;
    for (int side = 0; side < 2; ++side) {
      if (side == 1 && root.op_type == "Sub") break;
      NormParts parts;
      parts.nodes.add(&root);
      const Node* xk = producer_of(env, root.inputs[size_t(side)], "Mul", &parts.nodes);
      if (!xk || xk->inputs.size() != 2) continue;
      std::string beta, mk_value;
      if (root.op_type == "Add") {
        const Node* sub = producer_of(env, root.inputs[size_t(1 - side)], "Sub", &parts.nodes);
        if (!sub || sub->inputs.size() != 2) continue;
        parts.nodes.add(sub);
        beta = sub->inputs[0];
        mk_value = sub->inputs[1];
      } else {
        mk_value = root.inputs[1];
      }
      const Node* mk = producer_of(env, mk_value, "Mul", &parts.nodes);
      if (!mk || mk->inputs.size() != 2) continue;
      parts.nodes.add(xk);
      parts.nodes.add(mk);
      if (parse_tf(env, *xk, *mk, parts)) {
        if (!beta.empty()) {
          if (!is_suffix_param(env, beta, parts.x, parts.axis)) continue;
          parts.bias = beta;
        }
        return emit_norm(env, root, parts, false, description());
      }
    }
    return std::nullopt;
  }

 private:
  // x * k and mean * k with the same k; k = inv_std [* gamma]; mean and var of x.
  static bool parse_tf(const RewriteEnv& env, const Node& xk, const Node& mk, NormParts& parts) {
    for (int xs = 0; xs < 2; ++xs) {
      for (int ms = 0; ms < 2; ++ms) {
        const std::string& x = xk.inputs[size_t(xs)];
        const std::string& k = xk.inputs[size_t(1 - xs)];
        if (!same_value(env, mk.inputs[size_t(1 - ms)], k)) continue;
        NodeSet local;
        const std::string mean_v = mk.inputs[size_t(ms)];
        const auto mean = parse_mean(env, mean_v, local);
        if (!mean || !same_value(env, mean->x, x)) continue;
        std::vector<Factor> factors;
        flatten_product(env, k, 1, true, local, factors);
        if (factors.empty() || factors.size() > 2) continue;
        for (size_t i = 0; i < factors.size(); ++i) {
          NodeSet l2 = local;
          const auto inv = parse_inv_std(env, factors[i], l2);
          if (!inv) continue;
          const auto msq = parse_mean_square(env, inv->var, l2);
          if (!msq || msq->axis != mean->axis) continue;
          const auto c = parse_centered(env, msq->base, l2);
          if (!c || !same_value(env, c->x, x) || !same_value(env, c->mean, mean_v)) continue;
          std::string gamma;
          if (factors.size() == 2) {
            const Factor& g = factors[1 - i];
            if (g.power != 1 || !is_suffix_param(env, g.value, x, mean->axis)) continue;
            gamma = g.value;
          }
          if (!is_float_value(env, x)) return false;
          parts.x = x;
          parts.axis = mean->axis;
          parts.eps = inv->eps;
          parts.scale = gamma;
          parts.nodes.add_all(l2);
          return true;
        }
      }
    }
    return false;
  }
};

// dnnf.LayerNormalization / dnnf.RMSNormalization followed by a per-feature scale or
// shift: the parameters are folded into the normalisation's Scale and B.
class NormAbsorbAffine : public NamedRule {
 public:
  NormAbsorbAffine()
      : NamedRule("norm-absorb-affine", "composite",
                  "dnnf.LayerNormalization(x, s, b) * g + c -> dnnf.LayerNormalization(x, s*g, b*g + c) "
                  "(RMSNormalization: scale only)") {}
  std::vector<std::string> roots() const override { return {"Mul", "Add", "Sub"}; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& root) const override {
    if (root.inputs.size() != 2 || root.outputs.empty()) return std::nullopt;
    for (int side = 0; side < 2; ++side) {
      if (side == 1 && root.op_type == "Sub") break;
      NodeSet nodes;
      const std::string src = skip_noop_casts(env, root.inputs[size_t(side)], &nodes);
      const Node* norm = env.producer(src);
      if (!norm || norm->domain != kDomain || norm->outputs.size() != 1 || norm->outputs[0] != src) continue;
      const bool rms = norm->op_type == "RMSNormalization";
      if (!rms && norm->op_type != "LayerNormalization") continue;
      if (rms && root.op_type != "Mul") continue;
      if (!norm->has_input(0)) continue;
      const std::string& x = norm->inputs[0];
      const int64_t r = rank_of(env, x);
      int64_t axis = norm->attr_int("axis", -1);
      if (axis >= 0) {
        if (r < 0) continue;
        axis -= r;
      }
      const std::string& p = root.inputs[size_t(1 - side)];
      if (!is_suffix_param(env, p, x, axis)) continue;
      const std::string scale = norm->has_input(1) ? norm->inputs[1] : "";
      const std::string bias = !rms && norm->has_input(2) ? norm->inputs[2] : "";
      const Tensor* pc = env.constant(p);
      std::optional<Tensor> new_scale, new_bias;
      std::string scale_v = scale, bias_v = bias;
      const TensorType* xt = env.type(x);
      if (root.op_type == "Mul") {
        if (scale.empty()) {
          scale_v = p;
        } else {
          const Tensor* sc = env.constant(scale);
          if (!sc || !pc || !(new_scale = fold_binary("Mul", *sc, *pc))) continue;
          if (!is_suffix_shape(new_scale->shape(), *xt, axis)) continue;
        }
        if (!bias.empty()) {
          const Tensor* bc = env.constant(bias);
          if (!bc || !pc || !(new_bias = fold_binary("Mul", *bc, *pc))) continue;
          if (!is_suffix_shape(new_bias->shape(), *xt, axis)) continue;
        }
      } else {
        if (root.op_type == "Sub" && !pc) continue;
        if (bias.empty() && root.op_type == "Add") {
          bias_v = p;
        } else {
          Tensor zero;
          const Tensor* bc = bias.empty() ? nullptr : env.constant(bias);
          if (bias.empty()) {
            zero = Tensor(pc->dtype(), {});
            zero.set_f64(0, 0.0);
            bc = &zero;
          }
          if (!bc || !pc || !(new_bias = fold_binary(root.op_type == "Add" ? "Add" : "Sub", *bc, *pc))) continue;
          if (!is_suffix_shape(new_bias->shape(), *xt, axis)) continue;
        }
      }
      nodes.add(norm);
      nodes.add(&root);
      if (!closed_match(env, nodes, root.id)) continue;
      Rewrite rw;
      rw.root = root.id;
      rw.matched = nodes.ids;
      Builder b(rw);
      if (new_scale) scale_v = b.constant(*new_scale);
      if (new_bias) bias_v = b.constant(*new_bias);
      std::vector<std::string> inputs = {x, scale_v};
      if (!rms) inputs.push_back(bias_v);
      while (inputs.size() > 1 && inputs.back().empty()) inputs.pop_back();
      const std::string out = b.add(norm->op_type, inputs, norm->attrs, 1, kDomain);
      rw.replace.emplace_back(root.outputs[0], out);
      rw.reason = root.op_type + " by a per-feature parameter folded into " + norm->label();
      return rw;
    }
    return std::nullopt;
  }
};

}  // namespace

void add_norm_rules(RuleList& r) {
  r.push_back(std::make_unique<LayerNormFromPrimitives>());
  r.push_back(std::make_unique<LayerNormTfForm>());
  r.push_back(std::make_unique<RmsNormFromPrimitives>());
  r.push_back(std::make_unique<NormAbsorbAffine>());
}

}  // namespace dnnf::rewrite::composite
