// Operator rows of the reduce family (see op_families.h): Reduce{Sum,Mean,Max,Min,Prod,
// L1,L2,LogSum,LogSumExp,SumSquare}, ArgMax/ArgMin, CumSum, TopK.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "core/ops/matmul_internal.h"
#include "core/ops/op_families.h"
#include "core/ops/op_util.h"

namespace dnnf::ops {
namespace {

using mm::io_bytes;
using mm::static_numel;

// ---- axes and the reduction plan ------------------------------------------------

enum class RKind { Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp, SumSquare };

struct RSpec {
  const char* name;
  RKind kind;
  int axes_input_since;  // first opset where axes is an input (and noop_with_empty_axes exists)
  const char* summary;
};

// Resolved axes for a node: `all` means reduce every dim; `noop` means identity.
struct AxesChoice {
  std::vector<int64_t> axes;  // normalized, sorted, unique (empty with all/noop)
  bool all = false;
  bool noop = false;
};

AxesChoice choose_axes(const std::vector<int64_t>& raw, bool noop_attr, int64_t rank, const Node& node) {
  AxesChoice c;
  if (raw.empty()) {
    if (noop_attr) c.noop = true;
    else c.all = true;
    return c;
  }
  c.axes = normalize_axes(raw, rank, node);
  std::sort(c.axes.begin(), c.axes.end());
  return c;
}

bool noop_flag(const Node& node, int64_t opset, int since) {
  return opset >= since && node.attr_int("noop_with_empty_axes", 0) != 0;
}

// Flat offsets of the kept ("base") and reduced positions of an input shape.
struct ReducePlan {
  Shape keep_shape;  // output shape with reduced dims kept as 1
  std::vector<int64_t> base, red;
};

std::vector<int64_t> offsets_over(const Shape& shape, const std::vector<int64_t>& strides,
                                  const std::vector<bool>& use) {
  std::vector<size_t> dims;
  int64_t n = 1;
  for (size_t d = 0; d < shape.size(); ++d)
    if (use[d]) {
      dims.push_back(d);
      n *= shape[d];
    }
  std::vector<int64_t> out(static_cast<size_t>(n), 0);
  if (n == 0) return out;
  std::vector<int64_t> coord(dims.size(), 0);
  int64_t off = 0;
  for (int64_t i = 0; i < n; ++i) {
    out[size_t(i)] = off;
    for (size_t j = dims.size(); j-- > 0;) {
      const size_t d = dims[j];
      if (++coord[j] < shape[d]) {
        off += strides[d];
        break;
      }
      off -= strides[d] * (shape[d] - 1);
      coord[j] = 0;
    }
  }
  return out;
}

ReducePlan make_reduce_plan(const Shape& shape, const std::vector<bool>& reduced) {
  ReducePlan p;
  const std::vector<int64_t> st = strides_of(shape);
  std::vector<bool> kept(reduced.size());
  for (size_t d = 0; d < reduced.size(); ++d) {
    kept[d] = !reduced[d];
    p.keep_shape.push_back(reduced[d] ? 1 : shape[d]);
  }
  p.base = offsets_over(shape, st, kept);
  p.red = offsets_over(shape, st, reduced);
  return p;
}

Shape final_shape(const Shape& in, const std::vector<bool>& reduced, bool keepdims) {
  Shape s;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!reduced[d]) s.push_back(in[d]);
    else if (keepdims) s.push_back(1);
  }
  return s;
}

template <class V, class Init, class Step, class Fin>
void reduce_loop(const std::vector<V>& v, const ReducePlan& p, std::vector<V>& out, Init init, Step step, Fin fin) {
  const size_t R = p.red.size();
  for (size_t o = 0; o < p.base.size(); ++o) {
    const int64_t b = p.base[o];
    V a = init;
    for (size_t r = 0; r < R; ++r) a = step(a, v[size_t(b + p.red[r])]);
    out[o] = fin(a);
  }
}

double lowest_of(DType dt) {
  if (dtype_is_float(dt)) return -std::numeric_limits<double>::infinity();
  return dispatch_numeric(dt, [](auto t) { return double(std::numeric_limits<decltype(t)>::lowest()); });
}
double highest_of(DType dt) {
  if (dtype_is_float(dt)) return std::numeric_limits<double>::infinity();
  return dispatch_numeric(dt, [](auto t) { return double(std::numeric_limits<decltype(t)>::max()); });
}

Tensor reduce_tensor(const Tensor& x, const AxesChoice& ax, bool keepdims, RKind kind, const Node& node) {
  const DType dt = x.dtype();
  check(dt != DType::String && dt != DType::Undefined, node.label(), ": element type ", dtype_name(dt),
        " is not supported");
  if (dt == DType::Bool)
    check(kind == RKind::Max || kind == RKind::Min, node.label(), ": bool input is only supported by ReduceMax/ReduceMin");
  if (ax.noop) return x.clone();
  std::vector<bool> reduced(size_t(x.rank()), ax.all);
  for (int64_t a : ax.axes) reduced[size_t(a)] = true;
  const ReducePlan p = make_reduce_plan(x.shape(), reduced);
  Tensor out(dt, final_shape(x.shape(), reduced, keepdims));
  const size_t O = p.base.size();
  const double R = double(p.red.size());
  const bool empty = p.red.empty();

  const bool int_exact = dtype_is_integer(dt) &&
                         (kind == RKind::Sum || kind == RKind::Prod || kind == RKind::Max || kind == RKind::Min ||
                          kind == RKind::L1 || kind == RKind::SumSquare);
  if (int_exact) {
    const std::vector<int64_t> v = x.to_i64_vector();
    std::vector<int64_t> r(O);
    auto id = [](int64_t a) { return a; };
    // Integer sums and products wrap around on overflow (two's complement, as numpy and
    // ONNX Runtime do); computed in uint64_t because signed overflow is undefined in C++.
    auto add = [](int64_t a, int64_t b) { return int64_t(uint64_t(a) + uint64_t(b)); };
    auto mul = [](int64_t a, int64_t b) { return int64_t(uint64_t(a) * uint64_t(b)); };
    auto abs = [](int64_t b) { return b < 0 ? int64_t(0 - uint64_t(b)) : b; };
    switch (kind) {
      case RKind::Sum: reduce_loop(v, p, r, int64_t(0), add, id); break;
      case RKind::Prod: reduce_loop(v, p, r, int64_t(1), mul, id); break;
      case RKind::L1: reduce_loop(v, p, r, int64_t(0), [&](int64_t a, int64_t b) { return add(a, abs(b)); }, id); break;
      case RKind::SumSquare: reduce_loop(v, p, r, int64_t(0), [&](int64_t a, int64_t b) { return add(a, mul(b, b)); }, id); break;
      case RKind::Max:
        reduce_loop(v, p, r, std::numeric_limits<int64_t>::lowest(), [](int64_t a, int64_t b) { return std::max(a, b); }, id);
        break;
      default:
        reduce_loop(v, p, r, std::numeric_limits<int64_t>::max(), [](int64_t a, int64_t b) { return std::min(a, b); }, id);
        break;
    }
    if (empty && (kind == RKind::Max || kind == RKind::Min)) {
      const double e = kind == RKind::Max ? lowest_of(dt) : highest_of(dt);
      for (size_t o = 0; o < O; ++o) out.set_f64(int64_t(o), e);
    } else {
      for (size_t o = 0; o < O; ++o) out.set_i64(int64_t(o), r[o]);
    }
    return out;
  }

  const std::vector<double> v = mm::to_f64(x);
  std::vector<double> r(O);
  auto id = [](double a) { return a; };
  const double inf = std::numeric_limits<double>::infinity();
  switch (kind) {
    case RKind::Sum: reduce_loop(v, p, r, 0.0, [](double a, double b) { return a + b; }, id); break;
    case RKind::Mean:
      reduce_loop(v, p, r, 0.0, [](double a, double b) { return a + b; }, [R](double a) { return a / R; });
      break;
    case RKind::Prod: reduce_loop(v, p, r, 1.0, [](double a, double b) { return a * b; }, id); break;
    case RKind::L1: reduce_loop(v, p, r, 0.0, [](double a, double b) { return a + std::fabs(b); }, id); break;
    case RKind::L2:
      reduce_loop(v, p, r, 0.0, [](double a, double b) { return a + b * b; }, [](double a) { return std::sqrt(a); });
      break;
    case RKind::SumSquare: reduce_loop(v, p, r, 0.0, [](double a, double b) { return a + b * b; }, id); break;
    case RKind::LogSum:
      reduce_loop(v, p, r, 0.0, [](double a, double b) { return a + b; }, [](double a) { return std::log(a); });
      break;
    case RKind::Max:
      reduce_loop(v, p, r, -inf, [](double a, double b) { return (b > a || std::isnan(b)) ? b : a; }, id);
      break;
    case RKind::Min:
      reduce_loop(v, p, r, inf, [](double a, double b) { return (b < a || std::isnan(b)) ? b : a; }, id);
      break;
    case RKind::LogSumExp: {
      std::vector<double> m(O);
      reduce_loop(v, p, m, -inf, [](double a, double b) { return (b > a || std::isnan(b)) ? b : a; }, id);
      for (size_t o = 0; o < O; ++o) {
        const double mx = m[o];
        if (!std::isfinite(mx)) {
          r[o] = mx;  // -inf (empty or all -inf), +inf or NaN
          continue;
        }
        double s = 0;
        for (int64_t off : p.red) s += std::exp(v[size_t(p.base[o] + off)] - mx);
        r[o] = std::log(s) + mx;
      }
      break;
    }
  }
  if (empty && (kind == RKind::Max || kind == RKind::Min)) {
    const double e = kind == RKind::Max ? lowest_of(dt) : highest_of(dt);
    for (size_t o = 0; o < O; ++o) r[o] = e;
  }
  if (dt == DType::F32) {
    float* o = out.data<float>();
    for (size_t i = 0; i < O; ++i) o[i] = float(r[i]);
  } else {
    for (size_t i = 0; i < O; ++i) out.set_f64(int64_t(i), r[i]);
  }
  return out;
}

std::vector<TensorType> reduce_shape(const InferContext& ctx, int since) {
  require_inputs(ctx, 1);
  const Node& node = ctx.node;
  const TensorType& x = ctx.in(0);
  const bool keepdims = node.attr_int("keepdims", 1) != 0;
  if (!x.has_shape) return {TensorType::unknown_shape(x.dtype)};
  std::optional<std::vector<int64_t>> raw;
  if (ctx.has_input(1)) {
    raw = const_ints(ctx, 1);
    if (!raw) {
      if (keepdims) return {TensorType(x.dtype, std::vector<Dim>(size_t(x.rank())))};
      return {TensorType::unknown_shape(x.dtype)};
    }
  } else {
    raw = node.attr_ints("axes");
  }
  const AxesChoice ax = choose_axes(*raw, noop_flag(node, ctx.opset, since), x.rank(), node);
  if (ax.noop) return {x};
  std::vector<Dim> out;
  for (int64_t d = 0; d < x.rank(); ++d) {
    const bool red = ax.all || std::binary_search(ax.axes.begin(), ax.axes.end(), d);
    if (!red) out.push_back(x.dims[size_t(d)]);
    else if (keepdims) out.push_back(Dim(1));
  }
  return {TensorType(x.dtype, out)};
}

OpCost reduce_cost(const Node&, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
  OpCost c;
  c.bytes = io_bytes(in, out);
  if (!in.empty()) c.flops = double(std::max<int64_t>(static_numel(in[0]), 0));
  return c;
}

OpInfo reduce_row(const RSpec& s) {
  OpInfo r;
  r.name = s.name;
  r.family = "reduce";
  r.mapping = MappingType::ManyToMany;
  const int since = s.axes_input_since;
  const RKind kind = s.kind;
  r.shape = [since](const InferContext& ctx) { return reduce_shape(ctx, since); };
  r.kernel = [since, kind](KernelContext& ctx) {
    require_inputs(ctx, 1);
    const Node& node = ctx.node;
    const Tensor& x = ctx.in(0);
    const std::vector<int64_t> raw = ints_input_or_attr(ctx, 1, "axes").value_or(std::vector<int64_t>{});
    const AxesChoice ax = choose_axes(raw, noop_flag(node, ctx.opset, since), x.rank(), node);
    return std::vector<Tensor>{reduce_tensor(x, ax, node.attr_int("keepdims", 1) != 0, kind, node)};
  };
  r.cost = reduce_cost;
  r.summary = s.summary;
  return r;
}

// ---- ArgMax / ArgMin ----------------------------------------------------------------

OpInfo arg_row(const char* name, bool is_max) {
  OpInfo r;
  r.name = name;
  r.family = "reduce";
  r.mapping = MappingType::ManyToMany;
  r.shape = [](const InferContext& ctx) {
    require_inputs(ctx, 1);
    const TensorType& x = ctx.in(0);
    if (!x.has_shape) return std::vector<TensorType>{TensorType::unknown_shape(DType::I64)};
    const int64_t axis = normalize_axis(ctx.node.attr_int("axis", 0), x.rank(), ctx.node);
    std::vector<Dim> dims = x.dims;
    if (ctx.node.attr_int("keepdims", 1) != 0) dims[size_t(axis)] = Dim(1);
    else dims.erase(dims.begin() + axis);
    return std::vector<TensorType>{TensorType(DType::I64, dims)};
  };
  r.kernel = [is_max](KernelContext& ctx) {
    require_inputs(ctx, 1);
    const Node& node = ctx.node;
    const Tensor& x = ctx.in(0);
    check(x.rank() >= 1, node.label(), ": input must have rank >= 1");
    const int64_t axis = normalize_axis(node.attr_int("axis", 0), x.rank(), node);
    const bool keep = node.attr_int("keepdims", 1) != 0;
    const bool last = node.attr_int("select_last_index", 0) != 0;
    const int64_t n = x.dim(axis);
    check(n > 0, node.label(), ": cannot take ", is_max ? "ArgMax" : "ArgMin", " over an empty axis");
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
    for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
    Shape os = x.shape();
    if (keep) os[size_t(axis)] = 1;
    else os.erase(os.begin() + axis);
    Tensor out(DType::I64, os);
    int64_t* o = out.data<int64_t>();
    const std::vector<double> v = mm::to_f64(x);
    for (int64_t a = 0; a < outer; ++a)
      for (int64_t i = 0; i < inner; ++i) {
        const size_t base = size_t(a * n * inner + i);
        int64_t best = 0;
        double bv = v[base];
        for (int64_t k = 1; k < n; ++k) {
          const double cv = v[base + size_t(k * inner)];
          const bool better = is_max ? (last ? cv >= bv : cv > bv) : (last ? cv <= bv : cv < bv);
          if (better) {
            best = k;
            bv = cv;
          }
        }
        o[a * inner + i] = best;
      }
    return std::vector<Tensor>{out};
  };
  r.cost = reduce_cost;
  r.summary = is_max ? "index of the largest element along an axis (keepdims, select_last_index)"
                     : "index of the smallest element along an axis (keepdims, select_last_index)";
  return r;
}

// ---- CumSum -------------------------------------------------------------------------

template <class V>
void cumsum_loop(const std::vector<V>& v, std::vector<V>& r, int64_t outer, int64_t n, int64_t inner, bool exclusive,
                 bool reverse) {
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t i = 0; i < inner; ++i) {
      V acc = V(0);
      for (int64_t s = 0; s < n; ++s) {
        const int64_t k = reverse ? n - 1 - s : s;
        const size_t idx = size_t((a * n + k) * inner + i);
        if (exclusive) {
          r[idx] = acc;
          acc += v[idx];
        } else {
          acc += v[idx];
          r[idx] = acc;
        }
      }
    }
}

OpInfo cumsum_row() {
  OpInfo r;
  r.name = "CumSum";
  r.family = "reduce";
  r.mapping = MappingType::ManyToMany;
  r.shape = [](const InferContext& ctx) {
    require_inputs(ctx, 2);
    return same_as_input(ctx, 0);
  };
  r.kernel = [](KernelContext& ctx) {
    require_inputs(ctx, 2);
    const Node& node = ctx.node;
    const Tensor& x = ctx.in(0);
    const Tensor& at = ctx.in(1);
    check(at.numel() == 1 && at.rank() <= 1 && dtype_is_integer(at.dtype()), node.label(),
          ": axis must be an integer scalar");
    check(x.rank() >= 1, node.label(), ": input must have rank >= 1");
    const int64_t axis = normalize_axis(at.get_i64(0), x.rank(), node);
    const bool exclusive = node.attr_int("exclusive", 0) != 0, reverse = node.attr_int("reverse", 0) != 0;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
    for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
    const int64_t n = x.dim(axis);
    Tensor out(x.dtype(), x.shape());
    const int64_t total = x.numel();
    if (dtype_is_integer(x.dtype())) {
      const std::vector<int64_t> v = x.to_i64_vector();
      std::vector<int64_t> res(v.size());
      cumsum_loop(v, res, outer, n, inner, exclusive, reverse);
      for (int64_t i = 0; i < total; ++i) out.set_i64(i, res[size_t(i)]);
    } else {
      check(dtype_is_float(x.dtype()), node.label(), ": element type ", dtype_name(x.dtype()), " is not supported");
      const std::vector<double> v = mm::to_f64(x);
      std::vector<double> res(v.size());
      cumsum_loop(v, res, outer, n, inner, exclusive, reverse);
      for (int64_t i = 0; i < total; ++i) out.set_f64(i, res[size_t(i)]);
    }
    return std::vector<Tensor>{out};
  };
  r.cost = reduce_cost;
  r.summary = "cumulative sum along an axis (exclusive, reverse)";
  return r;
}

// ---- TopK ---------------------------------------------------------------------------

// Sorts the indices of one slice so that the first k are the top-k (ties: lower index first).
template <class K>
void topk_slice(const K* keys, int64_t n, int64_t stride, int64_t k, bool largest, std::vector<int64_t>& idx) {
  idx.resize(size_t(n));
  std::iota(idx.begin(), idx.end(), int64_t(0));
  auto key = [&](int64_t i) { return keys[i * stride]; };
  auto cmp = [&](int64_t a, int64_t b) {
    const K ka = key(a), kb = key(b);
    if (largest ? ka > kb : ka < kb) return true;
    if (largest ? kb > ka : kb < ka) return false;
    return a < b;
  };
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), cmp);
}

std::optional<int64_t> topk_k_type(const InferContext& ctx) {
  if (ctx.opset < 10) {
    if (!ctx.node.has_attr("k")) return std::nullopt;
    return ctx.node.attr_int("k", 0);
  }
  auto v = const_ints(ctx, 1);
  if (!v || v->size() != 1) return std::nullopt;
  return (*v)[0];
}

OpInfo topk_row() {
  OpInfo r;
  r.name = "TopK";
  r.family = "reduce";
  r.mapping = MappingType::ManyToMany;
  r.shape = [](const InferContext& ctx) {
    require_inputs(ctx, ctx.opset < 10 ? 1 : 2);
    const TensorType& x = ctx.in(0);
    if (!x.has_shape)
      return std::vector<TensorType>{TensorType::unknown_shape(x.dtype), TensorType::unknown_shape(DType::I64)};
    const int64_t axis = normalize_axis(ctx.node.attr_int("axis", -1), x.rank(), ctx.node);
    std::vector<Dim> dims = x.dims;
    const auto k = topk_k_type(ctx);
    if (k) {
      check(*k >= 0, ctx.node.label(), ": k must be >= 0 (got ", *k, ")");
      const Dim& d = dims[size_t(axis)];
      check(!d.known() || *k <= d.value, ctx.node.label(), ": k = ", *k, " exceeds axis size ", d.value);
      dims[size_t(axis)] = Dim(*k);
    } else {
      dims[size_t(axis)] = Dim();
    }
    return std::vector<TensorType>{TensorType(x.dtype, dims), TensorType(DType::I64, dims)};
  };
  r.kernel = [](KernelContext& ctx) {
    const Node& node = ctx.node;
    require_inputs(ctx, ctx.opset < 10 ? 1 : 2);
    const Tensor& x = ctx.in(0);
    check(x.rank() >= 1, node.label(), ": input must have rank >= 1");
    int64_t k = 0;
    if (ctx.opset < 10) {
      check(node.has_attr("k"), node.label(), ": missing attribute 'k'");
      k = node.attr_int("k", 0);
    } else {
      const Tensor& kt = ctx.in(1);
      check(kt.numel() == 1 && dtype_is_integer(kt.dtype()), node.label(), ": K must be a single integer");
      k = kt.get_i64(0);
    }
    const int64_t axis = normalize_axis(node.attr_int("axis", -1), x.rank(), node);
    const int64_t n = x.dim(axis);
    check(k >= 0 && k <= n, node.label(), ": k = ", k, " is out of range for axis size ", n);
    const bool largest = ctx.opset < 11 || node.attr_int("largest", 1) != 0;
    check(x.dtype() != DType::String && x.dtype() != DType::Bool, node.label(), ": element type ",
          dtype_name(x.dtype()), " is not supported");
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
    for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
    Shape os = x.shape();
    os[size_t(axis)] = k;
    Tensor vals(x.dtype(), os), inds(DType::I64, os);
    int64_t* io = inds.data<int64_t>();
    const size_t es = dtype_size(x.dtype());
    const auto* src = static_cast<const unsigned char*>(x.raw());
    auto* dst = static_cast<unsigned char*>(vals.raw());
    std::vector<float> f16keys;
    if (x.dtype() == DType::F16 || x.dtype() == DType::BF16) f16keys = x.to_f32_vector();
    std::vector<int64_t> idx;
    for (int64_t a = 0; a < outer; ++a)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t base = a * n * inner + i;
        if (!f16keys.empty()) {
          topk_slice(f16keys.data() + base, n, inner, k, largest, idx);
        } else {
          dispatch_numeric(x.dtype(), [&](auto tag) {
            using T = decltype(tag);
            topk_slice(x.data<T>() + base, n, inner, k, largest, idx);
          });
        }
        for (int64_t j = 0; j < k; ++j) {
          const int64_t o = (a * k + j) * inner + i;
          io[o] = idx[size_t(j)];
          std::memcpy(dst + size_t(o) * es, src + size_t(base + idx[size_t(j)] * inner) * es, es);
        }
      }
    return std::vector<Tensor>{vals, inds};
  };
  r.cost = [](const Node&, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
    OpCost c;
    c.bytes = io_bytes(in, out);
    if (!in.empty()) {
      const int64_t n = static_numel(in[0]);
      if (n > 0) c.flops = double(n) * std::log2(double(n) + 1.0);
    }
    return c;
  };
  r.summary = "k largest/smallest elements along an axis with indices (ties: lower index first)";
  return r;
}

}  // namespace

void register_reduce_ops(OpRegistry& r) {
  static const RSpec specs[] = {
      {"ReduceSum", RKind::Sum, 13, "sum over axes (keepdims, noop_with_empty_axes); linear, so Add/scalar Mul commute with it (no MathProps entry: not a binary op)"},
      {"ReduceMean", RKind::Mean, 18, "mean over axes"},
      {"ReduceMax", RKind::Max, 18, "maximum over axes (empty set: lowest value)"},
      {"ReduceMin", RKind::Min, 18, "minimum over axes (empty set: highest value)"},
      {"ReduceProd", RKind::Prod, 18, "product over axes"},
      {"ReduceL1", RKind::L1, 18, "sum of absolute values over axes"},
      {"ReduceL2", RKind::L2, 18, "square root of the sum of squares over axes"},
      {"ReduceLogSum", RKind::LogSum, 18, "log of the sum over axes"},
      {"ReduceLogSumExp", RKind::LogSumExp, 18, "log of the sum of exponentials over axes (max-shifted)"},
      {"ReduceSumSquare", RKind::SumSquare, 18, "sum of squares over axes"},
  };
  for (const RSpec& s : specs) r.add(reduce_row(s));
  r.add(arg_row("ArgMax", true));
  r.add(arg_row("ArgMin", false));
  r.add(cumsum_row());
  r.add(topk_row());
}

}  // namespace dnnf::ops
