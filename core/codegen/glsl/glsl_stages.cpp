#include "core/codegen/glsl/glsl_stages.h"

#include <algorithm>

#include "core/codegen/glsl/glsl_attention.h"
#include "core/codegen/glsl/glsl_gemm.h"
#include "core/codegen/glsl/glsl_stage_util.h"
#include "core/ops/conv_geometry.h"
#include "core/ops/convt_geometry.h"
#include "core/util/error.h"

namespace dnnf::codegen::glsl {

namespace {

using namespace stage_util;

// ---- pointwise ------------------------------------------------------------------------

ShaderStage emit_pointwise(EmitContext& cx, const Stage& s, const std::string& fn, const Target& t) {
  std::vector<int64_t> shape = cx.shape_of(s.value);
  const std::vector<int64_t> vshape = shape;
  if (shape.empty()) shape = {1};
  cx.reset_vars();
  cx.set_inner(-1, false);
  std::vector<std::string> names;
  Idx idx;
  for (size_t d = 0; d < shape.size(); ++d) {
    names.push_back("i" + str(int64_t(d)));
    idx.push_back(cx.var(cx.new_var(names.back(), shape[d])));
  }
  const Idx vidx = vshape.empty() ? Idx{} : idx;
  Body body;
  const std::string v = cx.value_at(body, s.value, vidx);
  body.lines.push_back(cx.store(s.value, ix_linear(vidx, row_major_strides(vshape)), v));
  const int64_t total = product(shape);
  ShaderStage st;
  st.what = "pointwise";
  st.groups = ceil_div(total, t.local_size);
  st.function = "void " + fn + "() {\n" + element_guard("e_", total, t.local_size) + decode(names, shape, "e_") +
                body.render(2) + "}\n";
  return st;
}

// ---- direct convolution: one invocation per output pixel and CB output channels --------
// Each invocation accumulates CB channels of one output pixel (CB = 4 when the channels
// of a group allow it), so every input element it loads feeds CB multiply-adds.

// The taps' innermost statement of a convolution shader (direct or transposed) and what
// follows: the input load shared by the CB output channels, the closing braces of the tap
// loops, then per output channel the bias and the merged epilogue.
struct ConvShaderTaps {
  int x_slot;
  std::string xaddr;
  std::string xscale;  // a factor of the input load (a channel scale), or empty
  int w_slot;
  std::string waddr, close, cb;
  int64_t nsp;
};

ShaderStage finish_conv_shader(EmitContext& cx, const Stage& s, std::string c, const ConvShaderTaps& taps,
                               const Idx& idx, int64_t total, const Target& t, const char* label, const char* what) {
  const Node& n = *s.anchor;
  const std::string pad(size_t(4 + 2 * taps.nsp), ' ');
  c += pad + "const float xv_ = " + cx.dialect().element(taps.x_slot, taps.xaddr) +
       (taps.xscale.empty() ? "" : " * " + taps.xscale) + ";\n";
  c += pad + "for (int q_ = 0; q_ < " + taps.cb + "; ++q_) acc_[q_] += xv_ * " +
       cx.dialect().element(taps.w_slot, taps.waddr) + ";\n" + taps.close + "  }\n";
  c += "  for (int q_ = 0; q_ < " + taps.cb + "; ++q_) {\n    const int ch = ch0_ + q_;\n    float accv_ = acc_[q_];\n";
  if (n.has_input(2)) {
    const int b_slot = cx.buffer_slot(n.inputs[2]);
    check(b_slot >= 0, label, " shader: bias not in memory");
    c += "    accv_ += " + cx.dialect().element(b_slot, "ch") + ";\n";
  }
  Body body;
  store_epilogue(cx, body, s, idx, "accv_", s.store_value);
  c += body.render(4) + "  }\n}\n";
  ShaderStage st;
  st.what = what;
  st.groups = ceil_div(total, t.local_size);
  st.function = c;
  return st;
}

ShaderStage emit_conv(EmitContext& cx, const Stage& s, const std::string& fn, const Target& t) {
  if (std::optional<ShaderStage> gemm = emit_conv_as_gemm(cx, s, fn, t)) return *gemm;
  const Node& n = *s.anchor;
  const ConvShapes cs = conv_shapes(cx, n);
  const std::vector<int64_t>&xs = cs.xs, &ys = cs.ys, &kernel = cs.w.kernel;
  const ops::convgeo::Window& w = cs.w;
  const int64_t nsp = w.nsp;
  const int64_t group = n.attr_int("group", 1);
  const int64_t C = xs[1], Cg = C / group, OC = ys[1], OCg = OC / group;
  const int64_t CB = OCg % 4 == 0 ? 4 : 1;
  cx.reset_vars();
  cx.set_inner(-1, false);
  std::vector<std::string> names = {"img", "chb_"};
  std::vector<int64_t> extents = {ys[0], OC / CB};
  Idx idx = {cx.var(cx.new_var("img", ys[0])), cx.var(cx.new_var("ch", OC))};
  for (int64_t d = 0; d < nsp; ++d) {
    names.push_back("o" + str(d));
    extents.push_back(ys[size_t(2 + d)]);
    idx.push_back(cx.var(cx.new_var(names.back(), ys[size_t(2 + d)])));
  }
  // A channel-scaled input reads the feature map and multiplies each load by its
  // channel's factor (the GEMM form scales the weights instead).
  const std::optional<ChannelScale>& scale = s.channel_scale;
  const int x_slot = cx.buffer_slot(scale ? scale->x : n.inputs[0]), w_slot = cx.buffer_slot(n.inputs[1]);
  const int s_slot = scale ? cx.buffer_slot(scale->scale) : -1;
  check(x_slot >= 0 && w_slot >= 0 && (!scale || s_slot >= 0), "conv shader: operands not in memory");
  const std::string xscale =
      scale ? cx.dialect().element(s_slot, scale->per_image ? "(img * " + str(C) + " + c0_ + ic_)" : "(c0_ + ic_)") : "";
  const int64_t total = product(extents);
  const std::string cb = str(CB);
  std::string c = "void " + fn + "() {\n" + element_guard("e_", total, t.local_size) + decode(names, extents, "e_");
  c += "  const int ch0_ = chb_ * " + cb + ";\n";
  c += "  const int c0_ = (ch0_ / " + str(OCg) + ") * " + str(Cg) + ";\n";
  c += "  float acc_[" + cb + "];\n  for (int q_ = 0; q_ < " + cb + "; ++q_) acc_[q_] = 0.0f;\n";
  c += "  for (int ic_ = 0; ic_ < " + str(Cg) + "; ++ic_) {\n";
  std::string xaddr = "(img * " + str(C) + " + c0_ + ic_)", waddr = "((ch0_ + q_) * " + str(Cg) + " + ic_)";
  std::string close;
  for (int64_t d = 0; d < nsp; ++d) {
    const std::string kv = "kw" + str(d) + "_", xv = "x" + str(d) + "_";
    const std::string pad(size_t(4 + 2 * d), ' ');
    c += pad + "for (int " + kv + " = 0; " + kv + " < " + str(kernel[size_t(d)]) + "; ++" + kv + ") {\n";
    c += pad + "  const int " + xv + " = o" + str(d) + " * " + str(w.strides[size_t(d)]) + " + " + kv + " * " +
         str(w.dilations[size_t(d)]) + " - " + str(w.pad_begin(d)) + ";\n";
    c += pad + "  if (" + xv + " < 0 || " + xv + " >= " + str(xs[size_t(2 + d)]) + ") continue;\n";
    xaddr = "(" + xaddr + " * " + str(xs[size_t(2 + d)]) + " + " + xv + ")";
    waddr = "(" + waddr + " * " + str(kernel[size_t(d)]) + " + " + kv + ")";
    close = std::string(size_t(4 + 2 * d), ' ') + "}\n" + close;
  }
  return finish_conv_shader(cx, s, std::move(c), {x_slot, xaddr, xscale, w_slot, waddr, close, cb, nsp}, idx, total,
                            t, "conv", "conv");
}

// ---- transposed convolution: one invocation per output pixel and CB output channels ----
// Output position o of a spatial dim receives input position i through tap k when
// o = i*s - pb + k*d: the invocation walks the taps of every dim and reads the input
// where (o + pb - k*d) is a whole, in-range multiple of s. No two invocations write the
// same element, so there are no atomics. CB = 4 output channels of one group share each
// input load when the group's channel count allows it. The geometry is the reference
// kernel's (strides, pads, dilations, group, output_padding, output_shape, auto_pad).

ShaderStage emit_conv_transpose(EmitContext& cx, const Stage& s, const std::string& fn, const Target& t) {
  const Node& n = *s.anchor;
  const std::vector<int64_t> xs = cx.shape_of(n.inputs[0]), ws = cx.shape_of(n.inputs[1]);
  const std::vector<int64_t> ys = cx.shape_of(n.outputs[0]);
  const ops::ConvTransposeGeometry geo = ops::conv_transpose_geometry(n, xs, ws);
  const ops::convgeo::Geom3& g = geo.geom;
  const int64_t nsp = int64_t(xs.size()) - 2;
  const int64_t Cg = geo.C / geo.G, Mg = geo.M / geo.G;
  const int64_t CB = Mg % 4 == 0 ? 4 : 1;
  cx.reset_vars();
  cx.set_inner(-1, false);
  std::vector<std::string> names = {"img", "chb_"};
  std::vector<int64_t> extents = {ys[0], geo.M / CB};
  Idx idx = {cx.var(cx.new_var("img", ys[0])), cx.var(cx.new_var("ch", geo.M))};
  for (int64_t d = 0; d < nsp; ++d) {
    names.push_back("o" + str(d));
    extents.push_back(ys[size_t(2 + d)]);
    idx.push_back(cx.var(cx.new_var(names.back(), ys[size_t(2 + d)])));
  }
  const int x_slot = cx.buffer_slot(n.inputs[0]), w_slot = cx.buffer_slot(n.inputs[1]);
  check(x_slot >= 0 && w_slot >= 0, "conv-transpose shader: operands not in memory");
  const int64_t total = product(extents);
  const std::string cb = str(CB);
  std::string c = "void " + fn + "() {\n" + element_guard("e_", total, t.local_size) + decode(names, extents, "e_");
  c += "  const int ch0_ = chb_ * " + cb + ";\n";
  c += "  const int c0_ = (ch0_ / " + str(Mg) + ") * " + str(Cg) + ", m0_ = ch0_ % " + str(Mg) + ";\n";
  c += "  float acc_[" + cb + "];\n  for (int q_ = 0; q_ < " + cb + "; ++q_) acc_[q_] = 0.0f;\n";
  c += "  for (int ic_ = 0; ic_ < " + str(Cg) + "; ++ic_) {\n";
  std::string xaddr = "(img * " + str(geo.C) + " + c0_ + ic_)", waddr = "((c0_ + ic_) * " + str(Mg) + " + m0_ + q_)";
  std::string close;
  for (int64_t d = 0; d < nsp; ++d) {
    const size_t j = size_t(3 - nsp + d);
    const std::string kv = "kw" + str(d) + "_", tv = "t" + str(d) + "_", xv = "x" + str(d) + "_";
    const std::string pad(size_t(4 + 2 * d), ' ');
    c += pad + "for (int " + kv + " = 0; " + kv + " < " + str(g.k[j]) + "; ++" + kv + ") {\n";
    c += pad + "  const int " + tv + " = o" + str(d) + " + " + str(g.pb[j]) + " - " + kv + " * " + str(g.d[j]) + ";\n";
    c += pad + "  if (" + tv + " < 0 || " + tv + " % " + str(g.s[j]) + " != 0) continue;\n";
    c += pad + "  const int " + xv + " = " + tv + " / " + str(g.s[j]) + ";\n";
    c += pad + "  if (" + xv + " >= " + str(g.in[j]) + ") continue;\n";
    xaddr = "(" + xaddr + " * " + str(g.in[j]) + " + " + xv + ")";
    waddr = "(" + waddr + " * " + str(g.k[j]) + " + " + kv + ")";
    close = std::string(size_t(4 + 2 * d), ' ') + "}\n" + close;
  }
  return finish_conv_shader(cx, s, std::move(c), {x_slot, xaddr, "", w_slot, waddr, close, cb, nsp}, idx, total, t,
                            "conv-transpose", "conv_transpose");
}

// ---- pooling windows: one invocation per output element ----------------------------------

ShaderStage emit_pool(EmitContext& cx, const Stage& s, const std::string& fn, const Target& t) {
  const Node& n = *s.anchor;
  const std::vector<int64_t> xs = cx.shape_of(n.inputs[0]), ys = cx.shape_of(n.outputs[0]);
  const int64_t nsp = int64_t(xs.size()) - 2;
  const std::vector<int64_t> kernel = ops::convgeo::kernel_shape_attr(n, nsp);
  ops::convgeo::Window w = ops::convgeo::read_window(n, nsp, kernel, n.op_type == "MaxPool");
  const bool ceil_mode = n.attr_int("ceil_mode", 0) != 0;
  ops::convgeo::resolve_all(n, w, Shape(xs.begin() + 2, xs.end()), ceil_mode);
  const bool is_max = n.op_type == "MaxPool";
  const bool include_pad = n.attr_int("count_include_pad", 0) != 0;
  cx.reset_vars();
  cx.set_inner(-1, false);
  std::vector<std::string> names = {"pn", "pch"};
  Idx out = {cx.var(cx.new_var("pn", ys[0])), cx.var(cx.new_var("pch", ys[1]))};
  for (int64_t d = 0; d < nsp; ++d) {
    names.push_back("o" + str(d));
    out.push_back(cx.var(cx.new_var(names.back(), ys[size_t(2 + d)])));
  }
  Idx in = {out[0], out[1]};
  std::string open, close, pad_checks;
  for (int64_t d = 0; d < nsp; ++d) {
    const std::string kv = "w" + str(d), iv = "x" + str(d);
    const Ix kix = cx.var(cx.new_var(kv, kernel[size_t(d)]));
    const Ix pos = ix_add(ix_add(ix_mul(out[size_t(2 + d)], w.strides[size_t(d)]), ix_mul(kix, w.dilations[size_t(d)])),
                          ix_const(-w.pad_begin(d)));
    in.push_back(pos);
    const int64_t lim = xs[size_t(2 + d)];
    open += "  for (int " + kv + " = 0; " + kv + " < " + str(kernel[size_t(d)]) + "; ++" + kv + ") {\n";
    open += "    const int " + iv + " = " + cx.ix(pos) + ";\n";
    open += "    if (" + iv + " < -" + str(w.pad_begin(d)) + " || " + iv + " >= " + str(lim + w.pad_end(d)) +
            ") continue;\n";
    pad_checks += "    if (" + iv + " < 0 || " + iv + " >= " + str(lim) + ") inpad_ = true;\n";
    close += "  }\n";
  }
  Body win;
  const std::string v = cx.value_at(win, n.inputs[0], in);
  win.lines.push_back(is_max ? "acc_ = vmax(acc_, " + v + ");" : "acc_ += " + v + ";");
  win.lines.push_back("++valid_;");
  const int64_t total = product(ys);
  std::string c = "void " + fn + "() {\n" + element_guard("e_", total, t.local_size) + decode(names, ys, "e_");
  c += std::string("  float acc_ = ") + (is_max ? "-dnnf_inf()" : "0.0f") + ";\n  int valid_ = 0, padded_ = 0;\n";
  c += open + "    bool inpad_ = false;\n" + pad_checks + "    ++padded_;\n    if (!inpad_) {\n" + win.render(6) +
       "    }\n" + close;
  const std::string res = is_max ? "acc_" : (include_pad ? "acc_ / float(padded_)" : "acc_ / float(valid_)");
  Body body;
  const std::string av = cx.bind(body, res);
  store_epilogue(cx, body, s, out, av, s.store_value);
  c += body.render(2) + "}\n";
  ShaderStage st;
  st.what = "pool";
  st.groups = ceil_div(total, t.local_size);
  st.function = c;
  return st;
}

// ---- reductions, softmax, normalisations -------------------------------------------------

std::string combine(const std::string& how, const std::string& acc, const std::string& x) {
  if (how == "max") return "vmax(" + acc + ", " + x + ")";
  if (how == "min") return "vmin(" + acc + ", " + x + ")";
  if (how == "prod") return acc + " * " + x;
  return acc + " + " + x;
}

// Rows shorter than this are reduced by one invocation each instead of a work group.
constexpr int64_t kSerialRow = 64;

ShaderStage emit_reduce(EmitContext& cx, const Stage& s, const std::string& fn, const Target& t) {
  const Node& n = *s.anchor;
  std::string why;
  const ReduceSpec spec = *reduce_spec(cx.graph(), n, &why);
  const std::vector<int64_t> xs = cx.shape_of(n.inputs[0]);
  cx.reset_vars();
  cx.set_inner(-1, false);
  Idx full(xs.size());
  std::vector<std::string> kept_names, red_names;
  std::vector<int64_t> kept_ext, red_ext;
  for (size_t d = 0; d < xs.size(); ++d) {
    const std::string name = (spec.reduced[d] ? "r" : "k") + str(int64_t(d));
    full[d] = cx.var(cx.new_var(name, xs[d]));
    (spec.reduced[d] ? red_names : kept_names).push_back(name);
    (spec.reduced[d] ? red_ext : kept_ext).push_back(xs[d]);
  }
  const int64_t count = product(red_ext), rows = product(kept_ext);
  const bool serial = count < kSerialRow;
  const int L = t.local_size;
  const std::string x = n.inputs[0];
  const Dialect& dl = cx.dialect();

  std::string c = "void " + fn + "() {\n";
  if (serial) c += element_guard("g_", rows, L);
  else c += "  const int g_ = dnnf_group();\n  if (g_ >= " + str(rows) + ") return;\n  const int lid_ = dnnf_lid();\n";
  c += decode(kept_names, kept_ext, "g_");
  const std::string loop = serial ? "  for (int j_ = 0; j_ < " + str(count) + "; ++j_) {\n"
                                  : "  for (int j_ = lid_; j_ < " + str(count) + "; j_ += " + str(L) + ") {\n";
  auto run_pass = [&](const std::string& result, const std::string& init, const std::string& how,
                      const std::function<std::string(Body&)>& term) {
    Body body;
    const std::string v = term(body);
    body.lines.push_back("acc_ = " + combine(how, "acc_", v) + ";");
    c += "  float " + result + ";\n  {\n  float acc_ = " + init + ";\n" + loop + decode(red_names, red_ext, "j_", 4) +
         body.render(4) + "  }\n";
    if (serial) {
      c += "  " + result + " = acc_;\n  }\n";
      return;
    }
    c += "  sh_[lid_] = acc_;\n  barrier();\n";
    c += "  for (int w_ = " + str(L / 2) + "; w_ > 0; w_ >>= 1) {\n";
    c += "    if (lid_ < w_) sh_[lid_] = " + combine(how, "sh_[lid_]", "sh_[lid_ + w_]") + ";\n    barrier();\n  }\n";
    c += "  " + result + " = sh_[0];\n  barrier();\n  }\n";
  };
  auto xval = [&](Body& b) { return cx.value_at(b, x, full); };
  const std::string inf = "dnnf_inf()";
  const std::string cnt = dl.float_literal(double(count));
  std::string scalar_result;
  std::function<std::string(Body&)> element;
  switch (spec.op) {
    case Red::Sum: case Red::Mean: case Red::SumSquare: case Red::L1: case Red::L2: case Red::LogSum:
      run_pass("s0", "0.0f", "sum", [&](Body& b) {
        const std::string v = xval(b);
        if (spec.op == Red::SumSquare || spec.op == Red::L2) return v + " * " + v;
        if (spec.op == Red::L1) return "vabs(" + v + ")";
        return v;
      });
      scalar_result = spec.op == Red::Mean ? "s0 / " + cnt : spec.op == Red::L2 ? "vsqrt(s0)" :
                      spec.op == Red::LogSum ? "vlog(s0)" : "s0";
      break;
    case Red::Max: run_pass("s0", "(-" + inf + ")", "max", xval); scalar_result = "s0"; break;
    case Red::Min: run_pass("s0", inf, "min", xval); scalar_result = "s0"; break;
    case Red::Prod: run_pass("s0", "1.0f", "prod", xval); scalar_result = "s0"; break;
    case Red::LogSumExp:
    case Red::Softmax:
    case Red::LogSoftmax:
      run_pass("mx", "(-" + inf + ")", "max", xval);
      c += "  const float mxs = (mx == -" + inf + " || mx == " + inf + ") ? 0.0f : mx;\n";
      run_pass("se", "0.0f", "sum", [&](Body& b) { return "vexp(" + xval(b) + " - mxs)"; });
      if (spec.op == Red::LogSumExp) scalar_result = "mxs + vlog(se)";
      else if (spec.op == Red::Softmax) element = [&](Body& b) { return "vexp(" + xval(b) + " - mxs) * (1.0f / se)"; };
      else element = [&](Body& b) { return xval(b) + " - (mxs + vlog(se))"; };
      break;
    case Red::LayerNorm:
    case Red::InstanceNorm:
      run_pass("s0", "0.0f", "sum", xval);
      c += "  const float mean = s0 / " + cnt + ";\n";
      run_pass("s1", "0.0f", "sum", [&](Body& b) {
        const std::string d = cx.bind(b, xval(b) + " - mean");
        return d + " * " + d;
      });
      c += "  const float rstd = 1.0f / vsqrt(s1 / " + cnt + " + " + dl.float_literal(spec.eps) + ");\n";
      element = [&](Body& b) {
        std::string e = "(" + xval(b) + " - mean) * rstd";
        const Idx ch = {full.size() > 1 ? full[1] : ix_const(0)};
        const bool inorm = spec.op == Red::InstanceNorm;
        if (n.has_input(1))
          e += " * " + (inorm ? cx.value_at(b, n.inputs[1], ch) : cx.value_at(b, n.inputs[1], cx.bcast_index(n.inputs[1], full)));
        if (n.has_input(2))
          e += " + " + (inorm ? cx.value_at(b, n.inputs[2], ch) : cx.value_at(b, n.inputs[2], cx.bcast_index(n.inputs[2], full)));
        return e;
      };
      break;
    case Red::RMSNorm:
      run_pass("s0", "0.0f", "sum", [&](Body& b) { const std::string v = xval(b); return v + " * " + v; });
      c += "  const float rstd = 1.0f / vsqrt(s0 / " + cnt + " + " + dl.float_literal(spec.eps) + ");\n";
      element = [&](Body& b) {
        std::string e = xval(b) + " * rstd";
        if (n.has_input(1)) e += " * " + cx.value_at(b, n.inputs[1], cx.bcast_index(n.inputs[1], full));
        return e;
      };
      break;
  }
  if (element) {
    Body body;
    const std::string av = cx.bind(body, element(body));
    store_epilogue(cx, body, s, full, av, s.store_value);
    c += loop + decode(red_names, red_ext, "j_", 4) + body.render(4) + "  }\n";
  } else {
    Idx out;
    for (size_t d = 0; d < xs.size(); ++d) {
      if (!spec.reduced[d]) out.push_back(full[d]);
      else if (spec.keepdims) out.push_back(ix_const(0));
    }
    Body body;
    const std::string av = cx.bind(body, scalar_result);
    store_epilogue(cx, body, s, out, av, s.store_value);
    c += std::string(serial ? "  {\n" : "  if (lid_ == 0) {\n") + body.render(4) + "  }\n";
  }
  c += "}\n";
  ShaderStage st;
  st.what = "reduce";
  st.groups = serial ? ceil_div(rows, L) : rows;
  st.shared_floats = serial ? 0 : L;
  st.function = c;
  return st;
}

}  // namespace

ShaderStage emit_shader_stage(EmitContext& cx, const Stage& s, const std::string& name, const Target& target) {
  switch (s.kind) {
    case StageKind::Pointwise: return emit_pointwise(cx, s, name, target);
    case StageKind::Gemm: return emit_gemm(cx, s, name, target);
    case StageKind::Conv: return emit_conv(cx, s, name, target);
    case StageKind::ConvTranspose: return emit_conv_transpose(cx, s, name, target);
    case StageKind::Reduce: return emit_reduce(cx, s, name, target);
    case StageKind::Pool: return emit_pool(cx, s, name, target);
    case StageKind::Attention: return emit_attention(cx, s, name, target);
  }
  fail("no shader for this stage kind");
}

}  // namespace dnnf::codegen::glsl
