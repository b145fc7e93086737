// Operator rows of the detection family (see op_families.h): NonMaxSuppression,
// RoiAlign, GridSample. Semantics follow the ONNX reference implementation.
#include <algorithm>
#include <cmath>

#include "core/ops/matmul_internal.h"
#include "core/ops/op_families.h"
#include "core/ops/op_util.h"

namespace dnnf::ops {
namespace {

using mm::io_bytes;
using mm::static_numel;

// ---- NonMaxSuppression ------------------------------------------------------------

struct Box {
  double x0, x1, y0, y1;  // min/max corners
};

Box box_at(const std::vector<double>& b, size_t i, bool center) {
  const double* p = b.data() + i * 4;
  if (center) {
    const double hw = p[2] / 2, hh = p[3] / 2;
    return {p[0] - hw, p[0] + hw, p[1] - hh, p[1] + hh};
  }
  // [y1, x1, y2, x2], possibly flipped.
  return {std::min(p[1], p[3]), std::max(p[1], p[3]), std::min(p[0], p[2]), std::max(p[0], p[2])};
}

bool suppresses(const Box& a, const Box& b, double iou_threshold) {
  const double ix0 = std::max(a.x0, b.x0), ix1 = std::min(a.x1, b.x1);
  if (ix1 <= ix0) return false;
  const double iy0 = std::max(a.y0, b.y0), iy1 = std::min(a.y1, b.y1);
  if (iy1 <= iy0) return false;
  const double inter = (ix1 - ix0) * (iy1 - iy0);
  const double area_a = (a.x1 - a.x0) * (a.y1 - a.y0), area_b = (b.x1 - b.x0) * (b.y1 - b.y0);
  const double uni = area_a + area_b - inter;
  if (inter <= 0 || area_a <= 0 || area_b <= 0 || uni <= 0) return false;
  return inter / uni > iou_threshold;
}

std::vector<Tensor> nms_kernel(KernelContext& ctx) {
  const Node& node = ctx.node;
  require_inputs(ctx, 2);
  const Tensor& boxes = ctx.in(0);
  const Tensor& scores = ctx.in(1);
  check(boxes.rank() == 3 && boxes.dim(2) == 4, node.label(), ": boxes must be [batches, boxes, 4] (got ",
        shape_str(boxes.shape()), ")");
  check(scores.rank() == 3 && scores.dim(0) == boxes.dim(0) && scores.dim(2) == boxes.dim(1), node.label(),
        ": scores must be [batches, classes, boxes] matching boxes (got ", shape_str(scores.shape()), ")");
  const int64_t center = node.attr_int("center_point_box", 0);
  check(center == 0 || center == 1, node.label(), ": center_point_box must be 0 or 1 (got ", center, ")");
  int64_t max_out = 0;
  if (ctx.has_input(2) && ctx.in(2).numel() > 0) max_out = std::max<int64_t>(ctx.in(2).get_i64(0), 0);
  double iou = 0;
  if (ctx.has_input(3) && ctx.in(3).numel() > 0) iou = ctx.in(3).get_f64(0);
  const bool has_score_th = ctx.has_input(4) && ctx.in(4).numel() > 0;
  const double score_th = has_score_th ? ctx.in(4).get_f64(0) : 0.0;

  const int64_t nb = boxes.dim(0), nbox = boxes.dim(1), ncls = scores.dim(1);
  const std::vector<double> bv = mm::to_f64(boxes), sv = mm::to_f64(scores);
  std::vector<int64_t> sel;
  std::vector<int64_t> cand;
  std::vector<Box> kept;
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t c = 0; c < ncls; ++c) {
      const double* sc = sv.data() + (b * ncls + c) * nbox;
      cand.clear();
      for (int64_t i = 0; i < nbox; ++i)
        if (!has_score_th || sc[i] > score_th) cand.push_back(i);
      std::stable_sort(cand.begin(), cand.end(), [&](int64_t x, int64_t y) { return sc[x] > sc[y]; });
      kept.clear();
      for (int64_t i : cand) {
        if (int64_t(kept.size()) >= max_out) break;
        const Box bx = box_at(bv, size_t(b * nbox + i), center == 1);
        bool ok = true;
        for (const Box& k : kept)
          if (suppresses(bx, k, iou)) {
            ok = false;
            break;
          }
        if (!ok) continue;
        kept.push_back(bx);
        sel.insert(sel.end(), {b, c, i});
      }
    }
  Tensor out(DType::I64, {int64_t(sel.size() / 3), 3});
  std::copy(sel.begin(), sel.end(), out.data<int64_t>());
  return {out};
}

OpInfo nms_row() {
  OpInfo r;
  r.name = "NonMaxSuppression";
  r.family = "detection";
  r.mapping = MappingType::ManyToMany;
  r.shape = [](const InferContext& ctx) {
    require_inputs(ctx, 2);
    return std::vector<TensorType>{TensorType(DType::I64, std::vector<Dim>{Dim(), Dim(3)})};
  };
  r.kernel = nms_kernel;
  r.cost = [](const Node&, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
    OpCost c;
    c.bytes = io_bytes(in, out);
    if (in.size() >= 2) {
      const int64_t n = static_numel(in[1]);
      if (n > 0) c.flops = double(n) * std::log2(double(n) + 1.0);
    }
    return c;
  };
  r.summary = "greedy per-class non-maximum suppression -> [selected, 3] (batch, class, box)";
  return r;
}

// ---- RoiAlign ---------------------------------------------------------------------

std::vector<Tensor> roialign_kernel(KernelContext& ctx) {
  const Node& node = ctx.node;
  require_inputs(ctx, 3);
  const Tensor& X = ctx.in(0);
  const Tensor& rois = ctx.in(1);
  const Tensor& bidx = ctx.in(2);
  check(dtype_is_float(X.dtype()), node.label(), ": element type ", dtype_name(X.dtype()), " is not supported");
  check(X.rank() == 4, node.label(), ": X must be [N, C, H, W] (got ", shape_str(X.shape()), ")");
  check(rois.rank() == 2 && rois.dim(1) == 4, node.label(), ": rois must be [num_rois, 4] (got ",
        shape_str(rois.shape()), ")");
  check(bidx.rank() == 1 && bidx.dim(0) == rois.dim(0), node.label(), ": batch_indices must be [num_rois]");
  const std::string mode = node.attr_string("mode", "avg");
  check(mode == "avg" || mode == "max", node.label(), ": mode must be 'avg' or 'max' (got '", mode, "')");
  const std::string ctm = node.attr_string("coordinate_transformation_mode",
                                           ctx.opset >= 16 ? "half_pixel" : "output_half_pixel");
  check(ctm == "half_pixel" || ctm == "output_half_pixel", node.label(),
        ": coordinate_transformation_mode must be 'half_pixel' or 'output_half_pixel' (got '", ctm, "')");
  const bool half_pixel = ctm == "half_pixel";
  const int64_t PH = node.attr_int("output_height", 1), PW = node.attr_int("output_width", 1);
  check(PH > 0 && PW > 0, node.label(), ": output_height/output_width must be positive");
  const int64_t sampling = node.attr_int("sampling_ratio", 0);
  check(sampling >= 0, node.label(), ": sampling_ratio must be >= 0");
  const double spatial_scale = node.attr_float("spatial_scale", 1.0f);
  const int64_t N = X.dim(0), C = X.dim(1), H = X.dim(2), W = X.dim(3), R = rois.dim(0);
  // A float feature map is read in place: widening all of it to double per call (a
  // [1, 256, 200, 272] FPN level is 112 MB) cost more than the sampling itself.
  const std::vector<double> rv = mm::to_f64(rois);
  std::vector<double> widened;
  if (X.dtype() != DType::F32) widened = mm::to_f64(X);
  const float* xf = X.dtype() == DType::F32 ? X.data<float>() : nullptr;
  const std::vector<int64_t> bi = bidx.to_i64_vector();
  const bool avg = mode == "avg";
  Tensor out(X.dtype(), {R, C, PH, PW});
  float* yf = X.dtype() == DType::F32 ? out.data<float>() : nullptr;
  std::vector<double> y(yf ? 0 : size_t(R * C * PH * PW), 0.0);

  struct Sample {
    int64_t p[4];
    double w[4];
  };
  std::vector<Sample> pre;
  for (int64_t n = 0; n < R; ++n) {
    const int64_t b = bi[size_t(n)];
    check(b >= 0 && b < N, node.label(), ": batch index ", b, " out of range [0, ", N, ")");
    const double off = half_pixel ? 0.5 : 0.0;
    const double sw = rv[size_t(n * 4 + 0)] * spatial_scale - off, sh = rv[size_t(n * 4 + 1)] * spatial_scale - off;
    const double ew = rv[size_t(n * 4 + 2)] * spatial_scale - off, eh = rv[size_t(n * 4 + 3)] * spatial_scale - off;
    double rw = ew - sw, rh = eh - sh;
    if (!half_pixel) {
      rw = std::max(rw, 1.0);
      rh = std::max(rh, 1.0);
    }
    const double bh = rh / double(PH), bw = rw / double(PW);
    const int64_t gh = sampling > 0 ? sampling : int64_t(std::ceil(rh / double(PH)));
    const int64_t gw = sampling > 0 ? sampling : int64_t(std::ceil(rw / double(PW)));
    const double count = double(std::max<int64_t>(gh * gw, 1));
    pre.clear();
    for (int64_t ph = 0; ph < PH; ++ph)
      for (int64_t pw = 0; pw < PW; ++pw)
        for (int64_t iy = 0; iy < gh; ++iy) {
          const double yy = sh + double(ph) * bh + (double(iy) + 0.5) * bh / double(gh);
          for (int64_t ix = 0; ix < gw; ++ix) {
            double xx = sw + double(pw) * bw + (double(ix) + 0.5) * bw / double(gw);
            double yv = yy;
            Sample s{{0, 0, 0, 0}, {0, 0, 0, 0}};
            if (!(yv < -1.0 || yv > double(H) || xx < -1.0 || xx > double(W))) {
              yv = std::max(yv, 0.0);
              xx = std::max(xx, 0.0);
              int64_t yl = int64_t(yv), xl = int64_t(xx), yh, xh;
              if (yl >= H - 1) {
                yh = yl = H - 1;
                yv = double(yl);
              } else {
                yh = yl + 1;
              }
              if (xl >= W - 1) {
                xh = xl = W - 1;
                xx = double(xl);
              } else {
                xh = xl + 1;
              }
              const double ly = yv - double(yl), lx = xx - double(xl), hy = 1.0 - ly, hx = 1.0 - lx;
              s = {{yl * W + xl, yl * W + xh, yh * W + xl, yh * W + xh}, {hy * hx, hy * lx, ly * hx, ly * lx}};
            }
            pre.push_back(s);
          }
        }
    const auto pool_channels = [&](const auto* x) {
      for (int64_t c = 0; c < C; ++c) {
        const auto* img = x + (b * C + c) * H * W;
        size_t pi = 0;
        for (int64_t ph = 0; ph < PH; ++ph)
          for (int64_t pw = 0; pw < PW; ++pw) {
            double v = 0;
            bool first = true;
            for (int64_t g = 0; g < gh * gw; ++g, ++pi) {
              const Sample& s = pre[pi];
              const double v0 = s.w[0] * double(img[s.p[0]]), v1 = s.w[1] * double(img[s.p[1]]);
              const double v2 = s.w[2] * double(img[s.p[2]]), v3 = s.w[3] * double(img[s.p[3]]);
              if (avg) {
                v += v0 + v1 + v2 + v3;
              } else {
                const double m = std::max({v0, v1, v2, v3});
                v = first ? m : std::max(v, m);
                first = false;
              }
            }
            if (avg) v /= count;
            const size_t at = size_t(((n * C + c) * PH + ph) * PW + pw);
            if (yf) yf[at] = float(v);
            else y[at] = v;
          }
      }
    };
    if (xf) pool_channels(xf);
    else pool_channels(widened.data());
  }
  for (size_t i = 0; i < y.size(); ++i) out.set_f64(int64_t(i), y[i]);
  return {out};
}

OpInfo roialign_row() {
  OpInfo r;
  r.name = "RoiAlign";
  r.family = "detection";
  r.mapping = MappingType::ManyToMany;
  r.shape = [](const InferContext& ctx) {
    require_inputs(ctx, 3);
    const TensorType& x = ctx.in(0);
    const TensorType& rois = ctx.in(1);
    const Dim R = rois.has_shape && rois.rank() >= 1 ? rois.dims[0] : Dim();
    const Dim C = x.has_shape && x.rank() >= 2 ? x.dims[1] : Dim();
    return std::vector<TensorType>{TensorType(
        x.dtype, {R, C, Dim(ctx.node.attr_int("output_height", 1)), Dim(ctx.node.attr_int("output_width", 1))})};
  };
  r.kernel = roialign_kernel;
  r.summary = "region-of-interest align (avg/max, half_pixel or output_half_pixel coordinates)";
  return r;
}

// ---- GridSample -------------------------------------------------------------------

double gs_reflect(double x, double lo, double hi) {
  const double rng = hi - lo;
  if (rng <= 0) return lo;
  if (x < lo) {
    const double dx = lo - x;
    const int64_t n = int64_t(dx / rng);
    const double r = dx - double(n) * rng;
    return n % 2 == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const double dx = x - hi;
    const int64_t n = int64_t(dx / rng);
    const double r = dx - double(n) * rng;
    return n % 2 == 0 ? hi - r : lo + r;
  }
  return x;
}

void cubic_coeffs(double t, double* c) {
  const double A = -0.75;
  t = std::fabs(t);
  c[0] = ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A;
  c[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
  c[2] = ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1;
  c[3] = ((A * (2 - t) - 5 * A) * (2 - t) + 8 * A) * (2 - t) - 4 * A;
}

enum class GsMode { Linear, Nearest, Cubic };
enum class GsPad { Zeros, Border, Reflection };

std::vector<Tensor> gridsample_kernel(KernelContext& ctx) {
  const Node& node = ctx.node;
  require_inputs(ctx, 2);
  const Tensor& X = ctx.in(0);
  const Tensor& G = ctx.in(1);
  check(dtype_is_float(X.dtype()) && dtype_is_float(G.dtype()), node.label(),
        ": X and grid must be floating point (got ", dtype_name(X.dtype()), ", ", dtype_name(G.dtype()), ")");
  const int64_t nd = X.rank() - 2;
  check(nd >= 1 && nd <= 3, node.label(), ": X must be 3-D to 5-D [N, C, spatial...] (got ", shape_str(X.shape()), ")");
  check(G.rank() == X.rank() && G.dim(0) == X.dim(0) && G.dim(-1) == nd, node.label(), ": grid must be [N, ",
        "out spatial..., ", nd, "] (got ", shape_str(G.shape()), ")");
  const std::string ms = node.attr_string("mode", ctx.opset >= 20 ? "linear" : "bilinear");
  GsMode mode;
  if (ms == "bilinear" || ms == "linear") mode = GsMode::Linear;
  else if (ms == "nearest") mode = GsMode::Nearest;
  else if (ms == "bicubic" || ms == "cubic") mode = GsMode::Cubic;
  else fail(node.label(), ": unsupported mode '", ms, "'");
  const std::string ps = node.attr_string("padding_mode", "zeros");
  GsPad pad;
  if (ps == "zeros") pad = GsPad::Zeros;
  else if (ps == "border") pad = GsPad::Border;
  else if (ps == "reflection") pad = GsPad::Reflection;
  else fail(node.label(), ": unsupported padding_mode '", ps, "'");
  const bool align = node.attr_int("align_corners", 0) != 0;

  const int64_t N = X.dim(0), C = X.dim(1);
  Shape in_sp(X.shape().begin() + 2, X.shape().end());
  Shape out_sp(G.shape().begin() + 1, G.shape().end() - 1);
  Shape out_shape{N, C};
  out_shape.insert(out_shape.end(), out_sp.begin(), out_sp.end());
  const int64_t in_n = shape_numel(in_sp), out_n = shape_numel(out_sp);
  const std::vector<double> x = mm::to_f64(X), g = mm::to_f64(G);
  const std::vector<int64_t> in_st = strides_of(in_sp);
  std::vector<double> y(size_t(N * C * out_n), 0.0);
  std::vector<double> lo(static_cast<size_t>(nd)), hi(static_cast<size_t>(nd));
  for (int64_t d = 0; d < nd; ++d) {
    lo[size_t(d)] = align ? 0.0 : -0.5;
    hi[size_t(d)] = align ? double(in_sp[size_t(d)]) - 1.0 : double(in_sp[size_t(d)]) - 0.5;
  }
  const int taps = mode == GsMode::Linear ? 2 : mode == GsMode::Cubic ? 4 : 1;
  // Per output location and dim: tap offsets (flat, -1 = zero) and weights.
  std::vector<int64_t> tap_off(size_t(nd * taps));
  std::vector<double> tap_w(size_t(nd * taps));
  auto resolve = [&](int64_t i, int64_t d) -> int64_t {  // index after padding; -1 = zero
    const int64_t len = in_sp[size_t(d)];
    if (i >= 0 && i < len) return i;
    if (pad == GsPad::Zeros) return -1;
    if (pad == GsPad::Border) return std::clamp<int64_t>(i, 0, len - 1);
    const int64_t r = int64_t(gs_reflect(double(i), lo[size_t(d)], hi[size_t(d)]));
    return std::clamp<int64_t>(r, 0, len - 1);
  };
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < out_n; ++o) {
      const double* gp = g.data() + (n * out_n + o) * nd;
      for (int64_t d = 0; d < nd; ++d) {
        const double nv = gp[nd - 1 - d];  // grid holds (x, y, z): reverse of the dim order
        const double len = double(in_sp[size_t(d)]);
        double v = align ? (nv + 1) / 2.0 * (len - 1) : ((nv + 1) * len - 1) / 2.0;
        if (mode == GsMode::Nearest) v = nd == 3 ? std::round(v) : std::nearbyint(v);
        if (v < lo[size_t(d)] || v > hi[size_t(d)]) {
          if (pad == GsPad::Border) v = std::clamp(v, 0.0, len - 1);
          else if (pad == GsPad::Reflection) v = gs_reflect(v, lo[size_t(d)], hi[size_t(d)]);
        }
        int64_t* to = tap_off.data() + d * taps;
        double* tw = tap_w.data() + d * taps;
        if (mode == GsMode::Nearest) {
          const int64_t i = resolve(int64_t(v), d);
          to[0] = i < 0 ? -1 : i * in_st[size_t(d)];
          tw[0] = 1.0;
          continue;
        }
        const double f = std::floor(v);
        const int64_t i0 = int64_t(f);
        const double t = v - f;
        if (mode == GsMode::Linear) {
          tw[0] = 1.0 - t;
          tw[1] = t;
        } else {
          cubic_coeffs(t, tw);
        }
        const int64_t first = mode == GsMode::Linear ? i0 : i0 - 1;
        for (int k = 0; k < taps; ++k) {
          const int64_t i = resolve(first + k, d);
          to[k] = i < 0 ? -1 : i * in_st[size_t(d)];
        }
      }
      // Tensor-product of the per-dim taps.
      int64_t combos = 1;
      for (int64_t d = 0; d < nd; ++d) combos *= taps;
      for (int64_t c = 0; c < C; ++c) {
        const double* img = x.data() + (n * C + c) * in_n;
        double acc = 0;
        for (int64_t m = 0; m < combos; ++m) {
          int64_t rem = m, off = 0;
          double w = 1.0;
          bool zero = false;
          for (int64_t d = nd; d-- > 0;) {
            const int k = int(rem % taps);
            rem /= taps;
            const int64_t t = tap_off[size_t(d * taps + k)];
            if (t < 0) {
              zero = true;
              break;
            }
            off += t;
            w *= tap_w[size_t(d * taps + k)];
          }
          if (!zero) acc += w * img[off];
        }
        y[size_t((n * C + c) * out_n + o)] = acc;
      }
    }
  Tensor out(X.dtype(), out_shape);
  for (size_t i = 0; i < y.size(); ++i) out.set_f64(int64_t(i), y[i]);
  return {out};
}

OpInfo gridsample_row() {
  OpInfo r;
  r.name = "GridSample";
  r.family = "detection";
  r.mapping = MappingType::ManyToMany;
  r.shape = [](const InferContext& ctx) {
    require_inputs(ctx, 2);
    const TensorType& x = ctx.in(0);
    const TensorType& g = ctx.in(1);
    if (!x.has_shape || !g.has_shape || g.rank() < 2) return std::vector<TensorType>{TensorType::unknown_shape(x.dtype)};
    check(x.rank() == g.rank(), ctx.node.label(), ": X ", x.str(), " and grid ", g.str(), " ranks differ");
    std::vector<Dim> dims{x.dims[0], x.dims[1]};
    dims.insert(dims.end(), g.dims.begin() + 1, g.dims.end() - 1);
    return std::vector<TensorType>{TensorType(x.dtype, dims)};
  };
  r.kernel = gridsample_kernel;
  r.summary = "samples X at normalized grid locations (linear/nearest/cubic, zeros/border/reflection)";
  return r;
}

}  // namespace

void register_detection_ops(OpRegistry& r) {
  r.add(nms_row());
  r.add(roialign_row());
  r.add(gridsample_row());
}

}  // namespace dnnf::ops
