// Resize and Upsample rows (part of the slice_concat family).
//
// Resize follows the ONNX reference semantics: output sizes from scales (floor(in*scale))
// or sizes (with keep_aspect_ratio_policy and axes from opset 18); every
// coordinate_transformation_mode; nearest with every nearest_mode; linear and cubic
// (cubic_coeff_a, exclude_outside) with optional antialias (opset 18) that stretches
// the filter by 1/scale when downsampling. Interpolation is separable, so it runs one
// axis at a time. Upsample and Resize-10 use asymmetric coordinates and the legacy
// nearest rounding (ceil when downsampling, floor otherwise).
// Both are One-to-Many: one input element feeds several output elements.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/ops/op_families.h"
#include "core/util/limits.h"
#include "core/ops/op_util.h"
#include "core/ops/shape_ops_common.h"

namespace dnnf::ops {

using namespace movement;

namespace {

struct ResizeCfg {
  std::string mode = "nearest";  // nearest | linear | cubic
  std::string ctm = "half_pixel";
  std::string nearest_mode = "round_prefer_floor";
  std::string keep_policy = "stretch";
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0.0;
  bool antialias = false;
  bool legacy = false;            // Upsample / Resize-10: asymmetric + legacy nearest
  std::vector<int64_t> axes;      // normalized, in attribute order; empty = all axes
};

std::string normalize_mode(std::string m, const Node& node) {
  if (m == "bilinear" || m == "trilinear") m = "linear";
  if (m == "bicubic") m = "cubic";
  check(m == "nearest" || m == "linear" || m == "cubic", node.label(), ": unknown mode '", m, "'");
  return m;
}

ResizeCfg resize_cfg(const Node& node, int64_t opset, bool upsample, int64_t rank) {
  ResizeCfg c;
  c.mode = normalize_mode(node.attr_string("mode", "nearest"), node);
  if (upsample || opset < 11) {
    c.legacy = true;
    c.ctm = "asymmetric";
    check(c.mode != "cubic", node.label(), ": cubic mode needs Resize opset 11 or later");
    return c;
  }
  c.ctm = node.attr_string("coordinate_transformation_mode", "half_pixel");
  static const char* ctms[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
                               "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
  check(std::find(std::begin(ctms), std::end(ctms), c.ctm) != std::end(ctms), node.label(),
        ": unknown coordinate_transformation_mode '", c.ctm, "'");
  c.nearest_mode = node.attr_string("nearest_mode", "round_prefer_floor");
  check(c.nearest_mode == "round_prefer_floor" || c.nearest_mode == "round_prefer_ceil" ||
            c.nearest_mode == "floor" || c.nearest_mode == "ceil",
        node.label(), ": unknown nearest_mode '", c.nearest_mode, "'");
  c.cubic_a = node.attr_float("cubic_coeff_a", -0.75f);
  c.exclude_outside = node.attr_int("exclude_outside", 0) != 0;
  c.extrapolation = node.attr_float("extrapolation_value", 0.0f);
  if (opset >= 18) {
    c.antialias = node.attr_int("antialias", 0) != 0 && c.mode != "nearest";
    c.keep_policy = node.attr_string("keep_aspect_ratio_policy", "stretch");
    check(c.keep_policy == "stretch" || c.keep_policy == "not_larger" || c.keep_policy == "not_smaller",
          node.label(), ": unknown keep_aspect_ratio_policy '", c.keep_policy, "'");
    if (node.has_attr("axes") && rank >= 0) {
      c.axes = normalize_axes(node.attr_ints("axes"), rank, node);
      std::vector<bool> seen(static_cast<size_t>(rank), false);
      for (int64_t a : c.axes) {
        check(!seen[size_t(a)], node.label(), ": axis ", a, " repeats");
        seen[size_t(a)] = true;
      }
    }
  }
  return c;
}

// Scales / sizes / roi as given; `unknown` when an input is present but not known.
struct ResizeArgs {
  std::optional<std::vector<double>> scales;
  std::optional<std::vector<int64_t>> sizes;
  std::vector<double> roi;
  bool unknown = false;
};

using ValueOf = std::function<const Tensor*(size_t)>;
using Present = std::function<bool(size_t)>;

std::vector<double> doubles_of(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[size_t(i)] = t.get_f64(i);
  return v;
}

ResizeArgs resize_args(const Node& node, int64_t opset, bool upsample, const ValueOf& value, const Present& present) {
  ResizeArgs a;
  auto take_scales = [&](size_t i) {
    if (!present(i)) return;
    const Tensor* t = value(i);
    if (!t) {
      a.unknown = true;
      return;
    }
    if (t->numel() > 0) a.scales = doubles_of(*t);
  };
  if (upsample) {
    if (opset >= 9) {
      check(present(1), node.label(), ": missing input 'scales'");
      take_scales(1);
    } else if (opset >= 7) {
      check(node.has_attr("scales"), node.label(), ": missing attribute 'scales'");
      auto f = node.attr_floats("scales");
      a.scales = std::vector<double>(f.begin(), f.end());
    } else {
      a.scales = std::vector<double>{1.0, 1.0, double(node.attr_float("height_scale", 1.0f)),
                                     double(node.attr_float("width_scale", 1.0f))};
    }
    return a;
  }
  if (opset < 11) {
    check(present(1), node.label(), ": missing input 'scales'");
    take_scales(1);
    return a;
  }
  if (present(1)) {
    if (const Tensor* t = value(1)) a.roi = doubles_of(*t);
  }
  take_scales(2);
  if (present(3)) {
    const Tensor* t = value(3);
    if (!t) a.unknown = true;
    else if (t->numel() > 0) a.sizes = ints_of(*t);
  }
  return a;
}

// Output dims and per-axis scale factors (scale only meaningful where the input dim is known).
void resolve_sizes(const std::vector<Dim>& in, const ResizeCfg& cfg, const ResizeArgs& args, const Node& node,
                   std::vector<Dim>& out, std::vector<double>& scale) {
  const int64_t rank = int64_t(in.size());
  std::vector<int64_t> axes = cfg.axes;
  if (axes.empty()) {
    axes.resize(size_t(rank));
    std::iota(axes.begin(), axes.end(), int64_t(0));
  }
  out = in;
  scale.assign(size_t(rank), 1.0);
  check(!(args.scales && args.sizes), node.label(), ": only one of 'scales' and 'sizes' may be given");
  if (args.scales) {
    const auto& s = *args.scales;
    check(s.size() == axes.size(), node.label(), ": scales has ", s.size(), " entries for ", axes.size(), " axes");
    for (size_t i = 0; i < axes.size(); ++i) {
      check(s[i] > 0 && std::isfinite(s[i]), node.label(), ": scales must be positive, got ", s[i]);
      size_t a = size_t(axes[i]);
      scale[a] = s[i];
      if (in[a].known()) {
        const double o = std::floor(s[i] * double(in[a].value));
        check(o <= double(limits().tensor_elements), node.label(), ": scale ", s[i],
              " makes axis ", a, " over the tensor limit");
        out[a] = Dim(int64_t(o));
      }
      else if (s[i] != 1.0) out[a] = Dim();
    }
    return;
  }
  check(args.sizes.has_value(), node.label(), ": one of 'scales' and 'sizes' is required");
  const auto& z = *args.sizes;
  check(z.size() == axes.size(), node.label(), ": sizes has ", z.size(), " entries for ", axes.size(), " axes");
  for (int64_t v : z) check(v >= 0, node.label(), ": negative size ", v);
  if (cfg.keep_policy == "stretch") {
    for (size_t i = 0; i < axes.size(); ++i) {
      size_t a = size_t(axes[i]);
      out[a] = Dim(z[i]);
      if (in[a].known() && in[a].value > 0) scale[a] = double(z[i]) / double(in[a].value);
    }
    return;
  }
  bool all_known = true;
  for (int64_t a : axes) all_known = all_known && in[size_t(a)].known() && in[size_t(a)].value > 0;
  if (!all_known) {
    for (int64_t a : axes) out[size_t(a)] = Dim();
    return;
  }
  double s = cfg.keep_policy == "not_larger" ? 1e300 : 0.0;
  for (size_t i = 0; i < axes.size(); ++i) {
    double r = double(z[i]) / double(in[size_t(axes[i])].value);
    s = cfg.keep_policy == "not_larger" ? std::min(s, r) : std::max(s, r);
  }
  for (int64_t a : axes) {
    scale[size_t(a)] = s;
    out[size_t(a)] = Dim(int64_t(s * double(in[size_t(a)].value) + 0.5));
  }
}

// Full-rank roi [starts..., ends...] (default 0..1 per axis).
std::vector<double> full_roi(const ResizeCfg& cfg, const std::vector<double>& roi, int64_t rank, const Node& node) {
  std::vector<double> full(size_t(2 * rank), 0.0);
  for (int64_t d = 0; d < rank; ++d) full[size_t(rank + d)] = 1.0;
  if (cfg.ctm != "tf_crop_and_resize") return full;
  std::vector<int64_t> axes = cfg.axes;
  if (axes.empty()) {
    axes.resize(size_t(rank));
    std::iota(axes.begin(), axes.end(), int64_t(0));
  }
  check(roi.size() == 2 * axes.size(), node.label(), ": tf_crop_and_resize needs roi with ", 2 * axes.size(),
        " values, got ", roi.size());
  for (size_t i = 0; i < axes.size(); ++i) {
    full[size_t(axes[i])] = roi[i];
    full[size_t(rank + axes[i])] = roi[axes.size() + i];
  }
  return full;
}

// Input coordinate of output index o along one axis; `outside` for tf_crop_and_resize
// points beyond the input (they take the extrapolation value).
double to_original(int64_t o, int64_t n_in, int64_t n_out, double s, const ResizeCfg& cfg, double roi0,
                   double roi1, bool& outside) {
  outside = false;
  const double x = double(o);
  const double out_w = s * double(n_in);
  const std::string& m = cfg.ctm;
  if (m == "asymmetric") return x / s;
  if (m == "half_pixel") return (x + 0.5) / s - 0.5;
  if (m == "pytorch_half_pixel") return out_w == 1 ? -0.5 : (x + 0.5) / s - 0.5;
  if (m == "tf_half_pixel_for_nn") return (x + 0.5) / s;
  if (m == "align_corners") return out_w == 1 ? 0.0 : x * double(n_in - 1) / (out_w - 1);
  if (m == "half_pixel_symmetric") {
    double adjustment = double(n_out) / out_w;
    double center = double(n_in) / 2;
    double offset = center * (1 - adjustment);
    return offset + (x + 0.5) / s - 0.5;
  }
  // tf_crop_and_resize
  double xo = out_w == 1 ? (roi1 - roi0) * double(n_in - 1) / 2 : x * (roi1 - roi0) * double(n_in - 1) / (out_w - 1);
  xo += roi0 * double(n_in - 1);
  if (xo < 0 || xo > double(n_in - 1)) outside = true;
  return xo;
}

int64_t nearest_index(double x, int64_t n_in, double s, const ResizeCfg& cfg) {
  int64_t idx;
  if (cfg.legacy) {
    idx = int64_t(s < 1 ? std::ceil(x) : std::floor(x));
  } else {
    double f = std::floor(x);
    double r = x - f;
    if (r == 0) idx = int64_t(f);
    else if (cfg.nearest_mode == "round_prefer_floor") idx = int64_t(r <= 0.5 ? f : f + 1);
    else if (cfg.nearest_mode == "round_prefer_ceil") idx = int64_t(r < 0.5 ? f : f + 1);
    else if (cfg.nearest_mode == "floor") idx = int64_t(f);
    else idx = int64_t(f + 1);
  }
  return std::clamp<int64_t>(idx, 0, n_in - 1);
}

struct Taps {
  bool outside = false;
  std::vector<int64_t> idx;
  std::vector<double> w;
};

double cubic_kernel(double x, double A) {
  x = std::fabs(x);
  if (x <= 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
  if (x < 2) return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return 0.0;
}

Taps interp_taps(double x, int64_t n_in, double s, const ResizeCfg& cfg) {
  Taps t;
  double f = std::floor(x);
  int64_t base;
  double ratio;
  if (x == f) {
    base = int64_t(f) - 1;
    ratio = 1.0;
  } else {
    base = int64_t(f);
    ratio = x - f;
  }
  std::vector<double> c;
  if (!cfg.antialias) {
    if (cfg.mode == "linear") {
      c = {1 - ratio, ratio};
    } else {
      const double A = cfg.cubic_a;
      c = {cubic_kernel(ratio + 1, A), cubic_kernel(ratio, A), cubic_kernel(1 - ratio, A),
           cubic_kernel(2 - ratio, A)};
    }
  } else {
    const double sc = std::min(s, 1.0);
    if (cfg.mode == "linear") {
      int64_t start = int64_t(std::floor(-1 / sc) + 1);
      int64_t footprint = 2 - 2 * start;
      for (int64_t k = 0; k < footprint; ++k)
        c.push_back(std::clamp(1 - std::fabs((double(start + k) - ratio) * sc), 0.0, 1.0));
    } else {
      int64_t i_start = int64_t(std::floor(-2 / sc) + 1), i_end = 2 - i_start;
      for (int64_t i = i_start; i < i_end; ++i) c.push_back(cubic_kernel(sc * (double(i) - ratio), cfg.cubic_a));
    }
    double sum = std::accumulate(c.begin(), c.end(), 0.0);
    if (sum != 0)
      for (auto& v : c) v /= sum;
  }
  const int64_t n = int64_t(c.size());
  const int64_t first = base + 1 - n / 2;
  if (cfg.exclude_outside) {
    double sum = 0;
    for (int64_t k = 0; k < n; ++k) {
      int64_t p = first + k;
      if (p < 0 || p >= n_in) c[size_t(k)] = 0;
      sum += c[size_t(k)];
    }
    if (sum != 0)
      for (auto& v : c) v /= sum;
  }
  for (int64_t k = 0; k < n; ++k) {
    if (c[size_t(k)] == 0) continue;
    t.idx.push_back(std::clamp<int64_t>(first + k, 0, n_in - 1));
    t.w.push_back(c[size_t(k)]);
  }
  return t;
}

// Axes whose mapping is the identity can be skipped (same size, unit scale, and a
// transformation that maps integer coordinates onto themselves).
bool identity_axis(int64_t n_in, int64_t n_out, double s, const ResizeCfg& cfg) {
  if (n_in != n_out || s != 1.0) return false;
  return cfg.ctm == "half_pixel" || cfg.ctm == "asymmetric" || cfg.ctm == "align_corners" ||
         cfg.ctm == "pytorch_half_pixel" || cfg.ctm == "half_pixel_symmetric";
}

Tensor resize_kernel(const Tensor& x, const ResizeCfg& cfg, const ResizeArgs& args, const Node& node) {
  const int64_t rank = x.rank();
  for (int64_t a : cfg.axes) check(a < rank, node.label(), ": axis ", a, " out of range");
  std::vector<Dim> in(x.shape().begin(), x.shape().end()), outd;
  std::vector<double> scale;
  resolve_sizes(in, cfg, args, node, outd, scale);
  Shape out_shape;
  for (const auto& d : outd) out_shape.push_back(d.value);
  check_out_shape(out_shape, x.dtype(), node);
  const auto roi = full_roi(cfg, args.roi, rank, node);
  for (int64_t d = 0; d < rank; ++d)
    check(x.shape()[size_t(d)] > 0 || out_shape[size_t(d)] == 0, node.label(), ": cannot resize an empty axis ", d);

  if (cfg.mode == "nearest") {
    std::vector<std::vector<int64_t>> maps(static_cast<size_t>(rank));
    for (int64_t d = 0; d < rank; ++d) {
      const int64_t n_in = x.shape()[size_t(d)], n_out = out_shape[size_t(d)];
      auto& m = maps[size_t(d)];
      m.resize(size_t(n_out));
      for (int64_t o = 0; o < n_out; ++o) {
        if (identity_axis(n_in, n_out, scale[size_t(d)], cfg)) {
          m[size_t(o)] = o;
          continue;
        }
        bool outside = false;
        double xo = to_original(o, n_in, n_out, scale[size_t(d)], cfg, roi[size_t(d)], roi[size_t(rank + d)], outside);
        m[size_t(o)] = outside ? -1 : nearest_index(xo, n_in, scale[size_t(d)], cfg);
      }
    }
    Tensor fill = scalar_of_dtype(x.dtype(), cfg.extrapolation);
    return gather_axes(x, out_shape, maps, &fill);
  }

  check(x.dtype() != DType::String && x.dtype() != DType::Bool, node.label(), ": ", cfg.mode,
        " mode needs a numeric input, got ", dtype_name(x.dtype()));
  std::vector<double> cur;
  if (x.dtype() == DType::F32) cur.assign(x.data<float>(), x.data<float>() + x.numel());
  else cur = doubles_of(x);
  Shape cur_shape = x.shape();
  // Shrinking axes first keeps the intermediate buffers small.
  std::vector<int64_t> order(static_cast<size_t>(rank));
  std::iota(order.begin(), order.end(), int64_t(0));
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    auto ratio = [&](int64_t d) { return double(out_shape[size_t(d)]) / double(std::max<int64_t>(1, x.shape()[size_t(d)])); };
    return ratio(a) < ratio(b);
  });
  for (int64_t d : order) {
    const int64_t n_in = cur_shape[size_t(d)], n_out = out_shape[size_t(d)];
    if (identity_axis(n_in, n_out, scale[size_t(d)], cfg)) continue;
    // Flattened tap table: output o uses taps [first[o], first[o+1]); `outside` outputs
    // take the extrapolation value.
    std::vector<int64_t> first(static_cast<size_t>(n_out + 1), 0), tidx;
    std::vector<double> tw;
    std::vector<char> outside_at(static_cast<size_t>(n_out), 0);
    for (int64_t o = 0; o < n_out; ++o) {
      bool outside = false;
      double xo = to_original(o, n_in, n_out, scale[size_t(d)], cfg, roi[size_t(d)], roi[size_t(rank + d)], outside);
      if (outside) {
        outside_at[size_t(o)] = 1;
      } else {
        Taps t = interp_taps(xo, n_in, scale[size_t(d)], cfg);
        tidx.insert(tidx.end(), t.idx.begin(), t.idx.end());
        tw.insert(tw.end(), t.w.begin(), t.w.end());
      }
      first[size_t(o + 1)] = int64_t(tidx.size());
    }
    int64_t outer = 1, inner = 1;
    for (int64_t k = 0; k < d; ++k) outer *= cur_shape[size_t(k)];
    for (int64_t k = d + 1; k < rank; ++k) inner *= cur_shape[size_t(k)];
    std::vector<double> next(size_t(outer * n_out * inner), 0.0);
    for (int64_t a = 0; a < outer; ++a) {
      const double* src_rows = cur.data() + a * n_in * inner;
      for (int64_t o = 0; o < n_out; ++o) {
        double* dst = next.data() + (a * n_out + o) * inner;
        if (outside_at[size_t(o)]) {
          std::fill(dst, dst + inner, cfg.extrapolation);
          continue;
        }
        const int64_t t0 = first[size_t(o)], t1 = first[size_t(o + 1)];
        if (inner == 1) {
          double acc = 0;
          for (int64_t t = t0; t < t1; ++t) acc += tw[size_t(t)] * src_rows[tidx[size_t(t)]];
          dst[0] = acc;
          continue;
        }
        for (int64_t t = t0; t < t1; ++t) {
          const double* src = src_rows + tidx[size_t(t)] * inner;
          const double w = tw[size_t(t)];
          for (int64_t i = 0; i < inner; ++i) dst[i] += w * src[i];
        }
      }
    }
    cur.swap(next);
    cur_shape[size_t(d)] = n_out;
  }
  Tensor out(x.dtype(), out_shape);
  if (x.dtype() == DType::F32) {
    float* p = out.data<float>();
    for (size_t i = 0; i < cur.size(); ++i) p[i] = float(cur[i]);
  } else {
    for (size_t i = 0; i < cur.size(); ++i) out.set_f64(int64_t(i), cur[i]);
  }
  return out;
}

OpCost resize_cost(const Node& node, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
  OpCost c = movement_cost(node, in, out);
  if (out.empty() || !out[0].is_static() || in.empty() || !in[0].is_static()) return c;
  std::string mode = node.attr_string("mode", "nearest");
  if (mode == "nearest") return c;
  double taps = mode == "cubic" || mode == "bicubic" ? 4 : 2;
  int64_t axes = 0;
  for (size_t d = 0; d < in[0].dims.size() && d < out[0].dims.size(); ++d)
    axes += in[0].dims[d].value != out[0].dims[d].value;
  c.flops = double(out[0].numel_or(0)) * 2 * taps * double(std::max<int64_t>(axes, 1));
  return c;
}

OpInfo resize_like_row(const char* name, int since, bool upsample, const char* summary) {
  OpInfo r;
  r.name = name;
  r.since = since;
  r.family = "slice_concat";
  r.mapping = MappingType::OneToMany;
  r.summary = summary;
  r.cost = resize_cost;
  r.shape = [upsample](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    const TensorType& x = ctx.in(0);
    if (!x.has_shape) return {TensorType::unknown_shape(x.dtype)};
    ResizeCfg cfg = resize_cfg(ctx.node, ctx.opset, upsample, x.rank());
    ResizeArgs args = resize_args(ctx.node, ctx.opset, upsample, [&](size_t i) { return ctx.value(i); },
                                  [&](size_t i) { return ctx.has_input(i); });
    if (args.unknown) {
      std::vector<Dim> out = x.dims;
      if (cfg.axes.empty()) return {unknown_dims(x.dtype, x.rank())};
      for (int64_t a : cfg.axes) out[size_t(a)] = Dim();
      return {TensorType(x.dtype, out)};
    }
    std::vector<Dim> out;
    std::vector<double> scale;
    resolve_sizes(x.dims, cfg, args, ctx.node, out, scale);
    return {TensorType(x.dtype, out)};
  };
  r.kernel = [upsample](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    ResizeCfg cfg = resize_cfg(ctx.node, ctx.opset, upsample, x.rank());
    ResizeArgs args = resize_args(ctx.node, ctx.opset, upsample,
                                  [&](size_t i) { return ctx.has_input(i) ? &ctx.in(i) : nullptr; },
                                  [&](size_t i) { return ctx.has_input(i); });
    return {resize_kernel(x, cfg, args, ctx.node)};
  };
  return r;
}

}  // namespace

void register_resize_ops(OpRegistry& r) {
  r.add(resize_like_row("Resize", 10, false,
                        "Resize by scales or sizes: nearest (all nearest_modes), linear, cubic; every "
                        "coordinate_transformation_mode incl. tf_crop_and_resize; axes, "
                        "keep_aspect_ratio_policy and antialias from opset 18"));
  r.add(resize_like_row("Upsample", 1, true,
                        "Upsample by scales (attrs before opset 9, input from 9): nearest or linear, "
                        "asymmetric coordinates"));
}

}  // namespace dnnf::ops
