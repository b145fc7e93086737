// Cast, CastLike and Clip rows of the elementwise family.
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "core/ops/elementwise_common.h"
#include "core/ops/op_families.h"

namespace dnnf::ops {

namespace {

using ew::from_f32;
using ew::is_half;
using ew::to_f32;

const char* onnx_type_name(int64_t code) {
  switch (code) {
    case 14: return "complex64";
    case 15: return "complex128";
    case 17: return "float8e4m3fn";
    case 18: return "float8e4m3fnuz";
    case 19: return "float8e5m2";
    case 20: return "float8e5m2fnuz";
    case 21: return "uint4";
    case 22: return "int4";
    case 23: return "float4e2m1";
    case 24: return "float8e8m0";
    case 25: return "uint2";
    case 26: return "int2";
    default: return "unknown";
  }
}

int64_t onnx_code_from_name(const std::string& s) {
  static const std::pair<const char*, int64_t> names[] = {
      {"FLOAT", 1},   {"UINT8", 2},   {"INT8", 3},     {"UINT16", 4},  {"INT16", 5},
      {"INT32", 6},   {"INT64", 7},   {"STRING", 8},   {"BOOL", 9},    {"FLOAT16", 10},
      {"DOUBLE", 11}, {"UINT32", 12}, {"UINT64", 13},  {"BFLOAT16", 16}};
  for (const auto& [n, c] : names)
    if (s == n) return c;
  return -1;
}

// Target dtype of a Cast node ('to' is an int code, or a type name before opset 6).
DType cast_target(const Node& node) {
  const Attribute* a = node.attr("to");
  check(a != nullptr, node.label(), ": missing attribute 'to'");
  int64_t code = a->i;
  if (a->kind == Attribute::Kind::String) {
    code = onnx_code_from_name(a->s);
    check(code >= 0, node.label(), ": unknown Cast target type '", a->s, "'");
  }
  const DType to = dtype_from_onnx(int32_t(code));
  if (to == DType::Undefined)
    fail(node.label(), ": Cast to ONNX element type ", code, " (", onnx_type_name(code), ") is not supported");
  return to;
}

template <class B, class A>
B convert_value(A v) {
  if constexpr (std::is_same_v<B, bool>) {
    return v != A(0);
  } else if constexpr (std::is_integral_v<B> && std::is_floating_point_v<A>) {
    // Float to integer truncates toward zero; out of range saturates, NaN gives 0.
    if (std::isnan(v)) return B(0);
    if (v >= A(std::numeric_limits<B>::max())) return std::numeric_limits<B>::max();
    if (v <= A(std::numeric_limits<B>::lowest())) return std::numeric_limits<B>::lowest();
    return B(v);
  } else {
    return B(v);
  }
}

Tensor cast_numeric(const Tensor& x, DType to) {
  if (x.dtype() == to) return x;
  if (is_half(x.dtype())) return cast_numeric(to_f32(x), to);
  if (is_half(to)) return from_f32(cast_numeric(x, DType::F32), to);
  Tensor y(to, x.shape());
  const int64_t n = x.numel();
  dispatch_numeric(x.dtype(), [&](auto a) {
    using A = decltype(a);
    dispatch_numeric(to, [&](auto b) {
      using B = decltype(b);
      const A* p = x.data<A>();
      B* q = y.data<B>();
      for (int64_t i = 0; i < n; ++i) q[i] = convert_value<B>(p[i]);
    });
  });
  return y;
}

// Formats a float the way numpy's str() does: shortest round-trip digits, positional
// for decimal exponents in [-4, 16), scientific ("1e-05", "1.5e+20") otherwise.
template <class F>
std::string format_float(F v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "INF" : "-INF";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string s(buf, res.ptr);
  const size_t epos = s.find('e');
  std::string mant = s.substr(0, epos);
  const int exp10 = std::atoi(s.c_str() + epos + 1);
  std::string sign;
  if (!mant.empty() && mant[0] == '-') {
    sign = "-";
    mant.erase(0, 1);
  }
  std::string digits;
  for (char ch : mant)
    if (ch != '.') digits += ch;
  if (exp10 >= -4 && exp10 < 16) {
    std::string out;
    if (exp10 < 0) {
      out = "0." + std::string(size_t(-exp10 - 1), '0') + digits;
    } else {
      const size_t int_len = size_t(exp10) + 1;
      if (digits.size() <= int_len) {
        out = digits + std::string(int_len - digits.size(), '0') + ".0";
      } else {
        out = digits.substr(0, int_len) + "." + digits.substr(int_len);
      }
    }
    return sign + out;
  }
  std::string out = digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  const int ae = exp10 < 0 ? -exp10 : exp10;
  out += exp10 < 0 ? "e-" : "e+";
  if (ae < 10) out += "0";
  out += std::to_string(ae);
  return sign + out;
}

Tensor to_strings(const Tensor& x0) {
  const Tensor x = to_f32(x0);
  Tensor y(DType::String, x.shape());
  auto& out = y.strings();
  const int64_t n = x.numel();
  dispatch_numeric(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.data<T>();
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (std::is_same_v<T, bool>) out[size_t(i)] = p[i] ? "True" : "False";
      else if constexpr (std::is_floating_point_v<T>) out[size_t(i)] = format_float(p[i]);
      else out[size_t(i)] = std::to_string(p[i]);
    }
  });
  return y;
}

Tensor from_strings(const Tensor& x, DType to, const Node& node) {
  Tensor y(to, x.shape());
  const auto& in = x.strings();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const std::string& s = in[size_t(i)];
    const char* b = s.c_str();
    char* end = nullptr;
    if (dtype_is_integer(to)) {
      if (dtype_is_signed(to)) {
        const long long v = std::strtoll(b, &end, 10);
        check(end != b, node.label(), ": cannot parse '", s, "' as ", dtype_name(to));
        y.set_i64(i, int64_t(v));
      } else {
        const unsigned long long v = std::strtoull(b, &end, 10);
        check(end != b, node.label(), ": cannot parse '", s, "' as ", dtype_name(to));
        if (to == DType::U64) y.data<uint64_t>()[i] = uint64_t(v);
        else y.set_i64(i, int64_t(v));
      }
    } else if (to == DType::Bool) {
      y.data<bool>()[i] = !(s.empty() || s == "0" || s == "False" || s == "false");
    } else {
      const double v = std::strtod(b, &end);  // accepts NaN, INF, +INF, -INF, inf, ...
      check(end != b, node.label(), ": cannot parse '", s, "' as ", dtype_name(to));
      y.set_f64(i, v);
    }
  }
  return y;
}

Tensor cast_any(const Tensor& x, DType to, const Node& node) {
  if (x.dtype() == to) return x;
  if (to == DType::String) return to_strings(x);
  if (x.dtype() == DType::String) return from_strings(x, to, node);
  check(x.dtype() != DType::Undefined, node.label(), ": input has no element type");
  return cast_numeric(x, to);
}

// ---- Clip ----------------------------------------------------------------------------
template <class T>
T bound_value(const Tensor& t) {
  if constexpr (std::is_floating_point_v<T>) return T(t.get_f64(0));
  else if constexpr (std::is_same_v<T, uint64_t>) return t.dtype() == DType::U64 ? t.data<uint64_t>()[0] : T(t.get_i64(0));
  else return T(t.get_i64(0));
}

Tensor clip_tensor(const KernelContext& c) {
  require_inputs(c, 1);
  const Tensor& x0 = c.in(0);
  const DType dt = x0.dtype();
  check(dt != DType::String && dt != DType::Bool && dt != DType::Undefined, c.node.label(), ": element type ",
        dtype_name(dt), " is not supported");
  const Tensor x = to_f32(x0);
  // Bounds: attributes before opset 11, optional scalar inputs from 11 on.
  const Tensor* lo_t = nullptr;
  const Tensor* hi_t = nullptr;
  Tensor lo_attr, hi_attr;
  if (c.opset < 11) {
    if (c.node.has_attr("min")) {
      lo_attr = Tensor::scalar_f32(c.node.attr_float("min", 0));
      lo_t = &lo_attr;
    }
    if (c.node.has_attr("max")) {
      hi_attr = Tensor::scalar_f32(c.node.attr_float("max", 0));
      hi_t = &hi_attr;
    }
  } else {
    if (c.has_input(1) && c.in(1).numel() > 0) lo_t = &c.in(1);
    if (c.has_input(2) && c.in(2).numel() > 0) hi_t = &c.in(2);
    for (const Tensor* t : {lo_t, hi_t})
      if (t) {
        check(t->numel() == 1, c.node.label(), ": min/max must be scalars, got shape ", shape_str(t->shape()));
        check(t->dtype() == dt, c.node.label(), ": min/max type ", dtype_name(t->dtype()), " differs from input ",
              dtype_name(dt));
      }
  }
  Tensor y(x.dtype(), x.shape());
  dispatch_numeric(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) {
      const T lo = lo_t ? bound_value<T>(*lo_t) : std::numeric_limits<T>::lowest();
      const T hi = hi_t ? bound_value<T>(*hi_t) : std::numeric_limits<T>::max();
      const T* p = x.data<T>();
      T* q = y.data<T>();
      const int64_t n = x.numel();
      for (int64_t i = 0; i < n; ++i) {
        const T v = p[i] < lo ? lo : p[i];  // NaN passes through both tests
        q[i] = v > hi ? hi : v;
      }
    }
  });
  return from_f32(y, dt);
}

OpInfo row(const char* name, int since, const char* summary, ShapeFn shape, RefKernel kernel) {
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

}  // namespace

namespace ew {

void register_elementwise_cast(OpRegistry& r) {
  r.add(row(
      "Cast", 1, "y = x converted to 'to' (numbers, bool, f16/bf16, strings); float8 targets (the only ones 'saturate' affects) are refused",
      [](const InferContext& c) -> std::vector<TensorType> {
        require_inputs(c, 1);
        TensorType t = c.in(0);
        t.dtype = cast_target(c.node);
        return {t};
      },
      [](KernelContext& c) -> std::vector<Tensor> {
        require_inputs(c, 1);
        return {cast_any(c.in(0), cast_target(c.node), c.node)};
      }));
  r.add(row(
      "CastLike", 15, "y = x converted to the element type of target_type",
      [](const InferContext& c) -> std::vector<TensorType> {
        require_inputs(c, 2);
        TensorType t = c.in(0);
        t.dtype = c.in(1).dtype;
        return {t};
      },
      [](KernelContext& c) -> std::vector<Tensor> {
        require_inputs(c, 2);
        return {cast_any(c.in(0), c.in(1).dtype(), c.node)};
      }));
  r.add(row(
      "Clip", 1, "y = min(max(x, min), max); bounds are attributes before opset 11, inputs after",
      [](const InferContext& c) -> std::vector<TensorType> {
        require_inputs(c, 1);
        return same_as_input(c);
      },
      [](KernelContext& c) -> std::vector<Tensor> { return {clip_tensor(c)}; }));
}

}  // namespace ew

}  // namespace dnnf::ops
