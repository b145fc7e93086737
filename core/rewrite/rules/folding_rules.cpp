// Folding rules: evaluate what is known at compile time, and fold per-channel affine
// operators (BatchNormalization, constant Mul/Add) into the producing Conv/Gemm/MatMul.
#include <cmath>

#include "core/ir/shape_inference.h"
#include "core/rewrite/rules/rule_families.h"
#include "core/rewrite/rules/rule_helpers.h"

namespace dnnf::rewrite {

namespace {

constexpr int64_t kMaxFoldElements = int64_t(1) << 26;  // 256 MiB of fp32

bool never_fold(const Node& n) {
  return is_random_op(n.op_type) || n.op_type == "Constant" || n.op_type == "If" || n.op_type == "Loop" ||
         n.op_type == "Scan";
}

// A node whose inputs are all known is evaluated once, at compile time; Shape and
// Size of statically shaped values are known too (shape-subgraph folding).
class ConstantFolding : public NamedRule {
 public:
  ConstantFolding()
      : NamedRule("constant-folding", "fold",
                  "operator on constants (or Shape/Size of a static shape) -> its value") {}
  std::vector<std::string> roots() const override { return {"*"}; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& n) const override {
    if (never_fold(n) || n.outputs.empty()) return std::nullopt;
    for (const std::string& o : n.outputs) {
      if (o.empty()) continue;
      if (env.is_graph_output(o)) return std::nullopt;
      const TensorType* t = env.type(o);
      if (!t || !t->is_static() || t->numel_or(0) > kMaxFoldElements) return std::nullopt;
    }
    std::vector<Tensor> values;
    if ((n.op_type == "Shape" || n.op_type == "Size") && n.has_input(0)) {
      // Shape inference already knows these values when the input shape is static.
      const TensorType* in = env.type(n.inputs[0]);
      std::optional<Tensor> v = in ? shape_op_value(n, *in) : std::nullopt;
      if (!v) return std::nullopt;
      values.push_back(*v);
    } else {
      std::vector<const Tensor*> inputs;
      bool any = false;
      for (const std::string& in : n.inputs) {
        if (in.empty()) {
          inputs.push_back(nullptr);
          continue;
        }
        const Tensor* t = env.constant(in);
        if (!t) return std::nullopt;
        inputs.push_back(t);
        any = true;
      }
      if (!any && n.op_type != "ConstantOfShape" && n.op_type != "Range") return std::nullopt;
      try {
        values = evaluate_node(env.graph(), n, inputs);
      } catch (const Error&) {
        return std::nullopt;  // the run reports it with the real context
      }
    }
    Rewrite rw;
    rw.root = n.id;
    rw.matched = {n.id};
    Builder b(rw);
    for (size_t i = 0; i < n.outputs.size() && i < values.size(); ++i)
      if (!n.outputs[i].empty()) rw.replace.emplace_back(n.outputs[i], b.constant(values[i]));
    rw.reason = n.op_type + " of known values";
    return rw;
  }
};

// Per-output-channel scale and shift folded into a producer's weights and bias.
struct ChannelAffine {
  std::vector<double> scale, shift;  // y = x * scale[c] + shift[c]
};

// Folds y = producer(x) * scale + shift (per output channel) into the producer when it
// is Conv / ConvTranspose (channel axis 1) or Gemm / MatMul with a constant weight
// (channel = last axis). Returns the new output value or "" when it cannot.
std::string fold_affine_into(const RewriteEnv& env, const Node& prod, const ChannelAffine& a, Builder& b) {
  const size_t C = a.scale.size();
  auto shift_bias = [&](const Tensor* bias, DType dt) {
    Tensor nb(dt, {int64_t(C)});
    for (size_t c = 0; c < C; ++c) {
      const double old = bias ? bias->get_f64(int64_t(bias->numel() == 1 ? 0 : c)) : 0.0;
      nb.set_f64(int64_t(c), old * a.scale[c] + a.shift[c]);
    }
    return nb;
  };
  if (prod.op_type == "Conv" || prod.op_type == "ConvTranspose") {
    const Tensor* w = prod.has_input(1) ? env.constant(prod.inputs[1]) : nullptr;
    const Tensor* bias = prod.has_input(2) ? env.constant(prod.inputs[2]) : nullptr;
    if (!w || !dtype_is_float(w->dtype()) || w->rank() < 3 || (prod.has_input(2) && !bias)) return "";
    const int64_t group = prod.attr_int("group", 1);
    Tensor nw = w->clone();
    if (prod.op_type == "Conv") {
      if (w->dim(0) != int64_t(C)) return "";
      const int64_t per = w->numel() / w->dim(0);
      for (int64_t oc = 0; oc < w->dim(0); ++oc)
        for (int64_t k = 0; k < per; ++k) nw.set_f64(oc * per + k, w->get_f64(oc * per + k) * a.scale[size_t(oc)]);
    } else {
      // ConvTranspose weight: [Cin, Cout/group, k...]; output channel = g*Cout_g + j.
      const int64_t cin = w->dim(0), cout_g = w->dim(1);
      if (cout_g * group != int64_t(C) || cin % group != 0) return "";
      const int64_t per = w->numel() / (cin * cout_g);
      const int64_t cin_g = cin / group;
      for (int64_t ic = 0; ic < cin; ++ic)
        for (int64_t j = 0; j < cout_g; ++j) {
          const int64_t oc = (ic / cin_g) * cout_g + j;
          for (int64_t k = 0; k < per; ++k) {
            const int64_t idx = (ic * cout_g + j) * per + k;
            nw.set_f64(idx, w->get_f64(idx) * a.scale[size_t(oc)]);
          }
        }
    }
    std::vector<std::string> ins = prod.inputs;
    ins.resize(3);
    ins[1] = b.constant(nw);
    ins[2] = b.constant(shift_bias(bias, w->dtype()));
    return b.add(prod.op_type, ins, prod.attrs);
  }
  if (prod.op_type == "Gemm" || prod.op_type == "MatMul") {
    const Tensor* w = prod.has_input(1) ? env.constant(prod.inputs[1]) : nullptr;
    if (!w || w->rank() != 2 || !dtype_is_float(w->dtype())) return "";
    const bool trans_b = prod.op_type == "Gemm" && prod.attr_int("transB", 0) != 0;
    const int64_t n_out = trans_b ? w->dim(0) : w->dim(1);
    if (n_out != int64_t(C)) return "";
    Tensor nw = w->clone();
    for (int64_t i = 0; i < w->dim(0); ++i)
      for (int64_t j = 0; j < w->dim(1); ++j) {
        const size_t c = size_t(trans_b ? i : j);
        nw.set_f64(i * w->dim(1) + j, w->get_f64(i * w->dim(1) + j) * a.scale[c]);
      }
    if (prod.op_type == "MatMul") {
      const std::string mm = b.add("MatMul", {prod.inputs[0], b.constant(nw)});
      return b.add("Add", {mm, b.constant(shift_bias(nullptr, w->dtype()))});
    }
    const Tensor* c = prod.has_input(2) ? env.constant(prod.inputs[2]) : nullptr;
    if (prod.has_input(2) && (!c || (c->numel() != 1 && c->numel() != int64_t(C)))) return "";
    const double alpha = prod.attr_float("alpha", 1.0f), beta = prod.attr_float("beta", 1.0f);
    Tensor nb(w->dtype(), {int64_t(C)});
    for (size_t k = 0; k < C; ++k) {
      const double old = c ? beta * c->get_f64(c->numel() == 1 ? 0 : int64_t(k)) : 0.0;
      nb.set_f64(int64_t(k), old * a.scale[k] + a.shift[k]);
    }
    for (int64_t i = 0; i < nw.numel(); ++i) nw.set_f64(i, nw.get_f64(i) * alpha);
    std::map<std::string, Attribute> attrs = prod.attrs;
    attrs["alpha"] = Attribute::from_float(1.0f);
    attrs["beta"] = Attribute::from_float(1.0f);
    return b.add("Gemm", {prod.inputs[0], b.constant(nw), b.constant(nb)}, attrs);
  }
  return "";
}

// BatchNormalization (inference) after Conv/ConvTranspose/Gemm/MatMul.
class FoldBatchNorm : public NamedRule {
 public:
  FoldBatchNorm()
      : NamedRule("fold-batchnorm", "fold",
                  "BatchNormalization(Conv|ConvTranspose|Gemm|MatMul(x, W, b)) -> one op with W', b'") {}
  std::vector<std::string> roots() const override { return {"BatchNormalization"}; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& bn) const override {
    if (bn.inputs.size() < 5 || !only_first_output_used(env, bn)) return std::nullopt;
    if (bn.attr_int("training_mode", 0) != 0) return std::nullopt;
    const Node* prod = env.producer(bn.inputs[0]);
    if (!prod || env.uses(bn.inputs[0]) != 1) return std::nullopt;
    const Tensor *s = env.constant(bn.inputs[1]), *bb = env.constant(bn.inputs[2]),
                 *m = env.constant(bn.inputs[3]), *v = env.constant(bn.inputs[4]);
    if (!s || !bb || !m || !v) return std::nullopt;
    const double eps = bn.attr_float("epsilon", 1e-5f);
    ChannelAffine a;
    for (int64_t c = 0; c < s->numel(); ++c) {
      const double k = s->get_f64(c) / std::sqrt(v->get_f64(c) + eps);
      a.scale.push_back(k);
      a.shift.push_back(bb->get_f64(c) - m->get_f64(c) * k);
    }
    // For Gemm/MatMul the channel axis of BatchNormalization (1) must be the last one.
    const TensorType* t = env.type(bn.inputs[0]);
    if ((prod->op_type == "Gemm" || prod->op_type == "MatMul") && (!t || t->rank() != 2)) return std::nullopt;
    Rewrite rw;
    rw.root = bn.id;
    rw.matched = {prod->id, bn.id};
    Builder b(rw);
    const std::string out = fold_affine_into(env, *prod, a, b);
    if (out.empty()) return std::nullopt;
    rw.replace.emplace_back(bn.outputs[0], out);
    rw.reason = "BatchNormalization folded into " + prod->label();
    return rw;
  }
};

// Mul or Add by a per-channel constant after Conv/ConvTranspose ([C,1,...] or scalar).
class FoldChannelAffineIntoConv : public NamedRule {
 public:
  FoldChannelAffineIntoConv()
      : NamedRule("fold-scale-bias-into-conv", "fold",
                  "Conv(x,W,b) * c + d (per channel constants) -> Conv(x, W*c, b*c+d)") {}
  std::vector<std::string> roots() const override { return {"Mul", "Add", "Sub", "Div"}; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& n) const override {
    if (n.inputs.size() != 2) return std::nullopt;
    for (int side = 0; side < 2; ++side) {
      if (side == 1 && (n.op_type == "Sub" || n.op_type == "Div")) break;
      const Node* prod = env.producer(n.inputs[size_t(side)]);
      const Tensor* c = env.constant(n.inputs[size_t(1 - side)]);
      if (!prod || !c || env.uses(n.inputs[size_t(side)]) != 1) continue;
      if (prod->op_type != "Conv" && prod->op_type != "ConvTranspose") continue;
      const TensorType* out = env.type(n.inputs[size_t(side)]);
      if (!out || !out->is_static() || out->rank() < 3) continue;
      const int64_t C = out->dims[1].value;
      // The constant must be per-channel: shape [C,1,..,1], [1,C,1..1] or a scalar.
      const Shape& cs = c->shape();
      bool per_channel = c->numel() == 1;
      if (!per_channel && c->numel() == C && int64_t(cs.size()) <= out->rank()) {
        const size_t channel_pos = cs.size() - size_t(out->rank() - 1);  // index of axis 1 in cs
        per_channel = cs.size() >= size_t(out->rank() - 1) && channel_pos < cs.size() && cs[channel_pos] == C;
      }
      if (!per_channel) continue;
      ChannelAffine a;
      for (int64_t k = 0; k < C; ++k) {
        const double v = c->get_f64(c->numel() == 1 ? 0 : k);
        if (n.op_type == "Mul") { a.scale.push_back(v); a.shift.push_back(0); }
        else if (n.op_type == "Div") { if (v == 0) return std::nullopt; a.scale.push_back(1.0 / v); a.shift.push_back(0); }
        else if (n.op_type == "Add") { a.scale.push_back(1); a.shift.push_back(v); }
        else { a.scale.push_back(1); a.shift.push_back(-v); }
      }
      Rewrite rw;
      rw.root = n.id;
      rw.matched = {prod->id, n.id};
      Builder b(rw);
      const std::string o = fold_affine_into(env, *prod, a, b);
      if (o.empty()) continue;
      rw.replace.emplace_back(n.outputs[0], o);
      rw.reason = n.op_type + " by a per-channel constant folded into " + prod->label();
      return rw;
    }
    return std::nullopt;
  }
};

}  // namespace

void add_folding_rules(RuleList& r) {
  r.push_back(std::make_unique<ConstantFolding>());
  r.push_back(std::make_unique<FoldBatchNorm>());
  r.push_back(std::make_unique<FoldChannelAffineIntoConv>());
}

}  // namespace dnnf::rewrite
