// Operator rows of the slice_concat family (see op_families.h): Slice, Split, Concat,
// Pad, ReverseSequence, Compress, NonZero, OneHot, Unique (Resize and Upsample live in
// slice_concat_ops_resize.cpp).
//
// Mapping types: Slice/Split/Concat/Pad map each output element to at most one input
// element by an offset (One-to-One, DNNFusion Table 2). OneHot writes a whole one-hot
// row per index (One-to-Many). ReverseSequence re-indexes data 1-1 but each
// sequence_lens element steers a whole sequence (One-to-Many, the most complex pair).
// Compress, NonZero and Unique place each output by a scan of the whole input (an
// output position depends on every earlier element), so they are Many-to-Many.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/ops/op_families.h"
#include "core/util/limits.h"
#include "core/ops/op_util.h"
#include "core/ops/shape_ops_common.h"

namespace dnnf::ops {

using namespace movement;

namespace {

OpInfo make_row(const char* name, int since, MappingType mapping, const char* summary) {
  return movement_row(name, since, "slice_concat", mapping, summary, movement_cost);
}

std::vector<std::vector<int64_t>> identity_maps(const Shape& s) {
  std::vector<std::vector<int64_t>> maps(s.size());
  for (size_t d = 0; d < s.size(); ++d) {
    maps[d].resize(size_t(s[d]));
    std::iota(maps[d].begin(), maps[d].end(), int64_t(0));
  }
  return maps;
}

// ---- Slice ----------------------------------------------------------------------------------

struct SliceSpec {
  std::vector<int64_t> starts, ends, axes, steps;
};

// Slice parameters: attributes before opset 10, inputs 1..4 from 10. nullopt when an
// input is not known (shape inference).
std::optional<SliceSpec> slice_spec(const Node& node, int64_t opset,
                                    const std::function<std::optional<std::vector<int64_t>>(size_t)>& input,
                                    const std::function<bool(size_t)>& present) {
  SliceSpec s;
  if (opset < 10) {
    check(node.has_attr("starts") && node.has_attr("ends"), node.label(),
          ": missing attribute 'starts' or 'ends'");
    s.starts = node.attr_ints("starts");
    s.ends = node.attr_ints("ends");
    if (node.has_attr("axes")) s.axes = node.attr_ints("axes");
  } else {
    check(present(1) && present(2), node.label(), ": missing input 'starts' or 'ends'");
    auto a = input(1), b = input(2);
    if (!a || !b) return std::nullopt;
    s.starts = *a;
    s.ends = *b;
    if (present(3)) {
      auto c = input(3);
      if (!c) return std::nullopt;
      s.axes = *c;
    }
    if (present(4)) {
      auto d = input(4);
      if (!d) return std::nullopt;
      s.steps = *d;
    }
  }
  check(s.starts.size() == s.ends.size(), node.label(), ": starts and ends differ in length");
  if (s.axes.empty()) {
    s.axes.resize(s.starts.size());
    std::iota(s.axes.begin(), s.axes.end(), int64_t(0));
  }
  if (s.steps.empty()) s.steps.assign(s.starts.size(), 1);
  check(s.axes.size() == s.starts.size() && s.steps.size() == s.starts.size(), node.label(),
        ": starts, ends, axes and steps must have the same length");
  return s;
}

struct AxisSlice {
  int64_t start = 0, step = 1, count = 0;
};

// ONNX clamping rules for one axis of size n.
AxisSlice clamp_slice(int64_t start, int64_t end, int64_t step, int64_t n, const Node& node) {
  check(step != 0, node.label(), ": slice step must not be 0");
  // A step longer than the axis takes at most one element; bounding it keeps -step defined.
  step = std::clamp<int64_t>(step, -(int64_t(1) << 62), int64_t(1) << 62);
  if (start < 0) start += n;
  if (end < 0) end += n;
  AxisSlice a;
  a.step = step;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, n);
    end = std::clamp<int64_t>(end, 0, n);
    a.count = end > start ? (end - start - 1) / step + 1 : 0;
  } else {
    start = std::clamp<int64_t>(start, 0, n - 1);
    end = std::clamp<int64_t>(end, -1, n - 1);
    a.count = start > end ? (start - end - 1) / (-step) + 1 : 0;
  }
  a.start = start;
  return a;
}

OpInfo slice_row() {
  OpInfo r = make_row("Slice", 1, MappingType::OneToOne,
                      "Strided slice along axes (negative / clamped bounds, negative steps)");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    const TensorType& x = ctx.in(0);
    if (!x.has_shape) return {TensorType::unknown_shape(x.dtype)};
    auto spec = slice_spec(ctx.node, ctx.opset, [&](size_t i) { return known_ints(ctx, i); },
                           [&](size_t i) { return ctx.has_input(i); });
    std::vector<Dim> out = x.dims;
    if (!spec) {
      // Axes may still be known: only those dims become unknown.
      auto axes = ctx.has_input(3) ? known_ints(ctx, 3) : std::nullopt;
      if (axes) {
        for (int64_t a : normalize_axes(*axes, x.rank(), ctx.node)) out[size_t(a)] = Dim();
        return {TensorType(x.dtype, out)};
      }
      return {unknown_dims(x.dtype, x.rank())};
    }
    auto axes = normalize_axes(spec->axes, x.rank(), ctx.node);
    std::vector<bool> seen(size_t(x.rank()), false);
    for (size_t i = 0; i < axes.size(); ++i) {
      size_t a = size_t(axes[i]);
      check(!seen[a], ctx.node.label(), ": axis ", axes[i], " repeats");
      seen[a] = true;
      check(spec->steps[i] != 0, ctx.node.label(), ": slice step must not be 0");
      const Dim& d = x.dims[a];
      if (d.known()) {
        out[a] = Dim(clamp_slice(spec->starts[i], spec->ends[i], spec->steps[i], d.value, ctx.node).count);
      } else {
        // Whole-axis slices keep a symbolic dim.
        bool whole = spec->steps[i] == 1 && spec->starts[i] == 0 &&
                     spec->ends[i] >= std::numeric_limits<int32_t>::max();
        out[a] = whole ? d : Dim();
      }
    }
    return {TensorType(x.dtype, out)};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    auto spec = slice_spec(ctx.node, ctx.opset, [&](size_t i) { return opt_ints(ctx, i); },
                           [&](size_t i) { return ctx.has_input(i); });
    auto axes = normalize_axes(spec->axes, x.rank(), ctx.node);
    Shape out_shape = x.shape();
    auto maps = identity_maps(x.shape());
    std::vector<bool> seen(size_t(x.rank()), false);
    for (size_t i = 0; i < axes.size(); ++i) {
      size_t a = size_t(axes[i]);
      check(!seen[a], ctx.node.label(), ": axis ", axes[i], " repeats");
      seen[a] = true;
      AxisSlice s = clamp_slice(spec->starts[i], spec->ends[i], spec->steps[i], x.shape()[a], ctx.node);
      out_shape[a] = s.count;
      maps[a].resize(size_t(s.count));
      for (int64_t o = 0; o < s.count; ++o) maps[a][size_t(o)] = s.start + o * s.step;
    }
    return {gather_axes(x, out_shape, maps)};
  };
  return r;
}

// ---- Split -----------------------------------------------------------------------------------

// Explicit split sizes: attribute before opset 13 (opset 1 also took an input), input
// from 13. Returns nullopt when not given; sets `unknown` when given but not known.
std::optional<std::vector<int64_t>> split_sizes_given(const Node& node, int64_t opset,
                                                      const std::function<std::optional<std::vector<int64_t>>(size_t)>& input,
                                                      const std::function<bool(size_t)>& present,
                                                      bool& unknown) {
  unknown = false;
  if (opset < 13 && node.has_attr("split")) return node.attr_ints("split");
  if ((opset >= 13 || opset < 2) && present(1)) {
    auto v = input(1);
    if (!v) unknown = true;
    return v;
  }
  return std::nullopt;
}

// Equal split of n into k parts (opset 18 num_outputs allows a smaller last chunk).
std::vector<int64_t> equal_split(int64_t n, int64_t k, bool allow_uneven, const Node& node) {
  check(k > 0, node.label(), ": Split needs at least one output");
  std::vector<int64_t> sizes;
  if (n % k == 0) return std::vector<int64_t>(size_t(k), n / k);
  check(allow_uneven, node.label(), ": dim ", n, " does not split evenly into ", k, " parts");
  int64_t chunk = (n + k - 1) / k;
  for (int64_t i = 0; i < k; ++i) sizes.push_back(std::max<int64_t>(0, std::min(chunk, n - i * chunk)));
  return sizes;
}

int64_t split_count(const Node& node, int64_t opset, size_t num_outputs) {
  if (opset >= 18 && node.has_attr("num_outputs")) {
    int64_t k = node.attr_int("num_outputs", 0);
    check(k == int64_t(num_outputs), node.label(), ": num_outputs ", k, " but the node has ",
          num_outputs, " outputs");
    return k;
  }
  return int64_t(num_outputs);
}

void check_split_sizes(const std::vector<int64_t>& sizes, size_t num_outputs, const Node& node) {
  check(sizes.size() == num_outputs, node.label(), ": split has ", sizes.size(), " entries but the node has ",
        num_outputs, " outputs");
  for (int64_t s : sizes) check(s >= 0, node.label(), ": negative split size ", s);
}

OpInfo split_row() {
  OpInfo r = make_row("Split", 1, MappingType::OneToOne,
                      "Split along an axis by sizes (attr < 13, input >= 13) or into equal parts "
                      "(num_outputs from opset 18, smaller last chunk)");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    const TensorType& x = ctx.in(0);
    const size_t k = ctx.num_outputs();
    if (!x.has_shape) return std::vector<TensorType>(k, TensorType::unknown_shape(x.dtype));
    int64_t axis = normalize_axis(ctx.node.attr_int("axis", 0), x.rank(), ctx.node);
    bool unknown = false;
    auto sizes = split_sizes_given(ctx.node, ctx.opset, [&](size_t i) { return known_ints(ctx, i); },
                                   [&](size_t i) { return ctx.has_input(i); }, unknown);
    const Dim& d = x.dims[size_t(axis)];
    std::vector<TensorType> out(k, x);
    if (sizes) {
      check_split_sizes(*sizes, k, ctx.node);
      int64_t total = std::accumulate(sizes->begin(), sizes->end(), int64_t(0));
      check(!d.known() || d.value == total, ctx.node.label(), ": split sizes sum to ", total,
            " but axis ", axis, " has size ", d.value);
      for (size_t i = 0; i < k; ++i) out[i].dims[size_t(axis)] = Dim((*sizes)[i]);
    } else if (unknown) {
      for (auto& t : out) t.dims[size_t(axis)] = Dim();
    } else {
      int64_t parts = split_count(ctx.node, ctx.opset, k);
      if (d.known()) {
        auto eq = equal_split(d.value, parts, ctx.opset >= 18, ctx.node);
        for (size_t i = 0; i < k; ++i) out[i].dims[size_t(axis)] = Dim(eq[i]);
      } else if (parts != 1) {
        for (auto& t : out) t.dims[size_t(axis)] = Dim();
      }
    }
    return out;
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    const size_t k = ctx.num_outputs();
    int64_t axis = normalize_axis(ctx.node.attr_int("axis", 0), x.rank(), ctx.node);
    const int64_t n = x.shape()[size_t(axis)];
    bool unknown = false;
    auto sizes = split_sizes_given(ctx.node, ctx.opset, [&](size_t i) { return opt_ints(ctx, i); },
                                   [&](size_t i) { return ctx.has_input(i); }, unknown);
    std::vector<int64_t> sz;
    if (sizes) {
      check_split_sizes(*sizes, k, ctx.node);
      sz = *sizes;
      int64_t total = std::accumulate(sz.begin(), sz.end(), int64_t(0));
      check(total == n, ctx.node.label(), ": split sizes sum to ", total, " but axis ", axis, " has size ", n);
    } else {
      sz = equal_split(n, split_count(ctx.node, ctx.opset, k), ctx.opset >= 18, ctx.node);
    }
    const auto st = strides_of(x.shape());
    std::vector<Tensor> out;
    int64_t off = 0;
    for (size_t i = 0; i < k; ++i) {
      Shape s = x.shape();
      s[size_t(axis)] = sz[i];
      Tensor t(x.dtype(), s);
      strided_copy(x, off * st[size_t(axis)], st, t, 0, strides_of(s), s);
      out.push_back(t);
      off += sz[i];
    }
    return out;
  };
  return r;
}

// ---- Concat ---------------------------------------------------------------------------------

int64_t concat_axis_attr(const Node& node, int64_t opset) {
  if (opset < 4) return node.attr_int("axis", 1);
  check(node.has_attr("axis"), node.label(), ": missing attribute 'axis'");
  return node.attr_int("axis", 0);
}

OpInfo concat_row() {
  OpInfo r = make_row("Concat", 1, MappingType::OneToOne, "Concatenate inputs along an axis");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    const TensorType* ranked = nullptr;
    for (const auto& t : ctx.inputs)
      if (t.has_shape) {
        ranked = &t;
        break;
      }
    DType dt = ctx.in(0).dtype;
    for (const auto& t : ctx.inputs)
      check(t.dtype == dt, ctx.node.label(), ": inputs differ in element type (", dtype_name(dt), " vs ",
            dtype_name(t.dtype), ")");
    if (!ranked) return {TensorType::unknown_shape(dt)};
    const int64_t rank = ranked->rank();
    int64_t axis = normalize_axis(concat_axis_attr(ctx.node, ctx.opset), rank, ctx.node);
    std::vector<Dim> out(static_cast<size_t>(rank));
    Dim sum(0);
    bool first = true;
    for (const auto& t : ctx.inputs) {
      if (!t.has_shape) {
        sum = Dim();
        continue;
      }
      check(t.rank() == rank, ctx.node.label(), ": inputs differ in rank (", ranked->str(), " vs ", t.str(), ")");
      for (int64_t d = 0; d < rank; ++d) {
        const Dim& v = t.dims[size_t(d)];
        if (d == axis) continue;
        Dim& o = out[size_t(d)];
        if (first) o = v;
        else if (v.known() && o.known())
          check(v.value == o.value, ctx.node.label(), ": inputs differ in dim ", d, " (", ranked->str(),
                " vs ", t.str(), ")");
        else if (v.known() || (!o.known() && o.symbol.empty())) o = v;
      }
      sum = dim_add(sum, t.dims[size_t(axis)]);
      first = false;
    }
    out[size_t(axis)] = sum;
    return {TensorType(dt, out)};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    require_inputs(ctx, 1);
    const Tensor& x0 = ctx.in(0);
    const int64_t rank = x0.rank();
    int64_t axis = normalize_axis(concat_axis_attr(ctx.node, ctx.opset), rank, ctx.node);
    Shape out_shape = x0.shape();
    out_shape[size_t(axis)] = 0;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      const Tensor& t = ctx.in(i);
      check(t.dtype() == x0.dtype(), ctx.node.label(), ": inputs differ in element type");
      check(t.rank() == rank, ctx.node.label(), ": inputs differ in rank (", shape_str(x0.shape()), " vs ",
            shape_str(t.shape()), ")");
      for (int64_t d = 0; d < rank; ++d)
        check(d == axis || t.shape()[size_t(d)] == x0.shape()[size_t(d)], ctx.node.label(),
              ": inputs differ in dim ", d, " (", shape_str(x0.shape()), " vs ", shape_str(t.shape()), ")");
      out_shape[size_t(axis)] += t.shape()[size_t(axis)];
    }
    Tensor out(x0.dtype(), out_shape);
    const auto ost = strides_of(out_shape);
    int64_t off = 0;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      const Tensor& t = ctx.in(i);
      strided_copy(t, 0, strides_of(t.shape()), out, off * ost[size_t(axis)], ost, t.shape());
      off += t.shape()[size_t(axis)];
    }
    return {out};
  };
  return r;
}

// ---- Pad ------------------------------------------------------------------------------------

// Full-rank pads [b0..b(r-1), e0..e(r-1)]; nullopt when not known.
std::optional<std::vector<int64_t>> pad_amounts(const Node& node, int64_t opset, int64_t rank,
                                                const std::function<std::optional<std::vector<int64_t>>(size_t)>& input,
                                                const std::function<bool(size_t)>& present) {
  std::vector<int64_t> pads;
  std::vector<int64_t> axes;
  if (opset < 11) {
    const char* name = opset < 2 ? "paddings" : "pads";
    check(node.has_attr(name), node.label(), ": missing attribute '", name, "'");
    pads = node.attr_ints(name);
  } else {
    check(present(1), node.label(), ": missing input 'pads'");
    auto p = input(1);
    if (!p) return std::nullopt;
    pads = *p;
    if (opset >= 18 && present(3)) {
      auto a = input(3);
      if (!a) return std::nullopt;
      axes = normalize_axes(*a, rank, node);
    }
  }
  if (axes.empty()) {
    check(int64_t(pads.size()) == 2 * rank, node.label(), ": pads has ", pads.size(),
          " entries for an input of rank ", rank, " (expected ", 2 * rank, ")");
    return pads;
  }
  check(pads.size() == 2 * axes.size(), node.label(), ": pads has ", pads.size(), " entries for ",
        axes.size(), " axes");
  std::vector<int64_t> full(size_t(2 * rank), 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    full[size_t(axes[i])] = pads[i];
    full[size_t(axes[i] + rank)] = pads[i + axes.size()];
  }
  return full;
}

std::string pad_mode(const Node& node) {
  std::string mode = node.attr_string("mode", "constant");
  check(mode == "constant" || mode == "reflect" || mode == "edge" || mode == "wrap", node.label(),
        ": unknown pad mode '", mode, "'");
  return mode;
}

OpInfo pad_row() {
  OpInfo r = make_row("Pad", 1, MappingType::OneToOne,
                      "Pad (or crop, with negative pads) each axis; modes constant/reflect/edge/wrap");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    const TensorType& x = ctx.in(0);
    pad_mode(ctx.node);
    if (!x.has_shape) return {TensorType::unknown_shape(x.dtype)};
    auto pads = pad_amounts(ctx.node, ctx.opset, x.rank(), [&](size_t i) { return known_ints(ctx, i); },
                            [&](size_t i) { return ctx.has_input(i); });
    if (!pads) return {unknown_dims(x.dtype, x.rank())};
    std::vector<Dim> out = x.dims;
    for (int64_t d = 0; d < x.rank(); ++d) {
      int64_t add = (*pads)[size_t(d)] + (*pads)[size_t(d + x.rank())];
      const Dim& v = x.dims[size_t(d)];
      if (v.known()) {
        check(v.value + add >= 0, ctx.node.label(), ": pads make dim ", d, " negative");
        out[size_t(d)] = Dim(v.value + add);
      } else if (add != 0) {
        out[size_t(d)] = Dim();
      }
    }
    return {TensorType(x.dtype, out)};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    const std::string mode = pad_mode(ctx.node);
    const int64_t rank = x.rank();
    auto pads = *pad_amounts(ctx.node, ctx.opset, rank, [&](size_t i) { return opt_ints(ctx, i); },
                             [&](size_t i) { return ctx.has_input(i); });
    // Fill value for constant mode.
    Tensor fill;
    if (ctx.opset >= 11 && ctx.has_input(2) && ctx.in(2).numel() > 0) {
      const Tensor& v = ctx.in(2);
      check(v.dtype() == x.dtype(), ctx.node.label(), ": constant_value type differs from data");
      fill = Tensor(x.dtype(), Shape{});
      copy_block(v, 0, fill, 0, 1);
    } else {
      fill = scalar_of_dtype(x.dtype(), ctx.opset < 11 ? double(ctx.node.attr_float("value", 0.0f)) : 0.0);
    }
    const int64_t limit = limits().tensor_elements;
    for (int64_t p : pads)
      check(p >= -limit && p <= limit, ctx.node.label(), ": pad ", p, " is over the tensor limit");
    Shape out_shape(static_cast<size_t>(rank));
    for (int64_t d = 0; d < rank; ++d) {
      const int64_t b = pads[size_t(d)], e = pads[size_t(d + rank)];
      out_shape[size_t(d)] = x.shape()[size_t(d)] + b + e;
      check(out_shape[size_t(d)] >= 0, ctx.node.label(), ": negative pads crop more than axis ", d, " holds");
    }
    check_out_shape(out_shape, x.dtype(), ctx.node);
    std::vector<std::vector<int64_t>> maps(static_cast<size_t>(rank));
    for (int64_t d = 0; d < rank; ++d) {
      const int64_t n = x.shape()[size_t(d)];
      const int64_t b = pads[size_t(d)], e = pads[size_t(d + rank)];
      const int64_t lo = std::max<int64_t>(0, -b), hi = n - std::max<int64_t>(0, -e);
      const int64_t m = hi - lo;  // kept input extent after cropping
      check(m >= 0, ctx.node.label(), ": negative pads crop more than axis ", d, " holds");
      const int64_t out_n = out_shape[size_t(d)];
      check(out_n == 0 || m > 0 || mode == "constant", ctx.node.label(), ": cannot ", mode,
            "-pad an empty axis ", d);
      auto& map = maps[size_t(d)];
      map.resize(size_t(out_n));
      for (int64_t o = 0; o < out_n; ++o) {
        int64_t j = o - std::max<int64_t>(0, b);
        if (j >= 0 && j < m) {
          map[size_t(o)] = lo + j;
        } else if (mode == "constant") {
          map[size_t(o)] = -1;
        } else if (mode == "edge") {
          map[size_t(o)] = lo + std::clamp<int64_t>(j, 0, m - 1);
        } else if (mode == "wrap") {
          map[size_t(o)] = lo + ((j % m) + m) % m;
        } else {  // reflect
          if (m == 1) {
            map[size_t(o)] = lo;
          } else {
            const int64_t period = 2 * (m - 1);
            int64_t t = ((j % period) + period) % period;
            if (t >= m) t = period - t;
            map[size_t(o)] = lo + t;
          }
        }
      }
    }
    return {gather_axes(x, out_shape, maps, &fill)};
  };
  return r;
}

// ---- ReverseSequence -------------------------------------------------------------------------

OpInfo reverse_sequence_row() {
  OpInfo r = make_row("ReverseSequence", 10, MappingType::OneToMany,
                      "Reverse the first sequence_lens[b] steps along time_axis for each batch b; "
                      "One-to-Many: each length steers a whole sequence");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 2);
    const TensorType& x = ctx.in(0);
    check(!x.has_shape || x.rank() >= 2, ctx.node.label(), ": input must have rank >= 2, got ", x.str());
    return {x};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    check(x.rank() >= 2, ctx.node.label(), ": input must have rank >= 2, got ", shape_str(x.shape()));
    int64_t batch_axis = normalize_axis(ctx.node.attr_int("batch_axis", 1), x.rank(), ctx.node);
    int64_t time_axis = normalize_axis(ctx.node.attr_int("time_axis", 0), x.rank(), ctx.node);
    check(batch_axis != time_axis && batch_axis < 2 && time_axis < 2, ctx.node.label(),
          ": batch_axis and time_axis must be 0 and 1 in some order");
    auto lens = ints_of(ctx.in(1));
    const int64_t nb = x.shape()[size_t(batch_axis)], nt = x.shape()[size_t(time_axis)];
    check(int64_t(lens.size()) == nb, ctx.node.label(), ": sequence_lens has ", lens.size(),
          " entries for batch size ", nb);
    for (int64_t l : lens)
      check(l >= 0 && l <= nt, ctx.node.label(), ": sequence length ", l, " outside [0, ", nt, "]");
    const auto st = strides_of(x.shape());
    std::vector<int64_t> idx(size_t(x.numel()));
    const int64_t inner = x.numel() / std::max<int64_t>(1, nb * nt);
    for (int64_t b = 0; b < nb; ++b)
      for (int64_t t = 0; t < nt; ++t) {
        int64_t src_t = t < lens[size_t(b)] ? lens[size_t(b)] - 1 - t : t;
        int64_t dst = b * st[size_t(batch_axis)] + t * st[size_t(time_axis)];
        int64_t src = b * st[size_t(batch_axis)] + src_t * st[size_t(time_axis)];
        for (int64_t i = 0; i < inner; ++i) idx[size_t(dst + i)] = src + i;
      }
    return {gather_flat(x, x.shape(), idx)};
  };
  return r;
}

// ---- Compress -----------------------------------------------------------------------------

std::vector<int64_t> compress_selection(const Tensor& cond, int64_t n, const Node& node) {
  check(cond.rank() == 1, node.label(), ": condition must be 1-D, got ", shape_str(cond.shape()));
  std::vector<int64_t> sel;
  for (int64_t i = 0; i < cond.numel(); ++i) {
    if (cond.get_f64(i) == 0) continue;
    check(i < n, node.label(), ": condition selects index ", i, " beyond the axis length ", n);
    sel.push_back(i);
  }
  return sel;
}

OpInfo compress_row() {
  OpInfo r = make_row("Compress", 9, MappingType::ManyToMany,
                      "Keep the slices (or flattened elements) where condition is true; "
                      "Many-to-Many: output positions depend on the whole condition");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 2);
    const TensorType& x = ctx.in(0);
    const Tensor* cond = ctx.value(1);
    Dim count;
    if (cond) {
      int64_t c = 0;
      for (int64_t i = 0; i < cond->numel(); ++i) c += cond->get_f64(i) != 0;
      count = Dim(c);
    }
    if (!ctx.node.has_attr("axis")) return {TensorType(x.dtype, {count})};
    if (!x.has_shape) return {TensorType::unknown_shape(x.dtype)};
    int64_t axis = normalize_axis(ctx.node.attr_int("axis", 0), x.rank(), ctx.node);
    TensorType t = x;
    t.dims[size_t(axis)] = count;
    return {t};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    const Tensor& cond = ctx.in(1);
    if (!ctx.node.has_attr("axis")) {
      auto sel = compress_selection(cond, x.numel(), ctx.node);
      return {gather_flat(x, Shape{int64_t(sel.size())}, sel)};
    }
    int64_t axis = normalize_axis(ctx.node.attr_int("axis", 0), x.rank(), ctx.node);
    auto sel = compress_selection(cond, x.shape()[size_t(axis)], ctx.node);
    Shape out_shape = x.shape();
    out_shape[size_t(axis)] = int64_t(sel.size());
    auto maps = identity_maps(x.shape());
    maps[size_t(axis)] = sel;
    return {gather_axes(x, out_shape, maps)};
  };
  return r;
}

// ---- NonZero -------------------------------------------------------------------------------

OpInfo nonzero_row() {
  OpInfo r = make_row("NonZero", 9, MappingType::ManyToMany,
                      "Indices of non-zero elements as int64[rank, count]; Many-to-Many: "
                      "output positions depend on every earlier element");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    const TensorType& x = ctx.in(0);
    Dim rank = x.has_shape ? Dim(std::max<int64_t>(x.rank(), 1)) : Dim();
    Dim count;
    if (const Tensor* v = ctx.value(0); v && v->dtype() != DType::String) {
      int64_t c = 0;
      for (int64_t i = 0; i < v->numel(); ++i) c += v->get_f64(i) != 0;
      count = Dim(c);
    }
    return {TensorType(DType::I64, {rank, count})};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    check(x.dtype() != DType::String, ctx.node.label(), ": string input is not supported");
    Shape shape = x.rank() == 0 ? Shape{1} : x.shape();
    std::vector<int64_t> hits;
    for (int64_t i = 0; i < x.numel(); ++i)
      if (x.get_f64(i) != 0) hits.push_back(i);
    const int64_t r = int64_t(shape.size()), n = int64_t(hits.size());
    Tensor out(DType::I64, Shape{r, n});
    auto* o = out.data<int64_t>();
    const auto st = strides_of(shape);
    for (int64_t k = 0; k < n; ++k) {
      int64_t rem = hits[size_t(k)];
      for (int64_t d = 0; d < r; ++d) {
        o[d * n + k] = rem / st[size_t(d)];
        rem %= st[size_t(d)];
      }
    }
    return {out};
  };
  return r;
}

// ---- OneHot ------------------------------------------------------------------------------

int64_t onehot_depth(const Tensor& t, const Node& node) {
  check(t.numel() == 1, node.label(), ": depth must hold one element");
  double v = t.get_f64(0);
  check(v >= 1 && v <= double(limits().tensor_elements), node.label(),
        ": depth must be positive and within the tensor limit, got ", v);
  return int64_t(v);
}

OpInfo onehot_row() {
  OpInfo r = make_row("OneHot", 9, MappingType::OneToMany,
                      "One-hot encode indices along a new axis with values [off, on]");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 3);
    const TensorType& idx = ctx.in(0);
    DType dt = ctx.in(2).dtype;
    if (!idx.has_shape) return {TensorType::unknown_shape(dt)};
    int64_t axis = normalize_axis(ctx.node.attr_int("axis", -1), idx.rank() + 1, ctx.node);
    Dim depth = ctx.value(1) ? Dim(onehot_depth(*ctx.value(1), ctx.node)) : Dim();
    std::vector<Dim> out = idx.dims;
    out.insert(out.begin() + axis, depth);
    return {TensorType(dt, out)};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& idx = ctx.in(0);
    const int64_t depth = onehot_depth(ctx.in(1), ctx.node);
    const Tensor& values = ctx.in(2);
    check(values.numel() == 2, ctx.node.label(), ": values must hold [off, on], got ", values.numel(),
          " elements");
    const int64_t axis = normalize_axis(ctx.node.attr_int("axis", -1), idx.rank() + 1, ctx.node);
    Shape out_shape = idx.shape();
    out_shape.insert(out_shape.begin() + axis, depth);
    Tensor out(values.dtype(), out_shape);
    strided_copy(values.reshaped({2}), 0, std::vector<int64_t>(out_shape.size(), 0), out, 0,
                 strides_of(out_shape), out_shape);
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= idx.shape()[size_t(d)];
    for (int64_t d = axis; d < idx.rank(); ++d) inner *= idx.shape()[size_t(d)];
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        double v = idx.get_f64(o * inner + i);
        if (!(v > -double(depth) - 1 && v < double(depth))) continue;
        int64_t k = int64_t(v);
        if (k < 0) k += depth;
        if (k < 0 || k >= depth) continue;
        copy_block(values.reshaped({2}), 1, out, (o * depth + k) * inner + i, 1);
      }
    return {out};
  };
  return r;
}

// ---- Unique -------------------------------------------------------------------------------

std::vector<Tensor> unique_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  const bool sorted = ctx.node.attr_int("sorted", 1) != 0;
  const bool has_axis = ctx.node.has_attr("axis");
  int64_t axis = 0, n = x.numel(), outer = 1, inner = 1;
  if (has_axis) {
    axis = normalize_axis(ctx.node.attr_int("axis", 0), x.rank(), ctx.node);
    n = x.shape()[size_t(axis)];
    for (int64_t d = 0; d < axis; ++d) outer *= x.shape()[size_t(d)];
    for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.shape()[size_t(d)];
  }
  const bool is_str = x.dtype() == DType::String;
  // Element e of slice s (slice = one index along the axis).
  auto flat = [&](int64_t s, int64_t e) { return has_axis ? ((e / inner) * n + s) * inner + e % inner : s; };
  const int64_t slice_len = has_axis ? outer * inner : 1;
  auto less = [&](int64_t a, int64_t b) {
    for (int64_t e = 0; e < slice_len; ++e) {
      if (is_str) {
        const auto& sa = x.strings()[size_t(flat(a, e))];
        const auto& sb = x.strings()[size_t(flat(b, e))];
        if (sa != sb) return sa < sb;
      } else {
        double va = x.get_f64(flat(a, e)), vb = x.get_f64(flat(b, e));
        if (va != vb) return va < vb;
      }
    }
    return false;
  };
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t(0));
  std::stable_sort(order.begin(), order.end(), less);
  // Groups of equal slices; representative = first occurrence (stable sort).
  std::vector<int64_t> rep, count, group_of(static_cast<size_t>(n));
  for (size_t i = 0; i < order.size(); ++i) {
    if (i == 0 || less(order[i - 1], order[i])) {
      rep.push_back(order[i]);
      count.push_back(0);
    }
    group_of[size_t(order[i])] = int64_t(rep.size()) - 1;
    ++count.back();
  }
  // Final order of the groups: sorted, or by first occurrence.
  std::vector<int64_t> gorder(rep.size());
  std::iota(gorder.begin(), gorder.end(), int64_t(0));
  if (!sorted) std::sort(gorder.begin(), gorder.end(), [&](int64_t a, int64_t b) { return rep[size_t(a)] < rep[size_t(b)]; });
  std::vector<int64_t> rank_of(rep.size());
  for (size_t i = 0; i < gorder.size(); ++i) rank_of[size_t(gorder[i])] = int64_t(i);
  const int64_t u = int64_t(rep.size());
  std::vector<int64_t> sel(static_cast<size_t>(u)), first(static_cast<size_t>(u)), counts(static_cast<size_t>(u)), inverse(static_cast<size_t>(n));
  for (int64_t g = 0; g < u; ++g) {
    sel[size_t(rank_of[size_t(g)])] = rep[size_t(g)];
    counts[size_t(rank_of[size_t(g)])] = count[size_t(g)];
  }
  first = sel;
  for (int64_t i = 0; i < n; ++i) inverse[size_t(i)] = rank_of[size_t(group_of[size_t(i)])];
  Tensor y;
  if (has_axis) {
    Shape s = x.shape();
    s[size_t(axis)] = u;
    auto maps = identity_maps(x.shape());
    maps[size_t(axis)] = sel;
    y = gather_axes(x, s, maps);
  } else {
    y = gather_flat(x, Shape{u}, sel);
  }
  std::vector<Tensor> out{y, Tensor::vector_i64(first), Tensor::vector_i64(inverse), Tensor::vector_i64(counts)};
  out.resize(std::min<size_t>(out.size(), std::max<size_t>(ctx.num_outputs(), 1)));
  return out;
}

OpInfo unique_row() {
  OpInfo r = make_row("Unique", 11, MappingType::ManyToMany,
                      "Unique elements or slices (sorted or first-seen order) with first indices, "
                      "inverse indices and counts; Many-to-Many");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    const TensorType& x = ctx.in(0);
    std::vector<TensorType> out;
    if (ctx.value(0)) {  // known input (constant folding): exact output shapes
      KernelContext kc{ctx.node, ctx.opset, {ctx.value(0)}, {}};
      for (const Tensor& t : unique_kernel(kc)) out.push_back(TensorType(t.dtype(), t.shape()));
      return out;
    }
    Dim n;
    if (!ctx.node.has_attr("axis")) {
      out.push_back(TensorType(x.dtype, {Dim()}));
      if (x.is_static()) n = Dim(x.numel_or(0));
    } else if (x.has_shape) {
      int64_t axis = normalize_axis(ctx.node.attr_int("axis", 0), x.rank(), ctx.node);
      TensorType t = x;
      n = t.dims[size_t(axis)];
      t.dims[size_t(axis)] = Dim();
      out.push_back(t);
    } else {
      out.push_back(TensorType::unknown_shape(x.dtype));
    }
    out.push_back(TensorType(DType::I64, {Dim()}));
    out.push_back(TensorType(DType::I64, {n}));
    out.push_back(TensorType(DType::I64, {Dim()}));
    out.resize(std::min<size_t>(out.size(), std::max<size_t>(ctx.num_outputs(), 1)));
    return out;
  };
  r.kernel = unique_kernel;
  r.cost = [](const Node&, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
    OpCost c = movement_cost(Node{}, in, out);
    if (!in.empty() && in[0].is_static()) {
      double n = double(in[0].numel_or(0));
      c.flops = n * std::max(1.0, std::log2(std::max(n, 1.0)));
    }
    return c;
  };
  return r;
}

}  // namespace

void register_slice_concat_ops(OpRegistry& r) {
  r.add(slice_row());
  r.add(split_row());
  r.add(concat_row());
  r.add(pad_row());
  r.add(reverse_sequence_row());
  r.add(compress_row());
  r.add(nonzero_row());
  r.add(onehot_row());
  r.add(unique_row());
  register_resize_ops(r);
}

}  // namespace dnnf::ops
