// Operator rows of the elementwise family (see op_families.h): the unary math and
// logic operators live here; binary/variadic/compare/Where rows are in
// elementwise_binary.cpp, Cast/CastLike/Clip in elementwise_cast.cpp.
#include <cmath>

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

std::vector<TensorType> bool_like_input(const InferContext& c) {
  require_inputs(c, 1);
  TensorType t = c.in(0);
  t.dtype = DType::Bool;
  return {t};
}

OpInfo unary_row(const char* name, int since, const char* summary, RefKernel kernel,
                 ShapeFn shape = same_type) {
  OpInfo info;
  info.name = name;
  info.since = since;
  info.family = "elementwise";
  info.mapping = MappingType::OneToOne;
  info.shape = std::move(shape);
  info.kernel = std::move(kernel);
  info.summary = summary;
  return info;
}

// Kernel computing f over a float tensor (F32/F16/BF16 in float, F64 in double).
template <class F>
RefKernel float_kernel(F f) {
  return [f](KernelContext& c) -> std::vector<Tensor> {
    require_inputs(c, 1);
    return {map_float(c.in(0), c.node, f)};
  };
}

// Kernel computing f over any numeric tensor in its own storage type.
template <class F>
RefKernel numeric_kernel(F f) {
  return [f](KernelContext& c) -> std::vector<Tensor> {
    require_inputs(c, 1);
    return {map_numeric(c.in(0), c.node, f)};
  };
}

template <class T>
constexpr bool is_unsigned_int = std::is_integral_v<T> && std::is_unsigned_v<T>;

Tensor is_nan_inf(const Tensor& x0, const Node& node, bool inf, bool pos, bool neg) {
  const Tensor x = ew::to_f32(x0);
  Tensor y(DType::Bool, x.shape());
  bool* q = y.data<bool>();
  const int64_t n = x.numel();
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.data<T>();
    for (int64_t i = 0; i < n; ++i) {
      const T v = p[i];
      q[i] = inf ? (std::isinf(v) && ((v > 0 && pos) || (v < 0 && neg))) : std::isnan(v);
    }
  };
  if (x.dtype() == DType::F32) run(float{});
  else if (x.dtype() == DType::F64) run(double{});
  else fail(node.label(), ": element type ", dtype_name(x0.dtype()), " is not supported (float types only)");
  return y;
}

}  // namespace

namespace ew {

void register_elementwise_unary(OpRegistry& r) {
  r.add(unary_row("Abs", 1, "y = |x| (all numeric types)", numeric_kernel([](auto v) {
    using T = decltype(v);
    if constexpr (std::is_floating_point_v<T>) return T(std::fabs(v));
    else if constexpr (is_unsigned_int<T>) return v;
    else return v < 0 ? ew::wrap_sub(T(0), v) : v;
  })));
  r.add(unary_row("Neg", 1, "y = -x (signed numeric types)", numeric_kernel([](auto v) {
    using T = decltype(v);
    if constexpr (std::is_integral_v<T>) return ew::wrap_sub(T(0), v);
    else return T(-v);
  })));
  r.add(unary_row("Exp", 1, "y = e^x", float_kernel([](auto v) { return std::exp(v); })));
  r.add(unary_row("Log", 1, "y = ln(x)", float_kernel([](auto v) { return std::log(v); })));
  r.add(unary_row("Sqrt", 1, "y = sqrt(x)", float_kernel([](auto v) { return std::sqrt(v); })));
  r.add(unary_row("Reciprocal", 1, "y = 1/x", float_kernel([](auto v) { return decltype(v)(1) / v; })));
  r.add(unary_row("Floor", 1, "y = floor(x)", float_kernel([](auto v) { return std::floor(v); })));
  r.add(unary_row("Ceil", 1, "y = ceil(x)", float_kernel([](auto v) { return std::ceil(v); })));
  r.add(unary_row("Round", 11, "y = round(x), halves to even",
                  float_kernel([](auto v) { return std::nearbyint(v); })));
  r.add(unary_row("Sign", 9, "y = -1, 0 or 1 by the sign of x (NaN stays NaN)", numeric_kernel([](auto v) {
    using T = decltype(v);
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(v)) return v;
    }
    return T(T(v > T(0)) - T(v < T(0)));
  })));
  r.add(unary_row("Sin", 7, "y = sin(x)", float_kernel([](auto v) { return std::sin(v); })));
  r.add(unary_row("Cos", 7, "y = cos(x)", float_kernel([](auto v) { return std::cos(v); })));
  r.add(unary_row("Tan", 7, "y = tan(x)", float_kernel([](auto v) { return std::tan(v); })));
  r.add(unary_row("Asin", 7, "y = asin(x)", float_kernel([](auto v) { return std::asin(v); })));
  r.add(unary_row("Acos", 7, "y = acos(x)", float_kernel([](auto v) { return std::acos(v); })));
  r.add(unary_row("Atan", 7, "y = atan(x)", float_kernel([](auto v) { return std::atan(v); })));
  r.add(unary_row("Sinh", 9, "y = sinh(x)", float_kernel([](auto v) { return std::sinh(v); })));
  r.add(unary_row("Cosh", 9, "y = cosh(x)", float_kernel([](auto v) { return std::cosh(v); })));
  r.add(unary_row("Asinh", 9, "y = asinh(x)", float_kernel([](auto v) { return std::asinh(v); })));
  r.add(unary_row("Acosh", 9, "y = acosh(x)", float_kernel([](auto v) { return std::acosh(v); })));
  r.add(unary_row("Atanh", 9, "y = atanh(x)", float_kernel([](auto v) { return std::atanh(v); })));
  r.add(unary_row("Erf", 9, "y = erf(x)", float_kernel([](auto v) { return std::erf(v); })));

  r.add(unary_row(
      "IsNaN", 9, "y = isnan(x) as bool",
      [](KernelContext& c) -> std::vector<Tensor> {
        require_inputs(c, 1);
        return {is_nan_inf(c.in(0), c.node, false, false, false)};
      },
      bool_like_input));
  r.add(unary_row(
      "IsInf", 10, "y = isinf(x) as bool, restricted by detect_positive / detect_negative",
      [](KernelContext& c) -> std::vector<Tensor> {
        require_inputs(c, 1);
        const bool pos = c.node.attr_int("detect_positive", 1) != 0;
        const bool neg = c.node.attr_int("detect_negative", 1) != 0;
        return {is_nan_inf(c.in(0), c.node, true, pos, neg)};
      },
      bool_like_input));
  r.add(unary_row("Not", 1, "y = !x (bool)", [](KernelContext& c) -> std::vector<Tensor> {
    require_inputs(c, 1);
    const Tensor& x = c.in(0);
    check(x.dtype() == DType::Bool, c.node.label(), ": Not needs a bool input, got ", dtype_name(x.dtype()));
    Tensor y(DType::Bool, x.shape());
    const bool* p = x.data<bool>();
    bool* q = y.data<bool>();
    for (int64_t i = 0; i < x.numel(); ++i) q[i] = !p[i];
    return {y};
  }));
  r.add(unary_row("BitwiseNot", 18, "y = ~x (integer types)", [](KernelContext& c) -> std::vector<Tensor> {
    require_inputs(c, 1);
    const Tensor& x = c.in(0);
    check(dtype_is_integer(x.dtype()), c.node.label(), ": BitwiseNot needs an integer input, got ",
          dtype_name(x.dtype()));
    return {map_numeric(x, c.node, [](auto v) {
      using T = decltype(v);
      if constexpr (std::is_integral_v<T>) return T(~v);
      else return v;
    })};
  }));
}

}  // namespace ew

void register_elementwise_ops(OpRegistry& r) {
  ew::register_elementwise_unary(r);
  ew::register_elementwise_binary(r);
  ew::register_elementwise_cast(r);
}

}  // namespace dnnf::ops
