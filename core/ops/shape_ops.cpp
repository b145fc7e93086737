// Operator rows of the shape family (see op_families.h): Reshape, Flatten, Squeeze,
// Unsqueeze, Transpose, Shape, Size, Identity, Dropout, Constant, ConstantOfShape, Range,
// EyeLike, DepthToSpace, SpaceToDepth, Expand, Tile, Trilu.
//
// Mapping types (DNNFusion Table 2): the reshape family and Identity/Dropout only re-index
// (Reorganize); Transpose/DepthToSpace/SpaceToDepth permute dimensions (Shuffle);
// Expand/Tile/ConstantOfShape/EyeLike/Range produce many outputs per input element
// (One-to-Many); Trilu keeps or zeroes each element in place (One-to-One); Shape and
// Size read the whole input's extent into a few elements (Many-to-Many).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "core/ops/op_families.h"
#include "core/util/limits.h"
#include "core/ops/op_util.h"
#include "core/ops/shape_ops_common.h"

namespace dnnf::ops {

using namespace movement;

namespace {

OpInfo make_row(const char* name, int since, MappingType mapping, const char* summary) {
  return movement_row(name, since, "shape", mapping, summary, movement_cost);
}

// Rank-0 or 1-element tensor read as one integer.
int64_t scalar_int(const Tensor& t, const Node& node, const char* what) {
  check(t.numel() == 1, node.label(), ": ", what, " must hold exactly one element, got ",
        shape_str(t.shape()));
  return t.get_i64(0);
}

// ---- Reshape ----------------------------------------------------------------------------

// Resolves a Reshape target against the input dims (0 copies, -1 is inferred).
std::vector<Dim> resolve_reshape(const TensorType& in, const std::vector<int64_t>& target,
                                 bool allowzero, const Node& node) {
  std::vector<Dim> out(target.size());
  int64_t infer = -1;
  bool has_zero = false;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t t = target[i];
    if (t == -1) {
      check(infer < 0, node.label(), ": more than one -1 in the target shape");
      infer = int64_t(i);
    } else if (t == 0 && !allowzero) {
      if (in.has_shape) {
        check(int64_t(i) < in.rank(), node.label(), ": target dim ", i,
              " is 0 (copy) but the input has rank ", in.rank());
        out[i] = in.dims[i];
      }
    } else {
      check(t >= 0, node.label(), ": invalid target dim ", t);
      if (t == 0) has_zero = true;
      out[i] = Dim(t);
    }
  }
  check(!(allowzero && has_zero && infer >= 0), node.label(),
        ": allowzero target shape cannot hold both 0 and -1");
  if (!in.has_shape) {
    if (infer >= 0) out[size_t(infer)] = Dim();
    return out;
  }
  DimProduct in_p = dim_product(in.dims, 0, in.dims.size());
  if (infer >= 0) {
    DimProduct rest;
    for (size_t i = 0; i < out.size(); ++i)
      if (int64_t(i) != infer) rest.mul(out[i]);
    bool in_static = !in_p.unknown && in_p.syms.empty();
    bool rest_static = !rest.unknown && rest.syms.empty();
    if (in_static && rest_static) {
      check(rest.known != 0, node.label(), ": cannot infer -1 next to a zero-sized dim");
      check(in_p.known % rest.known == 0, node.label(), ": cannot reshape ", in.str(), " to ",
            shape_str(target), " (", in_p.known, " elements do not divide into ", rest.known, ")");
      out[size_t(infer)] = Dim(in_p.known / rest.known);
    } else {
      auto q = in_p.div(rest);
      out[size_t(infer)] = q ? q->to_dim() : Dim();
    }
  } else {
    DimProduct out_p = dim_product(out, 0, out.size());
    bool both_static = !in_p.unknown && in_p.syms.empty() && !out_p.unknown && out_p.syms.empty();
    if (both_static)
      check(in_p.known == out_p.known, node.label(), ": cannot reshape ", in.str(), " (",
            in_p.known, " elements) to ", shape_str(target), " (", out_p.known, " elements)");
  }
  return out;
}

std::optional<std::vector<int64_t>> reshape_target(const InferContext& ctx) {
  if (ctx.opset < 5) return ctx.node.attr_ints("shape");
  require_inputs(ctx, 2);
  return known_ints(ctx, 1);
}

bool reshape_allowzero(const Node& node, int64_t opset) {
  return opset >= 14 && node.attr_int("allowzero", 0) != 0;
}

OpInfo reshape_row() {
  OpInfo r = make_row("Reshape", 1, MappingType::Reorganize,
                      "Reshape to a target shape (0 copies a dim unless allowzero, -1 is inferred)");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    const TensorType& x = ctx.in(0);
    auto target = reshape_target(ctx);
    if (!target) {
      Dim n = ctx.opset >= 5 ? dim0_of(ctx.in(1)) : Dim();
      if (n.known()) return {unknown_dims(x.dtype, n.value)};
      return {TensorType::unknown_shape(x.dtype)};
    }
    return {TensorType(x.dtype, resolve_reshape(x, *target, reshape_allowzero(ctx.node, ctx.opset), ctx.node))};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    std::vector<int64_t> target = ctx.opset < 5 ? ctx.node.attr_ints("shape") : ints_of(ctx.in(1));
    auto dims = resolve_reshape(TensorType(x.dtype(), x.shape()), target,
                                reshape_allowzero(ctx.node, ctx.opset), ctx.node);
    Shape s;
    for (const auto& d : dims) s.push_back(d.value);
    check(shape_numel(s) == x.numel(), ctx.node.label(), ": cannot reshape ", shape_str(x.shape()),
          " to ", shape_str(s));
    return {x.reshaped(s)};
  };
  return r;
}

// ---- Flatten ------------------------------------------------------------------------------

// Flatten's axis lies in [-r, r]; a negative axis counts from the end (-1 -> r-1).
int64_t flatten_axis(const Node& node, int64_t rank) {
  int64_t axis = node.attr_int("axis", 1);
  int64_t a = axis < 0 ? axis + rank : axis;
  check(a >= 0 && a <= rank, node.label(), ": axis ", axis, " is out of range for rank ", rank);
  return a;
}

OpInfo flatten_row() {
  OpInfo r = make_row("Flatten", 1, MappingType::Reorganize,
                      "Flatten to 2-D: [prod(dims[:axis]), prod(dims[axis:])]");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    const TensorType& x = ctx.in(0);
    if (!x.has_shape) return {unknown_dims(x.dtype, 2)};
    int64_t axis = flatten_axis(ctx.node, x.rank());
    return {TensorType(x.dtype, {dim_product(x.dims, 0, size_t(axis)).to_dim(),
                                 dim_product(x.dims, size_t(axis), x.dims.size()).to_dim()})};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    int64_t axis = flatten_axis(ctx.node, x.rank());
    int64_t outer = 1;
    for (int64_t i = 0; i < axis; ++i) outer *= x.shape()[size_t(i)];
    int64_t inner = 1;
    for (int64_t i = axis; i < x.rank(); ++i) inner *= x.shape()[size_t(i)];
    return {x.reshaped({outer, inner})};
  };
  return r;
}

// ---- Squeeze / Unsqueeze --------------------------------------------------------------

// Axes of Squeeze/Unsqueeze: attribute before opset 13, input 1 from 13.
std::optional<std::vector<int64_t>> squeeze_axes(const InferContext& ctx, bool& given) {
  if (ctx.opset < 13) {
    given = ctx.node.has_attr("axes");
    if (!given) return std::nullopt;
    return ctx.node.attr_ints("axes");
  }
  given = ctx.has_input(1);
  if (!given) return std::nullopt;
  return known_ints(ctx, 1);
}

std::optional<std::vector<int64_t>> squeeze_axes(const KernelContext& ctx) {
  if (ctx.opset < 13) {
    if (!ctx.node.has_attr("axes")) return std::nullopt;
    return ctx.node.attr_ints("axes");
  }
  return opt_ints(ctx, 1);
}

OpInfo squeeze_row() {
  OpInfo r = make_row("Squeeze", 1, MappingType::Reorganize,
                      "Remove size-1 dims (listed axes, or all of them)");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    const TensorType& x = ctx.in(0);
    bool given = false;
    auto axes = squeeze_axes(ctx, given);
    if (!x.has_shape) return {TensorType::unknown_shape(x.dtype)};
    if (given && !axes) {
      Dim n = dim0_of(ctx.in(1));
      if (n.known()) return {unknown_dims(x.dtype, x.rank() - n.value)};
      return {TensorType::unknown_shape(x.dtype)};
    }
    std::vector<bool> drop(x.dims.size(), false);
    if (axes) {
      for (int64_t a : normalize_axes(*axes, x.rank(), ctx.node)) {
        const Dim& d = x.dims[size_t(a)];
        check(!d.known() || d.value == 1, ctx.node.label(), ": cannot squeeze axis ", a,
              " of size ", d.value, " in ", x.str());
        drop[size_t(a)] = true;
      }
    } else {
      for (size_t i = 0; i < x.dims.size(); ++i) {
        if (!x.dims[i].known()) return {TensorType::unknown_shape(x.dtype)};
        drop[i] = x.dims[i].value == 1;
      }
    }
    std::vector<Dim> out;
    for (size_t i = 0; i < x.dims.size(); ++i)
      if (!drop[i]) out.push_back(x.dims[i]);
    return {TensorType(x.dtype, out)};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    auto axes = squeeze_axes(ctx);
    std::vector<bool> drop(size_t(x.rank()), false);
    if (axes) {
      for (int64_t a : normalize_axes(*axes, x.rank(), ctx.node)) {
        check(x.shape()[size_t(a)] == 1, ctx.node.label(), ": cannot squeeze axis ", a, " of size ",
              x.shape()[size_t(a)], " in ", shape_str(x.shape()));
        drop[size_t(a)] = true;
      }
    } else {
      for (size_t i = 0; i < drop.size(); ++i) drop[i] = x.shape()[i] == 1;
    }
    Shape s;
    for (size_t i = 0; i < drop.size(); ++i)
      if (!drop[i]) s.push_back(x.shape()[i]);
    return {x.reshaped(s)};
  };
  return r;
}

// Output dims of Unsqueeze: 1 at each (normalized) axis, the input dims elsewhere.
std::vector<Dim> unsqueeze_dims(const std::vector<Dim>& in, const std::vector<int64_t>& axes,
                                const Node& node) {
  const int64_t out_rank = int64_t(in.size() + axes.size());
  std::vector<bool> is_new(size_t(out_rank), false);
  for (int64_t a : axes) {
    int64_t n = normalize_axis(a, out_rank, node);
    check(!is_new[size_t(n)], node.label(), ": duplicate axis ", a);
    is_new[size_t(n)] = true;
  }
  std::vector<Dim> out;
  size_t k = 0;
  for (int64_t i = 0; i < out_rank; ++i) out.push_back(is_new[size_t(i)] ? Dim(1) : in[k++]);
  return out;
}

OpInfo unsqueeze_row() {
  OpInfo r = make_row("Unsqueeze", 1, MappingType::Reorganize, "Insert size-1 dims at the given axes");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    const TensorType& x = ctx.in(0);
    std::optional<std::vector<int64_t>> axes;
    if (ctx.opset < 13) {
      check(ctx.node.has_attr("axes"), ctx.node.label(), ": missing attribute 'axes'");
      axes = ctx.node.attr_ints("axes");
    } else {
      require_inputs(ctx, 2);
      axes = known_ints(ctx, 1);
    }
    if (!x.has_shape) return {TensorType::unknown_shape(x.dtype)};
    if (!axes) {
      Dim n = dim0_of(ctx.in(1));
      if (n.known()) return {unknown_dims(x.dtype, x.rank() + n.value)};
      return {TensorType::unknown_shape(x.dtype)};
    }
    return {TensorType(x.dtype, unsqueeze_dims(x.dims, *axes, ctx.node))};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    std::vector<int64_t> axes;
    if (ctx.opset < 13) {
      check(ctx.node.has_attr("axes"), ctx.node.label(), ": missing attribute 'axes'");
      axes = ctx.node.attr_ints("axes");
    } else {
      axes = ints_of(ctx.in(1));
    }
    std::vector<Dim> in(x.shape().begin(), x.shape().end());
    Shape s;
    for (const auto& d : unsqueeze_dims(in, axes, ctx.node)) s.push_back(d.value);
    return {x.reshaped(s)};
  };
  return r;
}

// ---- Transpose ------------------------------------------------------------------------------

std::vector<int64_t> transpose_perm(const Node& node, int64_t rank) {
  std::vector<int64_t> perm;
  if (node.has_attr("perm")) {
    perm = node.attr_ints("perm");
    check(int64_t(perm.size()) == rank, node.label(), ": perm has ", perm.size(),
          " entries for an input of rank ", rank);
    std::vector<bool> seen(size_t(rank), false);
    for (auto& p : perm) {
      p = normalize_axis(p, rank, node);
      check(!seen[size_t(p)], node.label(), ": perm repeats axis ", p);
      seen[size_t(p)] = true;
    }
  } else {
    for (int64_t i = rank - 1; i >= 0; --i) perm.push_back(i);
  }
  return perm;
}

OpInfo transpose_row() {
  OpInfo r = make_row("Transpose", 1, MappingType::Shuffle, "Permute dimensions (default: reverse them)");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    const TensorType& x = ctx.in(0);
    if (!x.has_shape) {
      if (ctx.node.has_attr("perm"))
        return {unknown_dims(x.dtype, int64_t(ctx.node.attr_ints("perm").size()))};
      return {TensorType::unknown_shape(x.dtype)};
    }
    auto perm = transpose_perm(ctx.node, x.rank());
    std::vector<Dim> out;
    for (int64_t p : perm) out.push_back(x.dims[size_t(p)]);
    return {TensorType(x.dtype, out)};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    return {movement::transpose(x, transpose_perm(ctx.node, x.rank()))};
  };
  return r;
}

// ---- Shape / Size -------------------------------------------------------------------------

std::pair<int64_t, int64_t> shape_range(const Node& node, int64_t opset, int64_t rank) {
  int64_t start = opset >= 15 ? node.attr_int("start", 0) : 0;
  int64_t end = opset >= 15 && node.has_attr("end") ? node.attr_int("end", rank) : rank;
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  return {start, std::max<int64_t>(end, start)};
}

OpInfo shape_row() {
  OpInfo r = make_row("Shape", 1, MappingType::ManyToMany,
                      "The input's dims as int64[rank] (start/end slice from opset 15); "
                      "Many-to-Many: each output reads the extent of the whole input");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    const TensorType& x = ctx.in(0);
    if (!x.has_shape) return {TensorType(DType::I64, std::vector<Dim>{Dim()})};
    auto [start, end] = shape_range(ctx.node, ctx.opset, x.rank());
    return {TensorType(DType::I64, Shape{end - start})};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    auto [start, end] = shape_range(ctx.node, ctx.opset, x.rank());
    std::vector<int64_t> v(x.shape().begin() + start, x.shape().begin() + end);
    return {Tensor::vector_i64(v)};
  };
  r.cost = [](const Node&, const std::vector<TensorType>&, const std::vector<TensorType>& out) {
    OpCost c;
    if (!out.empty() && out[0].is_static()) c.bytes = double(out[0].numel_or(0)) * 8;
    return c;
  };
  return r;
}

OpInfo size_row() {
  OpInfo r = make_row("Size", 1, MappingType::ManyToMany,
                      "Number of elements as an int64 scalar; Many-to-Many: reads the whole extent");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    return {TensorType(DType::I64, Shape{})};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    return {Tensor::scalar_i64(ctx.in(0).numel())};
  };
  r.cost = [](const Node&, const std::vector<TensorType>&, const std::vector<TensorType>&) {
    OpCost c;
    c.bytes = 8;
    return c;
  };
  return r;
}

// ---- Identity / Dropout -------------------------------------------------------------------

OpInfo identity_row() {
  OpInfo r = make_row("Identity", 1, MappingType::Reorganize, "Pass the input through unchanged");
  r.shape = [](const InferContext& ctx) {
    require_inputs(ctx, 1);
    return same_as_input(ctx, 0);
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> { return {ctx.in(0)}; };
  return r;
}

// Dropout: identity at inference. From opset 12 the training_mode input may switch on
// real dropout (a seeded Bernoulli mask scaled by 1/(1-ratio)); before that dnnf runs
// the inference form (is_test is ignored), as inference runtimes do.
OpInfo dropout_row() {
  OpInfo r = make_row("Dropout", 1, MappingType::Reorganize,
                      "Identity at inference (mask all true); opset 12+ training_mode applies a "
                      "seeded random mask scaled by 1/(1-ratio)");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    std::vector<TensorType> out{ctx.in(0)};
    if (ctx.num_outputs() > 1) {
      TensorType m = ctx.in(0);
      m.dtype = ctx.opset < 10 ? ctx.in(0).dtype : DType::Bool;
      out.push_back(m);
    }
    return out;
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    bool training = false;
    double ratio = 0.5;
    if (ctx.opset >= 12) {
      if (ctx.has_input(1)) ratio = scalar_of(ctx.in(1));
      if (ctx.has_input(2)) training = scalar_of(ctx.in(2)) != 0;
    }
    const DType mask_type = ctx.opset < 10 ? x.dtype() : DType::Bool;
    const bool want_mask = ctx.num_outputs() > 1 && !ctx.node.outputs[1].empty();
    if (!training || ratio == 0) {
      std::vector<Tensor> out{x};
      if (want_mask) {
        Tensor m(mask_type, x.shape());
        for (int64_t i = 0; i < m.numel(); ++i) m.set_f64(i, 1.0);
        out.push_back(m);
      }
      return out;
    }
    check(ratio >= 0 && ratio < 1, ctx.node.label(), ": ratio must be in [0, 1), got ", ratio);
    check(dtype_is_float(x.dtype()), ctx.node.label(), ": training-mode Dropout needs a float input");
    std::mt19937_64 rng(uint64_t(ctx.node.attr_int("seed", 0)));
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    Tensor y(x.dtype(), x.shape());
    Tensor m(DType::Bool, x.shape());
    const double scale = 1.0 / (1.0 - ratio);
    for (int64_t i = 0; i < x.numel(); ++i) {
      bool keep = uni(rng) >= ratio;
      m.set_f64(i, keep ? 1.0 : 0.0);
      y.set_f64(i, keep ? x.get_f64(i) * scale : 0.0);
    }
    std::vector<Tensor> out{y};
    if (want_mask) out.push_back(m);
    return out;
  };
  return r;
}

// ---- Constant / ConstantOfShape -------------------------------------------------------------

Tensor constant_value(const Node& node) {
  check(!node.has_attr("sparse_value"), node.label(), ": sparse_value constants are not supported");
  if (const Attribute* a = node.attr("value")) {
    check(a->kind == Attribute::Kind::Tensor, node.label(), ": attribute 'value' must be a tensor");
    return a->t;
  }
  if (const Attribute* a = node.attr("value_float")) return Tensor::scalar_f32(a->f);
  if (const Attribute* a = node.attr("value_floats")) {
    Tensor t(DType::F32, Shape{int64_t(a->floats.size())});
    for (size_t i = 0; i < a->floats.size(); ++i) t.data<float>()[i] = a->floats[i];
    return t;
  }
  if (const Attribute* a = node.attr("value_int")) return Tensor::scalar_i64(a->i);
  if (const Attribute* a = node.attr("value_ints")) return Tensor::vector_i64(a->ints);
  if (const Attribute* a = node.attr("value_string")) {
    Tensor t(DType::String, Shape{});
    t.strings()[0] = a->s;
    return t;
  }
  if (const Attribute* a = node.attr("value_strings")) {
    Tensor t(DType::String, Shape{int64_t(a->strings.size())});
    for (size_t i = 0; i < a->strings.size(); ++i) t.strings()[i] = a->strings[i];
    return t;
  }
  fail(node.label(), ": Constant has no value attribute");
}

OpInfo constant_row() {
  OpInfo r = make_row("Constant", 1, MappingType::OneToOne,
                      "A constant tensor from value / value_float(s) / value_int(s) / value_string(s); "
                      "no inputs, so trivially One-to-One");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    Tensor t = constant_value(ctx.node);
    return {TensorType(t.dtype(), t.shape())};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> { return {constant_value(ctx.node)}; };
  return r;
}

Tensor constant_of_shape_value(const Node& node) {
  if (const Attribute* a = node.attr("value")) {
    check(a->kind == Attribute::Kind::Tensor && a->t.numel() == 1, node.label(),
          ": attribute 'value' must be a one-element tensor");
    return a->t;
  }
  return Tensor::scalar_f32(0.0f);
}

OpInfo constant_of_shape_row() {
  OpInfo r = make_row("ConstantOfShape", 9, MappingType::OneToMany,
                      "A tensor of the given shape filled with the one-element 'value' (default float 0)");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    DType dt = constant_of_shape_value(ctx.node).dtype();
    if (auto s = known_ints(ctx, 0)) {
      for (int64_t d : *s) check(d >= 0, ctx.node.label(), ": negative dim ", d, " in shape");
      return {TensorType(dt, Shape(*s))};
    }
    Dim n = dim0_of(ctx.in(0));
    if (n.known()) return {unknown_dims(dt, n.value)};
    return {TensorType::unknown_shape(dt)};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    Shape s = ints_of(ctx.in(0));
    for (int64_t d : s) check(d >= 0, ctx.node.label(), ": negative dim ", d, " in shape");
    Tensor v = constant_of_shape_value(ctx.node).reshaped(Shape{});
    Tensor out(v.dtype(), s);
    strided_copy(v, 0, std::vector<int64_t>(s.size(), 0), out, 0, strides_of(s), s);
    return {out};
  };
  return r;
}

// ---- Range ---------------------------------------------------------------------------------

int64_t range_count(const Tensor& start, const Tensor& limit, const Tensor& delta, const Node& node) {
  check(start.numel() == 1 && limit.numel() == 1 && delta.numel() == 1, node.label(),
        ": start, limit and delta must be scalars");
  if (dtype_is_integer(start.dtype())) {
    const __int128 s = start.get_i64(0), l = limit.get_i64(0), d = delta.get_i64(0);
    check(d != 0, node.label(), ": delta must not be 0");
    const __int128 span = l - s;
    if ((d > 0 && span <= 0) || (d < 0 && span >= 0)) return 0;
    const __int128 n = d > 0 ? (span + d - 1) / d : (span + d + 1) / d;
    check(n <= limits().tensor_elements, node.label(), ": range of ", int64_t(n),
          " elements is over the tensor limit");
    return int64_t(n);
  }
  double s = start.get_f64(0), l = limit.get_f64(0), d = delta.get_f64(0);
  check(d != 0, node.label(), ": delta must not be 0");
  double n = std::ceil((l - s) / d);
  check(std::isfinite(n) && n <= double(limits().tensor_elements), node.label(),
        ": range length ", n, " is not finite or over the tensor limit");
  return std::max<int64_t>(int64_t(n), 0);
}

OpInfo range_row() {
  OpInfo r = make_row("Range", 11, MappingType::OneToMany,
                      "start, start+delta, ... up to (excluding) limit; length max(ceil((limit-start)/delta), 0)");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 3);
    DType dt = ctx.in(0).dtype;
    if (ctx.value(0) && ctx.value(1) && ctx.value(2))
      return {TensorType(dt, Shape{range_count(*ctx.value(0), *ctx.value(1), *ctx.value(2), ctx.node)})};
    return {unknown_dims(dt, 1)};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& s = ctx.in(0);
    const Tensor& l = ctx.in(1);
    const Tensor& d = ctx.in(2);
    int64_t n = range_count(s, l, d, ctx.node);
    Tensor out(s.dtype(), Shape{n});
    if (dtype_is_integer(s.dtype())) {
      int64_t a = s.get_i64(0), step = d.get_i64(0);
      for (int64_t i = 0; i < n; ++i) out.set_i64(i, a + i * step);
    } else {
      double a = s.get_f64(0), step = d.get_f64(0);
      for (int64_t i = 0; i < n; ++i) out.set_f64(i, a + double(i) * step);
    }
    return {out};
  };
  return r;
}

// ---- EyeLike -------------------------------------------------------------------------------

DType eyelike_dtype(const Node& node, DType in) {
  if (!node.has_attr("dtype")) return in;
  DType dt = dtype_from_onnx(int32_t(node.attr_int("dtype", 0)));
  check(dt != DType::Undefined && dt != DType::String, node.label(), ": unsupported dtype ",
        node.attr_int("dtype", 0));
  return dt;
}

OpInfo eyelike_row() {
  OpInfo r = make_row("EyeLike", 9, MappingType::OneToMany,
                      "2-D identity-like matrix shaped as the input, ones on diagonal k");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    const TensorType& x = ctx.in(0);
    check(!x.has_shape || x.rank() == 2, ctx.node.label(), ": input must be 2-D, got ", x.str());
    TensorType t = x.has_shape ? x : unknown_dims(x.dtype, 2);
    t.dtype = eyelike_dtype(ctx.node, x.dtype);
    return {t};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    check(x.rank() == 2, ctx.node.label(), ": input must be 2-D, got ", shape_str(x.shape()));
    Tensor out(eyelike_dtype(ctx.node, x.dtype()), x.shape());
    const int64_t k = ctx.node.attr_int("k", 0), rows = x.dim(0), cols = x.dim(1);
    for (int64_t i = 0; i < rows; ++i) {
      int64_t j = i + k;
      if (j >= 0 && j < cols) out.set_f64(i * cols + j, 1.0);
    }
    return {out};
  };
  return r;
}

// ---- DepthToSpace / SpaceToDepth -----------------------------------------------------------

int64_t blocksize_of(const Node& node) {
  check(node.has_attr("blocksize"), node.label(), ": missing attribute 'blocksize'");
  int64_t b = node.attr_int("blocksize", 0);
  check(b > 0, node.label(), ": blocksize must be positive, got ", b);
  return b;
}

bool depth_to_space_crd(const Node& node, int64_t opset) {
  std::string mode = opset >= 11 ? node.attr_string("mode", "DCR") : "DCR";
  check(mode == "DCR" || mode == "CRD", node.label(), ": unknown mode '", mode, "'");
  return mode == "CRD";
}

OpInfo depth_to_space_row() {
  OpInfo r = make_row("DepthToSpace", 1, MappingType::Shuffle,
                      "Move channel blocks into spatial blocks: [N,C,H,W] -> [N,C/b^2,H*b,W*b] (DCR/CRD)");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    const TensorType& x = ctx.in(0);
    int64_t b = blocksize_of(ctx.node);
    if (!x.has_shape) return {unknown_dims(x.dtype, 4)};
    check(x.rank() == 4, ctx.node.label(), ": input must be 4-D, got ", x.str());
    Dim c;
    if (x.dims[1].known()) {
      const int64_t ch = x.dims[1].value;
      check(ch % b == 0 && (ch / b) % b == 0, ctx.node.label(), ": channels ", ch,
            " not divisible by blocksize^2 (blocksize ", b, ")");
      c = Dim(ch / b / b);
    }
    DimProduct h, w;
    h.mul(x.dims[2]);
    h.known *= b;
    w.mul(x.dims[3]);
    w.known *= b;
    return {TensorType(x.dtype, {x.dims[0], c, h.to_dim(), w.to_dim()})};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    int64_t b = blocksize_of(ctx.node);
    check(x.rank() == 4, ctx.node.label(), ": input must be 4-D, got ", shape_str(x.shape()));
    int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
    check(c % b == 0 && (c / b) % b == 0, ctx.node.label(), ": channels ", c,
          " not divisible by blocksize^2 (blocksize ", b, ")");
    int64_t oc = c / b / b;
    Tensor t;
    if (depth_to_space_crd(ctx.node, ctx.opset))
      t = movement::transpose(x.reshaped({n, oc, b, b, h, w}), {0, 1, 4, 2, 5, 3});
    else
      t = movement::transpose(x.reshaped({n, b, b, oc, h, w}), {0, 3, 4, 1, 5, 2});
    return {t.reshaped({n, oc, h * b, w * b})};
  };
  return r;
}

OpInfo space_to_depth_row() {
  OpInfo r = make_row("SpaceToDepth", 1, MappingType::Shuffle,
                      "Move spatial blocks into channels: [N,C,H,W] -> [N,C*b^2,H/b,W/b]");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    const TensorType& x = ctx.in(0);
    int64_t b = blocksize_of(ctx.node);
    if (!x.has_shape) return {unknown_dims(x.dtype, 4)};
    check(x.rank() == 4, ctx.node.label(), ": input must be 4-D, got ", x.str());
    std::vector<Dim> out{x.dims[0], Dim(), Dim(), Dim()};
    if (x.dims[1].known()) out[1] = Dim(x.dims[1].value * b * b);
    for (size_t i = 2; i < 4; ++i) {
      if (!x.dims[i].known()) continue;
      check(x.dims[i].value % b == 0, ctx.node.label(), ": spatial dim ", x.dims[i].value,
            " not divisible by blocksize ", b);
      out[i] = Dim(x.dims[i].value / b);
    }
    return {TensorType(x.dtype, out)};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    int64_t b = blocksize_of(ctx.node);
    check(x.rank() == 4, ctx.node.label(), ": input must be 4-D, got ", shape_str(x.shape()));
    int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
    check(h % b == 0 && w % b == 0, ctx.node.label(), ": spatial dims ", h, "x", w,
          " not divisible by blocksize ", b);
    Tensor t = movement::transpose(x.reshaped({n, c, h / b, b, w / b, b}), {0, 3, 5, 1, 2, 4});
    return {t.reshaped({n, c * b * b, h / b, w / b})};
  };
  return r;
}

// ---- Expand / Tile ---------------------------------------------------------------------------

// Broadcast of input dims with a shape given as values (Expand is bidirectional).
std::vector<Dim> expand_dims(const std::vector<Dim>& in, const std::vector<int64_t>& shape, const Node& node) {
  const size_t r = std::max(in.size(), shape.size());
  std::vector<Dim> out(r);
  for (size_t i = 0; i < r; ++i) {
    size_t ia = i + in.size(), ib = i + shape.size();
    Dim a = ia >= r ? in[ia - r] : Dim(1);
    int64_t b = ib >= r ? shape[ib - r] : 1;
    check(b >= 0, node.label(), ": negative dim ", b, " in the target shape");
    if (b == 1) out[i] = a;
    else if (a.known() && a.value == 1) out[i] = Dim(b);
    else if (a.known()) {
      check(a.value == b, node.label(), ": cannot expand dim ", a.value, " to ", b);
      out[i] = a;
    } else {
      out[i] = Dim(b);
    }
  }
  return out;
}

OpInfo expand_row() {
  OpInfo r = make_row("Expand", 8, MappingType::OneToMany,
                      "Broadcast the input to a shape (numpy rules, either side may be 1)");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 2);
    const TensorType& x = ctx.in(0);
    auto shape = known_ints(ctx, 1);
    if (shape && x.has_shape) return {TensorType(x.dtype, expand_dims(x.dims, *shape, ctx.node))};
    Dim n = dim0_of(ctx.in(1));
    if (n.known() && x.has_shape) return {unknown_dims(x.dtype, std::max(n.value, x.rank()))};
    return {TensorType::unknown_shape(x.dtype)};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    std::vector<Dim> in(x.shape().begin(), x.shape().end());
    auto dims = expand_dims(in, ints_of(ctx.in(1)), ctx.node);
    Shape out_shape, in_shape(dims.size() - in.size(), 1);
    for (const auto& d : dims) out_shape.push_back(d.value);
    in_shape.insert(in_shape.end(), x.shape().begin(), x.shape().end());
    check_out_shape(out_shape, x.dtype(), ctx.node);
    std::vector<std::vector<int64_t>> maps(dims.size());
    for (size_t d = 0; d < dims.size(); ++d) {
      maps[d].resize(size_t(out_shape[d]));
      for (int64_t o = 0; o < out_shape[d]; ++o) maps[d][size_t(o)] = in_shape[d] == 1 ? 0 : o;
    }
    return {gather_axes(x.reshaped(in_shape), out_shape, maps)};
  };
  return r;
}

// Repeats per axis; before opset 6 Tile took (tiles, axis) scalars instead.
std::optional<std::vector<int64_t>> tile_repeats(const Node& node, int64_t opset, int64_t rank,
                                                 const Tensor* a, const Tensor* b) {
  if (opset < 6) {
    if (!a || !b) return std::nullopt;
    std::vector<int64_t> reps(size_t(rank), 1);
    int64_t axis = normalize_axis(scalar_int(*b, node, "axis"), rank, node);
    reps[size_t(axis)] = scalar_int(*a, node, "tiles");
    return reps;
  }
  if (!a) return std::nullopt;
  return ints_of(*a);
}

OpInfo tile_row() {
  OpInfo r = make_row("Tile", 1, MappingType::OneToMany, "Repeat the input along each axis");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 2);
    const TensorType& x = ctx.in(0);
    if (!x.has_shape) return {TensorType::unknown_shape(x.dtype)};
    auto reps = tile_repeats(ctx.node, ctx.opset, x.rank(), ctx.value(1),
                             ctx.opset < 6 ? ctx.value(2) : nullptr);
    if (!reps) return {unknown_dims(x.dtype, x.rank())};
    check(int64_t(reps->size()) == x.rank(), ctx.node.label(), ": repeats has ", reps->size(),
          " entries for an input of rank ", x.rank());
    std::vector<Dim> out;
    for (size_t i = 0; i < reps->size(); ++i) {
      check((*reps)[i] >= 0, ctx.node.label(), ": negative repeat ", (*reps)[i]);
      DimProduct p;
      p.mul(x.dims[i]);
      p.known *= (*reps)[i];
      out.push_back(p.to_dim());
    }
    return {TensorType(x.dtype, out)};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    if (ctx.opset < 6) require_inputs(ctx, 3);
    auto reps = tile_repeats(ctx.node, ctx.opset, x.rank(), &ctx.in(1), ctx.opset < 6 ? &ctx.in(2) : nullptr);
    check(int64_t(reps->size()) == x.rank(), ctx.node.label(), ": repeats has ", reps->size(),
          " entries for an input of rank ", x.rank());
    Shape out_shape;
    for (size_t d = 0; d < reps->size(); ++d) {
      int64_t rep = (*reps)[d], n = x.shape()[d], total = 0;
      check(rep >= 0, ctx.node.label(), ": negative repeat ", rep);
      check(!__builtin_mul_overflow(n, rep, &total), ctx.node.label(), ": repeat ", rep, " overflows");
      out_shape.push_back(total);
    }
    check_out_shape(out_shape, x.dtype(), ctx.node);
    std::vector<std::vector<int64_t>> maps(reps->size());
    for (size_t d = 0; d < reps->size(); ++d)
      for (int64_t o = 0; o < out_shape[d]; ++o) maps[d].push_back(o % x.shape()[d]);
    return {gather_axes(x, out_shape, maps)};
  };
  return r;
}

// ---- Trilu ------------------------------------------------------------------------------

OpInfo trilu_row() {
  OpInfo r = make_row("Trilu", 14, MappingType::OneToOne,
                      "Keep the upper (j-i >= k) or lower (j-i <= k) triangle of the last two dims, "
                      "zero the rest; One-to-One: each output is its input element or 0");
  r.shape = [](const InferContext& ctx) -> std::vector<TensorType> {
    require_inputs(ctx, 1);
    const TensorType& x = ctx.in(0);
    check(!x.has_shape || x.rank() >= 2, ctx.node.label(), ": input must have rank >= 2, got ", x.str());
    return {x};
  };
  r.kernel = [](KernelContext& ctx) -> std::vector<Tensor> {
    const Tensor& x = ctx.in(0);
    check(x.rank() >= 2, ctx.node.label(), ": input must have rank >= 2, got ", shape_str(x.shape()));
    check(x.dtype() != DType::String, ctx.node.label(), ": string input is not supported");
    int64_t k = ctx.has_input(1) ? scalar_int(ctx.in(1), ctx.node, "k") : 0;
    const bool upper = ctx.node.attr_int("upper", 1) != 0;
    Tensor out = x.clone();
    const int64_t rows = x.dim(-2), cols = x.dim(-1);
    const int64_t mats = rows * cols == 0 ? 0 : x.numel() / (rows * cols);
    const size_t es = dtype_size(x.dtype());
    auto* p = static_cast<unsigned char*>(out.raw());
    for (int64_t m = 0; m < mats; ++m)
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) {
          bool keep = upper ? (j - i >= k) : (j - i <= k);
          if (!keep) std::memset(p + size_t((m * rows + i) * cols + j) * es, 0, es);
        }
    return {out};
  };
  return r;
}

}  // namespace

void register_shape_ops(OpRegistry& r) {
  r.add(reshape_row());
  r.add(flatten_row());
  r.add(squeeze_row());
  r.add(unsqueeze_row());
  r.add(transpose_row());
  r.add(shape_row());
  r.add(size_row());
  r.add(identity_row());
  r.add(dropout_row());
  r.add(constant_row());
  r.add(constant_of_shape_row());
  r.add(range_row());
  r.add(eyelike_row());
  r.add(depth_to_space_row());
  r.add(space_to_depth_row());
  r.add(expand_row());
  r.add(tile_row());
  r.add(trilu_row());
}

}  // namespace dnnf::ops
