// Private helpers of the element-wise, activation and quantisation families: typed
// broadcast loops (templated, so the per-element function inlines), F16/BF16 staging
// through f32, and the mapping function of broadcasting ops.
#pragma once

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/ops/op_util.h"

namespace dnnf::ops::ew {

// Row registration pieces split over several files (all called from
// register_elementwise_ops in elementwise_ops.cpp).
void register_elementwise_unary(OpRegistry& r);
void register_elementwise_binary(OpRegistry& r);
void register_elementwise_cast(OpRegistry& r);

// ---- f16 / bf16 staging -------------------------------------------------------------
inline bool is_half(DType t) { return t == DType::F16 || t == DType::BF16; }

// F16/BF16 -> F32 (fresh tensor); other dtypes are returned as they are.
inline Tensor to_f32(const Tensor& x) {
  if (!is_half(x.dtype())) return x;
  Tensor y(DType::F32, x.shape());
  const uint16_t* p = x.data<uint16_t>();
  float* q = y.data<float>();
  const int64_t n = x.numel();
  if (x.dtype() == DType::F16)
    for (int64_t i = 0; i < n; ++i) q[i] = half_to_float(p[i]);
  else
    for (int64_t i = 0; i < n; ++i) q[i] = bf16_to_float(p[i]);
  return y;
}

// F32 -> F16/BF16 (round to nearest even); `to` of another dtype returns x unchanged.
inline Tensor from_f32(const Tensor& x, DType to) {
  if (!is_half(to) || x.dtype() != DType::F32) return x;
  Tensor y(to, x.shape());
  const float* p = x.data<float>();
  uint16_t* q = y.data<uint16_t>();
  const int64_t n = x.numel();
  if (to == DType::F16)
    for (int64_t i = 0; i < n; ++i) q[i] = float_to_half(p[i]);
  else
    for (int64_t i = 0; i < n; ++i) q[i] = float_to_bf16(p[i]);
  return y;
}

// ---- broadcast loops ------------------------------------------------------------------
// Calls f(out_flat, idx) where idx[k] is the flat index into input k, for every element
// of `out`; each input shape must broadcast to `out` (checked by the caller through
// broadcast_shapes / broadcast_all). The innermost dimension runs as a tight loop.
template <size_t N, class F>
void broadcast_for(const Shape& out, const std::array<const Shape*, N>& ins, F&& f) {
  const int64_t total = shape_numel(out);
  if (total == 0) return;
  const size_t r = out.size();
  std::array<std::vector<int64_t>, N> st;
  for (size_t k = 0; k < N; ++k) st[k] = broadcast_strides(*ins[k], out);
  const int64_t inner = r ? out[r - 1] : 1;
  std::array<int64_t, N> istep{};
  for (size_t k = 0; k < N; ++k) istep[k] = r ? st[k][r - 1] : 0;
  std::array<int64_t, N> base{};
  std::vector<int64_t> coord(r, 0);
  int64_t o = 0;
  while (o < total) {
    std::array<int64_t, N> idx = base;
    for (int64_t j = 0; j < inner; ++j, ++o) {
      f(o, idx);
      for (size_t k = 0; k < N; ++k) idx[k] += istep[k];
    }
    for (int64_t d = int64_t(r) - 2; d >= 0; --d) {
      const size_t du = size_t(d);
      ++coord[du];
      for (size_t k = 0; k < N; ++k) base[k] += st[k][du];
      if (coord[du] < out[du]) break;
      for (size_t k = 0; k < N; ++k) base[k] -= st[k][du] * out[du];
      coord[du] = 0;
    }
  }
}

// y[i] = f(a[i], b[i]) with broadcasting; fast paths for equal shapes and a scalar b.
template <class TA, class TB, class TO, class F>
void binary_loop(const Tensor& a, const Tensor& b, Tensor& y, F&& f) {
  const TA* pa = a.data<TA>();
  const TB* pb = b.data<TB>();
  TO* py = y.data<TO>();
  const Shape& out = y.shape();
  const int64_t n = y.numel();
  if (a.shape() == out && b.shape() == out) {
    for (int64_t i = 0; i < n; ++i) py[i] = f(pa[i], pb[i]);
  } else if (a.shape() == out && b.numel() == 1) {
    const TB s = pb[0];
    for (int64_t i = 0; i < n; ++i) py[i] = f(pa[i], s);
  } else if (b.shape() == out && a.numel() == 1) {
    const TA s = pa[0];
    for (int64_t i = 0; i < n; ++i) py[i] = f(s, pb[i]);
  } else {
    broadcast_for<2>(out, {&a.shape(), &b.shape()},
                     [&](int64_t o, const std::array<int64_t, 2>& idx) { py[o] = f(pa[idx[0]], pb[idx[1]]); });
  }
}

// Unary map over a float tensor: f is called with float (F32, F16, BF16) or double (F64).
// Other dtypes are refused with an error naming the node and the dtype.
template <class F>
Tensor map_float(const Tensor& x, const Node& node, F&& f) {
  const DType dt = x.dtype();
  if (dt == DType::F32 || is_half(dt)) {
    Tensor xf = to_f32(x);
    Tensor y(DType::F32, x.shape());
    const float* p = xf.data<float>();
    float* q = y.data<float>();
    const int64_t n = x.numel();
    for (int64_t i = 0; i < n; ++i) q[i] = float(f(p[i]));
    return from_f32(y, dt);
  }
  if (dt == DType::F64) {
    Tensor y(DType::F64, x.shape());
    const double* p = x.data<double>();
    double* q = y.data<double>();
    const int64_t n = x.numel();
    for (int64_t i = 0; i < n; ++i) q[i] = double(f(p[i]));
    return y;
  }
  fail(node.label(), ": element type ", dtype_name(dt), " is not supported (float types only)");
}

// Unary map over any numeric tensor: f is called with the storage type T (float for
// F16/BF16) and must return T. Bool/String are refused.
template <class F>
Tensor map_numeric(const Tensor& x, const Node& node, F&& f) {
  const DType dt = x.dtype();
  if (dt == DType::F32 || dt == DType::F64 || is_half(dt)) return map_float(x, node, f);
  if (dt == DType::Bool || dt == DType::String || dt == DType::Undefined)
    fail(node.label(), ": element type ", dtype_name(dt), " is not supported");
  return dispatch_numeric(dt, [&](auto tag) -> Tensor {
    using T = decltype(tag);
    Tensor y(dt, x.shape());
    if constexpr (!std::is_same_v<T, bool>) {
      const T* p = x.data<T>();
      T* q = y.data<T>();
      const int64_t n = x.numel();
      for (int64_t i = 0; i < n; ++i) q[i] = T(f(p[i]));
    }
    return y;
  });
}

// ---- mapping -----------------------------------------------------------------------------
// One-to-One unless some present input is actually broadcast to the output.
inline MappingType broadcast_mapping(const Node&, const std::vector<TensorType>& in,
                                     const std::vector<TensorType>& out) {
  if (out.empty() || !out[0].has_shape) return MappingType::OneToOne;
  for (const TensorType& t : in)
    if (t.dtype != DType::Undefined && t.has_shape && is_broadcast(t, out[0])) return MappingType::OneToMany;
  return MappingType::OneToOne;
}

// ---- integer arithmetic without undefined behaviour ------------------------------------------
// Integer +, -, * wrap modulo 2^bits like the hardware does (computed in unsigned so that
// signed overflow, which is undefined in C++, never happens).
template <class T>
using wrap_t = std::conditional_t<(sizeof(T) <= 4), uint32_t, uint64_t>;
template <class T> T wrap_add(T a, T b) { return T(wrap_t<T>(a) + wrap_t<T>(b)); }
template <class T> T wrap_sub(T a, T b) { return T(wrap_t<T>(a) - wrap_t<T>(b)); }
template <class T> T wrap_mul(T a, T b) { return T(wrap_t<T>(a) * wrap_t<T>(b)); }

// double -> T: plain conversion for floats; integers truncate and saturate, NaN gives 0.
template <class T>
T saturate_cast(double v) {
  if constexpr (std::is_floating_point_v<T>) {
    return T(v);
  } else if constexpr (std::is_same_v<T, bool>) {
    return v != 0;
  } else {
    if (std::isnan(v)) return T(0);
    if (v >= double(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    if (v <= double(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    return T(v);
  }
}

// Round half to even (the current FP rounding mode is round-to-nearest by default).
inline double round_half_even(double v) { return std::nearbyint(v); }

}  // namespace dnnf::ops::ew
