// Operator rows of the gather_scatter family (see op_families.h): Gather,
// GatherElements, GatherND, Scatter (deprecated), ScatterElements, ScatterND.
//
// Mapping types: the gathers read one data element per output element, and an element
// may be read many times (One-to-Many, DNNFusion Table 2 lists Gather there). The
// scatters write data-dependent positions, may combine several updates into one
// element (reductions) and leave the rest as copies of data, so each output depends on
// data, indices and possibly many updates: Many-to-Many.
#include <algorithm>
#include <numeric>

#include "core/ops/op_families.h"
#include "core/ops/op_util.h"
#include "core/ops/shape_ops_common.h"

namespace dnnf::ops {

using namespace movement;

namespace {

OpInfo make_row(const char* name, int since, MappingType mapping, const char* summary) {
  return movement_row(name, since, "gather_scatter", mapping, summary, indexed_cost);
}

void check_index_type(const Tensor& t, const Node& node) {
  check(t.dtype() == DType::I64 || t.dtype() == DType::I32, node.label(),
        ": indices must be int32 or int64, got ", dtype_name(t.dtype()));
}

// Index normalized into [0, n); a dnnf::Error names the node otherwise.
int64_t checked_index(int64_t i, int64_t n, const Node& node) {
  int64_t k = i < 0 ? i + n : i;
  check(k >= 0 && k < n, node.label(), ": index ", i, " out of range for an axis of size ", n);
  return k;
}

int64_t prod(const Shape& s, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end && i < s.size(); ++i) p *= s[i];
  return p;
}

// ---- Gather ----------------------------------------------------------------------------------

OpInfo gather_row() {
  OpInfo r = make_row("Gather", 1, MappingType::OneToMany,
                      "Take slices along an axis at the given (possibly negative) indices");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 2);
    const TensorType& data = ctx.in(0);
    const TensorType& idx = ctx.in(1);
    if (!data.has_shape || !idx.has_shape) return {TensorType::unknown_shape(data.dtype)};
    int64_t axis = normalize_axis(ctx.node.attr_int("axis", 0), data.rank(), ctx.node);
    const Dim& n = data.dims[size_t(axis)];
    if (const Tensor* v = ctx.value(1); v && n.known()) {
      for (int64_t i = 0; i < v->numel(); ++i) checked_index(v->get_i64(i), n.value, ctx.node);
    }
    std::vector<Dim> out(data.dims.begin(), data.dims.begin() + axis);
    out.insert(out.end(), idx.dims.begin(), idx.dims.end());
    out.insert(out.end(), data.dims.begin() + axis + 1, data.dims.end());
    return {TensorType(data.dtype, out)};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& data = ctx.in(0);
    const Tensor& idx = ctx.in(1);
    check_index_type(idx, ctx.node);
    check(data.rank() >= 1, ctx.node.label(), ": data must have rank >= 1");
    const int64_t axis = normalize_axis(ctx.node.attr_int("axis", 0), data.rank(), ctx.node);
    const Shape& ds = data.shape();
    Shape out_shape(ds.begin(), ds.begin() + axis);
    out_shape.insert(out_shape.end(), idx.shape().begin(), idx.shape().end());
    out_shape.insert(out_shape.end(), ds.begin() + axis + 1, ds.end());
    const int64_t outer = prod(ds, 0, size_t(axis)), n = ds[size_t(axis)];
    const int64_t inner = prod(ds, size_t(axis) + 1, ds.size()), m = idx.numel();
    std::vector<int64_t> k(static_cast<size_t>(m));
    for (int64_t j = 0; j < m; ++j) k[size_t(j)] = checked_index(idx.get_i64(j), n, ctx.node);
    Tensor out(data.dtype(), out_shape);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < m; ++j) copy_block(data, (o * n + k[size_t(j)]) * inner, out, (o * m + j) * inner, inner);
    return {out};
  };
  return r;
}

// ---- GatherElements ---------------------------------------------------------------------

OpInfo gather_elements_row() {
  OpInfo r = make_row("GatherElements", 11, MappingType::OneToMany,
                      "out[i..] = data[i.. with index[i..] at axis] (indices shaped like the output)");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 2);
    const TensorType& data = ctx.in(0);
    const TensorType& idx = ctx.in(1);
    if (data.has_shape && idx.has_shape)
      check(data.rank() == idx.rank(), ctx.node.label(), ": data ", data.str(), " and indices ", idx.str(),
            " differ in rank");
    TensorType t = idx;
    t.dtype = data.dtype;
    return {t};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& data = ctx.in(0);
    const Tensor& idx = ctx.in(1);
    check_index_type(idx, ctx.node);
    const int64_t r = data.rank();
    check(idx.rank() == r && r >= 1, ctx.node.label(), ": data ", shape_str(data.shape()), " and indices ",
          shape_str(idx.shape()), " differ in rank");
    const int64_t axis = normalize_axis(ctx.node.attr_int("axis", 0), r, ctx.node);
    for (int64_t d = 0; d < r; ++d)
      check(d == axis || idx.shape()[size_t(d)] <= data.shape()[size_t(d)], ctx.node.label(), ": indices ",
            shape_str(idx.shape()), " exceed data ", shape_str(data.shape()), " in dim ", d);
    const auto ds = strides_of(data.shape());
    const int64_t n = data.shape()[size_t(axis)];
    std::vector<int64_t> flat(static_cast<size_t>(idx.numel()));
    std::vector<int64_t> c(static_cast<size_t>(r), 0);
    for (int64_t i = 0; i < idx.numel(); ++i) {
      int64_t off = 0;
      for (int64_t d = 0; d < r; ++d)
        off += (d == axis ? checked_index(idx.get_i64(i), n, ctx.node) : c[size_t(d)]) * ds[size_t(d)];
      flat[size_t(i)] = off;
      for (int64_t d = r - 1; d >= 0; --d) {
        if (++c[size_t(d)] < idx.shape()[size_t(d)]) break;
        c[size_t(d)] = 0;
      }
    }
    return {gather_flat(data, idx.shape(), flat)};
  };
  return r;
}

// ---- GatherND ---------------------------------------------------------------------------------

OpInfo gather_nd_row() {
  OpInfo r = make_row("GatherND", 11, MappingType::OneToMany,
                      "Gather slices of data addressed by the last axis of indices (batch_dims leading "
                      "dims shared)");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 2);
    const TensorType& data = ctx.in(0);
    const TensorType& idx = ctx.in(1);
    const int64_t b = ctx.node.attr_int("batch_dims", 0);
    if (!data.has_shape || !idx.has_shape) return {TensorType::unknown_shape(data.dtype)};
    check(idx.rank() >= 1 && b >= 0 && b < idx.rank() && b < data.rank(), ctx.node.label(),
          ": invalid batch_dims ", b, " for data ", data.str(), " and indices ", idx.str());
    const Dim& kd = idx.dims.back();
    if (!kd.known()) return {TensorType::unknown_shape(data.dtype)};
    const int64_t k = kd.value;
    check(k >= 1 && b + k <= data.rank(), ctx.node.label(), ": indices last dim ", k,
          " too large for data ", data.str(), " with batch_dims ", b);
    std::vector<Dim> out(idx.dims.begin(), idx.dims.end() - 1);
    out.insert(out.end(), data.dims.begin() + b + k, data.dims.end());
    return {TensorType(data.dtype, out)};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& data = ctx.in(0);
    const Tensor& idx = ctx.in(1);
    check(idx.dtype() == DType::I64, ctx.node.label(), ": indices must be int64");
    const int64_t b = ctx.node.attr_int("batch_dims", 0);
    const int64_t q = idx.rank(), r = data.rank();
    check(q >= 1 && b >= 0 && b < q && b < r, ctx.node.label(), ": invalid batch_dims ", b, " for data ",
          shape_str(data.shape()), " and indices ", shape_str(idx.shape()));
    const int64_t k = idx.shape().back();
    check(k >= 1 && b + k <= r, ctx.node.label(), ": indices last dim ", k, " too large for data ",
          shape_str(data.shape()), " with batch_dims ", b);
    for (int64_t d = 0; d < b; ++d)
      check(idx.shape()[size_t(d)] == data.shape()[size_t(d)], ctx.node.label(), ": batch dim ", d,
            " differs between data and indices");
    const Shape& ds = data.shape();
    Shape out_shape(idx.shape().begin(), idx.shape().end() - 1);
    out_shape.insert(out_shape.end(), ds.begin() + b + k, ds.end());
    const int64_t nbatch = prod(ds, 0, size_t(b));
    const int64_t batch_block = prod(ds, size_t(b), ds.size());
    const int64_t inner = prod(ds, size_t(b + k), ds.size());
    const int64_t per_batch = prod(idx.shape(), size_t(b), size_t(q - 1));
    // Element strides of the indexed dims within one batch block.
    std::vector<int64_t> st(static_cast<size_t>(k));
    for (int64_t t = 0; t < k; ++t) st[size_t(t)] = prod(ds, size_t(b + t + 1), ds.size());
    Tensor out(data.dtype(), out_shape);
    const int64_t* ip = idx.data<int64_t>();
    for (int64_t bi = 0; bi < nbatch; ++bi)
      for (int64_t j = 0; j < per_batch; ++j) {
        const int64_t* tup = ip + (bi * per_batch + j) * k;
        int64_t off = bi * batch_block;
        for (int64_t t = 0; t < k; ++t) off += checked_index(tup[t], ds[size_t(b + t)], ctx.node) * st[size_t(t)];
        copy_block(data, off, out, (bi * per_batch + j) * inner, inner);
      }
    return {out};
  };
  return r;
}

// ---- scatter reductions ----------------------------------------------------------------------

enum class Reduction { None, Add, Mul, Max, Min };

Reduction reduction_of(const Node& node, int64_t opset) {
  std::string s = opset >= 16 ? node.attr_string("reduction", "none") : "none";
  if (s == "none") return Reduction::None;
  if (s == "add") return Reduction::Add;
  if (s == "mul") return Reduction::Mul;
  if (opset >= 18 && s == "max") return Reduction::Max;
  if (opset >= 18 && s == "min") return Reduction::Min;
  fail(node.label(), ": unsupported reduction '", s, "'");
}

// out[dst[i]] (op)= upd[i] for every update element i, in order.
Tensor apply_scatter(const Tensor& data, const Tensor& updates, const std::vector<int64_t>& dst,
                     Reduction red, const Node& node) {
  check(updates.dtype() == data.dtype(), node.label(), ": updates type ", dtype_name(updates.dtype()),
        " differs from data type ", dtype_name(data.dtype()));
  if (red == Reduction::None) {
    Tensor out = data.clone();
    // Runs of consecutive destinations (an axis-0 scatter of whole rows, as R-CNN's RoI
    // pooler does) are copied as one block; later updates still win over earlier ones.
    for (size_t i = 0; i < dst.size();) {
      size_t j = i + 1;
      while (j < dst.size() && dst[j] == dst[j - 1] + 1) ++j;
      copy_block(updates, int64_t(i), out, dst[i], int64_t(j - i));
      i = j;
    }
    return out;
  }
  check(data.dtype() != DType::String, node.label(), ": reductions need a numeric type");
  if (data.dtype() == DType::F16 || data.dtype() == DType::BF16) {
    Tensor r = apply_scatter(data.cast(DType::F32), updates.cast(DType::F32), dst, red, node);
    return r.cast(data.dtype());
  }
  Tensor out = data.clone();
  dispatch_numeric(data.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* o = out.data<T>();
    const T* u = updates.data<T>();
    for (size_t i = 0; i < dst.size(); ++i) {
      T& a = o[dst[i]];
      const T b = u[i];
      switch (red) {
        case Reduction::Add: a = T(a + b); break;
        case Reduction::Mul: a = T(a * b); break;
        case Reduction::Max: a = std::max(a, b); break;
        case Reduction::Min: a = std::min(a, b); break;
        case Reduction::None: break;
      }
    }
  });
  return out;
}

// ---- Scatter / ScatterElements --------------------------------------------------------------

std::vector<TensorType> scatter_shape(const InferContext& ctx) {
  require_inputs(ctx, 3);
  const TensorType& data = ctx.in(0);
  const TensorType& idx = ctx.in(1);
  const TensorType& upd = ctx.in(2);
  if (idx.has_shape && upd.has_shape) {
    check(idx.rank() == upd.rank(), ctx.node.label(), ": indices ", idx.str(), " and updates ", upd.str(),
          " differ in rank");
    for (size_t d = 0; d < idx.dims.size(); ++d)
      check(!idx.dims[d].known() || !upd.dims[d].known() || idx.dims[d].value == upd.dims[d].value,
            ctx.node.label(), ": indices ", idx.str(), " and updates ", upd.str(), " differ in shape");
  }
  if (data.has_shape && idx.has_shape)
    check(data.rank() == idx.rank(), ctx.node.label(), ": data ", data.str(), " and indices ", idx.str(),
          " differ in rank");
  return {data};
}

// Calls f(i, offset) for every update i (row-major) with its destination offset in data,
// computed on the fly: R-CNN's RoI pooler scatters 12.5 M elements four times per image,
// and a vector of their offsets (plus the indices widened to int64) cost 200 MB of
// allocation and copies per scatter.
template <class F>
void visit_destinations(const Tensor& idx, const Shape& data_shape, int64_t axis, const Node& node, F&& f) {
  const int64_t r = idx.rank();
  const auto ds = strides_of(data_shape);
  const int64_t n = data_shape[size_t(axis)];
  const int64_t last = idx.shape().back(), rows = last > 0 ? idx.numel() / last : 0;
  const int64_t* i64 = idx.dtype() == DType::I64 ? idx.data<int64_t>() : nullptr;
  const int32_t* i32 = idx.dtype() == DType::I32 ? idx.data<int32_t>() : nullptr;
  std::vector<int64_t> c(size_t(r), 0);  // the update's coordinates, but for the last
  for (int64_t row = 0, i = 0; row < rows; ++row) {
    int64_t base = 0;
    for (int64_t d = 0; d + 1 < r; ++d)
      if (d != axis) base += c[size_t(d)] * ds[size_t(d)];
    const int64_t step = axis == r - 1 ? 0 : ds[size_t(r - 1)];
    for (int64_t j = 0; j < last; ++j, ++i) {
      const int64_t raw = i64 ? i64[i] : i32[i];
      const int64_t k = raw < 0 ? raw + n : raw;
      if (k < 0 || k >= n) checked_index(raw, n, node);  // throws, naming the node
      f(i, base + k * ds[size_t(axis)] + j * step);
    }
    for (int64_t d = r - 2; d >= 0; --d) {
      if (++c[size_t(d)] < idx.shape()[size_t(d)]) break;
      c[size_t(d)] = 0;
    }
  }
}

Tensor scatter_elements(KernelContext& ctx, Reduction red) {
  const Tensor& data = ctx.in(0);
  const Tensor& idx = ctx.in(1);
  const Tensor& upd = ctx.in(2);
  check_index_type(idx, ctx.node);
  const int64_t r = data.rank();
  check(r >= 1 && idx.rank() == r && upd.shape() == idx.shape(), ctx.node.label(), ": data ",
        shape_str(data.shape()), ", indices ", shape_str(idx.shape()), " and updates ", shape_str(upd.shape()),
        " do not match");
  const int64_t axis = normalize_axis(ctx.node.attr_int("axis", 0), r, ctx.node);
  for (int64_t d = 0; d < r; ++d)
    check(d == axis || idx.shape()[size_t(d)] <= data.shape()[size_t(d)], ctx.node.label(), ": indices ",
          shape_str(idx.shape()), " exceed data ", shape_str(data.shape()), " in dim ", d);
  if (red != Reduction::None) {
    std::vector<int64_t> dst(static_cast<size_t>(idx.numel()));
    visit_destinations(idx, data.shape(), axis, ctx.node, [&](int64_t i, int64_t off) { dst[size_t(i)] = off; });
    return apply_scatter(data, upd, dst, red, ctx.node);
  }
  check(upd.dtype() == data.dtype(), ctx.node.label(), ": updates type ", dtype_name(upd.dtype()),
        " differs from data type ", dtype_name(data.dtype()));
  Tensor out = data.clone();
  // Runs of consecutive destinations from consecutive updates (whole rows of an axis-0
  // scatter) are copied as one block; later updates still win over earlier ones.
  int64_t from = 0, to = 0, len = 0;
  visit_destinations(idx, data.shape(), axis, ctx.node, [&](int64_t i, int64_t off) {
    if (len > 0 && i == from + len && off == to + len) {
      ++len;
      return;
    }
    if (len > 0) copy_block(upd, from, out, to, len);
    from = i;
    to = off;
    len = 1;
  });
  if (len > 0) copy_block(upd, from, out, to, len);
  return out;
}

OpInfo scatter_row() {
  OpInfo r = make_row("Scatter", 9, MappingType::ManyToMany,
                      "Deprecated ScatterElements without reduction: write updates at index positions "
                      "along an axis; Many-to-Many");
  r.shape = scatter_shape;
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> { return {scatter_elements(ctx, Reduction::None)}; };
  return r;
}

OpInfo scatter_elements_row() {
  OpInfo r = make_row("ScatterElements", 11, MappingType::ManyToMany,
                      "Write (or add/mul/max/min-reduce) updates at index positions along an axis; "
                      "Many-to-Many");
  r.shape = scatter_shape;
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    return {scatter_elements(ctx, reduction_of(ctx.node, ctx.opset))};
  };
  return r;
}

// ---- ScatterND -----------------------------------------------------------------------------

OpInfo scatter_nd_row() {
  OpInfo r = make_row("ScatterND", 11, MappingType::ManyToMany,
                      "Write (or reduce) update slices at index tuples from the last axis of indices; "
                      "Many-to-Many");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 3);
    const TensorType& data = ctx.in(0);
    const TensorType& idx = ctx.in(1);
    if (data.has_shape && idx.has_shape && !idx.dims.empty() && idx.dims.back().known())
      check(idx.dims.back().value <= data.rank(), ctx.node.label(), ": indices last dim ",
            idx.dims.back().value, " exceeds data rank ", data.rank());
    return {data};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& data = ctx.in(0);
    const Tensor& idx = ctx.in(1);
    const Tensor& upd = ctx.in(2);
    check(idx.dtype() == DType::I64, ctx.node.label(), ": indices must be int64");
    const Reduction red = reduction_of(ctx.node, ctx.opset);
    check(idx.rank() >= 1, ctx.node.label(), ": indices must have rank >= 1");
    const int64_t k = idx.shape().back(), r = data.rank();
    check(k >= 1 && k <= r, ctx.node.label(), ": indices last dim ", k, " invalid for data rank ", r);
    const Shape& ds = data.shape();
    Shape want(idx.shape().begin(), idx.shape().end() - 1);
    want.insert(want.end(), ds.begin() + k, ds.end());
    check(upd.shape() == want, ctx.node.label(), ": updates shape ", shape_str(upd.shape()), " should be ",
          shape_str(want));
    const int64_t inner = prod(ds, size_t(k), ds.size());
    const int64_t m = idx.numel() / k;
    std::vector<int64_t> st(static_cast<size_t>(k));
    for (int64_t t = 0; t < k; ++t) st[size_t(t)] = prod(ds, size_t(t + 1), ds.size());
    std::vector<int64_t> dst(static_cast<size_t>(m * inner));
    const int64_t* ip = idx.data<int64_t>();
    for (int64_t j = 0; j < m; ++j) {
      int64_t off = 0;
      for (int64_t t = 0; t < k; ++t) off += checked_index(ip[j * k + t], ds[size_t(t)], ctx.node) * st[size_t(t)];
      for (int64_t i = 0; i < inner; ++i) dst[size_t(j * inner + i)] = off + i;
    }
    return {apply_scatter(data, upd, dst, red, ctx.node)};
  };
  return r;
}

}  // namespace

void register_gather_scatter_ops(OpRegistry& r) {
  r.add(gather_row());
  r.add(gather_elements_row());
  r.add(gather_nd_row());
  r.add(scatter_row());
  r.add(scatter_elements_row());
  r.add(scatter_nd_row());
}

}  // namespace dnnf::ops
