// Operator rows of the pool family (see op_families.h): AveragePool, MaxPool, LpPool,
// their Global* forms, and MaxUnpool. Window geometry is shared with Conv
// (conv_geometry.h); every spatial rank 1-3 runs through one 3-D padded loop.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "core/ops/conv_geometry.h"
#include "core/ops/op_families.h"
#include "core/ops/op_util.h"

namespace dnnf::ops {

namespace {

using convgeo::Geom3;
using convgeo::Window;

struct PoolSetup {
  int64_t planes = 0;  // N * C
  Window win;
  Shape in_sp, out_sp, out_shape;
  Geom3 geom;
};

void check_pool_rank(const Node& node, int64_t rank) {
  check(rank >= 3, node.label(), ": input must have rank >= 3 (N, C, spatial...), got rank ", rank);
  check(rank <= 5, node.label(), ": ", rank - 2, " spatial dims are not supported (at most 3)");
}

bool ceil_mode_of(const Node& node) {
  const int64_t c = node.attr_int("ceil_mode", 0);
  check(c == 0 || c == 1, node.label(), ": ceil_mode must be 0 or 1");
  return c == 1;
}

PoolSetup setup_pool(const Node& node, const Shape& x) {
  check_pool_rank(node, int64_t(x.size()));
  const int64_t nsp = int64_t(x.size()) - 2;
  PoolSetup ps;
  ps.planes = x[0] * x[1];
  ps.win = convgeo::read_window(node, nsp, convgeo::kernel_shape_attr(node, nsp));
  ps.in_sp.assign(x.begin() + 2, x.end());
  ps.out_sp = convgeo::resolve_all(node, ps.win, ps.in_sp, ceil_mode_of(node));
  ps.out_shape = {x[0], x[1]};
  ps.out_shape.insert(ps.out_shape.end(), ps.out_sp.begin(), ps.out_sp.end());
  ps.geom = convgeo::make_geom3(node, ps.win, ps.in_sp, ps.out_sp);
  return ps;
}

// Per dim and output position: the valid kernel taps [lo, hi) inside the input, and
// the number of taps inside the padded input (for count_include_pad).
struct TapTables {
  std::vector<int64_t> lo[3], hi[3], padded[3];
};

TapTables make_tables(const Geom3& g) {
  TapTables t;
  for (int j = 0; j < 3; ++j) {
    const int64_t n = g.out[j];
    t.lo[j].resize(size_t(n));
    t.hi[j].resize(size_t(n));
    t.padded[j].resize(size_t(n));
    for (int64_t o = 0; o < n; ++o) {
      const int64_t start = o * g.s[j] - g.pb[j];
      const int64_t a = std::max<int64_t>(0, convgeo::ceil_div(-start, g.d[j]));
      const int64_t b = std::min<int64_t>(g.k[j], convgeo::floor_div(g.in[j] - 1 - start, g.d[j]) + 1);
      const int64_t p = std::min<int64_t>(g.k[j],
                                          convgeo::floor_div(g.in[j] + g.pe[j] - 1 - start, g.d[j]) + 1);
      t.lo[j][size_t(o)] = a;
      t.hi[j][size_t(o)] = std::max(a, b);
      t.padded[j][size_t(o)] = std::max<int64_t>(0, p);
    }
  }
  return t;
}

// Visits every output position: begin(), step(value, spatial_index) per valid tap,
// end(out_flat, plane, valid_taps, padded_taps). spatial_index is row-major within
// the plane, or column-major when col_major is set (MaxPool storage_order=1).
template <class T, class Begin, class Step, class End>
void pool_loop(const T* x, int64_t planes, const Geom3& g, bool col_major, Begin&& begin,
               Step&& step, End&& end) {
  const TapTables t = make_tables(g);
  const int64_t in_sz = g.in_size();
  int64_t out_flat = 0;
  for (int64_t p = 0; p < planes; ++p) {
    const T* xp = x + p * in_sz;
    for (int64_t od = 0; od < g.out[0]; ++od) {
      const int64_t d0 = od * g.s[0] - g.pb[0];
      const int64_t alo = t.lo[0][size_t(od)], ahi = t.hi[0][size_t(od)];
      for (int64_t oh = 0; oh < g.out[1]; ++oh) {
        const int64_t h0 = oh * g.s[1] - g.pb[1];
        const int64_t blo = t.lo[1][size_t(oh)], bhi = t.hi[1][size_t(oh)];
        for (int64_t ow = 0; ow < g.out[2]; ++ow, ++out_flat) {
          const int64_t w0 = ow * g.s[2] - g.pb[2];
          const int64_t clo = t.lo[2][size_t(ow)], chi = t.hi[2][size_t(ow)];
          begin();
          for (int64_t a = alo; a < ahi; ++a) {
            const int64_t id = d0 + a * g.d[0];
            for (int64_t b = blo; b < bhi; ++b) {
              const int64_t ih = h0 + b * g.d[1];
              const T* row = xp + (id * g.in[1] + ih) * g.in[2];
              for (int64_t c = clo; c < chi; ++c) {
                const int64_t iw = w0 + c * g.d[2];
                const int64_t sp = col_major ? (iw * g.in[1] + ih) * g.in[0] + id
                                             : (id * g.in[1] + ih) * g.in[2] + iw;
                step(row[iw], sp);
              }
            }
          }
          const int64_t valid = (ahi - alo) * (bhi - blo) * (chi - clo);
          const int64_t padded = t.padded[0][size_t(od)] * t.padded[1][size_t(oh)] *
                                 t.padded[2][size_t(ow)];
          end(out_flat, p, valid, padded);
        }
      }
    }
  }
}

std::vector<TensorType> pool_shape(const InferContext& ctx, bool with_indices) {
  require_inputs(ctx, 1);
  const Node& node = ctx.node;
  const TensorType& X = ctx.in(0);
  std::vector<TensorType> out;
  if (!X.has_shape) {
    out.push_back(TensorType::unknown_shape(X.dtype));
  } else {
    check_pool_rank(node, X.rank());
    const int64_t nsp = X.rank() - 2;
    Window win = convgeo::read_window(node, nsp, convgeo::kernel_shape_attr(node, nsp));
    std::vector<Dim> dims = {X.dims[0], X.dims[1]};
    std::vector<Dim> sp = convgeo::output_dims(node, win, std::vector<Dim>(X.dims.begin() + 2, X.dims.end()),
                                               ceil_mode_of(node));
    dims.insert(dims.end(), sp.begin(), sp.end());
    out.push_back(TensorType(X.dtype, dims));
  }
  if (with_indices && ctx.num_outputs() > 1) {
    TensorType idx = out[0];
    idx.dtype = DType::I64;
    out.push_back(idx);
  }
  while (out.size() < ctx.num_outputs()) out.push_back(out[0]);
  return out;
}

OpCost pool_cost(const Node& node, const std::vector<TensorType>& in,
                 const std::vector<TensorType>& out) {
  OpCost c;
  c.bytes = convgeo::static_bytes(in) + convgeo::static_bytes(out);
  if (out.empty()) return c;
  const int64_t yn = convgeo::static_numel(out[0]);
  if (yn < 0) return c;
  double k = 1;
  for (int64_t v : node.attr_ints("kernel_shape")) k *= double(v);
  c.flops = double(yn) * k;
  return c;
}

OpCost global_pool_cost(const Node&, const std::vector<TensorType>& in,
                        const std::vector<TensorType>& out) {
  OpCost c;
  c.bytes = convgeo::static_bytes(in) + convgeo::static_bytes(out);
  if (!in.empty()) c.flops = std::max<double>(0, double(convgeo::static_numel(in[0])));
  return c;
}

// ---- AveragePool / LpPool -------------------------------------------------------------

double lp_p_attr(const Node& node) {
  const Attribute* a = node.attr("p");
  double p = 2;
  if (a) p = a->kind == Attribute::Kind::Float ? double(a->f) : double(a->i);
  check(p > 0, node.label(), ": p must be positive, got ", p);
  return p;
}

std::vector<Tensor> average_pool_kernel(KernelContext& ctx) {
  require_inputs(ctx, 1);
  const Node& node = ctx.node;
  const Tensor& X = ctx.in(0);
  convgeo::require_float(node, X, "input X");
  const PoolSetup ps = setup_pool(node, X.shape());
  const bool include_pad = node.attr_int("count_include_pad", 0) != 0;
  const DType cd = convgeo::compute_dtype(X.dtype());
  Tensor x = convgeo::to_compute(X, cd);
  Tensor y(cd, ps.out_shape);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    T* yp = y.data<T>();
    double sum = 0;
    pool_loop<T>(
        x.data<T>(), ps.planes, ps.geom, false, [&] { sum = 0; },
        [&](T v, int64_t) { sum += double(v); },
        [&](int64_t o, int64_t, int64_t valid, int64_t padded) {
          const int64_t n = include_pad ? padded : valid;
          yp[o] = n > 0 ? T(sum / double(n)) : T(0);
        });
  };
  if (cd == DType::F64) run(double{});
  else run(float{});
  return {convgeo::from_compute(y, X.dtype())};
}

std::vector<Tensor> lp_pool_kernel(KernelContext& ctx) {
  require_inputs(ctx, 1);
  const Node& node = ctx.node;
  const Tensor& X = ctx.in(0);
  convgeo::require_float(node, X, "input X");
  const PoolSetup ps = setup_pool(node, X.shape());
  const double p = lp_p_attr(node);
  const DType cd = convgeo::compute_dtype(X.dtype());
  Tensor x = convgeo::to_compute(X, cd);
  Tensor y(cd, ps.out_shape);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    T* yp = y.data<T>();
    double sum = 0;
    pool_loop<T>(
        x.data<T>(), ps.planes, ps.geom, false, [&] { sum = 0; },
        [&](T v, int64_t) { sum += std::pow(std::fabs(double(v)), p); },
        [&](int64_t o, int64_t, int64_t, int64_t) { yp[o] = T(std::pow(sum, 1.0 / p)); });
  };
  if (cd == DType::F64) run(double{});
  else run(float{});
  return {convgeo::from_compute(y, X.dtype())};
}

// ---- MaxPool ------------------------------------------------------------------------------

std::vector<Tensor> max_pool_kernel(KernelContext& ctx) {
  require_inputs(ctx, 1);
  const Node& node = ctx.node;
  const Tensor& X = ctx.in(0);
  check(X.dtype() != DType::Bool && X.dtype() != DType::String, node.label(),
        ": MaxPool does not support element type ", dtype_name(X.dtype()));
  const PoolSetup ps = setup_pool(node, X.shape());
  const int64_t order = node.attr_int("storage_order", 0);
  check(order == 0 || order == 1, node.label(), ": storage_order must be 0 or 1");
  const bool want_indices = ctx.num_outputs() > 1 && !node.outputs[1].empty();
  const bool half = X.dtype() == DType::F16 || X.dtype() == DType::BF16;
  Tensor x = half ? X.cast(DType::F32) : X;
  Tensor y(x.dtype(), ps.out_shape);
  Tensor indices(DType::I64, want_indices ? ps.out_shape : Shape{0});
  int64_t* ip = want_indices ? indices.data<int64_t>() : nullptr;
  const int64_t in_sz = ps.geom.in_size();
  dispatch_numeric(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) {
      fail(node.label(), ": MaxPool does not support bool");
    } else {
      T* yp = y.data<T>();
      T best{};
      int64_t best_idx = 0;
      bool any = false;
      pool_loop<T>(
          x.data<T>(), ps.planes, ps.geom, order == 1,
          [&] {
            any = false;
            best = std::numeric_limits<T>::lowest();
            best_idx = 0;
          },
          [&](T v, int64_t sp) {
            if (!any || v > best) {
              best = v;
              best_idx = sp;
              any = true;
            }
          },
          [&](int64_t o, int64_t plane, int64_t, int64_t) {
            yp[o] = best;
            if (ip) ip[o] = plane * in_sz + best_idx;
          });
    }
  });
  std::vector<Tensor> out = {half ? y.cast(X.dtype()) : y};
  if (ctx.num_outputs() > 1) out.push_back(indices);
  return out;
}

// ---- Global pools ---------------------------------------------------------------------------

enum class GlobalKind { Avg, Max, Lp };

std::vector<TensorType> global_pool_shape(const InferContext& ctx) {
  require_inputs(ctx, 1);
  const TensorType& X = ctx.in(0);
  if (!X.has_shape) return {TensorType::unknown_shape(X.dtype)};
  check(X.rank() >= 3, ctx.node.label(), ": input must have rank >= 3 (N, C, spatial...), got rank ",
        X.rank());
  std::vector<Dim> dims = {X.dims[0], X.dims[1]};
  dims.resize(size_t(X.rank()), Dim(1));
  return {TensorType(X.dtype, dims)};
}

std::vector<Tensor> global_pool_kernel(KernelContext& ctx, GlobalKind kind) {
  require_inputs(ctx, 1);
  const Node& node = ctx.node;
  const Tensor& X = ctx.in(0);
  convgeo::require_float(node, X, "input X");
  check(X.rank() >= 3, node.label(), ": input must have rank >= 3 (N, C, spatial...), got rank ",
        X.rank());
  const double p = kind == GlobalKind::Lp ? lp_p_attr(node) : 2.0;
  Shape out_shape = {X.dim(0), X.dim(1)};
  out_shape.resize(size_t(X.rank()), 1);
  const int64_t planes = X.dim(0) * X.dim(1);
  const int64_t sp = planes > 0 ? X.numel() / planes : 0;
  const DType cd = convgeo::compute_dtype(X.dtype());
  Tensor x = convgeo::to_compute(X, cd);
  Tensor y(cd, out_shape);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    for (int64_t i = 0; i < planes; ++i) {
      const T* v = xp + i * sp;
      if (kind == GlobalKind::Max) {
        T best = sp > 0 ? v[0] : T(0);
        for (int64_t j = 1; j < sp; ++j) best = v[j] > best ? v[j] : best;
        yp[i] = best;
      } else if (kind == GlobalKind::Avg) {
        double s = 0;
        for (int64_t j = 0; j < sp; ++j) s += double(v[j]);
        yp[i] = sp > 0 ? T(s / double(sp)) : T(0);
      } else {
        double s = 0;
        for (int64_t j = 0; j < sp; ++j) s += std::pow(std::fabs(double(v[j])), p);
        yp[i] = T(std::pow(s, 1.0 / p));
      }
    }
  };
  if (cd == DType::F64) run(double{});
  else run(float{});
  return {convgeo::from_compute(y, X.dtype())};
}

// ---- MaxUnpool -------------------------------------------------------------------------------

Shape unpool_default_shape(const Node& node, const Shape& x) {
  check_pool_rank(node, int64_t(x.size()));
  const int64_t nsp = int64_t(x.size()) - 2;
  Window w = convgeo::read_window(node, nsp, convgeo::kernel_shape_attr(node, nsp), false);
  Shape out = {x[0], x[1]};
  for (int64_t i = 0; i < nsp; ++i) {
    const int64_t v = (x[size_t(2 + i)] - 1) * w.strides[size_t(i)] + w.kernel[size_t(i)] -
                      w.pad_begin(i) - w.pad_end(i);
    check(v >= 1, node.label(), ": output spatial dim ", i, " would have size ", v);
    out.push_back(v);
  }
  return out;
}

std::vector<TensorType> max_unpool_shape(const InferContext& ctx) {
  require_inputs(ctx, 2);
  const Node& node = ctx.node;
  const TensorType& X = ctx.in(0);
  if (ctx.has_input(2)) {
    if (auto v = const_ints(ctx, 2)) {
      for (int64_t d : *v) check(d >= 0, node.label(), ": output_shape values must be >= 0");
      if (X.has_shape)
        check(int64_t(v->size()) == X.rank(), node.label(), ": output_shape has ", v->size(),
              " values for an input of rank ", X.rank());
      return {TensorType(X.dtype, Shape(*v))};
    }
    if (!X.has_shape) return {TensorType::unknown_shape(X.dtype)};
    std::vector<Dim> dims(size_t(X.rank()));
    return {TensorType(X.dtype, dims)};
  }
  if (!X.has_shape) return {TensorType::unknown_shape(X.dtype)};
  check_pool_rank(node, X.rank());
  const int64_t nsp = X.rank() - 2;
  Window w = convgeo::read_window(node, nsp, convgeo::kernel_shape_attr(node, nsp), false);
  std::vector<Dim> dims = {X.dims[0], X.dims[1]};
  for (int64_t i = 0; i < nsp; ++i) {
    const Dim& d = X.dims[size_t(2 + i)];
    if (!d.known()) {
      dims.push_back(Dim());
      continue;
    }
    const int64_t v = (d.value - 1) * w.strides[size_t(i)] + w.kernel[size_t(i)] - w.pad_begin(i) -
                      w.pad_end(i);
    check(v >= 1, node.label(), ": output spatial dim ", i, " would have size ", v);
    dims.push_back(Dim(v));
  }
  return {TensorType(X.dtype, dims)};
}

std::vector<Tensor> max_unpool_kernel(KernelContext& ctx) {
  require_inputs(ctx, 2);
  const Node& node = ctx.node;
  const Tensor& X = ctx.in(0);
  const Tensor& I = ctx.in(1);
  check(dtype_is_integer(I.dtype()), node.label(), ": indices must be an integer tensor");
  check(I.shape() == X.shape(), node.label(), ": indices shape ", shape_str(I.shape()),
        " differs from input shape ", shape_str(X.shape()));
  // Values scatter into the inferred unpooled shape (the indices refer to it); an
  // explicit output_shape then zero-pads each dim at its end (ONNX reference semantics).
  const Shape inferred = unpool_default_shape(node, X.shape());
  Shape out_shape = inferred;
  if (ctx.has_input(2)) {
    out_shape = ctx.in(2).to_i64_vector();
    check(int64_t(out_shape.size()) == X.rank(), node.label(), ": output_shape has ",
          out_shape.size(), " values for an input of rank ", X.rank());
    for (size_t i = 0; i < out_shape.size(); ++i)
      check(out_shape[i] >= inferred[i] && (i >= 2 || out_shape[i] == inferred[i]), node.label(),
            ": output_shape ", shape_str(out_shape), " is smaller than the unpooled shape ",
            shape_str(inferred), " (not supported)");
  }
  const size_t es = dtype_size(X.dtype());
  check(es > 0, node.label(), ": unsupported element type ", dtype_name(X.dtype()));
  Tensor y(X.dtype(), out_shape);
  const auto* src = static_cast<const unsigned char*>(X.raw());
  auto* dst = static_cast<unsigned char*>(y.raw());
  const int64_t total = shape_numel(inferred);
  const std::vector<int64_t> in_strides = strides_of(inferred);
  const std::vector<int64_t> out_strides = strides_of(out_shape);
  for (int64_t i = 0; i < X.numel(); ++i) {
    const int64_t idx = I.get_i64(i);
    check(idx >= 0 && idx < total, node.label(), ": index ", idx, " is outside the unpooled ",
          "output of ", total, " elements");
    int64_t rem = idx, o = 0;
    for (size_t d = 0; d < inferred.size(); ++d) {
      o += (rem / in_strides[d]) * out_strides[d];
      rem %= in_strides[d];
    }
    std::memcpy(dst + size_t(o) * es, src + size_t(i) * es, es);
  }
  return {y};
}

OpInfo pool_row(const char* name, int since, MappingType m, const char* summary) {
  OpInfo op;
  op.name = name;
  op.since = since;
  op.family = "pool";
  op.mapping = m;
  op.summary = summary;
  return op;
}

}  // namespace

void register_pool_ops(OpRegistry& r) {
  {
    OpInfo op = pool_row("AveragePool", 1, MappingType::ManyToMany,
                         "average pooling: pads, auto_pad, ceil_mode, count_include_pad, dilations");
    op.shape = [](const InferContext& ctx) { return pool_shape(ctx, false); };
    op.kernel = average_pool_kernel;
    op.cost = pool_cost;
    r.add(op);
  }
  {
    OpInfo op = pool_row("MaxPool", 1, MappingType::ManyToMany,
                         "max pooling: pads, auto_pad, ceil_mode, dilations, optional Indices output");
    op.shape = [](const InferContext& ctx) { return pool_shape(ctx, true); };
    op.kernel = max_pool_kernel;
    op.cost = pool_cost;
    r.add(op);
  }
  {
    OpInfo op = pool_row("LpPool", 1, MappingType::ManyToMany,
                         "Lp-norm pooling over sliding windows: (sum |x|^p)^(1/p)");
    op.shape = [](const InferContext& ctx) { return pool_shape(ctx, false); };
    op.kernel = lp_pool_kernel;
    op.cost = pool_cost;
    r.add(op);
  }
  {
    OpInfo op = pool_row("GlobalAveragePool", 1, MappingType::ManyToMany,
                         "mean over all spatial dims (kept as size 1)");
    op.shape = global_pool_shape;
    op.kernel = [](KernelContext& ctx) { return global_pool_kernel(ctx, GlobalKind::Avg); };
    op.cost = global_pool_cost;
    r.add(op);
  }
  {
    OpInfo op = pool_row("GlobalMaxPool", 1, MappingType::ManyToMany,
                         "max over all spatial dims (kept as size 1)");
    op.shape = global_pool_shape;
    op.kernel = [](KernelContext& ctx) { return global_pool_kernel(ctx, GlobalKind::Max); };
    op.cost = global_pool_cost;
    r.add(op);
  }
  {
    OpInfo op = pool_row("GlobalLpPool", 1, MappingType::ManyToMany,
                         "Lp norm over all spatial dims (kept as size 1)");
    op.shape = global_pool_shape;
    op.kernel = [](KernelContext& ctx) { return global_pool_kernel(ctx, GlobalKind::Lp); };
    op.cost = global_pool_cost;
    r.add(op);
  }
  {
    OpInfo op = pool_row("MaxUnpool", 9, MappingType::ManyToMany,
                         "scatters pooled values back to their MaxPool indices (zeros elsewhere)");
    op.shape = max_unpool_shape;
    op.kernel = max_unpool_kernel;
    r.add(op);
  }
}

}  // namespace dnnf::ops
