// Operator rows of the conv family (see op_families.h): Conv, ConvTranspose,
// ConvInteger, QLinearConv. Geometry lives in conv_geometry.*, the hot loops in
// conv_kernels.*.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "core/ops/conv_geometry.h"
#include "core/ops/convt_geometry.h"
#include "core/ops/conv_kernels.h"
#include "core/ops/op_families.h"
#include "core/ops/op_util.h"

namespace dnnf::ops {

namespace {

using convgeo::AutoPad;
using convgeo::Window;

// ---- shared validation ------------------------------------------------------------

// Everything a Conv-like kernel needs, from static input shapes.
struct ConvSetup {
  int64_t N = 0, C = 0, M = 0, G = 1;
  Window win;
  Shape in_sp, out_sp, out_shape;
  convgeo::Geom3 geom;
};

int64_t group_attr(const Node& node) {
  const int64_t g = node.attr_int("group", 1);
  check(g >= 1, node.label(), ": group must be >= 1, got ", g);
  return g;
}

// Checks a kernel_shape attribute against the weight's spatial dims (when known).
std::optional<std::vector<int64_t>> conv_kernel_dims(const Node& node, int64_t nsp,
                                                     const TensorType* w) {
  std::optional<std::vector<int64_t>> from_w;
  if (w && w->has_shape) {
    std::vector<int64_t> k;
    bool known = true;
    for (int64_t i = 2; i < w->rank(); ++i) {
      if (!w->dims[size_t(i)].known()) known = false;
      else k.push_back(w->dims[size_t(i)].value);
    }
    if (known) from_w = k;
  }
  if (node.has_attr("kernel_shape")) {
    std::vector<int64_t> k = node.attr_ints("kernel_shape");
    check(int64_t(k.size()) == nsp, node.label(), ": kernel_shape has ", k.size(),
          " values for ", nsp, " spatial dims");
    if (from_w)
      check(*from_w == k, node.label(), ": kernel_shape does not match the weight's spatial dims");
    return k;
  }
  return from_w;
}

void check_ranks(const Node& node, int64_t x_rank, int64_t w_rank) {
  check(x_rank >= 3, node.label(), ": input must have rank >= 3 (N, C, spatial...), got rank ",
        x_rank);
  check(w_rank == x_rank, node.label(), ": weight has rank ", w_rank, ", expected ", x_rank,
        " (same as the input)");
}

// Conv / ConvInteger / QLinearConv setup from static shapes. W: [M, C/G, k...].
ConvSetup setup_conv(const Node& node, const Shape& x, const Shape& w) {
  check_ranks(node, int64_t(x.size()), int64_t(w.size()));
  ConvSetup cs;
  cs.G = group_attr(node);
  cs.N = x[0];
  cs.C = x[1];
  cs.M = w[0];
  check(w[1] * cs.G == cs.C, node.label(), ": input has ", cs.C, " channels but weight expects ",
        w[1], " x group ", cs.G, " = ", w[1] * cs.G);
  check(cs.M % cs.G == 0, node.label(), ": ", cs.M, " output channels are not divisible by group ",
        cs.G);
  const int64_t nsp = int64_t(x.size()) - 2;
  TensorType wt(DType::F32, w);
  std::vector<int64_t> k = *conv_kernel_dims(node, nsp, &wt);
  cs.win = convgeo::read_window(node, nsp, k);
  cs.in_sp.assign(x.begin() + 2, x.end());
  cs.out_sp = convgeo::resolve_all(node, cs.win, cs.in_sp, false);
  cs.out_shape = {cs.N, cs.M};
  cs.out_shape.insert(cs.out_shape.end(), cs.out_sp.begin(), cs.out_sp.end());
  cs.geom = convgeo::make_geom3(node, cs.win, cs.in_sp, cs.out_sp);
  return cs;
}

// Conv-like shape function: x at xi, weight at wi, optional bias at bi (or npos).
std::vector<TensorType> conv_shape(const InferContext& ctx, size_t xi, size_t wi, size_t bi,
                                   DType out_dtype) {
  const Node& node = ctx.node;
  const TensorType& X = ctx.in(xi);
  const TensorType& W = ctx.in(wi);
  const int64_t G = group_attr(node);
  if (!X.has_shape) return {TensorType::unknown_shape(out_dtype)};
  check(X.rank() >= 3, node.label(), ": input must have rank >= 3 (N, C, spatial...), got rank ",
        X.rank());
  if (W.has_shape) check_ranks(node, X.rank(), W.rank());
  const int64_t nsp = X.rank() - 2;
  check(nsp <= 3, node.label(), ": ", nsp, " spatial dims are not supported (at most 3)");
  Dim M;
  if (W.has_shape) {
    M = W.dims[0];
    if (X.dims[1].known() && W.dims[1].known())
      check(W.dims[1].value * G == X.dims[1].value, node.label(), ": input has ",
            X.dims[1].value, " channels but weight expects ", W.dims[1].value, " x group ", G,
            " = ", W.dims[1].value * G);
    if (M.known())
      check(M.value % G == 0, node.label(), ": ", M.value,
            " output channels are not divisible by group ", G);
  }
  if (bi < ctx.num_inputs() && ctx.has_input(bi) && ctx.in(bi).has_shape) {
    const TensorType& B = ctx.in(bi);
    check(B.rank() == 1, node.label(), ": bias must be 1-D, got rank ", B.rank());
    if (B.dims[0].known() && M.known())
      check(B.dims[0].value == M.value, node.label(), ": bias has ", B.dims[0].value,
            " values for ", M.value, " output channels");
  }
  std::vector<Dim> dims = {X.dims[0], M};
  auto k = conv_kernel_dims(node, nsp, W.has_shape ? &W : nullptr);
  if (k) {
    Window win = convgeo::read_window(node, nsp, *k);
    std::vector<Dim> in_sp(X.dims.begin() + 2, X.dims.end());
    std::vector<Dim> sp = convgeo::output_dims(node, win, in_sp, false);
    dims.insert(dims.end(), sp.begin(), sp.end());
  } else {
    dims.resize(size_t(X.rank()));
  }
  return {TensorType(out_dtype, dims)};
}

// MACs = output elements x (C/G) x kernel volume = out numel x prod(W.dims[1:]).
OpCost conv_cost(const std::vector<TensorType>& in, const std::vector<TensorType>& out,
                 size_t wi) {
  OpCost c;
  c.bytes = convgeo::static_bytes(in) + convgeo::static_bytes(out);
  if (out.empty() || wi >= in.size()) return c;
  const int64_t yn = convgeo::static_numel(out[0]);
  const TensorType& W = in[wi];
  if (yn < 0 || !W.is_static()) return c;
  double per = 1;
  for (int64_t i = 1; i < W.rank(); ++i) per *= double(W.dims[size_t(i)].value);
  c.flops = 2.0 * double(yn) * per;
  return c;
}

// ---- Conv ---------------------------------------------------------------------------

ConvSetup setup_convt(const Node& node, const Shape& x, const Shape& w);  // below, with ConvTranspose

// Conv and ConvTranspose share everything but the geometry setup and the inner loop:
// float checks, compute-type conversion, the bias broadcast and the result cast.
std::vector<Tensor> float_conv_kernel(KernelContext& ctx, bool transpose) {
  require_inputs(ctx, 2);
  const Node& node = ctx.node;
  const Tensor& X = ctx.in(0);
  const Tensor& W = ctx.in(1);
  convgeo::require_float(node, X, "input X");
  convgeo::require_float(node, W, "weight W");
  ConvSetup cs = transpose ? setup_convt(node, X.shape(), W.shape()) : setup_conv(node, X.shape(), W.shape());
  const DType cd = convgeo::compute_dtype(X.dtype());
  Tensor x = convgeo::to_compute(X, cd);
  Tensor w = convgeo::to_compute(W, cd);
  Tensor y(cd, cs.out_shape);
  const int64_t plane = cs.geom.out_size();
  auto run = [&](auto tag) {
    using T = decltype(tag);
    T* yp = y.data<T>();
    if (ctx.has_input(2)) {
      const Tensor& B = ctx.in(2);
      convgeo::require_float(node, B, "bias B");
      check(B.numel() == cs.M, node.label(), ": bias has ", B.numel(), " values for ", cs.M,
            " output channels");
      Tensor b = convgeo::to_compute(B, cd);
      const T* bp = b.data<T>();
      for (int64_t n = 0; n < cs.N; ++n)
        for (int64_t m = 0; m < cs.M; ++m) std::fill_n(yp + (n * cs.M + m) * plane, plane, bp[m]);
    }
    if (transpose) convk::conv_transpose<T>(x.data<T>(), w.data<T>(), yp, cs.N, cs.C, cs.M, cs.G, cs.geom);
    else convk::conv_forward<T>(x.data<T>(), w.data<T>(), yp, cs.N, cs.C, cs.M, cs.G, cs.geom);
  };
  if (cd == DType::F64) run(double{});
  else run(float{});
  return {convgeo::from_compute(y, X.dtype())};
}

std::vector<Tensor> conv_kernel(KernelContext& ctx) { return float_conv_kernel(ctx, false); }

// ---- ConvTranspose ----------------------------------------------------------------------

// Per-dim output extent and pads of ConvTranspose (ONNX formulas, incl. output_shape).
struct ConvTDims {
  std::vector<int64_t> output_padding;
  std::optional<std::vector<int64_t>> output_shape;  // spatial
};

ConvTDims convt_attrs(const Node& node, int64_t nsp) {
  ConvTDims a;
  a.output_padding = node.attr_ints("output_padding", std::vector<int64_t>(size_t(nsp), 0));
  if (a.output_padding.empty()) a.output_padding.assign(size_t(nsp), 0);
  check(int64_t(a.output_padding.size()) == nsp, node.label(), ": output_padding has ",
        a.output_padding.size(), " values for ", nsp, " spatial dims");
  for (int64_t v : a.output_padding)
    check(v >= 0, node.label(), ": output_padding must be non-negative");
  if (node.has_attr("output_shape")) {
    std::vector<int64_t> os = node.attr_ints("output_shape");
    if (int64_t(os.size()) == nsp + 2) os.erase(os.begin(), os.begin() + 2);
    check(int64_t(os.size()) == nsp, node.label(), ": output_shape has ", os.size(),
          " values for ", nsp, " spatial dims");
    for (int64_t v : os) check(v > 0, node.label(), ": output_shape values must be positive");
    a.output_shape = os;
  }
  return a;
}

// Resolves output extent of dim i (and writes the pads into w) for input extent `in`.
int64_t convt_dim(const Node& node, Window& w, const ConvTDims& a, int64_t i, int64_t in) {
  const int64_t s = w.strides[size_t(i)];
  const int64_t full = s * (in - 1) + a.output_padding[size_t(i)] + w.dilated_kernel(i);
  int64_t out = 0;
  const bool explicit_shape = a.output_shape.has_value();
  if (explicit_shape || w.auto_pad == AutoPad::SameUpper || w.auto_pad == AutoPad::SameLower) {
    out = explicit_shape ? (*a.output_shape)[size_t(i)] : in * s;
    const int64_t total = full - out;
    const int64_t half = convgeo::floor_div(total, 2);
    const int64_t begin = w.auto_pad == AutoPad::SameUpper ? half : total - half;
    w.pads[size_t(i)] = begin;
    w.pads[size_t(w.nsp + i)] = total - begin;
  } else {
    if (w.auto_pad == AutoPad::Valid) {
      w.pads[size_t(i)] = 0;
      w.pads[size_t(w.nsp + i)] = 0;
    }
    out = full - w.pad_begin(i) - w.pad_end(i);
  }
  check(out >= 1, node.label(), ": output spatial dim ", i, " would have size ", out);
  return out;
}

// ConvTranspose W: [C, M/G, k...].
ConvSetup setup_convt(const Node& node, const Shape& x, const Shape& w) {
  check_ranks(node, int64_t(x.size()), int64_t(w.size()));
  ConvSetup cs;
  cs.G = group_attr(node);
  cs.N = x[0];
  cs.C = x[1];
  check(w[0] == cs.C, node.label(), ": input has ", cs.C, " channels but weight dim 0 is ", w[0]);
  check(cs.C % cs.G == 0, node.label(), ": ", cs.C, " input channels are not divisible by group ",
        cs.G);
  cs.M = w[1] * cs.G;
  const int64_t nsp = int64_t(x.size()) - 2;
  TensorType wt(DType::F32, w);
  cs.win = convgeo::read_window(node, nsp, *conv_kernel_dims(node, nsp, &wt));
  ConvTDims a = convt_attrs(node, nsp);
  cs.in_sp.assign(x.begin() + 2, x.end());
  cs.out_sp.resize(size_t(nsp));
  for (int64_t i = 0; i < nsp; ++i)
    cs.out_sp[size_t(i)] = convt_dim(node, cs.win, a, i, cs.in_sp[size_t(i)]);
  cs.out_shape = {cs.N, cs.M};
  cs.out_shape.insert(cs.out_shape.end(), cs.out_sp.begin(), cs.out_sp.end());
  cs.geom = convgeo::make_geom3(node, cs.win, cs.in_sp, cs.out_sp);
  return cs;
}

std::vector<TensorType> convt_shape(const InferContext& ctx) {
  require_inputs(ctx, 2);
  const Node& node = ctx.node;
  const TensorType& X = ctx.in(0);
  const TensorType& W = ctx.in(1);
  const int64_t G = group_attr(node);
  if (!X.has_shape) return {TensorType::unknown_shape(X.dtype)};
  check(X.rank() >= 3, node.label(), ": input must have rank >= 3 (N, C, spatial...), got rank ",
        X.rank());
  if (W.has_shape) check_ranks(node, X.rank(), W.rank());
  const int64_t nsp = X.rank() - 2;
  check(nsp <= 3, node.label(), ": ", nsp, " spatial dims are not supported (at most 3)");
  Dim M;
  if (W.has_shape) {
    if (X.dims[1].known() && W.dims[0].known())
      check(W.dims[0].value == X.dims[1].value, node.label(), ": input has ", X.dims[1].value,
            " channels but weight dim 0 is ", W.dims[0].value);
    if (X.dims[1].known())
      check(X.dims[1].value % G == 0, node.label(), ": ", X.dims[1].value,
            " input channels are not divisible by group ", G);
    if (W.dims[1].known()) M = Dim(W.dims[1].value * G);
  }
  if (ctx.has_input(2) && ctx.in(2).has_shape) {
    const TensorType& B = ctx.in(2);
    check(B.rank() == 1, node.label(), ": bias must be 1-D, got rank ", B.rank());
    if (B.dims[0].known() && M.known())
      check(B.dims[0].value == M.value, node.label(), ": bias has ", B.dims[0].value,
            " values for ", M.value, " output channels");
  }
  std::vector<Dim> dims = {X.dims[0], M};
  auto k = conv_kernel_dims(node, nsp, W.has_shape ? &W : nullptr);
  ConvTDims a = convt_attrs(node, nsp);
  if (k) {
    Window win = convgeo::read_window(node, nsp, *k);
    for (int64_t i = 0; i < nsp; ++i) {
      const Dim& d = X.dims[size_t(2 + i)];
      if (d.known()) dims.push_back(Dim(convt_dim(node, win, a, i, d.value)));
      else if (a.output_shape) dims.push_back(Dim((*a.output_shape)[size_t(i)]));
      else dims.push_back(Dim());
    }
  } else {
    dims.resize(size_t(X.rank()));
  }
  return {TensorType(X.dtype, dims)};
}

std::vector<Tensor> convt_kernel(KernelContext& ctx) { return float_conv_kernel(ctx, true); }

OpCost convt_cost(const Node&, const std::vector<TensorType>& in,
                  const std::vector<TensorType>& out) {
  OpCost c;
  c.bytes = convgeo::static_bytes(in) + convgeo::static_bytes(out);
  if (in.size() < 2) return c;
  const int64_t xn = convgeo::static_numel(in[0]);
  if (xn < 0 || !in[1].is_static()) return c;
  double per = 1;
  for (int64_t i = 1; i < in[1].rank(); ++i) per *= double(in[1].dims[size_t(i)].value);
  c.flops = 2.0 * double(xn) * per;
  return c;
}

// ---- ConvInteger / QLinearConv ------------------------------------------------------------

void require_8bit(const Node& node, const Tensor& t, const char* what) {
  check(t.dtype() == DType::U8 || t.dtype() == DType::I8, node.label(), ": ", what,
        " has element type ", dtype_name(t.dtype()), ", expected uint8 or int8");
}

// Zero point of x: a scalar (or one-element tensor).
int32_t scalar_zero_point(const Node& node, const Tensor* zp, const char* what) {
  if (!zp) return 0;
  check(zp->numel() == 1, node.label(), ": ", what, " must be a scalar, got ",
        shape_str(zp->shape()));
  return int32_t(zp->get_i64(0));
}

// Per-output-channel values (scalar broadcast to M) of a zero point or scale.
std::vector<double> per_channel(const Node& node, const Tensor* t, int64_t M, double def,
                                const char* what) {
  std::vector<double> v(size_t(M), def);
  if (!t) return v;
  check(t->numel() == 1 || t->numel() == M, node.label(), ": ", what, " has ", t->numel(),
        " values, expected 1 or ", M);
  for (int64_t m = 0; m < M; ++m) v[size_t(m)] = t->get_f64(t->numel() == 1 ? 0 : m);
  return v;
}

// x - x_zp and w - w_zp[m] as int32, then the int32 direct convolution.
Tensor integer_conv(const Node& node, const ConvSetup& cs, const Tensor& X, int32_t xz,
                    const Tensor& W, const std::vector<double>& wz, const Tensor* bias) {
  Tensor x = X.cast(DType::I32);
  Tensor w = W.cast(DType::I32);
  int32_t* xp = x.data<int32_t>();
  for (int64_t i = 0; i < x.numel(); ++i) xp[i] -= xz;
  int32_t* wp = w.data<int32_t>();
  const int64_t per_m = cs.M > 0 ? w.numel() / cs.M : 0;
  for (int64_t m = 0; m < cs.M; ++m)
    for (int64_t i = 0; i < per_m; ++i) wp[m * per_m + i] -= int32_t(wz[size_t(m)]);
  Tensor y(DType::I32, cs.out_shape);
  if (bias) {
    check(bias->numel() == cs.M, node.label(), ": bias has ", bias->numel(), " values for ", cs.M,
          " output channels");
    const int64_t plane = cs.geom.out_size();
    int32_t* yp = y.data<int32_t>();
    for (int64_t n = 0; n < cs.N; ++n)
      for (int64_t m = 0; m < cs.M; ++m)
        std::fill_n(yp + (n * cs.M + m) * plane, plane, int32_t(bias->get_i64(m)));
  }
  convk::conv_forward<int32_t>(xp, wp, y.data<int32_t>(), cs.N, cs.C, cs.M, cs.G, cs.geom);
  return y;
}

std::vector<Tensor> conv_integer_kernel(KernelContext& ctx) {
  require_inputs(ctx, 2);
  const Node& node = ctx.node;
  const Tensor& X = ctx.in(0);
  const Tensor& W = ctx.in(1);
  require_8bit(node, X, "input x");
  require_8bit(node, W, "weight w");
  ConvSetup cs = setup_conv(node, X.shape(), W.shape());
  const int32_t xz = scalar_zero_point(node, ctx.has_input(2) ? &ctx.in(2) : nullptr, "x_zero_point");
  std::vector<double> wz =
      per_channel(node, ctx.has_input(3) ? &ctx.in(3) : nullptr, cs.M, 0.0, "w_zero_point");
  return {integer_conv(node, cs, X, xz, W, wz, nullptr)};
}

std::vector<Tensor> qlinear_conv_kernel(KernelContext& ctx) {
  require_inputs(ctx, 8);
  const Node& node = ctx.node;
  const Tensor& X = ctx.in(0);
  const Tensor& W = ctx.in(3);
  require_8bit(node, X, "input x");
  require_8bit(node, W, "weight w");
  const Tensor& yzp = ctx.in(7);
  require_8bit(node, yzp, "y_zero_point");
  ConvSetup cs = setup_conv(node, X.shape(), W.shape());
  check(ctx.in(1).numel() == 1, node.label(), ": x_scale must be a scalar");
  check(ctx.in(6).numel() == 1, node.label(), ": y_scale must be a scalar");
  const double xs = ctx.in(1).get_f64(0);
  const double ys = ctx.in(6).get_f64(0);
  check(ys != 0.0, node.label(), ": y_scale must be non-zero");
  const int32_t xz = scalar_zero_point(node, &ctx.in(2), "x_zero_point");
  std::vector<double> wz = per_channel(node, &ctx.in(5), cs.M, 0.0, "w_zero_point");
  std::vector<double> ws = per_channel(node, &ctx.in(4), cs.M, 1.0, "w_scale");
  const int32_t yz = scalar_zero_point(node, &yzp, "y_zero_point");
  Tensor acc = integer_conv(node, cs, X, xz, W, wz, ctx.has_input(8) ? &ctx.in(8) : nullptr);
  const double lo = yzp.dtype() == DType::U8 ? 0.0 : -128.0;
  const double hi = yzp.dtype() == DType::U8 ? 255.0 : 127.0;
  Tensor y(yzp.dtype(), cs.out_shape);
  const int64_t plane = cs.geom.out_size();
  const int32_t* ap = acc.data<int32_t>();
  for (int64_t n = 0; n < cs.N; ++n)
    for (int64_t m = 0; m < cs.M; ++m) {
      const float scale = float(xs * ws[size_t(m)] / ys);
      const int64_t base = (n * cs.M + m) * plane;
      for (int64_t i = 0; i < plane; ++i) {
        const double v = std::nearbyint(double(float(ap[base + i]) * scale)) + yz;
        y.set_f64(base + i, std::clamp(v, lo, hi));
      }
    }
  return {y};
}

}  // namespace

void register_conv_ops(OpRegistry& r) {
  {
    OpInfo op;
    op.name = "Conv";
    op.family = "conv";
    op.mapping = MappingType::ManyToMany;
    op.shape = [](const InferContext& ctx) {
      require_inputs(ctx, 2);
      return conv_shape(ctx, 0, 1, 2, ctx.in(0).dtype);
    };
    op.kernel = conv_kernel;
    op.cost = [](const Node&, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
      return conv_cost(in, out, 1);
    };
    op.summary = "1-3D convolution: groups (incl. depthwise), strides, dilations, pads, auto_pad, bias";
    r.add(op);
  }
  {
    OpInfo op;
    op.name = "ConvTranspose";
    op.family = "conv";
    op.mapping = MappingType::ManyToMany;
    op.shape = convt_shape;
    op.kernel = convt_kernel;
    op.cost = convt_cost;
    op.summary = "1-3D transposed convolution: groups, output_padding, output_shape, auto_pad, bias";
    r.add(op);
  }
  {
    OpInfo op;
    op.name = "ConvInteger";
    op.since = 10;
    op.family = "conv";
    op.mapping = MappingType::ManyToMany;
    op.shape = [](const InferContext& ctx) {
      require_inputs(ctx, 2);
      return conv_shape(ctx, 0, 1, size_t(-1), DType::I32);
    };
    op.kernel = conv_integer_kernel;
    op.cost = [](const Node&, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
      return conv_cost(in, out, 1);
    };
    op.summary = "8-bit integer convolution with zero points, int32 output";
    r.add(op);
  }
  {
    OpInfo op;
    op.name = "QLinearConv";
    op.since = 10;
    op.family = "conv";
    op.mapping = MappingType::ManyToMany;
    op.shape = [](const InferContext& ctx) {
      require_inputs(ctx, 8);
      const DType out = ctx.in(7).dtype != DType::Undefined ? ctx.in(7).dtype : ctx.in(0).dtype;
      return conv_shape(ctx, 0, 3, 8, out);
    };
    op.kernel = qlinear_conv_kernel;
    op.cost = [](const Node&, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
      return conv_cost(in, out, 3);
    };
    op.summary = "quantized convolution: int32 accumulation, per-channel w scale, requantized output";
    r.add(op);
  }
}

ConvTransposeGeometry conv_transpose_geometry(const Node& node, const Shape& x, const Shape& w) {
  const ConvSetup cs = setup_convt(node, x, w);
  return {cs.N, cs.C, cs.M, cs.G, cs.geom};
}

}  // namespace dnnf::ops
