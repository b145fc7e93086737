#include "core/codegen/glsl/glsl_gemm.h"

#include <algorithm>
#include <set>

#include "core/codegen/glsl/glsl_stage_util.h"
#include "core/ops/conv_geometry.h"

namespace dnnf::codegen::glsl {

namespace {

using namespace stage_util;

using Gemm = MatMulShape;

Gemm gemm_of(const EmitContext& cx, const Node& n) {
  return matmul_shape(n, cx.shape_of(n.inputs[0]), cx.shape_of(n.inputs[1]));
}

// The pieces of a GEMM stage both shader shapes share: A and B element loads at the
// variables (batch..., m, k) and (batch..., k, n), and the epilogue at (batch..., m, n)
// reading `acc_v`. When both operands are plain row-major buffers with K and N multiples
// of 4, also their slots and the start of the batch's matrices in vec4s (A[m][k] is
// float a_base4 * 4 + m * K + k of the buffer, B[k][n] float b_base4 * 4 + k * N + n).
struct GemmBodies {
  Gemm g;
  std::vector<std::string> bnames;
  Body abody, bbody, epi;
  std::string av, bv;
  int a_vec4 = -1, b_vec4 = -1;
  std::string a_base4 = "0", b_base4 = "0";
  // A's columns scaled by a per-k factor (a convolution's channel scale): the vec4 form
  // multiplies each A vec4 by the factor's vec4 at a_scale_base4 + k / 4.
  int a_scale_vec4 = -1;
  std::string a_scale_base4 = "0";
};

// The buffer slot holding `v` row-major when it is in memory and not computed inline,
// else -1. A reshape of such a value (an alias of its buffer: same elements, same order)
// is plain too; the out-projection of attention reads its heads that way.
int plain_slot(const EmitContext& cx, const std::string& v) {
  const Tensor* c = cx.constant(v);
  if (c && c->numel() == 1) return -1;
  const int slot = cx.buffer_slot(v);
  if (slot < 0) return -1;
  if (cx.available(v) || c || !cx.producer(v)) return slot;
  static const std::set<std::string> views = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"};
  const Node* p = cx.producer(v);
  if (!views.count(p->op_type) || p->inputs.empty() || p->inputs[0].empty()) return -1;
  return plain_slot(cx, p->inputs[0]) == slot ? slot : -1;
}

// Whether a GEMM's shape lets it read A and B four elements at a time when both are
// plain buffers: one product (no batch), A [.., M, K] and B [K, N], neither transposed,
// K and N multiples of 4 (vec4 elements then start at multiples of 4 floats; buffers are
// 16-byte aligned).
bool vec4_shape(const EmitContext& cx, const Node& n, const Gemm& g) {
  if (product(g.batch_shape) != 1 || g.trans_a || g.trans_b || g.a_rank1 || g.b_rank1) return false;
  if (g.K % 4 != 0 || g.N % 4 != 0) return false;
  return cx.shape_of(n.inputs[1]).size() == 2;
}

GemmBodies gemm_bodies(EmitContext& cx, const Stage& s) {
  const Node& n = *s.anchor;
  GemmBodies gb;
  gb.g = gemm_of(cx, n);
  const Gemm& g = gb.g;
  cx.reset_vars();
  cx.set_inner(-1, false);
  std::vector<std::string>& bnames = gb.bnames;
  Idx batch;
  for (size_t d = 0; d < g.batch_shape.size(); ++d) {
    bnames.push_back("ib" + str(int64_t(d)));
    batch.push_back(cx.var(cx.new_var(bnames.back(), g.batch_shape[d])));
  }
  const Ix m = cx.var(cx.new_var("m", g.M)), nn = cx.var(cx.new_var("n", g.N)), k = cx.var(cx.new_var("k", g.K));
  Idx aidx, bidx;
  const std::vector<int64_t> as = cx.shape_of(n.inputs[0]), bs = cx.shape_of(n.inputs[1]);
  if (n.op_type == "Gemm") {
    aidx = g.trans_a ? Idx{k, m} : Idx{m, k};
    bidx = g.trans_b ? Idx{nn, k} : Idx{k, nn};
  } else {
    aidx = batched_operand_index(as, batch, g.a_rank1 ? Idx{k} : Idx{m, k});
    bidx = batched_operand_index(bs, batch, g.b_rank1 ? Idx{k} : Idx{k, nn});
  }
  gb.av = cx.value_at(gb.abody, n.inputs[0], aidx);
  gb.bv = cx.value_at(gb.bbody, n.inputs[1], bidx);

  std::string acc = "acc_v";
  const bool has_bias = n.op_type == "Gemm" && n.has_input(2) && g.beta != 0;
  if (has_bias) {
    const std::string bias = cx.value_at(gb.epi, n.inputs[2], cx.bcast_index(n.inputs[2], {m, nn}));
    acc = cx.bind(gb.epi, acc + " + " + bias + " * " + cx.lit(g.beta));
  }
  Idx yidx = batch;
  if (!g.a_rank1) yidx.push_back(m);
  if (!g.b_rank1) yidx.push_back(nn);
  store_epilogue(cx, gb.epi, s, yidx, acc, s.store_value);
  if (vec4_shape(cx, n, g)) {
    const int a = plain_slot(cx, n.inputs[0]), b = plain_slot(cx, n.inputs[1]);
    if (a >= 0 && b >= 0) gb.a_vec4 = a, gb.b_vec4 = b;
  }
  return gb;
}

// A pointwise convolution (1x1 kernel, stride 1, no padding, one group) is, per image, a
// GEMM of the weights [OC, C] and the image [C, pixels]: m an output channel, k an input
// channel, n a pixel; the bias joins the epilogue.
std::optional<GemmBodies> conv_gemm_bodies(EmitContext& cx, const Stage& s) {
  const Node& n = *s.anchor;
  const ConvShapes cs = conv_shapes(cx, n);
  const std::vector<int64_t>&xs = cs.xs, &ys = cs.ys, &kernel = cs.w.kernel;
  const ops::convgeo::Window& w = cs.w;
  const int64_t nsp = w.nsp;
  if (n.attr_int("group", 1) != 1) return std::nullopt;
  for (int64_t d = 0; d < nsp; ++d)
    if (kernel[size_t(d)] != 1 || w.strides[size_t(d)] != 1 || w.pad_begin(d) != 0 || w.pad_end(d) != 0 ||
        ys[size_t(2 + d)] != xs[size_t(2 + d)])
      return std::nullopt;
  // With a channel scale the input read is the unscaled feature map; the factor goes
  // with the weights (W[m][k] * s[k]), which the vec4 form loads four k at a time.
  const std::optional<ChannelScale>& scale = s.channel_scale;
  const std::string x_value = scale ? scale->x : n.inputs[0];
  const int x_slot = cx.buffer_slot(x_value), w_slot = cx.buffer_slot(n.inputs[1]);
  const int b_slot = n.has_input(2) ? cx.buffer_slot(n.inputs[2]) : -1;
  const int s_slot = scale ? cx.buffer_slot(scale->scale) : -1;
  if (x_slot < 0 || w_slot < 0 || (n.has_input(2) && b_slot < 0) || (scale && s_slot < 0)) return std::nullopt;
  const std::vector<int64_t> spatial(ys.begin() + 2, ys.end());
  GemmBodies gb;
  Gemm& g = gb.g;
  g.M = ys[1];
  g.K = xs[1];
  g.N = product(spatial);
  g.batch_shape = {ys[0]};
  gb.bnames = {"img"};
  cx.reset_vars();
  cx.set_inner(-1, false);
  const Ix img = cx.var(cx.new_var("img", ys[0]));
  const Ix m = cx.var(cx.new_var("m", g.M)), nn = cx.var(cx.new_var("n", g.N)), k = cx.var(cx.new_var("k", g.K));
  Idx pixel;  // the pixel n as spatial indices, outermost first
  int64_t inner = g.N;
  for (int64_t e : spatial) {
    inner /= e;
    pixel.push_back(ix_mod(ix_div(nn, inner), e));
  }
  Idx widx = {m, k}, xidx = {img, k}, yidx = {img, m};
  for (int64_t d = 0; d < nsp; ++d) widx.push_back(ix_const(0));
  xidx.insert(xidx.end(), pixel.begin(), pixel.end());
  yidx.insert(yidx.end(), pixel.begin(), pixel.end());
  gb.av = cx.value_at(gb.abody, n.inputs[1], widx);
  if (scale) {
    const std::string at = scale->per_image ? "(img * " + str(g.K) + " + k)" : "k";
    gb.av = "(" + gb.av + " * " + cx.dialect().element(s_slot, at) + ")";
  }
  gb.bv = cx.value_at(gb.bbody, x_value, xidx);
  std::string acc = "acc_v";
  if (b_slot >= 0) acc = cx.bind(gb.epi, acc + " + " + cx.dialect().element(b_slot, "m"));
  store_epilogue(cx, gb.epi, s, yidx, acc, s.store_value);
  if (g.K % 4 == 0 && g.N % 4 == 0) {
    gb.a_vec4 = w_slot;
    gb.b_vec4 = x_slot;
    gb.b_base4 = "img * " + str(g.K * g.N / 4);
    if (scale) {
      gb.a_scale_vec4 = s_slot;
      if (scale->per_image) gb.a_scale_base4 = "img * " + str(g.K / 4);
    }
  }
  return gb;
}

// The GEMM for GPUs: tiles of A and B staged in shared memory, an R x R register tile per
// invocation.
ShaderStage emit_gemm_tiled(EmitContext& cx, const Stage& s, const std::string& fn, const Target& t) {
  GemmBodies gb = gemm_bodies(cx, s);
  const Gemm& g = gb.g;
  const std::vector<std::string>& bnames = gb.bnames;
  const Body &abody = gb.abody, &bbody = gb.bbody, &epi = gb.epi;
  const std::string &av = gb.av, &bv = gb.bv;
  const int L = t.local_size;
  const int TX = L >= 256 ? 16 : 8, TY = L / TX;  // invocation grid of a work group
  const int R = 4;                                // register tile R x R per invocation
  const int64_t TM = TY * R, TN = TX * R, TK = 16;
  const int64_t tiles_n = ceil_div(g.N, TN), tiles_m = ceil_div(g.M, TM);
  const int64_t groups = tiles_n * tiles_m * std::max<int64_t>(1, product(g.batch_shape));
  const std::string M = str(g.M), N = str(g.N), K = str(g.K);
  std::string c = "void " + fn + "() {\n";
  c += "  const int g_ = dnnf_group();\n  if (g_ >= " + str(groups) + ") return;\n";
  c += "  const int col0_ = (g_ % " + str(tiles_n) + ") * " + str(TN) + ";\n";
  c += "  const int row0_ = ((g_ / " + str(tiles_n) + ") % " + str(tiles_m) + ") * " + str(TM) + ";\n";
  c += decode(bnames, g.batch_shape, "g_ / " + str(tiles_n * tiles_m));
  c += "  const int lid_ = dnnf_lid();\n  const int tx_ = lid_ % " + str(TX) + ", ty_ = lid_ / " + str(TX) + ";\n";
  c += "  float acc_[" + str(R * R) + "];\n  for (int i_ = 0; i_ < " + str(R * R) + "; ++i_) acc_[i_] = 0.0f;\n";
  c += "  for (int k0_ = 0; k0_ < " + K + "; k0_ += " + str(TK) + ") {\n";
  c += "    for (int q_ = lid_; q_ < " + str(TM * TK) + "; q_ += " + str(L) + ") {\n";
  c += "      const int mm_ = q_ / " + str(TK) + ", kk_ = q_ % " + str(TK) + ";\n";
  c += "      const int m = row0_ + mm_, k = k0_ + kk_;\n      float v_ = 0.0f;\n";
  c += "      if (m < " + M + " && k < " + K + ") {\n" + abody.render(8) + "        v_ = " + av + ";\n      }\n";
  c += "      sh_[kk_ * " + str(TM) + " + mm_] = v_;\n    }\n";
  c += "    for (int q_ = lid_; q_ < " + str(TN * TK) + "; q_ += " + str(L) + ") {\n";
  c += "      const int kk_ = q_ / " + str(TN) + ", nn_ = q_ % " + str(TN) + ";\n";
  c += "      const int n = col0_ + nn_, k = k0_ + kk_;\n      float v_ = 0.0f;\n";
  c += "      if (n < " + N + " && k < " + K + ") {\n" + bbody.render(8) + "        v_ = " + bv + ";\n      }\n";
  c += "      sh_[" + str(TM * TK) + " + kk_ * " + str(TN) + " + nn_] = v_;\n    }\n";
  c += "    barrier();\n";
  c += "    for (int kk_ = 0; kk_ < " + str(TK) + "; ++kk_) {\n";
  c += "      float a_[" + str(R) + "], b_[" + str(R) + "];\n";
  c += "      for (int i_ = 0; i_ < " + str(R) + "; ++i_) a_[i_] = sh_[kk_ * " + str(TM) + " + ty_ + i_ * " + str(TY) + "];\n";
  c += "      for (int j_ = 0; j_ < " + str(R) + "; ++j_) b_[j_] = sh_[" + str(TM * TK) + " + kk_ * " + str(TN) +
       " + tx_ + j_ * " + str(TX) + "];\n";
  c += "      for (int i_ = 0; i_ < " + str(R) + "; ++i_)\n        for (int j_ = 0; j_ < " + str(R) +
       "; ++j_) acc_[i_ * " + str(R) + " + j_] += a_[i_] * b_[j_];\n";
  c += "    }\n    barrier();\n  }\n";
  c += "  for (int i_ = 0; i_ < " + str(R) + "; ++i_)\n    for (int j_ = 0; j_ < " + str(R) + "; ++j_) {\n";
  c += "      const int m = row0_ + ty_ + i_ * " + str(TY) + ", n = col0_ + tx_ + j_ * " + str(TX) + ";\n";
  c += "      if (m >= " + M + " || n >= " + N + ") continue;\n";
  c += "      const float acc_v = acc_[i_ * " + str(R) + " + j_] * " + cx.dialect().float_literal(g.alpha) + ";\n";
  c += epi.render(6) + "    }\n}\n";
  ShaderStage st;
  st.what = "gemm";
  st.groups = groups;
  st.shared_floats = TK * (TM + TN);
  st.function = c;
  return st;
}

// vec4 runs of columns per lane in the vec4 GEMM, 1..4: the fewest columns past N (the
// last group's idle lanes), then the most runs. On lavapipe, 16 rows x 4 runs took 23.6
// ms for 128x768x3072 against 25.7 with 3 and 30.0 with 2; 128x768x768 (where 4 runs
// leave a quarter idle) took 6.1 ms with 3 runs, 7.1 with 2, 7.4 with 4.
int64_t vec4_runs(int64_t cols4, int64_t L) {
  int64_t best = 1, best_idle = -1;
  for (int64_t nv = 1; nv <= 4; ++nv) {
    const int64_t idle = ceil_div(cols4, nv * L) * nv * L - cols4;
    if (best_idle < 0 || idle <= best_idle) best = nv, best_idle = idle;
  }
  return best;
}

// The GEMM for CPU drivers (lavapipe). Such a driver runs a work group on one thread,
// its invocations as the SIMD lanes of a subgroup; inside a loop every load is a loop
// over the lanes (a vec4 load fetches its four floats in the same trip), shared memory
// included, and barrier() switches coroutines. So the shape is chosen to need few lane
// loops per multiply-add, with no shared memory: all invocations of a group work on the
// same RM rows and each on columns of its own; lane s of a subgroup loads A for row s
// and subgroupBroadcast hands it to the others (an extract, not a load).
//  - vec4 form (plain operands, K and N multiples of 4): per 4 k, ceil(RM / subgroup)
//    vec4 loads of A and 4 x NV vec4 loads of B feed RM x 4 x 4 x NV multiply-adds.
//  - scalar form: per k, ceil(RM / subgroup) + RN loads for RM x RN multiply-adds, the
//    columns lid + j * L.
//  - without subgroupBroadcast: every lane loads the RM A values itself (RM = 8).
// On lavapipe (8 lanes) a 128x768x768 MatMul+Add took 63.7 ms with the tiled shader,
// 20.5 ms as scalar 8x4 rows without broadcast, 11.6 ms as 16x4 with broadcast and 6.1
// ms in the vec4 form (16 rows x 12 columns per lane). Larger tiles than these spill
// registers, and were slower.
ShaderStage emit_gemm_rows(EmitContext& cx, const GemmBodies& gb, const std::string& fn, const Target& t,
                           const std::string& what) {
  const Gemm& g = gb.g;
  const int64_t L = t.local_size;
  // Broadcast needs every lane of a subgroup active: whole subgroups per work group.
  const bool broadcast =
      t.gemm == GemmShape::RowsBroadcast && t.subgroup_size > 0 && t.local_size % t.subgroup_size == 0;
  const bool vec4 = broadcast && gb.a_vec4 >= 0 && gb.b_vec4 >= 0;
  const int64_t S = t.subgroup_size;
  const int64_t RM = std::min<int64_t>(g.M, broadcast ? 16 : 8);
  const int64_t NV = vec4 ? vec4_runs(g.N / 4, L) : 0;
  // Columns per lane: RN scalars L apart, or NV runs of 4 (vec4s) 4L apart.
  const int64_t RN = vec4 ? 4 * NV : std::clamp<int64_t>(ceil_div(g.N, L), 1, 4);
  const int64_t TN = L * RN;
  const int64_t tiles_n = ceil_div(g.N, TN), tiles_m = ceil_div(g.M, RM);
  const int64_t groups = tiles_n * tiles_m * std::max<int64_t>(1, product(g.batch_shape));
  const std::string M = str(g.M), N = str(g.N), K = str(g.K), sRM = str(RM);
  // Column of the lane's j-th accumulator.
  auto column = [&](int64_t j) { return "col0_ + " + str(vec4 ? j / 4 * 4 * L + j % 4 : j * L); };
  std::string c = "void " + fn + "() {\n";
  c += "  const int g_ = dnnf_group();\n  if (g_ >= " + str(groups) + ") return;\n";
  c += "  const int col0_ = (g_ % " + str(tiles_n) + ") * " + str(TN) + " + dnnf_lid()" + (vec4 ? " * 4" : "") + ";\n";
  c += "  const int row0_ = ((g_ / " + str(tiles_n) + ") % " + str(tiles_m) + ") * " + sRM + ";\n";
  c += decode(gb.bnames, g.batch_shape, "g_ / " + str(tiles_n * tiles_m));
  // The register tile is spelled out as scalars (acc<i>_<j>, a<i>_, b<j>_); arrays with
  // constant-bound loops measured the same on lavapipe.
  auto acc_name = [](int64_t i, int64_t j) { return "acc" + str(i) + "_" + str(j); };
  for (int64_t i = 0; i < RM; ++i)
    for (int64_t j = 0; j < RN; ++j) c += "  float " + acc_name(i, j) + " = 0.0f;\n";
  // Rows and columns past the edge load a valid element (clamped) and are not stored.
  auto fma_tile = [&](const std::string& pad) {
    std::string f;
    for (int64_t i = 0; i < RM; ++i)
      for (int64_t j = 0; j < RN; ++j) f += pad + acc_name(i, j) + " += a" + str(i) + "_ * b" + str(j) + "_;\n";
    return f;
  };
  if (vec4) {
    const int as = gb.a_vec4, bs = gb.b_vec4;
    const std::string K4 = str(g.K / 4), N4 = str(g.N / 4);
    for (int64_t v = 0; v < NV; ++v)
      c += "  const int ncol" + str(v) + "_ = " + gb.b_base4 + " + min(col0_ + " + str(v * 4 * L) + ", " +
           str(g.N - 4) + ") / 4;\n";
    for (int64_t q = 0; q < ceil_div(RM, S); ++q)
      c += "  const int arow" + str(q) + "_ = " + gb.a_base4 + " + min(row0_ + " + str(q * S) +
           " + int(gl_SubgroupInvocationID), " + str(g.M - 1) + ") * " + K4 + ";\n";
    c += "  for (int k4_ = 0; k4_ < " + K4 + "; ++k4_) {\n";
    for (int64_t q = 0; q < ceil_div(RM, S); ++q)
      c += "    const vec4 as" + str(q) + "_ = " + read4(as, "arow" + str(q) + "_ + k4_") +
           (gb.a_scale_vec4 >= 0 ? " * " + read4(gb.a_scale_vec4, gb.a_scale_base4 + " + k4_") : "") + ";\n";
    for (int64_t kk = 0; kk < 4; ++kk) {
      c += "    {\n";
      for (int64_t v = 0; v < NV; ++v)
        c += "      const vec4 bv" + str(v) + "_ = " +
             read4(bs, "(k4_ * 4 + " + str(kk) + ") * " + N4 + " + ncol" + str(v) + "_") + ";\n";
      for (int64_t j = 0; j < RN; ++j) c += "      const float b" + str(j) + "_ = bv" + str(j / 4) + "_[" + str(j % 4) + "];\n";
      for (int64_t i = 0; i < RM; ++i)
        c += "      const float a" + str(i) + "_ = subgroupBroadcast(as" + str(i / S) + "_[" + str(kk) + "], " +
             str(i % S) + "u);\n";
      c += fma_tile("      ") + "    }\n";
    }
    c += "  }\n";
  } else {
    // Two k per trip of the outer loop when K allows: 10-15% faster than one (and than 4).
    if (g.K % 2 == 0)
      c += "  for (int k0_ = 0; k0_ < " + K + "; k0_ += 2) for (int u_ = 0; u_ < 2; ++u_) {\n    const int k = k0_ + u_;\n";
    else
      c += "  for (int k = 0; k < " + K + "; ++k) {\n";
    if (broadcast) {
      for (int64_t q = 0; q < ceil_div(RM, S); ++q)
        c += "    float as" + str(q) + "_;\n    {\n      const int m = min(row0_ + " + str(q * S) +
             " + int(gl_SubgroupInvocationID), " + str(g.M - 1) + ");\n" + gb.abody.render(6) + "      as" + str(q) +
             "_ = " + gb.av + ";\n    }\n";
      for (int64_t i = 0; i < RM; ++i)
        c += "    const float a" + str(i) + "_ = subgroupBroadcast(as" + str(i / S) + "_, " + str(i % S) + "u);\n";
    } else {
      for (int64_t i = 0; i < RM; ++i)
        c += "    float a" + str(i) + "_;\n    {\n      const int m = min(row0_ + " + str(i) + ", " + str(g.M - 1) + ");\n" +
             gb.abody.render(6) + "      a" + str(i) + "_ = " + gb.av + ";\n    }\n";
    }
    for (int64_t j = 0; j < RN; ++j)
      c += "    float b" + str(j) + "_;\n    {\n      const int n = min(" + column(j) + ", " + str(g.N - 1) + ");\n" +
           gb.bbody.render(6) + "      b" + str(j) + "_ = " + gb.bv + ";\n    }\n";
    c += fma_tile("    ") + "  }\n";
  }
  // The epilogue once, in a loop over the tile (not RM x RN copies of it: the shaders
  // would compile several times slower for no measured gain).
  c += "  float tile_[" + str(RM * RN) + "];\n";
  for (int64_t i = 0; i < RM; ++i)
    for (int64_t j = 0; j < RN; ++j) c += "  tile_[" + str(i * RN + j) + "] = " + acc_name(i, j) + ";\n";
  c += "  for (int i_ = 0; i_ < " + sRM + "; ++i_)\n    for (int j_ = 0; j_ < " + str(RN) + "; ++j_) {\n";
  c += "      const int m = row0_ + i_, n = col0_ + " +
       (vec4 ? "(j_ / 4) * " + str(4 * L) + " + j_ % 4" : "j_ * " + str(L)) + ";\n";
  c += "      if (m >= " + M + " || n >= " + N + ") continue;\n";
  c += "      const float acc_v = tile_[i_ * " + str(RN) + " + j_] * " + cx.dialect().float_literal(g.alpha) + ";\n";
  c += gb.epi.render(6) + "    }\n}\n";
  ShaderStage st;
  st.what = what;
  st.groups = groups;
  st.function = c;
  if (vec4) st.vec4_views = {gb.a_vec4, gb.b_vec4};
  if (vec4 && gb.a_scale_vec4 >= 0) st.vec4_views.push_back(gb.a_scale_vec4);
  return st;
}

}  // namespace

ShaderStage emit_gemm(EmitContext& cx, const Stage& s, const std::string& fn, const Target& t) {
  return t.gemm == GemmShape::Tiles ? emit_gemm_tiled(cx, s, fn, t) : emit_gemm_rows(cx, gemm_bodies(cx, s), fn, t, "gemm");
}

std::optional<ShaderStage> emit_conv_as_gemm(EmitContext& cx, const Stage& s, const std::string& fn, const Target& t) {
  if (t.gemm == GemmShape::Tiles) return std::nullopt;
  std::optional<GemmBodies> gb = conv_gemm_bodies(cx, s);
  if (!gb) return std::nullopt;
  return emit_gemm_rows(cx, *gb, fn, t, "conv");
}

}  // namespace dnnf::codegen::glsl
