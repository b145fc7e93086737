#include "core/codegen/pull_ops.h"

#include <cmath>
#include <map>

#include "core/ir/op_registry.h"
#include "core/util/error.h"

namespace dnnf::codegen {

namespace {

using Idx = std::vector<Ix>;

std::string in0(EmitContext& cx, Body& b, const Node& n, const Idx& idx) { return cx.input_bcast(b, n, 0, idx); }

PullRow unary(const char* op, std::string (*fn)(EmitContext&, const Node&, const std::string&)) {
  return {op, [fn](EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
            return fn(cx, n, in0(cx, b, n, idx));
          }, {}};
}

PullRow call1(const char* op, const char* fn) {
  const std::string name = fn;
  return {op, [name](EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
            return name + "(" + in0(cx, b, n, idx) + ")";
          }, {}};
}

// Variadic or binary with broadcasting: fold left with `combine`.
PullRow nary(const char* op, std::string (*combine)(const std::string&, const std::string&),
             bool mean = false) {
  return {op, [combine, mean](EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
            std::string acc = cx.input_bcast(b, n, 0, idx);
            size_t count = 1;
            for (size_t i = 1; i < n.inputs.size(); ++i) {
              if (n.inputs[i].empty()) continue;
              acc = cx.bind(b, combine(acc, cx.input_bcast(b, n, i, idx)));
              ++count;
            }
            if (mean) acc = "(" + acc + " * " + cx.lit(1.0 / double(count)) + ")";
            return acc;
          }, {}};
}

// A float constant broadcast to T, in the context's language.
std::string f(const EmitContext& cx, float v) { return cx.lit(v); }

bool no_mask_output(const Graph&, const Node& n, std::string* why) {
  if (n.outputs.size() > 1 && !n.outputs[1].empty()) {
    *why = n.op_type + " with a mask output";
    return false;
  }
  return true;
}

// Constant integer input (or the attribute in older opsets).
std::optional<std::vector<int64_t>> const_ints(const Graph& g, const Node& n, size_t i, const char* attr) {
  if (n.has_input(i)) {
    auto it = g.initializers.find(n.inputs[i]);
    if (it == g.initializers.end()) return std::nullopt;
    std::vector<int64_t> v;
    for (int64_t k = 0; k < it->second.numel(); ++k) v.push_back(it->second.get_i64(k));
    return v;
  }
  if (attr && n.has_attr(attr)) return n.attr_ints(attr);
  return std::vector<int64_t>{};
}

int64_t norm_axis(int64_t a, int64_t rank) { return a < 0 ? a + rank : a; }

// ---- movement ---------------------------------------------------------------------

std::string reshape_pull(EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
  const std::vector<int64_t> in = cx.shape_of(n.inputs[0]);
  const std::vector<int64_t> out = cx.shape_of(n.outputs[0]);
  if (in == out) return cx.value_at(b, n.inputs[0], idx);
  const Ix linear = ix_linear(idx, row_major_strides(out));
  return cx.value_at(b, n.inputs[0], ix_unravel(linear, in));
}

std::string transpose_pull(EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
  std::vector<int64_t> perm = n.attr_ints("perm");
  if (perm.empty())
    for (size_t i = idx.size(); i-- > 0;) perm.push_back(int64_t(i));
  Idx in(idx.size());
  for (size_t j = 0; j < idx.size(); ++j) in[size_t(perm[j])] = idx[j];
  return cx.value_at(b, n.inputs[0], in);
}

std::string expand_pull(EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
  return cx.input_bcast(b, n, 0, idx);
}

std::string tile_pull(EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
  const std::vector<int64_t> in = cx.shape_of(n.inputs[0]);
  Idx i2(idx.size());
  for (size_t j = 0; j < idx.size(); ++j) i2[j] = ix_mod(idx[j], in[j]);
  return cx.value_at(b, n.inputs[0], i2);
}

struct SliceAxis { int64_t start = 0, step = 1; };

std::map<int64_t, SliceAxis> slice_axes(const Graph& g, const Node& n) {
  const std::vector<int64_t> shape = *g.type_of(n.inputs[0])->static_shape();
  const int64_t rank = int64_t(shape.size());
  const bool attrs = g.opset() < 10;
  auto starts = attrs ? std::optional(n.attr_ints("starts")) : const_ints(g, n, 1, nullptr);
  auto axes = attrs ? std::optional(n.attr_ints("axes")) : const_ints(g, n, 3, nullptr);
  auto steps = attrs ? std::optional(std::vector<int64_t>{}) : const_ints(g, n, 4, nullptr);
  std::map<int64_t, SliceAxis> r;
  if (!starts || !axes || !steps) return r;
  for (size_t k = 0; k < starts->size(); ++k) {
    const int64_t axis = norm_axis(axes->empty() ? int64_t(k) : (*axes)[k], rank);
    const int64_t dim = shape[size_t(axis)];
    const int64_t step = steps->empty() ? 1 : (*steps)[k];
    int64_t s = (*starts)[k];
    if (s < 0) s += dim;
    s = step > 0 ? std::clamp<int64_t>(s, 0, dim) : std::clamp<int64_t>(s, 0, dim - 1);
    r[axis] = {s, step};
  }
  return r;
}

bool slice_supported(const Graph& g, const Node& n, std::string* why) {
  if (g.opset() >= 10)
    for (size_t i = 1; i < n.inputs.size(); ++i)
      if (n.has_input(i) && !g.is_constant(n.inputs[i])) {
        *why = "Slice with computed bounds";
        return false;
      }
  return true;
}

std::string slice_pull(EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
  Idx in = idx;
  for (const auto& [axis, s] : slice_axes(cx.graph(), n))
    in[size_t(axis)] = ix_add(ix_const(s.start), ix_mul(idx[size_t(axis)], s.step));
  return cx.value_at(b, n.inputs[0], in);
}

std::string concat_pull(EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
  const int64_t rank = int64_t(idx.size());
  const size_t axis = size_t(norm_axis(n.attr_int("axis", 0), rank));
  std::vector<std::pair<std::string, int64_t>> parts;  // input, offset
  int64_t off = 0;
  for (const std::string& in : n.inputs) {
    const int64_t len = cx.shape_of(in)[axis];
    if (len > 0) parts.push_back({in, off});
    off += len;
  }
  const Ix& i = idx[axis];
  std::string result;
  for (size_t k = parts.size(); k-- > 0;) {
    const int64_t len = cx.shape_of(parts[k].first)[axis];
    Idx sub = idx;
    sub[axis] = cx.clamp(ix_sub(i, ix_const(parts[k].second)), 0, len - 1);
    // Parts entirely outside the index range of this loop are never selected.
    if (i->hi < parts[k].second || i->lo >= parts[k].second + len) continue;
    const std::string v = cx.value_at(b, parts[k].first, sub);
    if (result.empty()) {
      result = v;
      continue;
    }
    const std::string in_part = cx.index_in_range(b, i, parts[k].second, parts[k].second + len);
    result = cx.bind(b, "vwhere(" + in_part + ", " + v + ", " + result + ")");
  }
  return result.empty() ? f(cx, 0) : result;
}

std::vector<int64_t> split_sizes(const Graph& g, const Node& n, int64_t dim) {
  std::vector<int64_t> sizes;
  if (n.has_input(1)) sizes = *const_ints(g, n, 1, nullptr);
  else if (n.has_attr("split")) sizes = n.attr_ints("split");
  if (sizes.empty()) {
    const int64_t k = int64_t(n.outputs.size());
    const int64_t chunk = (dim + k - 1) / k;
    for (int64_t i = 0; i < k; ++i) sizes.push_back(std::min(chunk, std::max<int64_t>(0, dim - i * chunk)));
  }
  return sizes;
}

std::string split_pull(EmitContext& cx, Body& b, const Node& n, size_t out, const Idx& idx) {
  const std::vector<int64_t> shape = cx.shape_of(n.inputs[0]);
  const size_t axis = size_t(norm_axis(n.attr_int("axis", 0), int64_t(shape.size())));
  const std::vector<int64_t> sizes = split_sizes(cx.graph(), n, shape[axis]);
  int64_t off = 0;
  for (size_t k = 0; k < out; ++k) off += sizes[k];
  Idx in = idx;
  in[axis] = ix_add(idx[axis], ix_const(off));
  return cx.value_at(b, n.inputs[0], in);
}

bool pad_supported(const Graph& g, const Node& n, std::string* why) {
  const std::string mode = n.attr_string("mode", "constant");
  if (mode != "constant" && mode != "edge") {
    *why = "Pad mode " + mode;
    return false;
  }
  if (g.opset() >= 11) {
    for (size_t i = 1; i < n.inputs.size(); ++i)
      if (n.has_input(i) && !g.is_constant(n.inputs[i])) {
        *why = "Pad with computed pads";
        return false;
      }
    if (n.has_input(3)) {
      *why = "Pad with axes";
      return false;
    }
  }
  return true;
}

std::string pad_pull(EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
  const Graph& g = cx.graph();
  const std::vector<int64_t> shape = cx.shape_of(n.inputs[0]);
  const std::vector<int64_t> pads = g.opset() >= 11 ? *const_ints(g, n, 1, nullptr) : n.attr_ints("pads");
  double cval = n.attr_float("value", 0.0f);
  if (g.opset() >= 11 && n.has_input(2)) cval = g.initializers.at(n.inputs[2]).get_f64(0);
  const bool edge = n.attr_string("mode", "constant") == "edge";
  Idx in(idx.size());
  std::string valid;
  for (size_t j = 0; j < idx.size(); ++j) {
    const Ix raw = ix_sub(idx[j], ix_const(pads[j]));
    in[j] = cx.clamp(raw, 0, shape[j] - 1);
    if (edge) continue;
    const std::string m = cx.index_in_range(b, raw, 0, shape[j]);
    if (m == cx.splat("1.0f")) continue;
    valid = valid.empty() ? m : cx.bind(b, "vand(" + valid + ", " + m + ")");
  }
  const std::string v = cx.value_at(b, n.inputs[0], in);
  if (valid.empty()) return v;
  return "vwhere(" + valid + ", " + v + ", " + f(cx, float(cval)) + ")";
}

bool gather_supported(const Graph& g, const Node& n, std::string* why) {
  const TensorType* t = g.type_of(n.inputs[1]);
  if (!t || (t->dtype != DType::I64 && t->dtype != DType::I32)) {
    *why = "Gather indices of this type";
    return false;
  }
  return true;
}

std::string gather_pull(EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
  const std::vector<int64_t> data = cx.shape_of(n.inputs[0]);
  const std::vector<int64_t> ishape = cx.shape_of(n.inputs[1]);
  const size_t axis = size_t(norm_axis(n.attr_int("axis", 0), int64_t(data.size())));
  const int64_t dim = data[axis];
  Idx at(idx.begin() + int64_t(axis), idx.begin() + int64_t(axis + ishape.size()));
  Ix which;
  if (const Tensor* c = cx.constant(n.inputs[1]); c && c->numel() == 1) {
    int64_t v = c->get_i64(0);
    which = ix_const(std::clamp<int64_t>(v < 0 ? v + dim : v, 0, dim - 1));
  } else {
    const int slot = cx.buffer_slot(n.inputs[1]);
    if (slot < 0 || cx.producer(n.inputs[1])) {
      cx.mark_unsupported("Gather indices computed inside the block");
      return f(cx, 0);
    }
    const Ix addr = ix_linear(at, row_major_strides(ishape));
    cx.note_read(n.inputs[1], addr);
    which = ix_opaque("ix_gidx(" + cx.dialect().index_element(slot, cx.ix_placeholder(addr)) + ", " +
                          cx.int_lit(dim) + ")",
                      vars_of(addr), 0, dim - 1);
  }
  Idx in(idx.begin(), idx.begin() + int64_t(axis));
  in.push_back(which);
  in.insert(in.end(), idx.begin() + int64_t(axis + ishape.size()), idx.end());
  return cx.value_at(b, n.inputs[0], in);
}

// ---- nearest Resize / Upsample: a per-axis source-index table ------------------------
// Nearest resizing is separable, so each axis maps output index -> input index. The map
// is taken from the reference kernel itself (run once on a tensor holding each element's
// index along the axis), so every coordinate mode and rounding rule matches it exactly.

bool resize_supported(const Graph& g, const Node& n, std::string* why) {
  const std::string mode = n.attr_string("mode", "nearest");
  if (mode != "nearest") {
    *why = n.op_type + " mode " + mode;
    return false;
  }
  if (n.attr_string("coordinate_transformation_mode", "half_pixel") == "tf_crop_and_resize") {
    *why = "Resize tf_crop_and_resize";
    return false;
  }
  for (size_t i = 1; i < n.inputs.size(); ++i)
    if (n.has_input(i) && !g.is_constant(n.inputs[i])) {
      *why = n.op_type + " with computed scales or sizes";
      return false;
    }
  if (n.has_attr("axes")) {
    *why = "Resize with axes";
    return false;
  }
  return true;
}

std::vector<int64_t> resize_axis_map(const Graph& g, const Node& n, size_t axis) {
  const std::vector<int64_t> in = *g.type_of(n.inputs[0])->static_shape();
  const std::vector<int64_t> out = *g.type_of(n.outputs[0])->static_shape();
  Tensor x(DType::F32, in);
  const std::vector<int64_t> st = row_major_strides(in);
  for (int64_t k = 0; k < x.numel(); ++k) x.set_f64(k, double((k / st[axis]) % in[axis]));
  std::vector<const Tensor*> ins = {&x};
  for (size_t i = 1; i < n.inputs.size(); ++i)
    ins.push_back(n.has_input(i) ? &g.initializers.at(n.inputs[i]) : nullptr);
  KernelContext kc{n, g.opset(), ins, {}};
  const Tensor y = OpRegistry::instance().lookup(n, g).kernel(kc).at(0);
  const std::vector<int64_t> ost = row_major_strides(out);
  std::vector<int64_t> map(static_cast<size_t>(out[axis]));  // not size_t(...): clang reads that as a declaration
  for (int64_t o = 0; o < out[axis]; ++o) map[size_t(o)] = int64_t(y.get_f64(o * ost[axis]));
  return map;
}

std::string resize_pull(EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
  const std::vector<int64_t> in = cx.shape_of(n.inputs[0]);
  Idx src(idx.size());
  for (size_t d = 0; d < idx.size(); ++d) {
    const std::vector<int64_t> out_shape = cx.shape_of(n.outputs[0]);
    if (in[d] == out_shape[d]) {
      src[d] = idx[d];
      continue;
    }
    const std::vector<int64_t> map = resize_axis_map(cx.graph(), n, d);
    // An integer upscale with floor rounding is a division; anything else a table.
    const int64_t r = in[d] > 0 ? out_shape[d] / in[d] : 0;
    bool is_div = r > 0 && out_shape[d] == r * in[d];
    for (size_t o = 0; is_div && o < map.size(); ++o) is_div = map[o] == int64_t(o) / r;
    if (is_div) {
      src[d] = ix_div(idx[d], r);
      continue;
    }
    const std::string table = cx.fresh("rz_");
    cx.add_global(cx.dialect().int_table(table, map));
    src[d] = ix_opaque(cx.dialect().index_cast(table + "[" + cx.ix_placeholder(idx[d]) + "]"), vars_of(idx[d]), 0,
                       in[d] - 1);
  }
  return cx.value_at(b, n.inputs[0], src);
}

// ---- One-to-One with attributes or extra inputs -------------------------------------

std::string clip_pull(EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
  std::string x = in0(cx, b, n, idx);
  if (cx.graph().opset() < 11) {
    if (n.has_attr("min")) x = cx.bind(b, "vmax(" + x + ", " + f(cx, n.attr_float("min", 0)) + ")");
    if (n.has_attr("max")) x = cx.bind(b, "vmin(" + x + ", " + f(cx, n.attr_float("max", 0)) + ")");
    return x;
  }
  if (n.has_input(1)) x = cx.bind(b, "vmax(" + x + ", " + cx.value_at(b, n.inputs[1], {}) + ")");
  if (n.has_input(2)) x = cx.bind(b, "vmin(" + x + ", " + cx.value_at(b, n.inputs[2], {}) + ")");
  return x;
}

bool clip_supported(const Graph& g, const Node& n, std::string* why) {
  for (size_t i = 1; i < n.inputs.size(); ++i)
    if (n.has_input(i) && !g.is_constant(n.inputs[i])) {
      *why = "Clip with computed bounds";
      return false;
    }
  return true;
}

std::string batchnorm_pull(EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
  const Idx c = {idx.size() > 1 ? idx[1] : ix_const(0)};
  const std::string x = in0(cx, b, n, idx);
  const std::string scale = cx.value_at(b, n.inputs[1], c), bias = cx.value_at(b, n.inputs[2], c);
  const std::string mean = cx.value_at(b, n.inputs[3], c), var = cx.value_at(b, n.inputs[4], c);
  const float eps = n.attr_float("epsilon", 1e-5f);
  return "(" + x + " - " + mean + ") * (" + scale + " / vsqrt(" + var + " + " + f(cx, eps) + ")) + " + bias;
}

bool batchnorm_supported(const Graph&, const Node& n, std::string* why) {
  if (n.attr_int("training_mode", 0) != 0 || n.outputs.size() > 1) {
    *why = "BatchNormalization in training mode";
    return false;
  }
  return true;
}

std::string where_pull(EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
  return "vwhere(" + cx.input_bcast(b, n, 0, idx) + ", " + cx.input_bcast(b, n, 1, idx) + ", " +
         cx.input_bcast(b, n, 2, idx) + ")";
}

std::string prelu_pull(EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
  const std::string x = in0(cx, b, n, idx);
  return "vwhere(vlt(" + x + ", " + f(cx, 0) + "), " + x + " * " + cx.input_bcast(b, n, 1, idx) + ", " + x + ")";
}

std::string cast_pull(EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
  const std::string x = in0(cx, b, n, idx);
  if (cx.dtype_of(n.outputs[0]) == DType::Bool && cx.dtype_of(n.inputs[0]) != DType::Bool)
    return "vne(" + x + ", " + f(cx, 0) + ")";
  return x;
}

std::string isinf_pull(EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
  const std::string x = in0(cx, b, n, idx);
  const bool pos = n.attr_int("detect_positive", 1) != 0, neg = n.attr_int("detect_negative", 1) != 0;
  if (pos && neg) return "visinf(" + x + ")";
  if (pos) return "veq(" + x + ", " + f(cx, INFINITY) + ")";
  if (neg) return "veq(" + x + ", " + f(cx, -INFINITY) + ")";
  return f(cx, 0);
}

std::string gelu_pull(EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
  const std::string x = in0(cx, b, n, idx);
  if (n.attr_string("approximate", "none") == "tanh")
    return f(cx, 0.5f) + " * " + x + " * (" + f(cx, 1) + " + vtanh(" + f(cx, 0.7978845608028654f) + " * (" + x + " + " +
           f(cx, 0.044715f) + " * " + x + " * " + x + " * " + x + ")))";
  return f(cx, 0.5f) + " * " + x + " * (" + f(cx, 1) + " + verf(" + x + " * " + f(cx, 0.7071067811865476f) + "))";
}

std::string mod_pull(EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
  const std::string x = cx.input_bcast(b, n, 0, idx), y = cx.input_bcast(b, n, 1, idx);
  return (n.attr_int("fmod", 0) ? "vfmod(" : "vmod_floor(") + x + ", " + y + ")";
}

std::vector<PullRow> build_rows() {
  std::vector<PullRow> r;
  for (auto [op, fn] : std::vector<std::pair<const char*, const char*>>{
           {"Abs", "vabs"}, {"Neg", "vneg"}, {"Exp", "vexp"}, {"Log", "vlog"}, {"Sqrt", "vsqrt"},
           {"Reciprocal", "vrecip"}, {"Floor", "vfloor"}, {"Ceil", "vceil"}, {"Round", "vround"},
           {"Sign", "vsign"}, {"Sin", "vsin"}, {"Cos", "vcos"}, {"Erf", "verf"}, {"Tanh", "vtanh"},
           {"Sigmoid", "vsigmoid"}, {"IsNaN", "visnan"}, {"Not", "vnot"}})
    r.push_back(call1(op, fn));
  r.push_back(unary("Relu", [](EmitContext& cx, const Node&, const std::string& x) { return "vmax(" + x + ", " + cx.splat("0.0f") + ")"; }));
  r.push_back(unary("LeakyRelu", [](EmitContext& cx, const Node& n, const std::string& x) {
    return "vwhere(vlt(" + x + ", " + cx.splat("0.0f") + "), " + x + " * " + f(cx, n.attr_float("alpha", 0.01f)) + ", " + x + ")";
  }));
  r.push_back(unary("HardSigmoid", [](EmitContext& cx, const Node& n, const std::string& x) {
    return "vmin(vmax(" + x + " * " + f(cx, n.attr_float("alpha", 0.2f)) + " + " + f(cx, n.attr_float("beta", 0.5f)) +
           ", " + cx.splat("0.0f") + "), " + cx.splat("1.0f") + ")";
  }));
  r.push_back(unary("HardSwish", [](EmitContext& cx, const Node&, const std::string& x) {
    return x + " * vmin(vmax(" + x + " / " + f(cx, 6) + " + " + f(cx, 0.5f) + ", " + cx.splat("0.0f") + "), " + cx.splat("1.0f") + ")";
  }));
  r.push_back(unary("Elu", [](EmitContext& cx, const Node& n, const std::string& x) {
    return "vwhere(vlt(" + x + ", " + cx.splat("0.0f") + "), " + f(cx, n.attr_float("alpha", 1.0f)) + " * (vexp(" + x +
           ") - " + cx.splat("1.0f") + "), " + x + ")";
  }));
  r.push_back(unary("Selu", [](EmitContext& cx, const Node& n, const std::string& x) {
    const float a = n.attr_float("alpha", 1.67326319217681884765625f), g = n.attr_float("gamma", 1.05070102214813232421875f);
    return f(cx, g) + " * vwhere(vle(" + x + ", " + cx.splat("0.0f") + "), " + f(cx, a) + " * vexp(" + x + ") - " + f(cx, a) + ", " + x + ")";
  }));
  r.push_back(unary("Celu", [](EmitContext& cx, const Node& n, const std::string& x) {
    const float a = n.attr_float("alpha", 1.0f);
    return "vmax(" + x + ", " + cx.splat("0.0f") + ") + vmin(" + cx.splat("0.0f") + ", " + f(cx, a) + " * (vexp(" + x + " / " + f(cx, a) +
           ") - " + cx.splat("1.0f") + "))";
  }));
  r.push_back(unary("Softplus", [](EmitContext& cx, const Node&, const std::string& x) {
    return "vmax(" + x + ", " + cx.splat("0.0f") + ") + vlog(" + cx.splat("1.0f") + " + vexp(vneg(vabs(" + x + "))))";
  }));
  r.push_back(unary("Softsign", [](EmitContext& cx, const Node&, const std::string& x) { return x + " / (" + cx.splat("1.0f") + " + vabs(" + x + "))"; }));
  r.push_back(unary("ThresholdedRelu", [](EmitContext& cx, const Node& n, const std::string& x) {
    return "vwhere(vgt(" + x + ", " + f(cx, n.attr_float("alpha", 1.0f)) + "), " + x + ", " + cx.splat("0.0f") + ")";
  }));
  r.push_back(unary("Shrink", [](EmitContext& cx, const Node& n, const std::string& x) {
    const float l = n.attr_float("lambd", 0.5f), bias = n.attr_float("bias", 0.0f);
    return "vwhere(vlt(" + x + ", " + f(cx, -l) + "), " + x + " + " + f(cx, bias) + ", vwhere(vgt(" + x + ", " + f(cx, l) +
           "), " + x + " - " + f(cx, bias) + ", " + cx.splat("0.0f") + "))";
  }));
  r.push_back(unary("Mish", [](EmitContext& cx, const Node&, const std::string& x) {
    return x + " * vtanh(vmax(" + x + ", " + cx.splat("0.0f") + ") + vlog(" + cx.splat("1.0f") + " + vexp(vneg(vabs(" + x + ")))))";
  }));
  r.push_back(unary("Silu", [](EmitContext& cx, const Node&, const std::string& x) { return x + " * vsigmoid(" + x + ")"; }));
  r.push_back(unary("Swish", [](EmitContext& cx, const Node& n, const std::string& x) {
    return x + " * vsigmoid(" + x + " * " + f(cx, n.attr_float("alpha", 1.0f)) + ")";
  }));
  r.push_back({"Gelu", gelu_pull, {}});
  r.push_back(unary("Identity", [](EmitContext& cx, const Node&, const std::string& x) { return x; }));
  r.push_back({"Dropout", [](EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) { return in0(cx, b, n, idx); },
               no_mask_output});
  r.push_back(nary("Add", [](const std::string& a, const std::string& b) { return a + " + " + b; }));
  r.push_back(nary("Sub", [](const std::string& a, const std::string& b) { return a + " - " + b; }));
  r.push_back(nary("Mul", [](const std::string& a, const std::string& b) { return a + " * " + b; }));
  r.push_back(nary("Div", [](const std::string& a, const std::string& b) { return a + " / " + b; }));
  r.push_back(nary("Pow", [](const std::string& a, const std::string& b) { return "vpow(" + a + ", " + b + ")"; }));
  r.push_back(nary("Max", [](const std::string& a, const std::string& b) { return "vmax(" + a + ", " + b + ")"; }));
  r.push_back(nary("Min", [](const std::string& a, const std::string& b) { return "vmin(" + a + ", " + b + ")"; }));
  r.push_back(nary("Sum", [](const std::string& a, const std::string& b) { return a + " + " + b; }));
  r.push_back(nary("Mean", [](const std::string& a, const std::string& b) { return a + " + " + b; }, true));
  for (auto [op, fn] : std::vector<std::pair<const char*, const char*>>{
           {"Equal", "veq"}, {"Less", "vlt"}, {"LessOrEqual", "vle"}, {"Greater", "vgt"},
           {"GreaterOrEqual", "vge"}, {"And", "vand"}, {"Or", "vor"}, {"Xor", "vxor"}}) {
    const std::string name = fn;
    r.push_back({op, [name](EmitContext& cx, Body& b, const Node& n, size_t, const Idx& idx) {
                   return name + "(" + cx.input_bcast(b, n, 0, idx) + ", " + cx.input_bcast(b, n, 1, idx) + ")";
                 }, {}});
  }
  r.push_back({"Mod", mod_pull, {}});
  r.push_back({"PRelu", prelu_pull, {}});
  r.push_back({"Where", where_pull, {}});
  r.push_back({"Cast", cast_pull, {}});
  r.push_back({"CastLike", cast_pull, {}});
  r.push_back({"IsInf", isinf_pull, {}});
  r.push_back({"Clip", clip_pull, clip_supported});
  r.push_back({"BatchNormalization", batchnorm_pull, batchnorm_supported});
  for (const char* op : {"Reshape", "Flatten", "Squeeze", "Unsqueeze"}) r.push_back({op, reshape_pull, {}});
  r.push_back({"Transpose", transpose_pull, {}});
  r.push_back({"Expand", expand_pull, {}});
  r.push_back({"Tile", tile_pull, {}});
  r.push_back({"Slice", slice_pull, slice_supported});
  r.push_back({"Concat", concat_pull, {}});
  r.push_back({"Split", split_pull, [](const Graph& g, const Node& n, std::string* why) {
                 if (n.has_input(1) && !g.is_constant(n.inputs[1])) {
                   *why = "Split with computed sizes";
                   return false;
                 }
                 return true;
               }});
  r.push_back({"Pad", pad_pull, pad_supported});
  r.push_back({"Gather", gather_pull, gather_supported});
  r.push_back({"Resize", resize_pull, resize_supported});
  r.push_back({"Upsample", resize_pull, resize_supported});
  return r;
}

}  // namespace

const std::vector<PullRow>& pull_rows() {
  static const std::vector<PullRow> rows = build_rows();
  return rows;
}

const PullRow* find_pull(const std::string& op_type) {
  static const std::map<std::string, const PullRow*> index = [] {
    std::map<std::string, const PullRow*> m;
    for (const PullRow& r : pull_rows()) m[r.op] = &r;
    return m;
  }();
  auto it = index.find(op_type);
  return it == index.end() ? nullptr : it->second;
}

}  // namespace dnnf::codegen
