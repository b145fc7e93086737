// Operators of the "dnnf" domain (see op_families.h): the composites the rewriter
// recognises in decomposed exports (core/rewrite/rules/composite_*.cpp), usable at any
// model opset. Where an ai.onnx operator already implements the math (Gelu,
// HardSwish, Mish, Swish, Softmax, MatMul, LayerNormalization, RMSNormalization), the
// row forwards to that operator's shape function and kernel with current ONNX
// semantics, whatever opset the model imports for "dnnf".
//
//   dnnf.LayerNormalization(X, [Scale], [B]; axis=-1, epsilon=1e-5)
//   dnnf.RMSNormalization(X, [Scale]; axis=-1, epsilon=1e-5)
//   dnnf.Gelu(X; approximate="none"|"tanh"), dnnf.Silu(X), dnnf.HardSwish(X), dnnf.Mish(X)
//   dnnf.Softmax(X; axis=-1)                      single-axis (opset 13+) semantics
//   dnnf.Attention(Q, Kt, V, [mask], [bias]; scale=1, mask_fill=-inf)
//     S = (Q @ Kt) * scale; S = S + mask (numeric mask) or mask ? S : mask_fill (bool
//     mask); S = S + bias; Y = softmax(S, last axis) @ V. Kt is the key already
//     transposed (as exported models compute it).
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/ops/op_families.h"
#include "core/ops/op_util.h"

namespace dnnf::ops {

namespace {

// ONNX semantics the forwarded rows are run with (single-axis Softmax, current norms).
constexpr int64_t kCurrentOpset = 21;

const OpInfo& base_row(const char* name) {
  const OpInfo* row = OpRegistry::instance().find_any("", name);
  check(row != nullptr && row->kernel && row->shape, "dnnf composite operators need the ai.onnx operator ", name);
  return *row;
}

int64_t base_opset(const OpInfo& row) { return std::max<int64_t>(row.since, kCurrentOpset); }

std::vector<Tensor> run_base(const char* name, const Node& node, std::vector<const Tensor*> inputs,
                             const KernelContext* outer = nullptr) {
  const OpInfo& row = base_row(name);
  KernelContext k{node, base_opset(row), std::move(inputs), outer ? outer->run_subgraph : nullptr};
  return row.kernel(k);
}

std::vector<TensorType> infer_base(const char* name, const InferContext& ctx, const Node& node,
                                   std::vector<TensorType> inputs, std::vector<const Tensor*> values) {
  const OpInfo& row = base_row(name);
  InferContext c{node, ctx.graph, base_opset(row), std::move(inputs), std::move(values)};
  return row.shape(c);
}

std::vector<const Tensor*> kernel_inputs(const KernelContext& c) { return c.inputs; }

double elements(const std::vector<TensorType>& ts, size_t i) {
  return i < ts.size() ? double(std::max<int64_t>(ts[i].numel_or(0), 0)) : 0.0;
}

double bytes_of(const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
  double b = 0;
  for (const TensorType& t : in) b += double(std::max<int64_t>(t.numel_or(0), 0)) * double(dtype_size(t.dtype));
  for (const TensorType& t : out) b += double(std::max<int64_t>(t.numel_or(0), 0)) * double(dtype_size(t.dtype));
  return b;
}

bool present(const std::vector<TensorType>& in, size_t i) {
  return i < in.size() && in[i].dtype != DType::Undefined;
}

// Rows (one per normalised slice) of an input normalised over [axis, rank).
double norm_rows(const Node& node, const TensorType& x) {
  if (!x.is_static() || x.rank() == 0) return 0;
  int64_t axis = node.attr_int("axis", -1);
  if (axis < 0) axis += x.rank();
  axis = std::clamp<int64_t>(axis, 0, x.rank());
  double rows = 1;
  for (int64_t i = 0; i < axis; ++i) rows *= double(x.dims[size_t(i)].value);
  return rows;
}

OpInfo composite_row(const char* name, MappingType mapping, const char* summary) {
  OpInfo info;
  info.name = name;
  info.domain = "dnnf";
  info.since = 1;
  info.family = "composite";
  info.mapping = mapping;
  info.summary = summary;
  return info;
}

// ---- LayerNormalization / RMSNormalization ----------------------------------------------

// A scale of ones over the normalised suffix, for a node written without Scale.
Tensor unit_scale(const Node& node, const Tensor& x) {
  check(x.rank() >= 1, node.label(), ": input must have rank >= 1");
  const int64_t axis = normalize_axis(node.attr_int("axis", -1), x.rank(), node);
  Shape suffix(x.shape().begin() + axis, x.shape().end());
  Tensor ones(x.dtype(), suffix);
  for (int64_t i = 0; i < ones.numel(); ++i) ones.set_f64(i, 1.0);
  return ones;
}

RefKernel axis_norm_kernel(const char* base, size_t max_inputs) {
  return [base, max_inputs](KernelContext& c) -> std::vector<Tensor> {
    require_inputs(c, 1);
    check(c.num_inputs() <= max_inputs, c.node.label(), ": takes at most ", max_inputs, " inputs");
    const Tensor& x = c.in(0);
    std::vector<const Tensor*> ins = kernel_inputs(c);
    ins.resize(max_inputs, nullptr);
    Tensor ones;
    if (!ins[1]) {
      ones = unit_scale(c.node, x);
      ins[1] = &ones;
    }
    while (ins.size() > 2 && !ins.back()) ins.pop_back();
    return run_base(base, c.node, ins, &c);
  };
}

ShapeFn axis_norm_shape(const char* base, size_t max_inputs) {
  return [base, max_inputs](const InferContext& ctx) {
    require_inputs(ctx, 1);
    check(ctx.num_inputs() <= max_inputs, ctx.node.label(), ": takes at most ", max_inputs, " inputs");
    check(ctx.num_outputs() == 1, ctx.node.label(), ": has exactly one output");
    check(dtype_is_float(ctx.in(0).dtype), ctx.node.label(), ": input must be a float tensor, got ",
          dtype_name(ctx.in(0).dtype));
    std::vector<TensorType> ins = ctx.inputs;
    std::vector<const Tensor*> vals = ctx.input_values;
    ins.resize(max_inputs);
    vals.resize(max_inputs, nullptr);
    if (ins[1].dtype == DType::Undefined) ins[1] = TensorType::unknown_shape(ctx.in(0).dtype);
    for (size_t i = 1; i < ins.size(); ++i)
      if (ins[i].dtype != DType::Undefined)
        check(ins[i].dtype == ctx.in(0).dtype, ctx.node.label(), ": input ", i, " has type ",
              dtype_name(ins[i].dtype), ", expected ", dtype_name(ctx.in(0).dtype));
    while (ins.size() > 2 && ins.back().dtype == DType::Undefined) {
      ins.pop_back();
      vals.pop_back();
    }
    return infer_base(base, ctx, ctx.node, ins, vals);
  };
}

// LayerNorm: mean (1), centred square-accumulate (2), normalise (1), scale, shift per
// element; rsqrt(var + eps) per row.
OpCost layernorm_cost(const Node& node, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
  OpCost c;
  c.bytes = bytes_of(in, out);
  if (in.empty()) return c;
  const double n = elements(in, 0);
  c.flops = n * (4.0 + (present(in, 1) ? 1 : 0) + (present(in, 2) ? 1 : 0)) + 2.0 * norm_rows(node, in[0]);
  return c;
}

// RMSNorm: square-accumulate (2), normalise (1), scale per element; rsqrt per row.
OpCost rmsnorm_cost(const Node& node, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
  OpCost c;
  c.bytes = bytes_of(in, out);
  if (in.empty()) return c;
  c.flops = elements(in, 0) * (3.0 + (present(in, 1) ? 1 : 0)) + 2.0 * norm_rows(node, in[0]);
  return c;
}

// ---- point-wise activations ---------------------------------------------------------------

OpInfo activation_row(const char* name, const char* base, const char* summary, double flops_per_element) {
  OpInfo info = composite_row(name, MappingType::OneToOne, summary);
  info.shape = [base](const InferContext& ctx) {
    require_inputs(ctx, 1);
    check(ctx.num_inputs() == 1, ctx.node.label(), ": takes one input");
    check(dtype_is_float(ctx.in(0).dtype), ctx.node.label(), ": input must be a float tensor, got ",
          dtype_name(ctx.in(0).dtype));
    return infer_base(base, ctx, ctx.node, ctx.inputs, ctx.input_values);
  };
  info.kernel = [base](KernelContext& c) -> std::vector<Tensor> {
    require_inputs(c, 1);
    return run_base(base, c.node, kernel_inputs(c), &c);
  };
  info.cost = [flops_per_element](const Node&, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
    OpCost cost;
    cost.bytes = bytes_of(in, out);
    cost.flops = flops_per_element * elements(out, 0);
    return cost;
  };
  return info;
}

// ---- Softmax ---------------------------------------------------------------------------

// exp(x - max) (1), sum (1), normalise (1) per element; the max pass is comparisons.
constexpr double kSoftmaxFlops = 3.0;

// ---- Attention ---------------------------------------------------------------------------

Node helper_node(const Node& owner, const char* op, size_t num_inputs) {
  Node n;
  n.op_type = op;
  n.name = owner.name;
  n.id = owner.id;
  for (size_t i = 0; i < num_inputs; ++i) n.inputs.push_back("in" + std::to_string(i));
  n.outputs = {"out"};
  return n;
}

Node softmax_node(const Node& owner) {
  Node n = helper_node(owner, "Softmax", 1);
  n.attrs["axis"] = Attribute::from_int(-1);
  return n;
}

Tensor scalar_of_type(DType dtype, double v) {
  Tensor t(dtype, {});
  t.set_f64(0, v);
  return t;
}

std::vector<Tensor> attention_kernel(KernelContext& c) {
  require_inputs(c, 3);
  check(c.num_inputs() <= 5, c.node.label(), ": takes at most 5 inputs (Q, Kt, V, mask, bias)");
  const Node& node = c.node;
  const Tensor& q = c.in(0);
  check(dtype_is_float(q.dtype()), node.label(), ": Q must be a float tensor");
  Tensor s = run_base("MatMul", helper_node(node, "MatMul", 2), {&q, &c.in(1)}, &c).at(0);
  const double scale = node.attr_float("scale", 1.0f);
  if (scale != 1.0) {
    const Tensor k = scalar_of_type(s.dtype(), scale);
    s = run_base("Mul", helper_node(node, "Mul", 2), {&s, &k}, &c).at(0);
  }
  if (c.has_input(3)) {
    const Tensor& mask = c.in(3);
    if (mask.dtype() == DType::Bool) {
      const Tensor fill =
          scalar_of_type(s.dtype(), node.attr_float("mask_fill", -std::numeric_limits<float>::infinity()));
      s = run_base("Where", helper_node(node, "Where", 3), {&mask, &s, &fill}, &c).at(0);
    } else {
      s = run_base("Add", helper_node(node, "Add", 2), {&s, &mask}, &c).at(0);
    }
  }
  if (c.has_input(4)) s = run_base("Add", helper_node(node, "Add", 2), {&s, &c.in(4)}, &c).at(0);
  const Tensor p = run_base("Softmax", softmax_node(node), {&s}, &c).at(0);
  return run_base("MatMul", helper_node(node, "MatMul", 2), {&p, &c.in(2)}, &c);
}

std::vector<TensorType> attention_shape(const InferContext& ctx) {
  require_inputs(ctx, 3);
  const Node& node = ctx.node;
  check(ctx.num_inputs() <= 5, node.label(), ": takes at most 5 inputs (Q, Kt, V, mask, bias)");
  check(dtype_is_float(ctx.in(0).dtype), node.label(), ": Q must be a float tensor, got ",
        dtype_name(ctx.in(0).dtype));
  check(ctx.in(1).dtype == ctx.in(0).dtype && ctx.in(2).dtype == ctx.in(0).dtype, node.label(),
        ": Q, Kt and V must have the same element type");
  TensorType s = infer_base("MatMul", ctx, helper_node(node, "MatMul", 2), {ctx.in(0), ctx.in(1)},
                            {nullptr, nullptr})
                     .at(0);
  if (ctx.has_input(3)) {
    const TensorType& m = ctx.in(3);
    check(m.dtype == DType::Bool || m.dtype == s.dtype, node.label(), ": mask must be bool or ",
          dtype_name(s.dtype), ", got ", dtype_name(m.dtype));
    if (s.has_shape && m.has_shape) s = TensorType(s.dtype, broadcast_dims(s.dims, m.dims, node));
    else s = TensorType::unknown_shape(s.dtype);
  }
  if (ctx.has_input(4)) {
    const TensorType& b = ctx.in(4);
    check(b.dtype == s.dtype, node.label(), ": bias must be ", dtype_name(s.dtype), ", got ", dtype_name(b.dtype));
    if (s.has_shape && b.has_shape) s = TensorType(s.dtype, broadcast_dims(s.dims, b.dims, node));
    else s = TensorType::unknown_shape(s.dtype);
  }
  return infer_base("MatMul", ctx, helper_node(node, "MatMul", 2), {s, ctx.in(2)}, {nullptr, nullptr});
}

OpCost attention_cost(const Node& node, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
  OpCost c;
  c.bytes = bytes_of(in, out);
  if (in.size() < 3 || out.empty() || !in[0].is_static() || !in[1].is_static() || !in[2].is_static() ||
      !out[0].is_static() || in[0].rank() < 2 || in[1].rank() < 2)
    return c;
  // Score elements: the output's batch dims, Q's rows and Kt's columns.
  const TensorType& o = out[0];
  double scores = double(in[1].dims.back().value);
  for (int64_t i = 0; i + 1 < o.rank(); ++i) scores *= double(o.dims[size_t(i)].value);
  const double qk = 2.0 * scores * double(in[0].dims.back().value);
  const double av = 2.0 * double(o.numel_or(0)) * double(in[1].dims.back().value);
  double per_score = kSoftmaxFlops;
  if (node.attr_float("scale", 1.0f) != 1.0f) per_score += 1;
  if (present(in, 3)) per_score += 1;
  if (present(in, 4)) per_score += 1;
  c.flops = qk + av + per_score * scores;
  return c;
}

}  // namespace

void register_composite_ops(OpRegistry& r) {
  {
    OpInfo op = composite_row("LayerNormalization", MappingType::ManyToMany,
                              "normalisation over [axis, rank) with optional Scale and B (any opset)");
    op.shape = axis_norm_shape("LayerNormalization", 3);
    op.kernel = axis_norm_kernel("LayerNormalization", 3);
    op.cost = layernorm_cost;
    r.add(op);
  }
  {
    OpInfo op = composite_row("RMSNormalization", MappingType::ManyToMany,
                              "x / sqrt(mean(x^2 over [axis, rank)) + eps) * Scale (Scale optional, any opset)");
    op.shape = axis_norm_shape("RMSNormalization", 2);
    op.kernel = axis_norm_kernel("RMSNormalization", 2);
    op.cost = rmsnorm_cost;
    r.add(op);
  }
  {
    OpInfo op = activation_row("Gelu", "Gelu", "x * Phi(x); approximate='tanh' uses the tanh formula (any opset)", 3);
    op.cost = [](const Node& node, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
      OpCost cost;
      cost.bytes = bytes_of(in, out);
      // erf form: scale, erf, multiply-add; tanh form adds the cubic (2) on top.
      const bool tanh_form = node.attr_string("approximate", "none") == "tanh";
      cost.flops = (tanh_form ? 5.0 : 3.0) * elements(out, 0);
      return cost;
    };
    r.add(op);
  }
  r.add(activation_row("Silu", "Swish", "x * sigmoid(x) (any opset)", 2));
  r.add(activation_row("HardSwish", "HardSwish", "x * max(0, min(1, x/6 + 1/2)) (any opset)", 2));
  r.add(activation_row("Mish", "Mish", "x * tanh(softplus(x)) (any opset)", 3));
  {
    OpInfo op = composite_row("Softmax", MappingType::ManyToMany,
                              "exp(x - max) / sum(exp(x - max)) along one axis (default -1, any opset)");
    op.shape = [](const InferContext& ctx) {
      require_inputs(ctx, 1);
      check(dtype_is_float(ctx.in(0).dtype), ctx.node.label(), ": input must be a float tensor, got ",
            dtype_name(ctx.in(0).dtype));
      if (ctx.in(0).has_shape && ctx.in(0).rank() > 0)
        normalize_axis(ctx.node.attr_int("axis", -1), ctx.in(0).rank(), ctx.node);
      return infer_base("Softmax", ctx, ctx.node, ctx.inputs, ctx.input_values);
    };
    op.kernel = [](KernelContext& c) -> std::vector<Tensor> {
      require_inputs(c, 1);
      return run_base("Softmax", c.node, kernel_inputs(c), &c);
    };
    op.cost = [](const Node&, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
      OpCost cost;
      cost.bytes = bytes_of(in, out);
      cost.flops = kSoftmaxFlops * elements(in, 0);
      return cost;
    };
    r.add(op);
  }
  {
    OpInfo op = composite_row("Attention", MappingType::ManyToMany,
                              "softmax((Q @ Kt) * scale + mask [+ bias]) @ V; a bool mask keeps true scores, "
                              "others = mask_fill");
    op.shape = attention_shape;
    op.kernel = attention_kernel;
    op.cost = attention_cost;
    r.add(op);
  }
}

}  // namespace dnnf::ops
