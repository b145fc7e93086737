// Operator rows of the matmul family (see op_families.h): MatMul, Gemm, MatMulInteger,
// QLinearMatMul, Det. Einsum lives in matmul_einsum.cpp.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/ops/matmul_internal.h"
#include "core/ops/op_families.h"
#include "core/ops/op_util.h"

namespace dnnf::ops {
namespace mm {

std::vector<double> to_f64(const Tensor& t) {
  std::vector<double> out(size_t(t.numel()));
  if (t.dtype() == DType::F16 || t.dtype() == DType::BF16) {
    const std::vector<float> f = t.to_f32_vector();
    for (size_t i = 0; i < out.size(); ++i) out[i] = f[i];
    return out;
  }
  dispatch_numeric(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = t.data<T>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = double(p[i]);
  });
  return out;
}

Shape matmul_output_shape(const Shape& a, const Shape& b, const Node& node) {
  check(!a.empty() && !b.empty(), node.label(), ": operands must have rank >= 1 (got ",
        shape_str(a), " and ", shape_str(b), ")");
  const Shape a2 = a.size() == 1 ? Shape{1, a[0]} : a;
  const Shape b2 = b.size() == 1 ? Shape{b[0], 1} : b;
  check(a2.back() == b2[b2.size() - 2], node.label(), ": inner dimensions differ (",
        shape_str(a), " x ", shape_str(b), ")");
  Shape out = broadcast_shapes(Shape(a2.begin(), a2.end() - 2), Shape(b2.begin(), b2.end() - 2), node);
  if (a.size() > 1) out.push_back(a2[a2.size() - 2]);
  if (b.size() > 1) out.push_back(b2.back());
  return out;
}

template <class T>
void matmul_batched(const T* A, const Shape& a_shape, const T* B, const Shape& b_shape, T* C,
                    const Node& node) {
  (void)matmul_output_shape(a_shape, b_shape, node);  // validates
  const Shape a2 = a_shape.size() == 1 ? Shape{1, a_shape[0]} : a_shape;
  const Shape b2 = b_shape.size() == 1 ? Shape{b_shape[0], 1} : b_shape;
  const int64_t M = a2[a2.size() - 2], K = a2.back(), N = b2.back();
  const Shape ab(a2.begin(), a2.end() - 2), bb(b2.begin(), b2.end() - 2);
  const Shape ob = broadcast_shapes(ab, bb, node);
  const int64_t nb = shape_numel(ob);
  if (M == 0 || N == 0) return;
  if (K == 0) {
    std::fill(C, C + nb * M * N, T(0));
    return;
  }
  const std::vector<int64_t> as = broadcast_strides(ab, ob), bs = broadcast_strides(bb, ob);
  for (int64_t o = 0; o < nb; ++o) {
    int64_t rem = o, ai = 0, bi = 0;
    for (size_t d = ob.size(); d-- > 0;) {
      const int64_t c = rem % ob[d];
      rem /= ob[d];
      ai += c * as[d];
      bi += c * bs[d];
    }
    gemm_rowmajor<T>(M, N, K, A + ai * M * K, B + bi * K * N, C + o * M * N, false);
  }
}

template void matmul_batched<float>(const float*, const Shape&, const float*, const Shape&, float*, const Node&);
template void matmul_batched<double>(const double*, const Shape&, const double*, const Shape&, double*, const Node&);
template void matmul_batched<int32_t>(const int32_t*, const Shape&, const int32_t*, const Shape&, int32_t*, const Node&);
template void matmul_batched<int64_t>(const int64_t*, const Shape&, const int64_t*, const Shape&, int64_t*, const Node&);
template void matmul_batched<uint32_t>(const uint32_t*, const Shape&, const uint32_t*, const Shape&, uint32_t*, const Node&);
template void matmul_batched<uint64_t>(const uint64_t*, const Shape&, const uint64_t*, const Shape&, uint64_t*, const Node&);

int64_t static_numel(const TensorType& t) {
  auto s = t.static_shape();
  if (!s) return -1;
  int64_t n = 1;
  for (int64_t d : *s) n *= d;
  return n;
}

double io_bytes(const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
  double b = 0;
  for (const auto* v : {&in, &out})
    for (const TensorType& t : *v) {
      const int64_t n = static_numel(t);
      if (n > 0) b += double(n) * double(dtype_size(t.dtype));
    }
  return b;
}

}  // namespace mm

namespace {

using mm::io_bytes;
using mm::static_numel;

// ---- MatMul ---------------------------------------------------------------------

// Type-level numpy matmul shape (dims may be symbolic).
TensorType matmul_type(const TensorType& a, const TensorType& b, DType out_dtype, const Node& node) {
  if (!a.has_shape || !b.has_shape) return TensorType::unknown_shape(out_dtype);
  check(a.rank() >= 1 && b.rank() >= 1, node.label(), ": operands must have rank >= 1 (got ",
        a.str(), " and ", b.str(), ")");
  std::vector<Dim> a2 = a.dims, b2 = b.dims;
  if (a.rank() == 1) a2.insert(a2.begin(), Dim(1));
  if (b.rank() == 1) b2.push_back(Dim(1));
  const Dim& ka = a2.back();
  const Dim& kb = b2[b2.size() - 2];
  check(!(ka.known() && kb.known() && ka.value != kb.value), node.label(),
        ": inner dimensions differ (", a.str(), " x ", b.str(), ")");
  std::vector<Dim> out = broadcast_dims(std::vector<Dim>(a2.begin(), a2.end() - 2),
                                        std::vector<Dim>(b2.begin(), b2.end() - 2), node);
  if (a.rank() > 1) out.push_back(a2[a2.size() - 2]);
  if (b.rank() > 1) out.push_back(b2.back());
  return TensorType(out_dtype, out);
}

void check_same_dtype(const Tensor& a, const Tensor& b, const Node& node) {
  check(a.dtype() == b.dtype(), node.label(), ": operand types differ (", dtype_name(a.dtype()),
        " vs ", dtype_name(b.dtype()), ")");
}

Tensor matmul_tensors(const Tensor& a_in, const Tensor& b_in, const Node& node) {
  check_same_dtype(a_in, b_in, node);
  const DType dt = a_in.dtype();
  const Tensor a = mm::to_compute(a_in), b = mm::to_compute(b_in);
  const Shape out_shape = mm::matmul_output_shape(a.shape(), b.shape(), node);
  Tensor out(a.dtype(), out_shape);
  switch (a.dtype()) {
    case DType::F32:
      mm::matmul_batched(a.data<float>(), a.shape(), b.data<float>(), b.shape(), out.data<float>(), node);
      break;
    case DType::F64:
      mm::matmul_batched(a.data<double>(), a.shape(), b.data<double>(), b.shape(), out.data<double>(), node);
      break;
    case DType::I32:
      mm::matmul_batched(a.data<int32_t>(), a.shape(), b.data<int32_t>(), b.shape(), out.data<int32_t>(), node);
      break;
    case DType::I64:
      mm::matmul_batched(a.data<int64_t>(), a.shape(), b.data<int64_t>(), b.shape(), out.data<int64_t>(), node);
      break;
    case DType::U32:
      mm::matmul_batched(a.data<uint32_t>(), a.shape(), b.data<uint32_t>(), b.shape(), out.data<uint32_t>(), node);
      break;
    case DType::U64:
      mm::matmul_batched(a.data<uint64_t>(), a.shape(), b.data<uint64_t>(), b.shape(), out.data<uint64_t>(), node);
      break;
    default:
      fail(node.label(), ": element type ", dtype_name(dt), " is not supported");
  }
  return dt == out.dtype() ? out : out.cast(dt);
}

OpCost matmul_cost(const Node&, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
  OpCost c;
  c.bytes = io_bytes(in, out);
  if (in.size() < 2 || out.empty() || !in[0].is_static() || !out[0].is_static()) return c;
  const int64_t K = in[0].dims.back().value;
  c.flops = 2.0 * double(static_numel(out[0])) * double(K);
  return c;
}

OpInfo matmul_row() {
  OpInfo r;
  r.name = "MatMul";
  r.family = "matmul";
  r.mapping = MappingType::ManyToMany;
  r.props.associative = true;  // (AB)C == A(BC) for matrices; not commutative
  r.shape = [](const InferContext& ctx) {
    require_inputs(ctx, 2);
    return std::vector<TensorType>{matmul_type(ctx.in(0), ctx.in(1), ctx.in(0).dtype, ctx.node)};
  };
  r.kernel = [](KernelContext& ctx) {
    require_inputs(ctx, 2);
    return std::vector<Tensor>{matmul_tensors(ctx.in(0), ctx.in(1), ctx.node)};
  };
  r.cost = matmul_cost;
  r.summary = "numpy matrix product: 1-D promotion, batch broadcasting (associative, not commutative)";
  return r;
}

// ---- Gemm -----------------------------------------------------------------------

template <class T>
Tensor gemm_typed(const Tensor& A, const Tensor& B, const Tensor* C, bool ta, bool tb, double alpha,
                  double beta, const Node& node) {
  const int64_t M = ta ? A.dim(1) : A.dim(0), K = ta ? A.dim(0) : A.dim(1);
  const int64_t Kb = tb ? B.dim(1) : B.dim(0), N = tb ? B.dim(0) : B.dim(1);
  check(K == Kb, node.label(), ": inner dimensions differ (A ", shape_str(A.shape()), ", B ",
        shape_str(B.shape()), ", transA=", ta, ", transB=", tb, ")");
  std::vector<T> at, bt;
  const T* a = A.data<T>();
  const T* b = B.data<T>();
  if (ta) {
    at.resize(size_t(M * K));
    mm::transpose2d(K, M, a, at.data());
    a = at.data();
  }
  if (tb) {
    bt.resize(size_t(K * N));
    mm::transpose2d(N, K, b, bt.data());
    b = bt.data();
  }
  Tensor out(A.dtype(), {M, N});
  T* o = out.data<T>();
  if (M > 0 && N > 0) {
    if (K > 0) mm::gemm_rowmajor<T>(M, N, K, a, b, o, false);
    if (alpha != 1.0)
      for (int64_t i = 0; i < M * N; ++i) o[i] = T(o[i] * alpha);
  }
  if (C && beta != 0.0) {
    const Shape target{M, N};
    check(broadcast_shapes(C->shape(), target, node) == target, node.label(), ": C of shape ",
          shape_str(C->shape()), " does not broadcast to ", shape_str(target));
    check(C->dtype() == A.dtype(), node.label(), ": C has element type ", dtype_name(C->dtype()),
          ", expected ", dtype_name(A.dtype()));
    const std::vector<int64_t> cs = broadcast_strides(C->shape(), target);
    const T* c = C->data<T>();
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) o[i * N + j] = T(o[i * N + j] + beta * c[i * cs[0] + j * cs[1]]);
  }
  return out;
}

OpInfo gemm_row() {
  OpInfo r;
  r.name = "Gemm";
  r.family = "matmul";
  r.mapping = MappingType::ManyToMany;
  r.props.associative = true;
  r.shape = [](const InferContext& ctx) {
    require_inputs(ctx, 2);
    const TensorType& a = ctx.in(0);
    const TensorType& b = ctx.in(1);
    if (!a.has_shape || !b.has_shape) return std::vector<TensorType>{TensorType::unknown_shape(a.dtype)};
    check(a.rank() == 2 && b.rank() == 2, ctx.node.label(), ": A and B must be 2-D (got ", a.str(),
          " and ", b.str(), ")");
    const bool ta = ctx.node.attr_int("transA", 0) != 0, tb = ctx.node.attr_int("transB", 0) != 0;
    const Dim ka = a.dims[ta ? 0 : 1], kb = b.dims[tb ? 1 : 0];
    check(!(ka.known() && kb.known() && ka.value != kb.value), ctx.node.label(),
          ": inner dimensions differ (", a.str(), " x ", b.str(), ")");
    return std::vector<TensorType>{TensorType(a.dtype, {a.dims[ta ? 1 : 0], b.dims[tb ? 0 : 1]})};
  };
  r.kernel = [](KernelContext& ctx) {
    require_inputs(ctx, 2);
    const Node& node = ctx.node;
    const Tensor& A0 = ctx.in(0);
    const Tensor& B0 = ctx.in(1);
    check(A0.rank() == 2 && B0.rank() == 2, node.label(), ": A and B must be 2-D (got ",
          shape_str(A0.shape()), " and ", shape_str(B0.shape()), ")");
    check_same_dtype(A0, B0, node);
    const bool ta = node.attr_int("transA", 0) != 0, tb = node.attr_int("transB", 0) != 0;
    const double alpha = node.attr_float("alpha", 1.0f), beta = node.attr_float("beta", 1.0f);
    const Tensor A = mm::to_compute(A0), B = mm::to_compute(B0);
    Tensor Cc;
    const Tensor* C = nullptr;
    if (ctx.has_input(2)) {
      Cc = mm::to_compute(ctx.in(2));
      C = &Cc;
    }
    Tensor out;
    switch (A.dtype()) {
      case DType::F32: out = gemm_typed<float>(A, B, C, ta, tb, alpha, beta, node); break;
      case DType::F64: out = gemm_typed<double>(A, B, C, ta, tb, alpha, beta, node); break;
      case DType::I32: out = gemm_typed<int32_t>(A, B, C, ta, tb, alpha, beta, node); break;
      case DType::I64: out = gemm_typed<int64_t>(A, B, C, ta, tb, alpha, beta, node); break;
      case DType::U32: out = gemm_typed<uint32_t>(A, B, C, ta, tb, alpha, beta, node); break;
      case DType::U64: out = gemm_typed<uint64_t>(A, B, C, ta, tb, alpha, beta, node); break;
      default: fail(node.label(), ": element type ", dtype_name(A0.dtype()), " is not supported");
    }
    return std::vector<Tensor>{out.dtype() == A0.dtype() ? out : out.cast(A0.dtype())};
  };
  r.cost = [](const Node& node, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
    OpCost c;
    c.bytes = io_bytes(in, out);
    if (in.size() < 2 || out.empty() || !in[0].is_static() || !out[0].is_static()) return c;
    const int64_t K = in[0].dims[node.attr_int("transA", 0) ? 0 : 1].value;
    const double mn = double(static_numel(out[0]));
    c.flops = 2.0 * mn * double(K) + (in.size() > 2 && in[2].dtype != DType::Undefined ? 2.0 * mn : 0.0);
    return c;
  };
  r.summary = "alpha * op(A) * op(B) + beta * C with optional transposes and broadcast C";
  return r;
}

// ---- MatMulInteger / QLinearMatMul -------------------------------------------------

// x - zero_point as int32, with a per-tensor, per-row (A) or per-column (B) zero point.
std::vector<int32_t> centered(const Tensor& x, const Tensor* zp, bool is_a, const Node& node,
                              const char* what) {
  check(x.dtype() == DType::U8 || x.dtype() == DType::I8, node.label(), ": ", what,
        " must be uint8 or int8, got ", dtype_name(x.dtype()));
  check(x.rank() >= 1, node.label(), ": ", what, " must have rank >= 1");
  const int64_t n = x.numel();
  std::vector<int32_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[size_t(i)] = int32_t(x.get_i64(i));
  if (!zp || zp->numel() == 0) return out;
  check(zp->dtype() == x.dtype(), node.label(), ": zero point of ", what, " has type ",
        dtype_name(zp->dtype()), ", expected ", dtype_name(x.dtype()));
  const int64_t zn = zp->numel();
  std::vector<int32_t> z(static_cast<size_t>(zn));
  for (int64_t i = 0; i < zn; ++i) z[size_t(i)] = int32_t(zp->get_i64(i));
  const int64_t last = x.dim(-1);
  const int64_t rows = x.rank() >= 2 ? x.dim(-2) : 1;
  if (zn == 1) {
    for (auto& v : out) v -= z[0];
  } else if (is_a) {
    // Per row: [M] or [..., M, 1] (one zero point per row of every matrix).
    check(last > 0 && (zn == rows || zn == n / last), node.label(), ": zero point of ", what,
          " has ", zn, " elements; expected 1, ", rows, " or ", (last > 0 ? n / last : 0));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t row = i / last;
      out[size_t(i)] -= z[size_t(zn == rows ? row % rows : row)];
    }
  } else {
    // Per column: [N] or [..., 1, N].
    const int64_t mat = rows * last;
    check(mat > 0 && (zn == last || zn == (n / mat) * last), node.label(), ": zero point of ", what,
          " has ", zn, " elements; expected 1, ", last, " or ", (mat > 0 ? (n / mat) * last : 0));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t col = i % last;
      out[size_t(i)] -= z[size_t(zn == last ? col : (i / mat) * last + col)];
    }
  }
  return out;
}

Tensor int_matmul(const Tensor& a, const Tensor* azp, const Tensor& b, const Tensor* bzp, const Node& node) {
  const std::vector<int32_t> A = centered(a, azp, true, node, "A");
  const std::vector<int32_t> B = centered(b, bzp, false, node, "B");
  Tensor out(DType::I32, mm::matmul_output_shape(a.shape(), b.shape(), node));
  mm::matmul_batched(A.data(), a.shape(), B.data(), b.shape(), out.data<int32_t>(), node);
  return out;
}

OpInfo matmul_integer_row() {
  OpInfo r;
  r.name = "MatMulInteger";
  r.family = "matmul";
  r.mapping = MappingType::ManyToMany;
  r.shape = [](const InferContext& ctx) {
    require_inputs(ctx, 2);
    return std::vector<TensorType>{matmul_type(ctx.in(0), ctx.in(1), DType::I32, ctx.node)};
  };
  r.kernel = [](KernelContext& ctx) {
    require_inputs(ctx, 2);
    const Tensor* azp = ctx.has_input(2) ? &ctx.in(2) : nullptr;
    const Tensor* bzp = ctx.has_input(3) ? &ctx.in(3) : nullptr;
    return std::vector<Tensor>{int_matmul(ctx.in(0), azp, ctx.in(1), bzp, ctx.node)};
  };
  r.cost = matmul_cost;
  r.summary = "integer matrix product (u8/i8 with zero points) accumulated in int32";
  return r;
}

// Per-row / per-column scale lookup for QLinearMatMul.
double scale_at(const std::vector<double>& s, int64_t idx) { return s.size() == 1 ? s[0] : s[size_t(idx)]; }

OpInfo qlinear_matmul_row() {
  OpInfo r;
  r.name = "QLinearMatMul";
  r.family = "matmul";
  r.mapping = MappingType::ManyToMany;
  r.shape = [](const InferContext& ctx) {
    require_inputs(ctx, 8);
    return std::vector<TensorType>{matmul_type(ctx.in(0), ctx.in(3), ctx.in(7).dtype, ctx.node)};
  };
  r.kernel = [](KernelContext& ctx) {
    require_inputs(ctx, 8);
    const Node& node = ctx.node;
    const Tensor& a = ctx.in(0);
    const Tensor& b = ctx.in(3);
    const Tensor& yzp = ctx.in(7);
    check(yzp.dtype() == DType::U8 || yzp.dtype() == DType::I8, node.label(),
          ": y_zero_point must be uint8 or int8, got ", dtype_name(yzp.dtype()));
    check(yzp.numel() == 1 && ctx.in(6).numel() == 1, node.label(),
          ": y_scale and y_zero_point must be scalars (per-tensor)");
    Tensor acc = int_matmul(a, &ctx.in(2), b, &ctx.in(5), node);
    const std::vector<double> as = mm::to_f64(ctx.in(1)), bs = mm::to_f64(ctx.in(4));
    const int64_t M = a.rank() >= 2 ? a.dim(-2) : 1;
    const int64_t N = b.rank() >= 2 ? b.dim(-1) : 1;
    check(as.size() == 1 || int64_t(as.size()) == M, node.label(), ": a_scale must have 1 or ", M, " elements");
    check(bs.size() == 1 || int64_t(bs.size()) == N, node.label(), ": b_scale must have 1 or ", N, " elements");
    const double ys = scalar_of(ctx.in(6));
    check(ys != 0.0, node.label(), ": y_scale is zero");
    const double yz = double(yzp.get_i64(0));
    const double lo = yzp.dtype() == DType::U8 ? 0.0 : -128.0, hi = yzp.dtype() == DType::U8 ? 255.0 : 127.0;
    Tensor out(yzp.dtype(), acc.shape());
    const int32_t* c = acc.data<int32_t>();
    const int64_t n = acc.numel();
    for (int64_t i = 0; i < n; ++i) {
      const int64_t col = i % N, row = (i / N) % M;
      const float mult = float(float(scale_at(as, row)) * float(scale_at(bs, col))) / float(ys);
      double v = std::nearbyint(double(c[i]) * double(mult)) + yz;
      out.set_f64(i, std::clamp(v, lo, hi));
    }
    return std::vector<Tensor>{out};
  };
  r.cost = [](const Node& node, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
    OpCost c;
    c.bytes = io_bytes(in, out);
    if (in.size() < 4 || out.empty() || !in[0].is_static() || !out[0].is_static()) return c;
    c.flops = 2.0 * double(static_numel(out[0])) * double(in[0].dims.back().value);
    return c;
  };
  r.summary = "quantized matrix product: int32 accumulate, requantize to y_scale/y_zero_point";
  return r;
}

// ---- Det ------------------------------------------------------------------------

double det_lu(std::vector<double>& m, int64_t n) {
  double det = 1.0;
  for (int64_t col = 0; col < n; ++col) {
    int64_t piv = col;
    for (int64_t r = col + 1; r < n; ++r)
      if (std::fabs(m[size_t(r * n + col)]) > std::fabs(m[size_t(piv * n + col)])) piv = r;
    if (m[size_t(piv * n + col)] == 0.0) return 0.0;
    if (piv != col) {
      for (int64_t j = 0; j < n; ++j) std::swap(m[size_t(col * n + j)], m[size_t(piv * n + j)]);
      det = -det;
    }
    const double p = m[size_t(col * n + col)];
    det *= p;
    for (int64_t r = col + 1; r < n; ++r) {
      const double f = m[size_t(r * n + col)] / p;
      if (f == 0.0) continue;
      for (int64_t j = col; j < n; ++j) m[size_t(r * n + j)] -= f * m[size_t(col * n + j)];
    }
  }
  return det;
}

OpInfo det_row() {
  OpInfo r;
  r.name = "Det";
  r.family = "matmul";
  r.mapping = MappingType::ManyToMany;
  r.shape = [](const InferContext& ctx) {
    require_inputs(ctx, 1);
    const TensorType& x = ctx.in(0);
    if (!x.has_shape) return std::vector<TensorType>{TensorType::unknown_shape(x.dtype)};
    check(x.rank() >= 2, ctx.node.label(), ": input must have rank >= 2 (got ", x.str(), ")");
    const Dim& a = x.dims[size_t(x.rank() - 2)];
    const Dim& b = x.dims[size_t(x.rank() - 1)];
    check(!(a.known() && b.known() && a.value != b.value), ctx.node.label(),
          ": matrices must be square (got ", x.str(), ")");
    return std::vector<TensorType>{TensorType(x.dtype, std::vector<Dim>(x.dims.begin(), x.dims.end() - 2))};
  };
  r.kernel = [](KernelContext& ctx) {
    require_inputs(ctx, 1);
    const Tensor& x = ctx.in(0);
    check(dtype_is_float(x.dtype()), ctx.node.label(), ": element type ", dtype_name(x.dtype()),
          " is not supported (floating types only)");
    check(x.rank() >= 2 && x.dim(-1) == x.dim(-2), ctx.node.label(),
          ": input must be a batch of square matrices (got ", shape_str(x.shape()), ")");
    const int64_t n = x.dim(-1);
    Tensor out(x.dtype(), Shape(x.shape().begin(), x.shape().end() - 2));
    const std::vector<double> v = mm::to_f64(x);
    std::vector<double> m(size_t(n * n));
    for (int64_t b = 0; b < out.numel(); ++b) {
      std::copy(v.begin() + b * n * n, v.begin() + (b + 1) * n * n, m.begin());
      out.set_f64(b, det_lu(m, n));
    }
    return std::vector<Tensor>{out};
  };
  r.cost = [](const Node&, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
    OpCost c;
    c.bytes = io_bytes(in, out);
    if (in.empty() || !in[0].is_static()) return c;
    const double n = double(in[0].dims.back().value);
    c.flops = double(static_numel(in[0])) / std::max(1.0, n * n) * (2.0 / 3.0) * n * n * n;
    return c;
  };
  r.summary = "determinant of square matrices (LU with partial pivoting, in double)";
  return r;
}

}  // namespace

void register_einsum_op(OpRegistry& r);  // matmul_einsum.cpp

void register_matmul_ops(OpRegistry& r) {
  r.add(matmul_row());
  r.add(gemm_row());
  r.add(matmul_integer_row());
  r.add(qlinear_matmul_row());
  r.add(det_row());
  register_einsum_op(r);
}

}  // namespace dnnf::ops
