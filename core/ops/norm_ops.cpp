// Operator rows of the norm family (see op_families.h): BatchNormalization,
// InstanceNormalization, LayerNormalization, GroupNormalization, RMSNormalization,
// LRN, MeanVarianceNormalization, LpNormalization. Statistics are accumulated in
// double; F16/BF16 data is computed through f32 and cast back.
#include <algorithm>
#include <cmath>

#include "core/ops/conv_geometry.h"
#include "core/ops/op_families.h"
#include "core/ops/op_util.h"

namespace dnnf::ops {

namespace {

using convgeo::compute_dtype;
using convgeo::from_compute;
using convgeo::require_float;
using convgeo::to_compute;

// Runs fn(T{}) with T = double for F64 compute tensors and float otherwise.
template <class Fn>
void with_compute(DType cd, Fn&& fn) {
  if (cd == DType::F64) fn(double{});
  else fn(float{});
}

std::vector<double> values_f64(const Tensor& t) {
  std::vector<double> v(size_t(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[size_t(i)] = t.get_f64(i);
  return v;
}

// A per-channel parameter (scale, bias, mean, var) with exactly `n` values.
std::vector<double> channel_param(const Node& node, const Tensor& t, int64_t n, const char* what) {
  require_float(node, t, what);
  check(t.numel() == n, node.label(), ": ", what, " has ", t.numel(), " values, expected ", n);
  return values_f64(t);
}

// Right-aligned broadcast of p onto `target` (each dim of p is 1 or equal); false if
// it does not broadcast.
bool broadcasts_to(const Shape& p, const Shape& target) {
  if (p.size() > target.size()) {
    for (size_t i = 0; i < p.size() - target.size(); ++i)
      if (p[i] != 1) return false;
  }
  const size_t n = std::min(p.size(), target.size());
  for (size_t i = 0; i < n; ++i) {
    const int64_t a = p[p.size() - 1 - i], b = target[target.size() - 1 - i];
    if (a != 1 && a != b) return false;
  }
  return true;
}

std::vector<double> expand_to(const Tensor& p, const Shape& target) {
  const int64_t n = shape_numel(target);
  std::vector<double> out(static_cast<size_t>(n));
  const std::vector<double> src = values_f64(p);
  // Strides of p aligned to target (0 on broadcast dims).
  const size_t r = target.size();
  std::vector<int64_t> st(r, 0);
  int64_t stride = 1;
  for (size_t i = 0; i < std::min(r, p.shape().size()); ++i) {
    const size_t pi = p.shape().size() - 1 - i;
    const size_t ti = r - 1 - i;
    st[ti] = p.shape()[pi] == 1 ? 0 : stride;
    stride *= p.shape()[pi];
  }
  std::vector<int64_t> coord(r, 0);
  int64_t idx = 0;
  for (int64_t f = 0; f < n; ++f) {
    out[size_t(f)] = src.empty() ? 0.0 : src[size_t(idx)];
    for (size_t d = r; d-- > 0;) {
      idx += st[d];
      if (++coord[d] < target[d]) break;
      idx -= st[d] * coord[d];
      coord[d] = 0;
    }
  }
  return out;
}

// A scale/bias of LayerNormalization / RMSNormalization: either broadcast over the
// normalized suffix (size `inner`, same for every row) or over the whole input.
struct AxisParam {
  std::vector<double> v;
  bool per_row = true;  // v has `inner` values, else numel values
  double at(int64_t row, int64_t inner, int64_t i) const {
    return per_row ? v[size_t(i)] : v[size_t(row * inner + i)];
  }
};

AxisParam axis_param(const Node& node, const Tensor& p, const Shape& x, int64_t axis,
                     const char* what) {
  require_float(node, p, what);
  const Shape suffix(x.begin() + axis, x.end());
  AxisParam ap;
  if (broadcasts_to(p.shape(), suffix)) {
    Shape pshape = p.shape();
    while (pshape.size() > suffix.size()) pshape.erase(pshape.begin());
    ap.v = expand_to(p.reshaped(pshape), suffix);
    return ap;
  }
  check(broadcasts_to(p.shape(), x), node.label(), ": ", what, " shape ", shape_str(p.shape()),
        " does not broadcast to the input ", shape_str(x));
  ap.per_row = false;
  ap.v = expand_to(p, x);
  return ap;
}

DType stash_dtype(const Node& node) {
  const int64_t code = node.attr_int("stash_type", 1);
  const DType t = dtype_from_onnx(int32_t(code));
  check(dtype_is_float(t), node.label(), ": stash_type ", code, " is not a float type");
  return t;
}

std::vector<Tensor> single(const Tensor& y) { return {y}; }

OpCost per_element_cost(const std::vector<TensorType>& in, const std::vector<TensorType>& out,
                        double per_element) {
  OpCost c;
  c.bytes = convgeo::static_bytes(in) + convgeo::static_bytes(out);
  if (!in.empty()) {
    const int64_t n = convgeo::static_numel(in[0]);
    if (n > 0) c.flops = per_element * double(n);
  }
  return c;
}

CostFn cost_per_element(double per_element) {
  return [per_element](const Node&, const std::vector<TensorType>& in,
                       const std::vector<TensorType>& out) {
    return per_element_cost(in, out, per_element);
  };
}

// (N, C, spatial...) layout facts of a norm input.
struct NCS {
  int64_t N = 0, C = 0, S = 0;
};

NCS ncs_of(const Node& node, const Tensor& x, int64_t min_rank) {
  check(x.rank() >= min_rank, node.label(), ": input must have rank >= ", min_rank, ", got rank ",
        x.rank());
  NCS r;
  r.N = x.dim(0);
  r.C = x.rank() >= 2 ? x.dim(1) : 1;
  r.S = 1;
  for (int64_t i = 2; i < x.rank(); ++i) r.S *= x.dim(i);
  return r;
}

// ---- BatchNormalization --------------------------------------------------------------------

std::vector<TensorType> batchnorm_shape(const InferContext& ctx) {
  require_inputs(ctx, 5);
  const Node& node = ctx.node;
  const TensorType& X = ctx.in(0);
  if (X.has_shape)
    check(X.rank() >= 2, node.label(), ": input must have rank >= 2 (N, C, ...), got rank ",
          X.rank());
  std::vector<TensorType> out = {X};
  for (size_t i = 1; i < ctx.num_outputs(); ++i) {
    const size_t src = i == 1 ? 3 : i == 2 ? 4 : 3;
    out.push_back(ctx.in(src));
  }
  return out;
}

std::vector<Tensor> batchnorm_kernel(KernelContext& ctx) {
  require_inputs(ctx, 5);
  const Node& node = ctx.node;
  const Tensor& X = ctx.in(0);
  require_float(node, X, "input X");
  const NCS d = ncs_of(node, X, 2);
  const double eps = node.attr_float("epsilon", 1e-5f);
  const double momentum = node.attr_float("momentum", 0.9f);
  size_t extra_outputs = 0;
  for (size_t i = 1; i < node.outputs.size(); ++i) extra_outputs += node.outputs[i].empty() ? 0 : 1;
  const bool training = ctx.opset >= 14 && node.attr_int("training_mode", 0) != 0;
  if (!training)
    check(extra_outputs == 0, node.label(),
          ": BatchNormalization training-mode outputs are only supported with training_mode=1 "
          "(opset >= 14)");
  // Parameters are per channel, or per (channel, spatial) for spatial=0 of opsets < 9.
  const int64_t pn = ctx.in(1).numel() == d.C * d.S && ctx.in(1).numel() != d.C ? d.C * d.S : d.C;
  const std::vector<double> scale = channel_param(node, ctx.in(1), pn, "scale");
  const std::vector<double> bias = channel_param(node, ctx.in(2), pn, "bias B");
  std::vector<double> mean = channel_param(node, ctx.in(3), pn, "input_mean");
  std::vector<double> var = channel_param(node, ctx.in(4), pn, "input_var");
  const bool per_elem = pn != d.C;
  check(!(training && per_elem), node.label(),
        ": training_mode with per-element (spatial=0) parameters is not supported");
  const DType cd = compute_dtype(X.dtype());
  Tensor x = to_compute(X, cd);
  Tensor y(cd, X.shape());
  std::vector<double> batch_mean(size_t(d.C), 0.0), batch_var(size_t(d.C), 0.0);
  with_compute(cd, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    if (training) {
      const double cnt = double(d.N * d.S);
      for (int64_t n = 0; n < d.N; ++n)
        for (int64_t c = 0; c < d.C; ++c) {
          const T* v = xp + (n * d.C + c) * d.S;
          for (int64_t s = 0; s < d.S; ++s) batch_mean[size_t(c)] += double(v[s]);
        }
      for (double& m : batch_mean) m = cnt > 0 ? m / cnt : 0.0;
      for (int64_t n = 0; n < d.N; ++n)
        for (int64_t c = 0; c < d.C; ++c) {
          const T* v = xp + (n * d.C + c) * d.S;
          for (int64_t s = 0; s < d.S; ++s) {
            const double e = double(v[s]) - batch_mean[size_t(c)];
            batch_var[size_t(c)] += e * e;
          }
        }
      for (double& v : batch_var) v = cnt > 0 ? v / cnt : 0.0;
    }
    const std::vector<double>& use_mean = training ? batch_mean : mean;
    const std::vector<double>& use_var = training ? batch_var : var;
    for (int64_t n = 0; n < d.N; ++n)
      for (int64_t c = 0; c < d.C; ++c) {
        const int64_t base = (n * d.C + c) * d.S;
        if (!per_elem) {
          const double a = scale[size_t(c)] / std::sqrt(use_var[size_t(c)] + eps);
          const double b = bias[size_t(c)] - use_mean[size_t(c)] * a;
          for (int64_t s = 0; s < d.S; ++s) yp[base + s] = T(double(xp[base + s]) * a + b);
        } else {
          for (int64_t s = 0; s < d.S; ++s) {
            const size_t k = size_t(c * d.S + s);
            yp[base + s] = T((double(xp[base + s]) - mean[k]) / std::sqrt(var[k] + eps) * scale[k] + bias[k]);
          }
        }
      }
  });
  std::vector<Tensor> out = {from_compute(y, X.dtype())};
  if (training) {
    Tensor rm(ctx.in(3).dtype(), ctx.in(3).shape());
    Tensor rv(ctx.in(4).dtype(), ctx.in(4).shape());
    for (int64_t c = 0; c < d.C; ++c) {
      rm.set_f64(c, mean[size_t(c)] * momentum + batch_mean[size_t(c)] * (1 - momentum));
      rv.set_f64(c, var[size_t(c)] * momentum + batch_var[size_t(c)] * (1 - momentum));
    }
    if (node.outputs.size() > 1) out.push_back(rm);
    if (node.outputs.size() > 2) out.push_back(rv);
  }
  while (out.size() < node.outputs.size()) out.push_back(Tensor());
  return out;
}

// ---- InstanceNormalization -----------------------------------------------------------------

std::vector<Tensor> instancenorm_kernel(KernelContext& ctx) {
  require_inputs(ctx, 3);
  const Node& node = ctx.node;
  const Tensor& X = ctx.in(0);
  require_float(node, X, "input X");
  const NCS d = ncs_of(node, X, 2);
  const std::vector<double> scale = channel_param(node, ctx.in(1), d.C, "scale");
  const std::vector<double> bias = channel_param(node, ctx.in(2), d.C, "bias B");
  const double eps = node.attr_float("epsilon", 1e-5f);
  const DType cd = compute_dtype(X.dtype());
  Tensor x = to_compute(X, cd);
  Tensor y(cd, X.shape());
  with_compute(cd, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    for (int64_t n = 0; n < d.N; ++n)
      for (int64_t c = 0; c < d.C; ++c) {
        const int64_t base = (n * d.C + c) * d.S;
        double m = 0, v = 0;
        for (int64_t s = 0; s < d.S; ++s) m += double(xp[base + s]);
        m /= double(std::max<int64_t>(1, d.S));
        for (int64_t s = 0; s < d.S; ++s) {
          const double e = double(xp[base + s]) - m;
          v += e * e;
        }
        v /= double(std::max<int64_t>(1, d.S));
        const double a = scale[size_t(c)] / std::sqrt(v + eps);
        for (int64_t s = 0; s < d.S; ++s)
          yp[base + s] = T((double(xp[base + s]) - m) * a + bias[size_t(c)]);
      }
  });
  return single(from_compute(y, X.dtype()));
}

// ---- LayerNormalization / RMSNormalization -------------------------------------------------------

std::vector<TensorType> layernorm_shape(const InferContext& ctx) {
  require_inputs(ctx, 2);
  const Node& node = ctx.node;
  const TensorType& X = ctx.in(0);
  std::vector<TensorType> out = {X};
  if (ctx.num_outputs() > 1) {
    const DType st = stash_dtype(node);
    TensorType stat = TensorType::unknown_shape(st);
    if (X.has_shape) {
      const int64_t axis = normalize_axis(node.attr_int("axis", -1), X.rank(), node);
      std::vector<Dim> dims(X.dims.begin(), X.dims.begin() + axis);
      dims.resize(size_t(X.rank()), Dim(1));
      stat = TensorType(st, dims);
    }
    for (size_t i = 1; i < ctx.num_outputs(); ++i) out.push_back(stat);
  } else if (X.has_shape) {
    normalize_axis(node.attr_int("axis", -1), X.rank(), node);
  }
  return out;
}

std::vector<TensorType> rmsnorm_shape(const InferContext& ctx) {
  require_inputs(ctx, 2);
  const TensorType& X = ctx.in(0);
  if (X.has_shape) normalize_axis(ctx.node.attr_int("axis", -1), X.rank(), ctx.node);
  return {X};
}

// Shared by LayerNormalization (rms=false) and RMSNormalization (rms=true).
std::vector<Tensor> axis_norm_kernel(KernelContext& ctx, bool rms) {
  require_inputs(ctx, 2);
  const Node& node = ctx.node;
  const Tensor& X = ctx.in(0);
  require_float(node, X, "input X");
  check(X.rank() >= 1, node.label(), ": input must have rank >= 1");
  const int64_t axis = normalize_axis(node.attr_int("axis", -1), X.rank(), node);
  const double eps = node.attr_float("epsilon", 1e-5f);
  const DType st = stash_dtype(node);
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= X.dim(i);
  for (int64_t i = axis; i < X.rank(); ++i) inner *= X.dim(i);
  const AxisParam scale = axis_param(node, ctx.in(1), X.shape(), axis, "scale");
  const bool has_bias = !rms && ctx.has_input(2);
  AxisParam bias;
  if (has_bias) bias = axis_param(node, ctx.in(2), X.shape(), axis, "bias B");
  const DType cd = compute_dtype(X.dtype());
  Tensor x = to_compute(X, cd);
  Tensor y(cd, X.shape());
  Shape stat_shape(X.shape().begin(), X.shape().begin() + axis);
  stat_shape.resize(size_t(X.rank()), 1);
  Tensor mean_t(DType::F64, stat_shape), inv_t(DType::F64, stat_shape);
  double* mp = mean_t.data<double>();
  double* ip = inv_t.data<double>();
  with_compute(cd, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    for (int64_t r = 0; r < outer; ++r) {
      const T* v = xp + r * inner;
      double m = 0;
      if (!rms) {
        for (int64_t i = 0; i < inner; ++i) m += double(v[i]);
        m /= double(std::max<int64_t>(1, inner));
      }
      double var = 0;
      for (int64_t i = 0; i < inner; ++i) {
        const double e = double(v[i]) - m;
        var += e * e;
      }
      var /= double(std::max<int64_t>(1, inner));
      const double inv = 1.0 / std::sqrt(var + eps);
      mp[r] = m;
      ip[r] = inv;
      T* o = yp + r * inner;
      for (int64_t i = 0; i < inner; ++i) {
        double val = (double(v[i]) - m) * inv * scale.at(r, inner, i);
        if (has_bias) val += bias.at(r, inner, i);
        o[i] = T(val);
      }
    }
  });
  std::vector<Tensor> out = {from_compute(y, X.dtype())};
  if (ctx.num_outputs() > 1) out.push_back(mean_t.cast(st));
  if (ctx.num_outputs() > 2) out.push_back(inv_t.cast(st));
  while (out.size() < ctx.num_outputs()) out.push_back(Tensor());
  return out;
}

// ---- GroupNormalization --------------------------------------------------------------------------

std::vector<Tensor> groupnorm_kernel(KernelContext& ctx) {
  require_inputs(ctx, 3);
  const Node& node = ctx.node;
  const Tensor& X = ctx.in(0);
  require_float(node, X, "input X");
  const NCS d = ncs_of(node, X, 2);
  check(node.has_attr("num_groups"), node.label(), ": attribute num_groups is required");
  const int64_t G = node.attr_int("num_groups", 1);
  check(G >= 1 && d.C % G == 0, node.label(), ": ", d.C, " channels are not divisible by num_groups ", G);
  const double eps = node.attr_float("epsilon", 1e-5f);
  // Opset 18: one scale/bias per group; opset 21: one per channel.
  const bool per_channel = ctx.opset >= 21;
  const int64_t pn = per_channel ? d.C : G;
  const std::vector<double> scale = channel_param(node, ctx.in(1), pn, "scale");
  const std::vector<double> bias = channel_param(node, ctx.in(2), pn, "bias");
  const int64_t cpg = d.C / G;
  const int64_t gsz = cpg * d.S;
  const DType cd = compute_dtype(X.dtype());
  Tensor x = to_compute(X, cd);
  Tensor y(cd, X.shape());
  with_compute(cd, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    for (int64_t n = 0; n < d.N; ++n)
      for (int64_t g = 0; g < G; ++g) {
        const int64_t base = (n * d.C + g * cpg) * d.S;
        double m = 0, v = 0;
        for (int64_t i = 0; i < gsz; ++i) m += double(xp[base + i]);
        m /= double(std::max<int64_t>(1, gsz));
        for (int64_t i = 0; i < gsz; ++i) {
          const double e = double(xp[base + i]) - m;
          v += e * e;
        }
        v /= double(std::max<int64_t>(1, gsz));
        const double inv = 1.0 / std::sqrt(v + eps);
        for (int64_t ci = 0; ci < cpg; ++ci) {
          const size_t pi = size_t(per_channel ? g * cpg + ci : g);
          const int64_t cb = base + ci * d.S;
          for (int64_t s = 0; s < d.S; ++s)
            yp[cb + s] = T((double(xp[cb + s]) - m) * inv * scale[pi] + bias[pi]);
        }
      }
  });
  return single(from_compute(y, X.dtype()));
}

// ---- LRN -------------------------------------------------------------------------------------------

std::vector<Tensor> lrn_kernel(KernelContext& ctx) {
  require_inputs(ctx, 1);
  const Node& node = ctx.node;
  const Tensor& X = ctx.in(0);
  require_float(node, X, "input X");
  const NCS d = ncs_of(node, X, 2);
  check(node.has_attr("size"), node.label(), ": attribute size is required");
  const int64_t size = node.attr_int("size", 1);
  check(size >= 1, node.label(), ": size must be positive, got ", size);
  const double alpha = node.attr_float("alpha", 1e-4f);
  const double beta = node.attr_float("beta", 0.75f);
  const double bias = node.attr_float("bias", 1.0f);
  const int64_t before = (size - 1) / 2, after = size - 1 - before;
  const DType cd = compute_dtype(X.dtype());
  Tensor x = to_compute(X, cd);
  Tensor y(cd, X.shape());
  with_compute(cd, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    std::vector<double> sq(size_t(d.S));
    for (int64_t n = 0; n < d.N; ++n)
      for (int64_t c = 0; c < d.C; ++c) {
        std::fill(sq.begin(), sq.end(), 0.0);
        const int64_t c0 = std::max<int64_t>(0, c - before), c1 = std::min<int64_t>(d.C - 1, c + after);
        for (int64_t cc = c0; cc <= c1; ++cc) {
          const T* v = xp + (n * d.C + cc) * d.S;
          for (int64_t s = 0; s < d.S; ++s) sq[size_t(s)] += double(v[s]) * double(v[s]);
        }
        const int64_t base = (n * d.C + c) * d.S;
        for (int64_t s = 0; s < d.S; ++s)
          yp[base + s] =
              T(double(xp[base + s]) / std::pow(bias + alpha / double(size) * sq[size_t(s)], beta));
      }
  });
  return single(from_compute(y, X.dtype()));
}

// ---- MeanVarianceNormalization ---------------------------------------------------------------------

std::vector<Tensor> mvn_kernel(KernelContext& ctx) {
  require_inputs(ctx, 1);
  const Node& node = ctx.node;
  const Tensor& X = ctx.in(0);
  require_float(node, X, "input X");
  const int64_t r = X.rank();
  std::vector<int64_t> axes;
  bool normalize_variance = true;
  if (ctx.opset < 9 && !node.has_attr("axes")) {
    const bool across = node.attr_int("across_channels", 0) != 0;
    normalize_variance = node.attr_int("normalize_variance", 1) != 0;
    axes = across ? std::vector<int64_t>{0, 1, 2, 3} : std::vector<int64_t>{0, 2, 3};
  } else {
    axes = node.attr_ints("axes", {0, 2, 3});
  }
  axes = normalize_axes(axes, r, node);
  std::vector<bool> reduced(size_t(r), false);
  for (int64_t a : axes) reduced[size_t(a)] = true;
  // Index of each element's statistics group (the keepdims-reduced flat index).
  Shape kept(size_t(r), 1);
  for (int64_t i = 0; i < r; ++i)
    if (!reduced[size_t(i)]) kept[size_t(i)] = X.dim(i);
  const std::vector<int64_t> ks = strides_of(kept);
  const int64_t groups = shape_numel(kept);
  std::vector<int64_t> key(size_t(X.numel()));
  {
    std::vector<int64_t> coord(size_t(r), 0);
    int64_t k = 0;
    for (int64_t f = 0; f < X.numel(); ++f) {
      key[size_t(f)] = k;
      for (int64_t dd = r; dd-- > 0;) {
        const int64_t step = reduced[size_t(dd)] ? 0 : ks[size_t(dd)];
        k += step;
        if (++coord[size_t(dd)] < X.dim(dd)) break;
        k -= step * coord[size_t(dd)];
        coord[size_t(dd)] = 0;
      }
    }
  }
  const DType cd = compute_dtype(X.dtype());
  Tensor x = to_compute(X, cd);
  Tensor y(cd, X.shape());
  with_compute(cd, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    std::vector<double> s1(size_t(groups), 0.0), s2(size_t(groups), 0.0), cnt(size_t(groups), 0.0);
    for (int64_t f = 0; f < X.numel(); ++f) {
      const double v = double(xp[f]);
      const size_t g = size_t(key[size_t(f)]);
      s1[g] += v;
      s2[g] += v * v;
      cnt[g] += 1;
    }
    for (int64_t g = 0; g < groups; ++g) {
      const double n = std::max(1.0, cnt[size_t(g)]);
      s1[size_t(g)] /= n;
      s2[size_t(g)] = std::sqrt(std::max(0.0, s2[size_t(g)] / n - s1[size_t(g)] * s1[size_t(g)]));
    }
    for (int64_t f = 0; f < X.numel(); ++f) {
      const size_t g = size_t(key[size_t(f)]);
      const double c = double(xp[f]) - s1[g];
      yp[f] = T(normalize_variance ? c / (s2[g] + 1e-9) : c);
    }
  });
  return single(from_compute(y, X.dtype()));
}

// ---- LpNormalization -----------------------------------------------------------------------------

std::vector<Tensor> lpnorm_kernel(KernelContext& ctx) {
  require_inputs(ctx, 1);
  const Node& node = ctx.node;
  const Tensor& X = ctx.in(0);
  require_float(node, X, "input X");
  check(X.rank() >= 1, node.label(), ": input must have rank >= 1");
  const int64_t axis = normalize_axis(node.attr_int("axis", -1), X.rank(), node);
  const int64_t p = node.attr_int("p", 2);
  check(p == 1 || p == 2, node.label(), ": p must be 1 or 2, got ", p);
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= X.dim(i);
  for (int64_t i = axis + 1; i < X.rank(); ++i) inner *= X.dim(i);
  const int64_t len = X.dim(axis);
  const DType cd = compute_dtype(X.dtype());
  Tensor x = to_compute(X, cd);
  Tensor y(cd, X.shape());
  with_compute(cd, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t base = o * len * inner + i;
        double s = 0;
        for (int64_t l = 0; l < len; ++l) {
          const double v = double(xp[base + l * inner]);
          s += p == 1 ? std::fabs(v) : v * v;
        }
        const double norm = p == 1 ? s : std::sqrt(s);
        for (int64_t l = 0; l < len; ++l)
          yp[base + l * inner] = T(double(xp[base + l * inner]) / norm);
      }
  });
  return single(from_compute(y, X.dtype()));
}

std::vector<TensorType> norm_same_shape(const InferContext& ctx, size_t min_inputs, int64_t min_rank) {
  require_inputs(ctx, min_inputs);
  const TensorType& X = ctx.in(0);
  if (X.has_shape)
    check(X.rank() >= min_rank, ctx.node.label(), ": input must have rank >= ", min_rank,
          ", got rank ", X.rank());
  return {X};
}

OpInfo norm_row(const char* name, int since, const char* summary) {
  OpInfo op;
  op.name = name;
  op.since = since;
  op.family = "norm";
  op.mapping = MappingType::ManyToMany;
  op.summary = summary;
  return op;
}

}  // namespace

void register_norm_ops(OpRegistry& r) {
  {
    OpInfo op = norm_row("BatchNormalization", 1,
                         "per-channel affine normalisation with running stats (training_mode outputs at opset 14+)");
    op.mapping = MappingType::OneToOne;
    op.shape = batchnorm_shape;
    op.kernel = batchnorm_kernel;
    op.cost = cost_per_element(2);
    r.add(op);
  }
  {
    OpInfo op = norm_row("InstanceNormalization", 1, "per-(N, C) normalisation over spatial dims, scale and bias per channel");
    op.shape = [](const InferContext& ctx) { return norm_same_shape(ctx, 3, 2); };
    op.kernel = instancenorm_kernel;
    op.cost = cost_per_element(6);
    r.add(op);
  }
  {
    OpInfo op = norm_row("LayerNormalization", 17,
                         "normalisation over dims [axis, rank) with scale/bias; optional Mean and InvStdDev");
    op.shape = layernorm_shape;
    op.kernel = [](KernelContext& ctx) { return axis_norm_kernel(ctx, false); };
    op.cost = cost_per_element(8);
    r.add(op);
  }
  {
    OpInfo op = norm_row("GroupNormalization", 18,
                         "normalisation over channel groups; scale/bias per group (opset 18) or per channel (21+)");
    op.shape = [](const InferContext& ctx) { return norm_same_shape(ctx, 3, 2); };
    op.kernel = groupnorm_kernel;
    op.cost = cost_per_element(8);
    r.add(op);
  }
  {
    OpInfo op = norm_row("RMSNormalization", 23, "x / sqrt(mean(x^2 over [axis, rank)) + eps) * scale");
    op.shape = rmsnorm_shape;
    op.kernel = [](KernelContext& ctx) { return axis_norm_kernel(ctx, true); };
    op.cost = cost_per_element(5);
    r.add(op);
  }
  {
    OpInfo op = norm_row("LRN", 1, "local response normalisation across channels");
    op.shape = [](const InferContext& ctx) { return norm_same_shape(ctx, 1, 2); };
    op.kernel = lrn_kernel;
    op.cost = [](const Node& node, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
      return per_element_cost(in, out, 2.0 * double(std::max<int64_t>(1, node.attr_int("size", 1))) + 4);
    };
    r.add(op);
  }
  {
    OpInfo op = norm_row("MeanVarianceNormalization", 1, "(x - mean) / (std + 1e-9) over the given axes");
    op.shape = [](const InferContext& ctx) { return norm_same_shape(ctx, 1, 0); };
    op.kernel = mvn_kernel;
    op.cost = cost_per_element(7);
    r.add(op);
  }
  {
    OpInfo op = norm_row("LpNormalization", 1, "x / ||x||_p along one axis (p = 1 or 2)");
    op.shape = [](const InferContext& ctx) { return norm_same_shape(ctx, 1, 1); };
    op.kernel = lpnorm_kernel;
    op.cost = cost_per_element(3);
    r.add(op);
  }
}

}  // namespace dnnf::ops
