// Operator rows of the activation family (see op_families.h): point-wise activations
// (One-to-One) and the Softmax / LogSoftmax / Hardmax family (Many-to-Many).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/ops/elementwise_common.h"
#include "core/ops/op_families.h"

namespace dnnf::ops {

namespace {

using ew::map_float;
using ew::map_numeric;

std::vector<TensorType> same_type(const InferContext& c) {
  require_inputs(c, 1);
  return same_as_input(c);
}

OpInfo act_row(const char* name, int since, const char* summary, RefKernel kernel) {
  OpInfo info;
  info.name = name;
  info.since = since;
  info.family = "activation";
  info.mapping = MappingType::OneToOne;
  info.shape = same_type;
  info.kernel = std::move(kernel);
  info.summary = summary;
  return info;
}

// Builds a kernel from make(node) -> f, where f maps one float/double element.
template <class Make>
RefKernel float_act(Make make) {
  return [make](KernelContext& c) -> std::vector<Tensor> {
    require_inputs(c, 1);
    return {map_float(c.in(0), c.node, make(c.node))};
  };
}

template <class T>
T stable_softplus(T v) {
  return v > T(0) ? T(v + std::log1p(std::exp(-v))) : T(std::log1p(std::exp(v)));
}

template <class T>
T stable_sigmoid(T v) {
  if (v >= T(0)) return T(1) / (T(1) + std::exp(-v));
  const T e = std::exp(v);
  return e / (T(1) + e);
}

// ---- Softmax family ----------------------------------------------------------------
enum class SoftKind { Softmax, LogSoftmax, Hardmax };

// Splits the input into [outer, len, inner] blocks: before opset 13 the input is
// coerced to 2-D at `axis` (len = product of dims from axis on, inner = 1); from 13
// on the op works along the single dimension `axis`.
void soft_blocks(const Node& node, int64_t opset, const Shape& s, int64_t& outer, int64_t& len, int64_t& inner) {
  const int64_t rank = int64_t(s.size());
  const bool legacy = opset < 13;
  const int64_t def_axis = legacy ? 1 : -1;
  int64_t axis = node.attr_int("axis", def_axis);
  if (rank == 0) {
    outer = len = inner = 1;
    return;
  }
  axis = normalize_axis(axis, rank, node, legacy);
  outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= s[size_t(d)];
  if (legacy) {
    len = 1;
    for (int64_t d = axis; d < rank; ++d) len *= s[size_t(d)];
    inner = 1;
  } else {
    len = s[size_t(axis)];
    inner = 1;
    for (int64_t d = axis + 1; d < rank; ++d) inner *= s[size_t(d)];
  }
}

template <class T>
void soft_compute(const T* x, T* y, int64_t outer, int64_t len, int64_t inner, SoftKind kind) {
  std::vector<T> mx(static_cast<size_t>(inner));
  std::vector<double> sum(static_cast<size_t>(inner));
  std::vector<int64_t> arg(static_cast<size_t>(inner));
  for (int64_t o = 0; o < outer; ++o) {
    const T* xb = x + o * len * inner;
    T* yb = y + o * len * inner;
    for (int64_t l = 0; l < len; ++l) {
      const T* row = xb + l * inner;
      for (int64_t i = 0; i < inner; ++i)
        if (l == 0 || row[i] > mx[size_t(i)]) {
          mx[size_t(i)] = row[i];
          arg[size_t(i)] = l;
        }
    }
    if (kind == SoftKind::Hardmax) {
      for (int64_t l = 0; l < len; ++l)
        for (int64_t i = 0; i < inner; ++i) yb[l * inner + i] = arg[size_t(i)] == l ? T(1) : T(0);
      continue;
    }
    std::fill(sum.begin(), sum.end(), 0.0);
    for (int64_t l = 0; l < len; ++l) {
      const T* row = xb + l * inner;
      T* out = yb + l * inner;
      for (int64_t i = 0; i < inner; ++i) {
        const T e = std::exp(row[i] - mx[size_t(i)]);
        if (kind == SoftKind::Softmax) out[i] = e;
        sum[size_t(i)] += double(e);
      }
    }
    // sum[] now holds 1/sum (Softmax) or log(sum) (LogSoftmax).
    for (int64_t i = 0; i < inner; ++i)
      sum[size_t(i)] = kind == SoftKind::Softmax ? 1.0 / sum[size_t(i)] : std::log(sum[size_t(i)]);
    for (int64_t l = 0; l < len; ++l) {
      const T* row = xb + l * inner;
      T* out = yb + l * inner;
      for (int64_t i = 0; i < inner; ++i) {
        if (kind == SoftKind::Softmax) out[i] = T(double(out[i]) * sum[size_t(i)]);
        else out[i] = T(double(row[i] - mx[size_t(i)]) - sum[size_t(i)]);
      }
    }
  }
}

Tensor soft_tensor(const KernelContext& c, SoftKind kind) {
  require_inputs(c, 1);
  const Tensor& x0 = c.in(0);
  const DType dt = x0.dtype();
  check(dtype_is_float(dt), c.node.label(), ": element type ", dtype_name(dt), " is not supported (float types only)");
  const Tensor x = ew::to_f32(x0);
  int64_t outer = 1, len = 1, inner = 1;
  soft_blocks(c.node, c.opset, x.shape(), outer, len, inner);
  Tensor y(x.dtype(), x.shape());
  if (x.numel() > 0) {
    if (x.dtype() == DType::F64) soft_compute(x.data<double>(), y.data<double>(), outer, len, inner, kind);
    else soft_compute(x.data<float>(), y.data<float>(), outer, len, inner, kind);
  }
  return ew::from_f32(y, dt);
}

OpCost soft_cost(const Node&, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
  OpCost cost;
  if (in.empty() || out.empty() || !in[0].is_static() || !out[0].is_static()) return cost;
  const double n = double(in[0].numel_or(0));
  cost.flops = 5.0 * n;  // max, subtract, exp, sum, divide
  cost.bytes = n * double(dtype_size(in[0].dtype)) + double(out[0].numel_or(0)) * double(dtype_size(out[0].dtype));
  return cost;
}

OpInfo soft_row(const char* name, const char* summary, SoftKind kind) {
  OpInfo info;
  info.name = name;
  info.since = 1;
  info.family = "activation";
  info.mapping = MappingType::ManyToMany;
  info.shape = same_type;
  info.kernel = [kind](KernelContext& c) -> std::vector<Tensor> { return {soft_tensor(c, kind)}; };
  info.cost = soft_cost;
  info.summary = summary;
  return info;
}

Tensor prelu_tensor(const Tensor& x0, const Tensor& s0, const Node& node) {
  check(x0.dtype() == s0.dtype(), node.label(), ": slope type ", dtype_name(s0.dtype()), " differs from X type ",
        dtype_name(x0.dtype()));
  const DType dt = x0.dtype();
  check(dt != DType::Bool && dt != DType::String && dt != DType::Undefined, node.label(), ": element type ",
        dtype_name(dt), " is not supported");
  const Tensor x = ew::to_f32(x0);
  const Tensor s = ew::to_f32(s0);
  const Shape out = broadcast_shapes(x.shape(), s.shape(), node);
  check(out == x.shape(), node.label(), ": slope ", shape_str(s.shape()), " does not broadcast to X ",
        shape_str(x.shape()));
  Tensor y(x.dtype(), out);
  dispatch_numeric(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>)
      ew::binary_loop<T, T, T>(x, s, y, [](T v, T a) {
        if constexpr (std::is_integral_v<T>) return v < T(0) ? ew::wrap_mul(v, a) : v;
        else return v < T(0) ? T(v * a) : v;
      });
  });
  return ew::from_f32(y, dt);
}

}  // namespace

void register_activation_ops(OpRegistry& r) {
  r.add(act_row("Relu", 1, "y = max(x, 0)", [](KernelContext& c) -> std::vector<Tensor> {
    require_inputs(c, 1);
    return {map_numeric(c.in(0), c.node, [](auto v) { return v < decltype(v)(0) ? decltype(v)(0) : v; })};
  }));
  r.add(act_row("LeakyRelu", 1, "y = x < 0 ? alpha*x : x (alpha=0.01)", float_act([](const Node& n) {
    const float alpha = n.attr_float("alpha", 0.01f);
    return [alpha](auto v) { using T = decltype(v); return v < T(0) ? T(T(alpha) * v) : v; };
  })));
  r.add(act_row("PRelu", 1, "y = x < 0 ? slope*x : x (slope broadcast to x)",
                [](KernelContext& c) -> std::vector<Tensor> {
                  require_inputs(c, 2);
                  return {prelu_tensor(c.in(0), c.in(1), c.node)};
                }));
  r.add(act_row("Sigmoid", 1, "y = 1 / (1 + e^-x)",
                float_act([](const Node&) { return [](auto v) { return stable_sigmoid(v); }; })));
  r.add(act_row("HardSigmoid", 1, "y = max(0, min(1, alpha*x + beta)) (alpha=0.2, beta=0.5)",
                float_act([](const Node& n) {
                  const float alpha = n.attr_float("alpha", 0.2f), beta = n.attr_float("beta", 0.5f);
                  return [alpha, beta](auto v) {
                    using T = decltype(v);
                    const T t = T(alpha) * v + T(beta);
                    return t < T(0) ? T(0) : (t > T(1) ? T(1) : t);
                  };
                })));
  r.add(act_row("HardSwish", 14, "y = x * max(0, min(1, x/6 + 1/2))", float_act([](const Node&) {
    return [](auto v) {
      using T = decltype(v);
      const T t = v / T(6) + T(0.5);
      return v * (t < T(0) ? T(0) : (t > T(1) ? T(1) : t));
    };
  })));
  r.add(act_row("Tanh", 1, "y = tanh(x)", float_act([](const Node&) { return [](auto v) { return std::tanh(v); }; })));
  r.add(act_row("Elu", 1, "y = x < 0 ? alpha*(e^x - 1) : x (alpha=1)", float_act([](const Node& n) {
    const float alpha = n.attr_float("alpha", 1.0f);
    return [alpha](auto v) { using T = decltype(v); return v < T(0) ? T(T(alpha) * std::expm1(v)) : v; };
  })));
  r.add(act_row("Selu", 1, "y = gamma * (x <= 0 ? alpha*(e^x - 1) : x)", float_act([](const Node& n) {
    const float alpha = n.attr_float("alpha", 1.67326319217681884765625f);
    const float gamma = n.attr_float("gamma", 1.05070102214813232421875f);
    return [alpha, gamma](auto v) {
      using T = decltype(v);
      return v <= T(0) ? T(T(gamma) * (T(alpha) * std::exp(v) - T(alpha))) : T(T(gamma) * v);
    };
  })));
  r.add(act_row("Celu", 12, "y = max(0, x) + min(0, alpha*(e^(x/alpha) - 1)) (alpha=1)", float_act([](const Node& n) {
    const float alpha = n.attr_float("alpha", 1.0f);
    return [alpha](auto v) {
      using T = decltype(v);
      const T neg = T(T(alpha) * std::expm1(v / T(alpha)));
      return T((v > T(0) ? v : T(0)) + (neg < T(0) ? neg : T(0)));
    };
  })));
  r.add(act_row("Gelu", 20, "y = x * Phi(x); approximate='tanh' uses the tanh formula",
                [](KernelContext& c) -> std::vector<Tensor> {
                  require_inputs(c, 1);
                  const std::string approx = c.node.attr_string("approximate", "none");
                  if (approx == "tanh") {
                    return {map_float(c.in(0), c.node, [](auto v) {
                      using T = decltype(v);
                      const double k = std::sqrt(2.0 / 3.14159265358979323846);
                      const double x = double(v);
                      return T(0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x))));
                    })};
                  }
                  check(approx == "none", c.node.label(), ": approximate must be 'none' or 'tanh', got '", approx,
                        "'");
                  return {map_float(c.in(0), c.node, [](auto v) {
                    using T = decltype(v);
                    const double x = double(v);
                    return T(0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))));
                  })};
                }));
  r.add(act_row("Mish", 18, "y = x * tanh(softplus(x))", float_act([](const Node&) {
    return [](auto v) { using T = decltype(v); return T(v * std::tanh(stable_softplus(v))); };
  })));
  r.add(act_row("Softplus", 1, "y = ln(e^x + 1)",
                float_act([](const Node&) { return [](auto v) { return stable_softplus(v); }; })));
  r.add(act_row("Softsign", 1, "y = x / (1 + |x|)", float_act([](const Node&) {
    return [](auto v) { using T = decltype(v); return T(v / (T(1) + std::fabs(v))); };
  })));
  r.add(act_row("ThresholdedRelu", 10, "y = x > alpha ? x : 0 (alpha=1)", float_act([](const Node& n) {
    const float alpha = n.attr_float("alpha", 1.0f);
    return [alpha](auto v) { using T = decltype(v); return v > T(alpha) ? v : T(0); };
  })));
  r.add(act_row("Shrink", 9, "y = x < -lambd ? x + bias : (x > lambd ? x - bias : 0)",
                [](KernelContext& c) -> std::vector<Tensor> {
                  require_inputs(c, 1);
                  const double lambd = c.node.attr_float("lambd", 0.5f);
                  const double bias = c.node.attr_float("bias", 0.0f);
                  return {map_numeric(c.in(0), c.node, [lambd, bias](auto v) {
                    using T = decltype(v);
                    const double x = double(v);
                    return ew::saturate_cast<T>(x < -lambd ? x + bias : (x > lambd ? x - bias : 0.0));
                  })};
                }));
  r.add(act_row("Swish", 24, "y = x * sigmoid(alpha*x) (alpha=1)", float_act([](const Node& n) {
    const float alpha = n.attr_float("alpha", 1.0f);
    return [alpha](auto v) { using T = decltype(v); return T(v * stable_sigmoid(T(T(alpha) * v))); };
  })));

  r.add(soft_row("Softmax", "exp(x) / sum(exp(x)) along axis (opset < 13: input coerced to 2-D at axis)",
                 SoftKind::Softmax));
  r.add(soft_row("LogSoftmax", "x - log(sum(exp(x))) along axis (opset < 13: input coerced to 2-D at axis)",
                 SoftKind::LogSoftmax));
  r.add(soft_row("Hardmax", "one-hot of the first maximum along axis (opset < 13: coerced to 2-D at axis)",
                 SoftKind::Hardmax));
}

}  // namespace dnnf::ops
