#include "core/ops/op_util.h"

#include <algorithm>
#include <cmath>

namespace dnnf::ops {

int64_t normalize_axis(int64_t axis, int64_t rank, const Node& node, bool allow_end) {
  // Negative axes count from the end of `rank`; allow_end also accepts axis == rank
  // (Flatten, Concat-style boundaries). Callers with output-rank semantics
  // (Unsqueeze) pass the output rank.
  const int64_t hi = allow_end ? rank + 1 : rank;
  const int64_t a = axis < 0 ? axis + rank : axis;
  check(a >= 0 && a < hi, node.label(), ": axis ", axis, " is out of range for rank ", rank);
  return a;
}

std::vector<int64_t> normalize_axes(const std::vector<int64_t>& axes, int64_t rank, const Node& node) {
  std::vector<int64_t> out;
  out.reserve(axes.size());
  for (int64_t a : axes) {
    const int64_t n = normalize_axis(a, rank, node);
    check(std::find(out.begin(), out.end(), n) == out.end(), node.label(), ": axis ", a, " repeated");
    out.push_back(n);
  }
  return out;
}

std::vector<int64_t> strides_of(const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * shape[i];
  return s;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const Node& node) {
  const size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da == db || db == 1) out[i] = da;
    else if (da == 1) out[i] = db;
    else fail(node.label(), ": shapes ", shape_str(a), " and ", shape_str(b), " cannot be broadcast");
  }
  return out;
}

Shape broadcast_all(const std::vector<Shape>& shapes, const Node& node) {
  Shape out;
  for (const Shape& s : shapes) out = broadcast_shapes(out, s, node);
  return out;
}

std::vector<Dim> broadcast_dims(const std::vector<Dim>& a, const std::vector<Dim>& b, const Node& node) {
  const size_t r = std::max(a.size(), b.size());
  std::vector<Dim> out(r);
  for (size_t i = 0; i < r; ++i) {
    const Dim da = i < r - a.size() ? Dim(1) : a[i - (r - a.size())];
    const Dim db = i < r - b.size() ? Dim(1) : b[i - (r - b.size())];
    if (da.known() && db.known()) {
      if (da.value == db.value || db.value == 1) out[i] = da;
      else if (da.value == 1) out[i] = db;
      else fail(node.label(), ": dimensions ", da.value, " and ", db.value, " cannot be broadcast");
    } else if (da.known() && da.value == 1) {
      out[i] = db;
    } else if (db.known() && db.value == 1) {
      out[i] = da;
    } else if (!da.known() && !db.known() && da.symbol == db.symbol) {
      out[i] = da;
    } else if (da.known()) {
      out[i] = da;  // the other is symbolic: it must equal da (or be 1)
    } else if (db.known()) {
      out[i] = db;
    } else {
      out[i] = Dim();
    }
  }
  return out;
}

std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  std::vector<int64_t> s(out.size(), 0);
  const std::vector<int64_t> in_strides = strides_of(in);
  const size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) s[i + off] = in[i] == 1 ? 0 : in_strides[i];
  return s;
}

bool is_broadcast(const Shape& in, const Shape& out) {
  // Broadcasting only ever adds elements, so equal counts mean a 1-1 mapping.
  return shape_numel(in) != shape_numel(out);
}

bool is_broadcast(const TensorType& in, const TensorType& out) {
  if (!in.has_shape || !out.has_shape) return false;
  if (in.rank() != out.rank()) {
    // A rank-extended operand is broadcast unless every added dim is 1.
    for (int64_t i = 0; i < out.rank() - in.rank(); ++i)
      if (!(out.dims[size_t(i)].known() && out.dims[size_t(i)].value == 1)) return true;
  }
  const int64_t off = out.rank() - in.rank();
  for (int64_t i = 0; i < in.rank(); ++i) {
    const Dim& a = in.dims[size_t(i)];
    const Dim& b = out.dims[size_t(i + off)];
    if (!(a == b)) return true;
  }
  return false;
}

void for_each_broadcast(const Shape& out, const std::vector<Shape>& ins,
                        const std::function<void(int64_t, const int64_t*)>& fn) {
  const size_t r = out.size();
  const size_t k = ins.size();
  std::vector<std::vector<int64_t>> bs(k);
  for (size_t j = 0; j < k; ++j) bs[j] = broadcast_strides(ins[j], out);
  const int64_t total = shape_numel(out);
  std::vector<int64_t> coord(r, 0), idx(k, 0);
  for (int64_t flat = 0; flat < total; ++flat) {
    fn(flat, idx.data());
    // Increment the multi-index, updating each input's flat index incrementally.
    for (size_t d = r; d-- > 0;) {
      if (++coord[d] < out[d]) {
        for (size_t j = 0; j < k; ++j) idx[j] += bs[j][d];
        break;
      }
      for (size_t j = 0; j < k; ++j) idx[j] -= bs[j][d] * (out[d] - 1);
      coord[d] = 0;
    }
  }
}

Tensor unary_float(const Tensor& x, const std::function<double(double)>& f) {
  Tensor y(x.dtype(), x.shape());
  const int64_t n = x.numel();
  if (x.dtype() == DType::F32) {
    const float* a = x.data<float>();
    float* o = y.data<float>();
    for (int64_t i = 0; i < n; ++i) o[i] = float(f(a[i]));
  } else if (x.dtype() == DType::F64) {
    const double* a = x.data<double>();
    double* o = y.data<double>();
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) y.set_f64(i, f(x.get_f64(i)));
  }
  return y;
}

Tensor binary_numeric(const Tensor& a, const Tensor& b, DType out_dtype, const Node& node,
                      const std::function<double(double, double)>& f_float,
                      const std::function<int64_t(int64_t, int64_t)>& f_int) {
  const Shape out_shape = broadcast_shapes(a.shape(), b.shape(), node);
  const DType od = out_dtype == DType::Undefined ? a.dtype() : out_dtype;
  Tensor out(od, out_shape);
  const bool integer = dtype_is_integer(a.dtype()) && f_int;
  for_each_broadcast(out_shape, {a.shape(), b.shape()}, [&](int64_t o, const int64_t* idx) {
    if (integer) out.set_i64(o, f_int(a.get_i64(idx[0]), b.get_i64(idx[1])));
    else out.set_f64(o, f_float(a.get_f64(idx[0]), b.get_f64(idx[1])));
  });
  return out;
}

std::vector<TensorType> same_as_input(const InferContext& ctx, size_t i) {
  require_inputs(ctx, i + 1);
  return {ctx.in(i)};
}

std::vector<TensorType> broadcast_inputs(const InferContext& ctx, DType out_dtype) {
  require_inputs(ctx, 1);
  TensorType out = ctx.in(0);
  for (size_t i = 1; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) continue;
    const TensorType& t = ctx.in(i);
    if (!out.has_shape || !t.has_shape) {
      out.has_shape = false;
      out.dims.clear();
    } else {
      out.dims = broadcast_dims(out.dims, t.dims, ctx.node);
    }
  }
  if (out_dtype != DType::Undefined) out.dtype = out_dtype;
  return {out};
}

std::optional<std::vector<int64_t>> const_ints(const InferContext& ctx, size_t i) {
  const Tensor* t = ctx.value(i);
  if (!t) return std::nullopt;
  return t->to_i64_vector();
}

std::optional<std::vector<int64_t>> ints_input_or_attr(const InferContext& ctx, size_t i,
                                                        const std::string& attr) {
  if (ctx.has_input(i)) return const_ints(ctx, i);
  if (ctx.node.has_attr(attr)) return ctx.node.attr_ints(attr);
  return std::nullopt;
}

std::optional<std::vector<int64_t>> ints_input_or_attr(const KernelContext& ctx, size_t i,
                                                        const std::string& attr) {
  if (ctx.has_input(i)) return ctx.in(i).to_i64_vector();
  if (ctx.node.has_attr(attr)) return ctx.node.attr_ints(attr);
  return std::nullopt;
}

void require_inputs(const InferContext& ctx, size_t n) {
  for (size_t i = 0; i < n; ++i)
    check(ctx.has_input(i), ctx.node.label(), ": needs input ", i, " (has ", ctx.num_inputs(), ")");
}

void require_inputs(const KernelContext& ctx, size_t n) {
  for (size_t i = 0; i < n; ++i)
    check(ctx.has_input(i), ctx.node.label(), ": needs input ", i, " (has ", ctx.num_inputs(), ")");
}

double scalar_of(const Tensor& t) {
  check(t.numel() >= 1, "expected a scalar, got an empty tensor");
  return t.get_f64(0);
}

}  // namespace dnnf::ops
