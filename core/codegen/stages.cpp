#include "core/codegen/stages.h"

#include "core/codegen/channel_chain.h"
#include "core/codegen/gemm_call.h"

#include <cmath>
#include <map>
#include <numeric>

#include "core/ops/conv_geometry.h"
#include "core/ops/convt_geometry.h"
#include "core/util/error.h"

namespace dnnf::codegen {

namespace {

using Idx = std::vector<Ix>;

const char* ctype(DType t) {
  switch (t) {
    case DType::F32: return "float";
    case DType::Bool:
    case DType::U8: return "uint8_t";
    case DType::I8: return "int8_t";
    case DType::I32: return "int32_t";
    case DType::I64: return "int64_t";
    default: return nullptr;
  }
}

std::string decls(const EmitContext& cx) {
  std::string s = "  const dnnf_kernel_args* a = (const dnnf_kernel_args*)p; (void)a;\n";
  for (size_t i = 0; i < cx.buffers().size(); ++i) {
    const char* t = ctype(cx.buffers()[i].dtype);
    s += "  [[maybe_unused]] " + std::string(t) + "* b" + std::to_string(i) + " = (" + t + "*)a->bufs[" +
         std::to_string(i) + "];\n";
  }
  return s;
}

int64_t product(const std::vector<int64_t>& v, size_t from = 0, size_t to = SIZE_MAX) {
  int64_t p = 1;
  for (size_t i = from; i < std::min(to, v.size()); ++i) p *= v[i];
  return p;
}

// Declares task-decoded loop variables for dims `dims` (outermost first) from `task`.
std::string decode(const std::vector<std::string>& names, const std::vector<int64_t>& extents,
                   const std::string& from) {
  std::string s = "    int64_t r_ = " + from + ";\n";
  for (size_t i = names.size(); i-- > 0;) {
    s += "    const int64_t " + names[i] + " = r_ % " + std::to_string(extents[i]) + "LL; r_ /= " +
         std::to_string(extents[i]) + "LL; (void)" + names[i] + ";\n";
  }
  return s + "    (void)r_;\n";
}

// The vector main loop plus scalar tail over [lo, hi) of `var`, calling a generic body.
// With overlap_tail, a remainder of fewer than VL iterations runs as one more vector
// ending at hi, over iterations the loop already ran: only for a body that is a pure
// function of `var` (it recomputes and stores the same values), never with accumulators.
// TinyBERT's attention rows of 26 floats spent most of their time in the scalar tail.
std::string vector_loop(const std::string& var, const std::string& lo, const std::string& hi, const Body& body,
                        bool vectorise, const std::string& extra_param = "", const std::string& vacc = "",
                        const std::string& sacc = "", bool overlap_tail = false) {
  std::string s = "    {\n    auto body_ = [&](auto zt_, int64_t " + var + extra_param + ") {\n";
  s += "      using T = decltype(zt_); (void)zt_;\n" + body.render(6) + "    };\n";
  s += "    int64_t " + var + " = " + lo + ";\n";
  const std::string va = vacc.empty() ? "" : ", " + vacc, sa = sacc.empty() ? "" : ", " + sacc;
  if (vectorise) s += "    for (; " + var + " + VL <= " + hi + "; " + var + " += VL) body_(vf{}, " + var + va + ");\n";
  if (vectorise && overlap_tail)
    s += "    if (" + var + " < " + hi + " && " + var + " > " + lo + ") { body_(vf{}, " + hi + " - VL); " + var + " = " + hi + "; }\n";
  s += "    for (; " + var + " < " + hi + "; ++" + var + ") body_(0.0f, " + var + sa + ");\n    }\n";
  return s;
}

std::string parallel_call(const std::string& fn, int64_t tasks) {
  return "  a->api->parallel_for(a->api->pool, " + std::to_string(tasks) + "LL, " + fn + ", (void*)a);\n";
}

// Stores the merged epilogue values (and the anchor value itself when kept) at idx.
void store_epilogue(EmitContext& cx, Body& body, const Stage& s, const Idx& idx, const std::string& anchor_expr,
                    bool store_anchor, const Idx* store_idx = nullptr) {
  // With `store_idx`, values are stored there, in the layout of the buffer that holds
  // them (one column block of the value), not where they are computed.
  const Idx& at = store_idx ? *store_idx : idx;
  const auto strides = [&](const std::string& v) {
    return row_major_strides(store_idx ? cx.buffers()[size_t(cx.buffer_slot(v))].shape : cx.shape_of(v));
  };
  cx.preset(body, s.value, idx, anchor_expr);
  if (store_anchor) body.lines.push_back(cx.store(s.value, ix_linear(at, strides(s.value)), anchor_expr));
  for (const std::string& e : s.epilogue) {
    std::string source;
    const auto t = transposed_store_address(cx, s, e, idx, &source);
    check(!t || !store_idx, "a transposed epilogue store into a column-block buffer");
    const std::string v = cx.value_at(body, t ? source : e, idx);
    body.lines.push_back(cx.store(e, t ? *t : ix_linear(at, strides(e)), v));
  }
}

// ---- pointwise ------------------------------------------------------------------------

// Rows shorter than this run mostly in the scalar tail of the vector loop (7x7 and 14x14
// planes of late CNN layers, with 16 floats per AVX-512 vector): loops fold trailing
// dims into one variable up to kFoldedRowMax elements. The index simplifier turns
// unravel-then-ravel back into the folded variable, so contiguous reads stay vector loads.
constexpr int64_t kShortRow = 64, kFoldedRowMax = 4096;

StageCode emit_pointwise(EmitContext& cx, const Stage& s, const std::string& fn) {
  std::vector<int64_t> shape = cx.shape_of(s.value);
  if (shape.empty()) shape = {1};
  cx.reset_vars();
  size_t fold = shape.size() - 1;  // dims [fold, rank) form the inner loop
  int64_t inner = shape.back();
  // A skipped axis stays an outer (task) dim, so whole tasks can be skipped.
  const size_t min_fold = s.skip.empty() ? 0 : size_t(s.skip_axis) + 1;
  while (fold > min_fold && inner < kShortRow && inner * shape[fold - 1] <= kFoldedRowMax) inner *= shape[--fold];
  std::vector<std::string> outer_names;
  std::vector<int64_t> outer_ext;
  Idx idx;
  for (size_t d = 0; d < fold; ++d) {
    const std::string name = "i" + std::to_string(d);
    idx.push_back(cx.var(cx.new_var(name, shape[d])));
    outer_names.push_back(name);
    outer_ext.push_back(shape[d]);
  }
  const std::string inner_name = "i" + std::to_string(fold);
  const int inner_var = cx.new_var(inner_name, inner);
  const std::vector<Ix> inner_idx =
      ix_unravel(cx.var(inner_var), std::vector<int64_t>(shape.begin() + int64_t(fold), shape.end()));
  idx.insert(idx.end(), inner_idx.begin(), inner_idx.end());
  const bool vectorise = inner >= 4;
  cx.set_inner(inner_var, vectorise);
  Body body;
  std::vector<int64_t> vshape = cx.shape_of(s.value);
  Idx vidx = vshape.empty() ? Idx{} : idx;
  const std::string v = cx.value_at(body, s.value, vidx);
  body.lines.push_back(cx.store(s.value, ix_linear(vidx, row_major_strides(vshape)), v));
  StageCode c;
  const int64_t tasks = product(outer_ext);
  std::string skip;  // tasks whose elements an earlier stage wrote in place
  for (const auto& [lo, hi] : s.skip)
    skip += "    if (" + outer_names[size_t(s.skip_axis)] + " >= " + std::to_string(lo) + "LL && " +
            outer_names[size_t(s.skip_axis)] + " < " + std::to_string(hi) + "LL) continue;\n";
  c.functions = "static void " + fn + "(void* p, int64_t begin, int64_t end) {\n" + decls(cx) +
                "  for (int64_t task = begin; task < end; ++task) {\n" + decode(outer_names, outer_ext, "task") +
                skip + vector_loop(inner_name, "0", std::to_string(inner), body, vectorise) + "  }\n}\n";
  c.run = parallel_call(fn, tasks);
  return c;
}

// ---- GEMM -----------------------------------------------------------------------------

struct GemmGeometry : MatMulShape {
  int64_t batch = 1;
  std::vector<int64_t> a_off, b_off;  // per batch element
  int64_t lda = 0, ldb = 0;
};

GemmGeometry gemm_geometry(const EmitContext& cx, const Node& n) {
  const std::vector<int64_t> as = cx.shape_of(n.inputs[0]), bs = cx.shape_of(n.inputs[1]);
  GemmGeometry g;
  static_cast<MatMulShape&>(g) = matmul_shape(n, as, bs);
  if (n.op_type == "Gemm") {
    g.lda = as[1];
    g.ldb = bs[1];
    g.a_off = g.b_off = {0};
    return g;
  }
  g.lda = g.K;
  g.ldb = g.N;
  g.batch = product(g.batch_shape);
  const std::vector<int64_t> as_str = row_major_strides(g.a_batch), bs_str = row_major_strides(g.b_batch);
  for (int64_t bi = 0; bi < g.batch; ++bi) {
    int64_t r = bi, ao = 0, bo = 0;
    for (size_t d = g.batch_shape.size(); d-- > 0;) {
      const int64_t i = r % g.batch_shape[d];
      r /= g.batch_shape[d];
      if (g.a_batch[d] != 1) ao += i * as_str[d];
      if (g.b_batch[d] != 1) bo += i * bs_str[d];
    }
    g.a_off.push_back(ao * g.M * g.K);
    g.b_off.push_back(bo * g.K * g.N);
  }
  return g;
}

// Offsets as a stride when they form a progression, else as a static array.
std::string offsets(const std::vector<int64_t>& off, const std::string& name, std::string* arrays,
                    std::string* stride_out) {
  bool progression = true;
  for (size_t i = 1; i < off.size(); ++i)
    if (off[i] - off[i - 1] != (off.size() > 1 ? off[1] - off[0] : 0)) progression = false;
  if (progression && !off.empty() && off[0] == 0) {
    *stride_out = std::to_string(off.size() > 1 ? off[1] - off[0] : 0) + "LL";
    return "0";
  }
  *stride_out = "0";
  std::string s = "static const int64_t " + name + "[] = {";
  for (size_t i = 0; i < off.size(); ++i) s += (i ? "," : "") + std::to_string(off[i]);
  *arrays += s + "};\n";
  return name;
}

// The epilogue function `fn`_e of a GEMM stage over geometry `g`, if it has one (Gemm's
// bias, merged pointwise values, or a product written elsewhere than its value): appended
// to `functions`. It walks (batch, m, n) tiles. With `column_block` (a struct type with
// members `a`, the kernel arguments, and `j0`), the GEMM computed columns j0 .. of the
// product into a buffer of one column block: the epilogue gets that struct, computes at
// the global column j0 + n and stores at column n of the buffer.
bool gemm_epilogue(EmitContext& cx, const Stage& s, const std::string& fn, const GemmGeometry& g,
                   std::string* functions, const std::string& column_block = "") {
  const Node& n = *s.anchor;
  const bool has_bias = n.op_type == "Gemm" && n.has_input(2) && g.beta != 0;
  const bool epilogue = has_bias || !s.epilogue.empty() || (s.store_value && s.result_buffer != s.value);
  if (!epilogue) return false;
  cx.reset_vars();
  std::vector<std::string> bnames;
  Idx idx;
  for (size_t d = 0; d < g.batch_shape.size(); ++d) {
    bnames.push_back("ib" + std::to_string(d));
    idx.push_back(cx.var(cx.new_var(bnames.back(), g.batch_shape[d])));
  }
  const Ix m = cx.var(cx.new_var("m", g.M));
  const int nv = cx.new_var("n", g.N);
  if (!g.a_rank1) idx.push_back(m);
  if (!g.b_rank1) idx.push_back(cx.var(nv));
  cx.set_inner(nv, true);
  Body body;
  std::string av = cx.bind(body, "load<T>(trow + n)");
  if (has_bias) {
    const std::string bias = cx.value_at(body, n.inputs[2], cx.bcast_index(n.inputs[2], {m, cx.var(nv)}));
    av = cx.bind(body, av + " + " + bias + " * splat<T>(" + float_literal(g.beta) + ")");
  }
  Idx store_idx = idx;
  std::string shift;
  if (!column_block.empty()) {
    store_idx.back() = ix_sub(store_idx.back(), ix_opaque("cj0_", {}, 0, g.N - 1));
    shift = "  const " + column_block + "* cb_ = (const " + column_block + "*)p;\n"
            "  p = (void*)cb_->a;\n  const int64_t cj0_ = cb_->j0;\n  col0 += cj0_;\n";
  }
  store_epilogue(cx, body, s, idx, av, s.store_value && (has_bias || s.result_buffer != s.value),
                 column_block.empty() ? nullptr : &store_idx);
  *functions += "static void " + fn + "_e(void* p, float* tile, int64_t ldt, int64_t batch, int64_t row0, "
                "int64_t col0, int64_t rows, int64_t cols) {\n" + shift + decls(cx) +
                "  for (int64_t m = row0; m < row0 + rows; ++m) {\n" +
                decode(bnames, g.batch_shape, "batch") +
                "    const float* trow = tile + (m - row0) * ldt - col0;\n" +
                vector_loop("n", "col0", "col0 + cols", body, true) + "  }\n}\n";
  return true;
}

StageCode emit_gemm_chain(EmitContext& cx, const Stage& s, const std::string& fn, int pack);

StageCode emit_gemm_heads(EmitContext& cx, const Stage& s, const std::string& fn, int pack);

StageCode emit_gemm(EmitContext& cx, const Stage& s, const std::string& fn, int pack) {
  if (!s.chained.empty()) return emit_gemm_chain(cx, s, fn, pack);
  if (s.merged_heads) return emit_gemm_heads(cx, s, fn, pack);
  const Node& n = *s.anchor;
  const GemmGeometry g = gemm_geometry(cx, n);
  StageCode c;
  const bool epilogue = gemm_epilogue(cx, s, fn, g, &c.functions);
  const int a_slot = cx.buffer_slot(n.inputs[0]), b_slot = cx.buffer_slot(n.inputs[1]);
  const int c_slot = cx.buffer_slot(s.result_buffer);
  std::string arrays, a_stride, b_stride;
  const std::string a_offs = offsets(g.a_off, fn + "_aoff", &arrays, &a_stride);
  const std::string b_offs = offsets(g.b_off, fn + "_boff", &arrays, &b_stride);
  c.functions = arrays + c.functions;
  const bool b_const = cx.buffers()[size_t(b_slot)].constant && g.b_off.size() >= 1 &&
                       std::all_of(g.b_off.begin(), g.b_off.end(), [](int64_t o) { return o == 0; });
  if (b_const) {
    c.packs = 1;
    c.prepare = "  st->packs[" + std::to_string(pack) + "] = a->api->gemm_pack_b((const float*)a->bufs[" +
                std::to_string(b_slot) + "], " + std::to_string(g.K) + "LL, " + std::to_string(g.N) + "LL, " +
                std::to_string(g.ldb) + "LL, " + (g.trans_b ? "1" : "0") + ");\n";
  }
  GemmCall call;
  call.batch = cx.int_lit(g.batch), call.M = cx.int_lit(g.M), call.N = cx.int_lit(g.N), call.K = cx.int_lit(g.K);
  call.A = "(const float*)a->bufs[" + std::to_string(a_slot) + "]", call.lda = cx.int_lit(g.lda);
  call.a_batch_stride = a_stride, call.a_offsets = a_offs == "0" ? "" : a_offs, call.trans_a = g.trans_a ? "1" : "";
  call.B = "(const float*)a->bufs[" + std::to_string(b_slot) + "]", call.ldb = cx.int_lit(g.ldb);
  call.b_batch_stride = b_stride, call.b_offsets = b_offs == "0" ? "" : b_offs, call.trans_b = g.trans_b ? "1" : "";
  if (b_const) call.packed_b = "((const dnnf_state_*)a->state)->packs[" + std::to_string(pack) + "]";
  call.C = "(float*)a->bufs[" + std::to_string(c_slot) + "]", call.ldc = cx.int_lit(g.N);
  call.c_batch_stride = cx.int_lit(g.M * g.N), call.alpha = float_literal(g.alpha);
  if (epilogue) call.epilogue = fn + "_e", call.epilogue_ctx = "(void*)a";
  c.run = call.text("  ");
  return c;
}

// ---- MatMul -> MatMul, one column block of the tensor between them at a time ----------
// (see matmul_chain.h). Per block of columns j0 .. j0 + nb of the wide tensor: the first
// GEMM computes them into the column buffer with the first weights' columns j0 .., its
// epilogue (the element-wise ops between the two) computing at global indices and
// storing into the buffer; the second GEMM multiplies the buffer by rows j0 .. of its
// weights and adds the product into its output, its own epilogue passed with the last
// block only. Every weight block is packed ahead, as the unchained GEMMs pack theirs.

StageCode emit_gemm_chain(EmitContext& cx, const Stage& s, const std::string& fn, int pack) {
  const Stage& a = s.chained.front();
  const GemmGeometry fg = gemm_geometry(cx, *a.anchor), sg = gemm_geometry(cx, *s.anchor);
  const int64_t M = fg.M, K = fg.K, N1 = fg.N, N2 = sg.N, Nb = s.chain_group, groups = (N1 + Nb - 1) / Nb;
  StageCode c;
  const std::string ctx_type = fn + "_cb";
  c.functions += "struct " + ctx_type + " { const dnnf_kernel_args* a; int64_t j0; };\n";
  const bool f_epilogue = gemm_epilogue(cx, a, fn + "f", fg, &c.functions, ctx_type);
  const bool s_epilogue = gemm_epilogue(cx, s, fn + "s", sg, &c.functions);
  const int x_slot = cx.buffer_slot(a.anchor->inputs[0]), w1_slot = cx.buffer_slot(a.anchor->inputs[1]);
  const int w2_slot = cx.buffer_slot(s.anchor->inputs[1]);
  const int buf_slot = cx.buffer_slot(a.result_buffer), y_slot = cx.buffer_slot(s.result_buffer);
  const std::string w1 = "(const float*)a->bufs[" + std::to_string(w1_slot) + "] + j0";
  const std::string w2 = "(const float*)a->bufs[" + std::to_string(w2_slot) + "] + j0 * " + cx.int_lit(N2);
  const std::string packs = "((const dnnf_state_*)a->state)->packs[" + std::to_string(pack);
  const std::string block = "      const int64_t nb = " + cx.int_lit(N1) + " - j0 < " + cx.int_lit(Nb) + " ? " + cx.int_lit(N1) +
                            " - j0 : " + cx.int_lit(Nb) + ";\n";
  const std::string loop = "for (int64_t j0 = 0, gi = 0; j0 < " + cx.int_lit(N1) + "; j0 += " + cx.int_lit(Nb) + ", ++gi) {\n";
  c.packs = int(2 * groups);
  c.prepare = "  " + loop + block +
              "    st->packs[" + std::to_string(pack) + " + 2 * gi] = a->api->gemm_pack_b(" + w1 + ", " + cx.int_lit(K) +
              ", nb, " + cx.int_lit(N1) + ", 0);\n"
              "    st->packs[" + std::to_string(pack) + " + 2 * gi + 1] = a->api->gemm_pack_b(" + w2 + ", nb, " +
              cx.int_lit(N2) + ", " + cx.int_lit(N2) + ", 0);\n  }\n";
  const std::string buf = "(float*)a->bufs[" + std::to_string(buf_slot) + "]";
  const std::string x = "(const float*)a->bufs[" + std::to_string(x_slot) + "]";
  // Every column block's first GEMM reads all of x: packed once for them all.
  std::string run = "  {\n    " + ctx_type + " cb = {a, 0};\n    void* xa_ = a->api->gemm_pack_a(" + x + ", " + cx.int_lit(M) +
                    ", " + cx.int_lit(K) + ", " + cx.int_lit(K) + ", 0);\n    " + loop + block + "      cb.j0 = j0;\n";
  GemmCall first;  // the block's columns of the wide tensor
  first.M = cx.int_lit(M), first.N = "nb", first.K = cx.int_lit(K);
  first.A = x, first.lda = cx.int_lit(K), first.packed_a = "xa_";
  first.B = w1, first.ldb = cx.int_lit(N1), first.packed_b = packs + " + 2 * gi]";
  first.C = buf, first.ldc = cx.int_lit(Nb);
  if (f_epilogue) first.epilogue = fn + "f_e", first.epilogue_ctx = "&cb";
  GemmCall second;  // their product with the second weights' rows, added up
  second.M = cx.int_lit(M), second.N = cx.int_lit(N2), second.K = "nb";
  second.A = buf, second.lda = cx.int_lit(Nb);
  second.B = w2, second.ldb = cx.int_lit(N2), second.packed_b = packs + " + 2 * gi + 1]";
  second.C = "(float*)a->bufs[" + std::to_string(y_slot) + "]", second.ldc = cx.int_lit(N2), second.accumulate = "gi > 0";
  if (s_epilogue)
    second.then = "        if (j0 + nb == " + cx.int_lit(N1) + ") { d.epilogue = " + fn + "s_e; d.epilogue_ctx = (void*)a; }\n";
  run += first.text("      ") + second.text("      ") + "    }\n    a->api->release(xa_);\n  }\n";
  c.run = run;
  return c;
}

// ---- MatMul over an Attention's merged heads (see head_chain.h) -------------------------
// One GEMM whose left operand is the Attention's [H, S, D] result read as [S, H * D]: its
// columns come in blocks of D (one head), S * D floats apart (dnnf_gemm_desc.a_k_block).

StageCode emit_gemm_heads(EmitContext& cx, const Stage& s, const std::string& fn, int pack) {
  const MergedHeads& mh = *s.merged_heads;
  const GemmGeometry g = gemm_geometry(cx, *s.anchor);
  StageCode c;
  const bool epilogue = gemm_epilogue(cx, s, fn, g, &c.functions);
  const std::string w = "(const float*)a->bufs[" + std::to_string(cx.buffer_slot(s.anchor->inputs[1])) + "]";
  const std::string slot = "((const dnnf_state_*)a->state)->packs[" + std::to_string(pack) + "]";
  c.packs = 1;
  c.prepare = "  st->packs[" + std::to_string(pack) + "] = a->api->gemm_pack_b(" + w + ", " + cx.int_lit(g.K) + ", " +
              cx.int_lit(g.N) + ", " + cx.int_lit(g.N) + ", 0);\n";
  GemmCall call;
  call.M = cx.int_lit(g.M), call.N = cx.int_lit(g.N), call.K = cx.int_lit(g.K);
  call.A = "(const float*)a->bufs[" + std::to_string(cx.buffer_slot(mh.source)) + "]", call.lda = cx.int_lit(mh.head_size);
  call.a_k_block = cx.int_lit(mh.head_size), call.a_k_block_stride = cx.int_lit(g.M * mh.head_size);
  call.B = w, call.ldb = cx.int_lit(g.N), call.packed_b = slot;
  call.C = "(float*)a->bufs[" + std::to_string(cx.buffer_slot(s.result_buffer)) + "]", call.ldc = cx.int_lit(g.N);
  if (epilogue) call.epilogue = fn + "_e", call.epilogue_ctx = "(void*)a";
  c.run = call.text("  ");
  return c;
}

// ---- convolution ----------------------------------------------------------------------

// The epilogue of a convolution: tile rows are output channels, columns are output
// positions (oh * OW + ow); each row is cut at output-row ends so `ow` runs contiguous
// and the body can be vectorised. `pre` may rebind `p`; `bind` declares the batch vars.
std::string conv_epilogue_function(const EmitContext& cx, const std::string& fn, const std::string& pre,
                                   const std::string& bind, int64_t OW, const Body& body) {
  const std::string ow = std::to_string(OW) + "LL";
  return "static void " + fn + "_e(void* p, float* tile, int64_t ldt, int64_t batch, int64_t row0, "
         "int64_t col0, int64_t rows, int64_t cols) {\n" + pre + decls(cx) + bind +
         "  for (int64_t ch = row0; ch < row0 + rows; ++ch) {\n"
         "    for (int64_t pos = col0; pos < col0 + cols;) {\n"
         "    const int64_t oh = pos / " + ow + "; (void)oh;\n"
         "    const int64_t ow0 = pos % " + ow + ";\n"
         "    const int64_t seg = (" + ow + " - ow0) < (col0 + cols - pos) ? (" + ow + " - ow0) : (col0 + cols - pos);\n"
         "    const float* trow = tile + (ch - row0) * ldt + (pos - col0) - ow0;\n" +
         vector_loop("ow", "ow0", "ow0 + seg", body, true) + "    pos += seg;\n    }\n  }\n}\n";
}

// The same over the tile's positions in one loop, for planes with short rows: the body
// indexes through (pos / OW, pos % OW), which the simplifier folds back to pos wherever
// the layout is the output's own.
std::string conv_epilogue_flat_function(const EmitContext& cx, const std::string& fn, const std::string& bind,
                                        const Body& body) {
  return "static void " + fn + "_e(void* p, float* tile, int64_t ldt, int64_t batch, int64_t row0, "
         "int64_t col0, int64_t rows, int64_t cols) {\n" + decls(cx) + bind +
         "  for (int64_t ch = row0; ch < row0 + rows; ++ch) {\n"
         "    const float* trow = tile + (ch - row0) * ldt - col0;\n" +
         vector_loop("pos", "col0", "col0 + cols", body, true) + "  }\n}\n";
}

StageCode emit_conv3d(EmitContext& cx, const Stage& s, const std::string& fn, int pack);

// A 2-D (or 1-D, as H = 1) convolution's geometry, resolved from its node and shapes.
struct Conv2dGeometry {
  int64_t N = 1, C = 1, H = 1, W = 1, OC = 1, KH = 1, KW = 1, OH = 1, OW = 1;
  int64_t sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0, group = 1;
  bool two = true;  // 2-D, not 1-D
};

Conv2dGeometry conv2d_geometry(const EmitContext& cx, const Node& n) {
  const std::vector<int64_t> xs = cx.shape_of(n.inputs[0]), ws = cx.shape_of(n.inputs[1]);
  const std::vector<int64_t> ys = cx.shape_of(n.outputs[0]);
  const int64_t nsp = int64_t(xs.size()) - 2;
  std::vector<int64_t> kernel(ws.begin() + 2, ws.end());
  ops::convgeo::Window w = ops::convgeo::read_window(n, nsp, kernel);
  ops::convgeo::resolve_all(n, w, Shape(xs.begin() + 2, xs.end()), false);
  Conv2dGeometry c;
  c.two = nsp == 2;
  c.N = xs[0];
  c.C = xs[1];
  c.OC = ws[0];
  c.H = c.two ? xs[2] : 1, c.W = xs.back(), c.OH = c.two ? ys[2] : 1, c.OW = ys.back();
  c.KH = c.two ? kernel[0] : 1, c.KW = kernel.back();
  c.sh = c.two ? w.strides[0] : 1, c.sw = w.strides.back();
  c.dh = c.two ? w.dilations[0] : 1, c.dw = w.dilations.back();
  c.pt = c.two ? w.pad_begin(0) : 0, c.pl = w.pad_begin(nsp - 1);
  c.group = n.attr_int("group", 1);
  return c;
}

// Statements declaring `dnnf_conv2d_desc d` with geometry `c`; the counts N, C, OC and
// group may be given as expressions (a channel group's size).
std::string conv2d_desc_text(const Conv2dGeometry& c, const std::string& N, const std::string& C,
                             const std::string& OC, const std::string& group) {
  const auto str = [](int64_t v) { return std::to_string(v); };
  return "    dnnf_conv2d_desc d = {};\n"
         "    d.N = " + N + "; d.C = " + C + "; d.H = " + str(c.H) + "; d.W = " + str(c.W) + ";\n"
         "    d.OC = " + OC + "; d.KH = " + str(c.KH) + "; d.KW = " + str(c.KW) + "; d.OH = " + str(c.OH) +
         "; d.OW = " + str(c.OW) + ";\n"
         "    d.stride_h = " + str(c.sh) + "; d.stride_w = " + str(c.sw) + "; d.pad_top = " + str(c.pt) +
         "; d.pad_left = " + str(c.pl) + "; d.dil_h = " + str(c.dh) + "; d.dil_w = " + str(c.dw) +
         "; d.group = " + group + ";\n";
}

std::string conv2d_desc_text(const Conv2dGeometry& c) {
  const auto str = [](int64_t v) { return std::to_string(v); };
  return conv2d_desc_text(c, str(c.N), str(c.C), str(c.OC), str(c.group));
}

// The epilogue function `fn`_e of a convolution stage, if it has one (merged pointwise
// values, or a product written elsewhere than its value): appended to `functions`. With
// `buffer_layout`, values are stored in the layout of the buffers that hold them, not of
// the whole values (a band of rows of a chain, see emit_conv_bands).
bool conv_epilogue(EmitContext& cx, const Stage& s, const std::string& fn, const Conv2dGeometry& g,
                   std::string* functions, bool buffer_layout = false) {
  const bool epilogue = !s.epilogue.empty() || (s.store_value && s.result_buffer != s.value);
  if (!epilogue) return false;
  const std::vector<int64_t> ys = cx.shape_of(s.anchor->outputs[0]);
  cx.reset_vars();
  Idx idx = {cx.var(cx.new_var("img", ys[0])), cx.var(cx.new_var("ch", ys[1]))};
  const bool flat = g.two && g.OW < kShortRow;  // short rows: one loop over the tile's positions
  Body body;
  if (flat) {
    const int pos = cx.new_var("pos", g.OH * g.OW);
    const std::vector<Ix> hw = ix_unravel(cx.var(pos), {g.OH, g.OW});
    idx.insert(idx.end(), hw.begin(), hw.end());
    cx.set_inner(pos, true);
  } else {
    if (g.two) idx.push_back(cx.var(cx.new_var("oh", g.OH)));
    const int ow = cx.new_var("ow", g.OW);
    idx.push_back(cx.var(ow));
    cx.set_inner(ow, true);
  }
  const std::string av = cx.bind(body, flat ? "load<T>(trow + pos)" : "load<T>(trow + ow)");
  store_epilogue(cx, body, s, idx, av, s.store_value && s.result_buffer != s.value, buffer_layout ? &idx : nullptr);
  const std::string bind = "  const int64_t img = batch; (void)img;\n";
  *functions += flat ? conv_epilogue_flat_function(cx, fn, bind, body)
                     : conv_epilogue_function(cx, fn, "", bind, g.OW, body);
  return true;
}

StageCode emit_conv_chain(EmitContext& cx, const Stage& s, const std::string& fn, int pack);
StageCode emit_conv_bands(EmitContext& cx, const Stage& s, const std::string& fn, int pack);

// A 2-D convolution's descriptor `d` with all its operands: `prepare` packs constant
// weights into packed-weight slot `pack` (pack < 0: the weights are read as they are);
// `desc` declares d for the run, writing into buffer `out_slot` and handing tiles to
// `epilogue` (a function name, or "").
struct ConvCall {
  std::string prepare, desc;
  int packs = 0;
};

ConvCall conv_call(EmitContext& cx, const Node& n, const Conv2dGeometry& g, int pack, int out_slot,
                   const std::string& epilogue) {
  const int x_slot = cx.buffer_slot(n.inputs[0]), w_slot = cx.buffer_slot(n.inputs[1]);
  const int b_slot = n.has_input(2) ? cx.buffer_slot(n.inputs[2]) : -1;
  const bool packed = pack >= 0 && cx.buffers()[size_t(w_slot)].constant;
  const std::string weights = conv2d_desc_text(g) + "    d.weight = (const float*)a->bufs[" + std::to_string(w_slot) + "];\n";
  ConvCall c;
  if (packed) {
    c.packs = 1;
    c.prepare = "  {\n" + weights + "    st->packs[" + std::to_string(pack) + "] = a->api->conv2d_pack(&d);\n  }\n";
  }
  c.desc = weights + "    d.input = (const float*)a->bufs[" + std::to_string(x_slot) + "];\n";
  if (packed) c.desc += "    d.packed_weight = ((const dnnf_state_*)a->state)->packs[" + std::to_string(pack) + "];\n";
  if (b_slot >= 0) c.desc += "    d.bias = (const float*)a->bufs[" + std::to_string(b_slot) + "];\n";
  c.desc += "    d.output = (float*)a->bufs[" + std::to_string(out_slot) + "];\n";
  if (!epilogue.empty()) c.desc += "    d.epilogue = " + epilogue + "; d.epilogue_ctx = (void*)a;\n";
  return c;
}

StageCode emit_conv(EmitContext& cx, const Stage& s, const std::string& fn, int pack) {
  const Node& n = *s.anchor;
  if (cx.shape_of(n.inputs[0]).size() == 5) return emit_conv3d(cx, s, fn, pack);
  if (!s.chained.empty()) return s.chain_bands ? emit_conv_bands(cx, s, fn, pack) : emit_conv_chain(cx, s, fn, pack);
  const Conv2dGeometry g = conv2d_geometry(cx, n);
  StageCode c;
  const bool epilogue = conv_epilogue(cx, s, fn, g, &c.functions);
  const ConvCall call = conv_call(cx, n, g, pack, cx.buffer_slot(s.result_buffer), epilogue ? fn + "_e" : "");
  c.packs = call.packs, c.prepare = call.prepare;
  c.run = "  {\n" + call.desc + "    a->api->conv2d(&d, a->api);\n  }\n";
  return c;
}

// ---- pointwise convolution -> depthwise convolution, one channel group at a time --------
// (see channel_chain.h). Per image and group of G channels: the pointwise Conv computes
// the group's channels into the group buffer, its epilogue rewrites them there (the
// element-wise ops between the two; channel and image indices are the group's own, which
// is why those ops may read nothing but the product), and the depthwise Conv reads the
// buffer and writes the group's output channels, its epilogue seeing the global channel
// and image through a shifting trampoline.
//
// The pointwise Conv is a GEMM, weights[G x K] x input[K x HW], and each call packs one
// operand. Run as a convolution with its weights packed ahead per group, it packs the
// input again for every group; run as a GEMM on the input packed once per image, it packs
// the weights on every call. Whichever packs less is taken: at 112 x 112 (12 groups of
// 8 channels) the input once; for 7 x 7 planes (one group, 1152 x 192 weights) the weights
// ahead, as the unchained convolution does.

StageCode emit_conv_chain(EmitContext& cx, const Stage& s, const std::string& fn, int pack) {
  const Stage& a = s.chained.front();
  const Node& pn = *a.anchor;
  const Node& dn = *s.anchor;
  const Conv2dGeometry pg = conv2d_geometry(cx, pn), dg = conv2d_geometry(cx, dn);
  const int64_t C = dg.C, G = s.chain_group, groups = (C + G - 1) / G, K = pg.C, HW = pg.H * pg.W;
  const bool pack_input = (groups - 1) * HW > C;  // floats packed again: (groups - 1) K HW against C K
  StageCode c;
  const bool a_epilogue = conv_epilogue(cx, a, fn + "p", pg, &c.functions);
  const bool d_epilogue = conv_epilogue(cx, s, fn + "d", dg, &c.functions);
  const std::string ctx_type = fn + "_ctx";
  c.functions += "struct " + ctx_type + " { const dnnf_kernel_args* a; int64_t n, ch0; const float* bias; };\n";
  if (pack_input)  // the GEMM adds no bias: this epilogue does, then the pointwise one
    c.functions += "static void " + fn + "_pe(void* p, float* tile, int64_t ldt, int64_t batch, int64_t row0, "
                   "int64_t col0, int64_t rows, int64_t cols) {\n"
                   "  const " + ctx_type + "* e = (const " + ctx_type + "*)p; (void)batch;\n"
                   "  if (e->bias)\n"
                   "    for (int64_t i = 0; i < rows; ++i) {\n"
                   "      const float b = e->bias[row0 + i];\n"
                   "      float* row = tile + i * ldt;\n"
                   "      for (int64_t j = 0; j < cols; ++j) row[j] += b;\n"
                   "    }\n" +
                   (a_epilogue ? "  " + fn + "p_e((void*)e->a, tile, ldt, 0, row0, col0, rows, cols);\n" : "") + "}\n";
  if (d_epilogue)
    c.functions += "static void " + fn + "_de(void* p, float* tile, int64_t ldt, int64_t batch, int64_t row0, "
                   "int64_t col0, int64_t rows, int64_t cols) {\n"
                   "  const " + ctx_type + "* e = (const " + ctx_type + "*)p; (void)batch;\n"
                   "  " + fn + "d_e((void*)e->a, tile, ldt, e->n, row0 + e->ch0, col0, rows, cols);\n}\n";
  const int x_slot = cx.buffer_slot(pn.inputs[0]), pw_slot = cx.buffer_slot(pn.inputs[1]);
  const int pb_slot = pn.has_input(2) ? cx.buffer_slot(pn.inputs[2]) : -1;
  const int dw_slot = cx.buffer_slot(dn.inputs[1]), db_slot = dn.has_input(2) ? cx.buffer_slot(dn.inputs[2]) : -1;
  const int buf_slot = cx.buffer_slot(a.result_buffer), y_slot = cx.buffer_slot(s.result_buffer);
  const bool pack_weights = !pack_input && cx.buffers()[size_t(pw_slot)].constant;
  const std::string slot = "(const float*)a->bufs[";
  const std::string x = slot + std::to_string(x_slot) + "] + n * " + cx.int_lit(K * HW);
  const std::string buf = "(float*)a->bufs[" + std::to_string(buf_slot) + "]";
  const std::string bias = pb_slot >= 0 ? slot + std::to_string(pb_slot) + "] + g0" : "";
  const std::string group_size =
      "      const int64_t gn = " + cx.int_lit(C) + " - g0 < " + cx.int_lit(G) + " ? " + cx.int_lit(C) + " - g0 : " + cx.int_lit(G) + ";\n";
  const std::string conv_desc = conv2d_desc_text(pg, "1", cx.int_lit(K), "gn", "1") + "    d.weight = " + slot +
                                std::to_string(pw_slot) + "] + g0 * " + cx.int_lit(K) + ";\n";
  if (pack_weights) {  // one packed weight block per group
    c.packs = int(groups);
    c.prepare = "  for (int64_t g0 = 0, gi = 0; g0 < " + cx.int_lit(C) + "; g0 += " + cx.int_lit(G) + ", ++gi) {\n" + group_size +
                conv_desc + "    st->packs[" + std::to_string(pack) + " + gi] = a->api->conv2d_pack(&d);\n  }\n";
  }
  // The group loop is a function of the channel range and group size, so that on more
  // than one thread each thread can run whole groups of its own share of the channels
  // (see kMinThreadGroup), its GEMM and depthwise Conv on that thread alone.
  const std::string groups_fn = fn + "_groups", task_fn = fn + "_task", par_type = fn + "_par";
  std::string body = "static void " + groups_fn + "(const dnnf_kernel_args* a, const dnnf_api* api, int64_t n, const void* xb_, "
                     "float* buf, int64_t c0, int64_t c1, int64_t G) {\n";
  body += "  " + ctx_type + " e_ = {a, n, 0, 0}; (void)xb_;\n";
  body += "  for (int64_t g0 = c0, gi = c0 / G; g0 < c1; g0 += G, ++gi) {\n";
  body += "    const int64_t gn = c1 - g0 < G ? c1 - g0 : G;\n    e_.ch0 = g0;\n";
  if (pack_input) {
    GemmCall call;
    call.M = "gn", call.N = cx.int_lit(HW), call.K = cx.int_lit(K);
    call.A = slot + std::to_string(pw_slot) + "] + g0 * " + cx.int_lit(K), call.lda = cx.int_lit(K);
    call.packed_b = "xb_", call.C = "buf", call.ldc = cx.int_lit(HW), call.api = "api";
    if (!bias.empty() || a_epilogue) call.epilogue = fn + "_pe", call.epilogue_ctx = "&e_";
    if (!bias.empty()) body += "    e_.bias = " + bias + ";\n";
    body += call.text("    ");
  } else {
    body += "    {\n" + conv_desc + "    d.input = " + x + ";\n";
    if (pack_weights)
      body += "    d.packed_weight = ((const dnnf_state_*)a->state)->packs[" + std::to_string(pack) + " + gi];\n";
    if (!bias.empty()) body += "    d.bias = " + bias + ";\n";
    body += "    d.output = buf;\n";
    if (a_epilogue) body += "    d.epilogue = " + fn + "p_e; d.epilogue_ctx = (void*)a;\n";
    body += "    api->conv2d(&d, api);\n    }\n";
  }
  body += "    {\n" + conv2d_desc_text(dg, "1", "gn", "gn", "gn");
  body += "    d.weight = " + slot + std::to_string(dw_slot) + "] + g0 * " + cx.int_lit(dg.KH * dg.KW) + ";\n";
  body += "    d.input = buf;\n";
  if (db_slot >= 0) body += "    d.bias = " + slot + std::to_string(db_slot) + "] + g0;\n";
  body += "    d.output = (float*)a->bufs[" + std::to_string(y_slot) + "] + (n * " + cx.int_lit(C) + " + g0) * " +
          cx.int_lit(dg.OH * dg.OW) + ";\n";
  if (d_epilogue) body += "    d.epilogue = " + fn + "_de; d.epilogue_ctx = &e_;\n";
  body += "    api->conv2d(&d, api);\n    }\n    (void)gi;\n  }\n}\n";
  // Weights packed per group at prepare fix the groups: those blocks keep one group loop.
  const bool per_thread = !pack_weights && G / 2 >= kMinThreadGroup;
  if (per_thread) {
    body += "struct " + par_type + " { const dnnf_kernel_args* a; int64_t n; const void* xb; int64_t tasks, G; };\n";
    body += "static void " + task_fn + "(void* p, int64_t begin, int64_t end) {\n";
    body += "  const " + par_type + "* q = (const " + par_type + "*)p;\n";
    // The pointwise epilogue stores into the group buffer by group-local channel, so each
    // thread's kernel arguments show the group buffer at that thread's part.
    const std::string nbufs = std::to_string(cx.buffers().size());
    body += "  dnnf_api one = *q->a->api; one.num_threads = 1;\n";
    body += "  void* bufs[" + nbufs + "];\n  for (int i = 0; i < " + nbufs + "; ++i) bufs[i] = q->a->bufs[i];\n";
    body += "  dnnf_kernel_args mine = *q->a; mine.bufs = bufs; mine.api = &one;\n";
    body += "  const int64_t groups = (" + cx.int_lit(C) + " + q->G - 1) / q->G;\n";
    body += "  for (int64_t t = begin; t < end; ++t) {\n";
    body += "    const int64_t c0 = t * groups / q->tasks * q->G, c1 = (t + 1) * groups / q->tasks * q->G;\n";
    body += "    float* buf = (float*)q->a->bufs[" + std::to_string(buf_slot) + "] + t * q->G * " + cx.int_lit(HW) + ";\n";
    body += "    bufs[" + std::to_string(buf_slot) + "] = buf;\n";
    body += "    " + groups_fn + "(&mine, &one, q->n, q->xb, buf, c0, c1 < " + cx.int_lit(C) + " ? c1 : " + cx.int_lit(C) + ", q->G);\n";
    body += "  }\n}\n";
  }
  c.functions += body;
  std::string run = "  for (int64_t n = 0; n < " + cx.int_lit(dg.N) + "; ++n) {\n";
  run += pack_input ? "    void* xb_ = a->api->gemm_pack_b(" + x + ", " + cx.int_lit(K) + ", " + cx.int_lit(HW) + ", " +
                          cx.int_lit(HW) + ", 0);\n"
                    : "    void* xb_ = 0;\n";
  if (per_thread) {
    run += "    const int64_t threads = a->api->num_threads;\n";
    run += "    if (threads > 1 && " + cx.int_lit(G) + " / threads >= " + std::to_string(kMinThreadGroup) + ") {\n";
    run += "      " + par_type + " q = {a, n, xb_, threads, " + cx.int_lit(G) + " / threads};\n";
    run += "      a->api->parallel_for(a->api->pool, threads, " + task_fn + ", &q);\n";
    run += "    } else\n  ";
  }
  run += "    " + groups_fn + "(a, a->api, n, xb_, " + buf + ", 0, " + cx.int_lit(C) + ", " + cx.int_lit(G) + ");\n";
  if (pack_input) run += "    a->api->release(xb_);\n";
  run += "  }\n";
  c.run = run;
  return c;
}

// ---- pointwise convolution -> depthwise convolution, in bands of output rows ----------
// (see channel_chain.h and kernels/cpu/conv2d_chain.h). One call: the kernel library
// runs the bands over the threads. The pointwise epilogue stores into the band buffer by
// band-local index (the group buffer's shape is one band's), so a trampoline points that
// buffer at the band the library hands over, whichever thread's it is.

StageCode emit_conv_bands(EmitContext& cx, const Stage& s, const std::string& fn, int pack) {
  const Stage& a = s.chained.front();
  const Conv2dGeometry pg = conv2d_geometry(cx, *a.anchor), dg = conv2d_geometry(cx, *s.anchor);
  StageCode c;
  const bool a_epilogue = conv_epilogue(cx, a, fn + "p", pg, &c.functions, /*buffer_layout=*/true);
  const bool d_epilogue = conv_epilogue(cx, s, fn + "d", dg, &c.functions);
  const int band_slot = cx.buffer_slot(a.result_buffer);
  const std::string nbufs = std::to_string(cx.buffers().size());
  if (a_epilogue)
    c.functions += "static void " + fn + "_be(void* p, float* tile, int64_t ldt, int64_t batch, int64_t row0, "
                   "int64_t col0, int64_t rows, int64_t cols) {\n"
                   "  const dnnf_kernel_args* a = (const dnnf_kernel_args*)p; (void)batch;\n"
                   "  void* bufs[" + nbufs + "];\n"
                   "  for (int i = 0; i < " + nbufs + "; ++i) bufs[i] = a->bufs[i];\n"
                   "  bufs[" + std::to_string(band_slot) + "] = tile - row0 * ldt - col0;  // this band's buffer\n"
                   "  dnnf_kernel_args mine = *a; mine.bufs = bufs;\n"
                   "  " + fn + "p_e(&mine, tile, ldt, 0, row0, col0, rows, cols);\n}\n";
  // The pointwise output is the first thread's band buffer; the depthwise input (the same
  // buffer) is ignored. The depthwise weights are read as they are.
  const ConvCall pw = conv_call(cx, *a.anchor, pg, pack, band_slot, a_epilogue ? fn + "_be" : "");
  const ConvCall dw = conv_call(cx, *s.anchor, dg, -1, cx.buffer_slot(s.result_buffer), d_epilogue ? fn + "d_e" : "");
  c.packs = pw.packs, c.prepare = pw.prepare;
  c.run = "  {\n    dnnf_conv2d_desc pw;\n    {\n" + pw.desc + "    pw = d;\n    }\n" + dw.desc +
          "    a->api->conv2d_chain(&pw, &d, a->api);\n  }\n";
  return c;
}

// ---- 3-D convolution as 2-D convolutions over depth slabs ------------------------------
// For output depth od, the input depths od*sd - pad + kd*dd (kd < KD) of every channel
// are copied into one slab of C*KD channels; the OIDHW weights are already the OIHW
// weights of that 2-D problem. The epilogue writes each tile to its depth of the output.
// A temporal convolution (KD x 1 x 1, spatial strides 1, no spatial padding: S3D's
// separable halves) needs no slab: with depth as rows and each H x W plane as one row of
// H*W columns it is a KD x 1 2-D convolution of the input as it is, one output row per
// output depth (the row it reads set by the top padding), and im2col packs straight from
// the input. S3D's 7 x 1 x 1 convolution copied 22 MB of slab per output depth.

StageCode emit_conv3d(EmitContext& cx, const Stage& s, const std::string& fn, int pack) {
  const Node& n = *s.anchor;
  const std::vector<int64_t> xs = cx.shape_of(n.inputs[0]), ws = cx.shape_of(n.inputs[1]);
  const std::vector<int64_t> ys = cx.shape_of(n.outputs[0]);
  std::vector<int64_t> kernel(ws.begin() + 2, ws.end());
  ops::convgeo::Window w = ops::convgeo::read_window(n, 3, kernel);
  ops::convgeo::resolve_all(n, w, Shape(xs.begin() + 2, xs.end()), false);
  const int64_t C = xs[1], D = xs[2], H = xs[3], W = xs[4], KD = kernel[0];
  const int64_t OC = ys[1], OD = ys[2], OH = ys[3], OW = ys[4];
  const std::string ctx_type = fn + "_ctx";
  StageCode c;
  cx.reset_vars();
  Idx idx = {cx.var(cx.new_var("img", ys[0])), cx.var(cx.new_var("ch", OC)), cx.var(cx.new_var("od", OD)),
             cx.var(cx.new_var("oh", OH))};
  const int ow = cx.new_var("ow", OW);
  idx.push_back(cx.var(ow));
  cx.set_inner(ow, true);
  Body body;
  const std::string av = cx.bind(body, "load<T>(trow + ow)");
  store_epilogue(cx, body, s, idx, av, s.store_value);
  c.functions = "struct " + ctx_type + " { const dnnf_kernel_args* a; int64_t n, od; };\n";
  c.functions += conv_epilogue_function(
      cx, fn, "  const " + ctx_type + "* ec_ = (const " + ctx_type + "*)p; p = (void*)ec_->a; (void)batch;\n",
      "  const int64_t img = ec_->n, od = ec_->od; (void)img; (void)od;\n", OW, body);
  const int x_slot = cx.buffer_slot(n.inputs[0]), w_slot = cx.buffer_slot(n.inputs[1]);
  const int b_slot = n.has_input(2) ? cx.buffer_slot(n.inputs[2]) : -1;
  const bool w_const = cx.buffers()[size_t(w_slot)].constant;
  const bool temporal = kernel[1] == 1 && kernel[2] == 1 && w.strides[1] == 1 && w.strides[2] == 1 &&
                        w.pad_begin(1) == 0 && w.pad_begin(2) == 0 && OH == H && OW == W;
  std::string desc = "    dnnf_conv2d_desc d = {};\n";
  if (temporal) {
    desc += "    d.N = 1; d.C = " + cx.int_lit(C) + "; d.H = " + cx.int_lit(D) + "; d.W = " + cx.int_lit(H * W) + ";\n";
    desc += "    d.OC = " + cx.int_lit(OC) + "; d.KH = " + cx.int_lit(KD) + "; d.KW = 1; d.OH = 1; d.OW = " + cx.int_lit(H * W) + ";\n";
    desc += "    d.stride_h = 1; d.stride_w = 1; d.pad_top = 0; d.pad_left = 0; d.dil_h = " + cx.int_lit(w.dilations[0]) +
            "; d.dil_w = 1; d.group = 1;\n";
  } else {
    desc += "    d.N = 1; d.C = " + cx.int_lit(C * KD) + "; d.H = " + cx.int_lit(H) + "; d.W = " + cx.int_lit(W) + ";\n";
    desc += "    d.OC = " + cx.int_lit(OC) + "; d.KH = " + cx.int_lit(kernel[1]) + "; d.KW = " + cx.int_lit(kernel[2]) +
            "; d.OH = " + cx.int_lit(OH) + "; d.OW = " + cx.int_lit(OW) + ";\n";
    desc += "    d.stride_h = " + cx.int_lit(w.strides[1]) + "; d.stride_w = " + cx.int_lit(w.strides[2]) + "; d.pad_top = " +
            cx.int_lit(w.pad_begin(1)) + "; d.pad_left = " + cx.int_lit(w.pad_begin(2)) + "; d.dil_h = " +
            cx.int_lit(w.dilations[1]) + "; d.dil_w = " + cx.int_lit(w.dilations[2]) + "; d.group = 1;\n";
  }
  desc += "    d.weight = (const float*)a->bufs[" + std::to_string(w_slot) + "];\n";
  if (w_const) {
    c.packs = 1;
    c.prepare = "  {\n" + desc + "    st->packs[" + std::to_string(pack) + "] = a->api->conv2d_pack(&d);\n  }\n";
  }
  c.run = "  {\n" + desc;
  if (w_const) c.run += "    d.packed_weight = ((const dnnf_state_*)a->state)->packs[" + std::to_string(pack) + "];\n";
  if (b_slot >= 0) c.run += "    d.bias = (const float*)a->bufs[" + std::to_string(b_slot) + "];\n";
  // Per output depth, the slab path copies the input depths it reads into the slab; the
  // temporal path points the 2-D convolution at them through its top padding instead.
  std::string slab_alloc, per_depth, slab_free;
  if (temporal) {
    // Output depth od reads input rows od*sd - pad + kd*dd: a top padding of pad - od*sd.
    per_depth = "        d.input = x + n * " + cx.int_lit(C * D * H * W) + ";\n"
                "        d.pad_top = " + cx.int_lit(w.pad_begin(0)) + " - od * " + cx.int_lit(w.strides[0]) + ";\n";
  } else {
    slab_alloc = "    float* slab = (float*)__builtin_malloc(" + cx.int_lit(C * KD * H * W) + " * sizeof(float));\n"
                 "    d.input = slab;\n";
    per_depth = "        for (int64_t c = 0; c < " + cx.int_lit(C) + "; ++c)\n"
                "          for (int64_t kd = 0; kd < " + cx.int_lit(KD) + "; ++kd) {\n"
                "            const int64_t id = od * " + cx.int_lit(w.strides[0]) + " - " + cx.int_lit(w.pad_begin(0)) +
                " + kd * " + cx.int_lit(w.dilations[0]) + ";\n"
                "            float* dst = slab + (c * " + cx.int_lit(KD) + " + kd) * " + cx.int_lit(H * W) + ";\n"
                "            if (id >= 0 && id < " + cx.int_lit(D) + ") __builtin_memcpy(dst, x + ((n * " + cx.int_lit(C) +
                " + c) * " + cx.int_lit(D) + " + id) * " + cx.int_lit(H * W) + ", " + cx.int_lit(H * W) +
                " * sizeof(float));\n"
                "            else __builtin_memset(dst, 0, " + cx.int_lit(H * W) + " * sizeof(float));\n"
                "          }\n";
    slab_free = " __builtin_free(slab);";
  }
  c.run += "    const float* x = (const float*)a->bufs[" + std::to_string(x_slot) + "];\n" + slab_alloc +
           "    float* tmp = (float*)__builtin_malloc(" + cx.int_lit(OC * OH * OW) + " * sizeof(float));\n"
           "    " + ctx_type + " ec = {a, 0, 0};\n"
           "    d.output = tmp; d.epilogue = " + fn + "_e; d.epilogue_ctx = &ec;\n"
           "    for (int64_t n = 0; n < " + cx.int_lit(xs[0]) + "; ++n)\n"
           "      for (int64_t od = 0; od < " + cx.int_lit(OD) + "; ++od) {\n" + per_depth +
           "        ec.n = n; ec.od = od;\n"
           "        a->api->conv2d(&d, a->api);\n"
           "      }\n"
           "    __builtin_free(tmp);" + slab_free + "\n  }\n";
  return c;
}

// ---- transposed convolution: a GEMM into columns, then output rows gathered ----------
// Output position o of a spatial dim receives input position i through tap k when
// o = i*s - pb + k*d. Per image, one GEMM per channel group computes every tap's
// contribution at once: cols[(m, taps...), (input positions)] = W_g^T X_g (M = Mg x
// taps, K = Cg, N = input positions), on the micro-kernels. A second pass owns one output
// row per task (image, channel, outer output positions), so no element is written by two
// tasks: for every outer tap whose input position is whole and inside, the matching cols
// rows are added into the row accumulator (ow = iw*s + kw*d - pb is contiguous in iw, the
// range of iw per kw is computed here). Bias and merged pointwise consumers run in the
// epilogue, vectorised over ow. Geometry from the reference kernel's own resolution
// (strides, pads, dilations, group, output_padding, output_shape, auto_pad). The earlier
// scatter over input channels per output row ran at a few GFLOP/s (its stores stride by s);
// the GEMM takes the multiply-adds and leaves the gather C times fewer operations.

StageCode emit_conv_transpose(EmitContext& cx, const Stage& s, const std::string& fn) {
  const Node& n = *s.anchor;
  const std::vector<int64_t> xs = cx.shape_of(n.inputs[0]), ws = cx.shape_of(n.inputs[1]);
  const std::vector<int64_t> ys = cx.shape_of(n.outputs[0]);
  const ops::ConvTransposeGeometry t = ops::conv_transpose_geometry(n, xs, ws);
  const ops::convgeo::Geom3& g = t.geom;
  const size_t nsp = xs.size() - 2;
  const int64_t Cg = t.C / t.G, Mg = t.M / t.G;
  const int64_t OW = g.out[2], IW = g.in[2], KW = g.k[2], SW = g.s[2];
  const int64_t taps = g.k_size(), positions = g.in_size();
  const int64_t rows_per_group = Mg * taps;                       // GEMM M
  const int64_t cols_floats = t.G * rows_per_group * positions;   // one image's columns
  const std::string ctx_type = fn + "_ctx";
  cx.reset_vars();
  // The image is a run-time value of the context (one GEMM per image), not a task index.
  std::vector<std::string> names = {"ch"};
  std::vector<int64_t> ext = {ys[1]};
  Idx idx = {cx.var(cx.new_var("img", ys[0])), cx.var(cx.new_var("ch", ys[1]))};
  for (size_t d = 0; d + 1 < nsp; ++d) {
    names.push_back("o" + std::to_string(d));
    ext.push_back(ys[2 + d]);
    idx.push_back(cx.var(cx.new_var(names.back(), ys[2 + d])));
  }
  const int ow = cx.new_var("ow", OW);
  idx.push_back(cx.var(ow));
  cx.set_inner(ow, true);
  Body body;
  const std::string av = cx.bind(body, "load<T>(acc_ + ow)");
  store_epilogue(cx, body, s, idx, av, s.store_value);
  const int x_slot = cx.buffer_slot(n.inputs[0]), w_slot = cx.buffer_slot(n.inputs[1]);
  const int b_slot = n.has_input(2) ? cx.buffer_slot(n.inputs[2]) : -1;
  check(x_slot >= 0 && w_slot >= 0 && (b_slot >= 0 || !n.has_input(2)), n.label(), ": operands not in memory");
  // Input columns iw whose output column iw*s + off lies in [0, OW), per kw.
  std::string lo = "{", hi = "{";
  for (int64_t kw = 0; kw < KW; ++kw) {
    const int64_t off = kw * g.d[2] - g.pb[2];
    const int64_t a = std::max<int64_t>(0, ops::convgeo::ceil_div(-off, SW));
    const int64_t b = std::max(a, std::min(IW, ops::convgeo::floor_div(OW - 1 - off, SW) + 1));
    lo += (kw ? ", " : "") + cx.int_lit(a);
    hi += (kw ? ", " : "") + cx.int_lit(b);
  }
  std::string code = "struct " + ctx_type + " { const dnnf_kernel_args* a; const float* cols; int64_t img; };\n";
  code += "static const int64_t " + fn + "_lo[" + cx.int_lit(KW) + "] = " + lo + "};\n";
  code += "static const int64_t " + fn + "_hi[" + cx.int_lit(KW) + "] = " + hi + "};\n";
  code += "static void " + fn + "(void* p, int64_t begin, int64_t end) {\n";
  code += "  const " + ctx_type + "* ec_ = (const " + ctx_type + "*)p; p = (void*)ec_->a;\n" + decls(cx);
  code += "  const int64_t img = ec_->img; (void)img;\n";
  code += "  float* acc_ = (float*)__builtin_malloc(" + cx.int_lit(OW) + " * sizeof(float));\n";
  code += "  for (int64_t task = begin; task < end; ++task) {\n" + decode(names, ext, "task");
  code += "    const int64_t g_ = ch / " + cx.int_lit(Mg) + ", m_ = ch % " + cx.int_lit(Mg) + ";\n";
  code += "    for (int64_t j_ = 0; j_ < " + cx.int_lit(OW) + "; ++j_) acc_[j_] = " +
          (b_slot >= 0 ? "b" + std::to_string(b_slot) + "[ch]" : std::string("0.0f")) + ";\n";
  code += "    const float* cm_ = ec_->cols + (g_ * " + cx.int_lit(rows_per_group) + " + m_ * " + cx.int_lit(taps) + ") * " +
          cx.int_lit(positions) + ";\n";
  // Outer spatial dims: Geom3 index j = 3 - nsp + d holds output variable o<d>.
  std::string xrow = "0LL", wrow = "0LL", close;
  std::string pad = "    ";
  for (size_t d = 0; d + 1 < nsp; ++d) {
    const size_t j = 3 - nsp + d;
    const std::string k = "k" + std::to_string(d) + "_", tv = "t" + std::to_string(d) + "_",
                      iv = "i" + std::to_string(d) + "_";
    code += pad + "for (int64_t " + k + " = 0; " + k + " < " + cx.int_lit(g.k[j]) + "; ++" + k + ") {\n";
    code += pad + "  const int64_t " + tv + " = o" + std::to_string(d) + " + " + cx.int_lit(g.pb[j]) + " - " + k + " * " +
            cx.int_lit(g.d[j]) + ";\n";
    code += pad + "  if (" + tv + " < 0 || " + tv + " % " + cx.int_lit(g.s[j]) + " != 0 || " + tv + " / " + cx.int_lit(g.s[j]) +
            " >= " + cx.int_lit(g.in[j]) + ") continue;\n";
    code += pad + "  const int64_t " + iv + " = " + tv + " / " + cx.int_lit(g.s[j]) + ";\n";
    xrow = "(" + xrow + " * " + cx.int_lit(g.in[j]) + " + " + iv + ")";
    wrow = "(" + wrow + " * " + cx.int_lit(g.k[j]) + " + " + k + ")";
    close = pad + "}\n" + close;
    pad += "  ";
  }
  code += pad + "for (int64_t kw_ = 0; kw_ < " + cx.int_lit(KW) + "; ++kw_) {\n";
  code += pad + "  const float* __restrict cr_ = cm_ + (" + wrow + " * " + cx.int_lit(KW) + " + kw_) * " + cx.int_lit(positions) +
          " + " + xrow + " * " + cx.int_lit(IW) + ";\n";
  code += pad + "  const int64_t lo_ = " + fn + "_lo[kw_], hi_ = " + fn + "_hi[kw_], off_ = kw_ * " + cx.int_lit(g.d[2]) +
          " - " + cx.int_lit(g.pb[2]) + ";\n";
  if (SW == 1) {
    code += pad + "  float* __restrict yr_ = acc_ + off_;\n";
    code += pad + "  for (int64_t iw_ = lo_; iw_ < hi_; ++iw_) yr_[iw_] += cr_[iw_];\n";
  } else {
    code += pad + "  for (int64_t iw_ = lo_; iw_ < hi_; ++iw_) acc_[iw_ * " + cx.int_lit(SW) + " + off_] += cr_[iw_];\n";
  }
  code += pad + "}\n" + close;
  code += vector_loop("ow", "0", cx.int_lit(OW), body, true);
  code += "  }\n  __builtin_free(acc_);\n}\n";
  StageCode c;
  c.functions = code;
  // Per image: cols = W_g^T X_g for every group (W is [C, Mg, taps]: group g's rows c are
  // a Cg x (Mg taps) matrix, read transposed), then the gather over output rows.
  c.run = "  {\n    float* cols_ = (float*)__builtin_malloc(" + cx.int_lit(cols_floats) + " * sizeof(float));\n";
  c.run += "    " + ctx_type + " ec_ = {a, cols_, 0};\n";
  c.run += "    for (int64_t img = 0; img < " + cx.int_lit(xs[0]) + "; ++img) {\n";
  GemmCall call;
  call.batch = cx.int_lit(t.G), call.M = cx.int_lit(rows_per_group), call.N = cx.int_lit(positions), call.K = cx.int_lit(Cg);
  call.A = "(const float*)a->bufs[" + std::to_string(w_slot) + "]", call.lda = cx.int_lit(rows_per_group);
  call.a_batch_stride = cx.int_lit(Cg * rows_per_group), call.trans_a = "1";
  call.B = "(const float*)a->bufs[" + std::to_string(x_slot) + "] + img * " + cx.int_lit(t.C * positions);
  call.ldb = cx.int_lit(positions), call.b_batch_stride = cx.int_lit(Cg * positions);
  call.C = "cols_", call.ldc = cx.int_lit(positions), call.c_batch_stride = cx.int_lit(rows_per_group * positions);
  c.run += call.text("      ");
  c.run += "      ec_.img = img;\n";
  c.run += "      a->api->parallel_for(a->api->pool, " + cx.int_lit(product(ext)) + ", " + fn + ", &ec_);\n";
  c.run += "    }\n    __builtin_free(cols_);\n  }\n";
  return c;
}

// ---- reductions, softmax, normalisations ----------------------------------------------

std::optional<std::vector<int64_t>> reduce_axes(const Graph& g, const Node& n) {
  if (n.has_input(1)) {
    auto it = g.initializers.find(n.inputs[1]);
    if (it == g.initializers.end()) return std::nullopt;
    std::vector<int64_t> v;
    for (int64_t k = 0; k < it->second.numel(); ++k) v.push_back(it->second.get_i64(k));
    return v;
  }
  return n.attr_ints("axes");
}

}  // namespace

std::optional<ReduceSpec> reduce_spec(const Graph& g, const Node& n, std::string* why) {
  static const std::map<std::string, Red> reduce_ops = {
      {"ReduceSum", Red::Sum}, {"ReduceMean", Red::Mean}, {"ReduceMax", Red::Max}, {"ReduceMin", Red::Min},
      {"ReduceProd", Red::Prod}, {"ReduceSumSquare", Red::SumSquare}, {"ReduceL1", Red::L1},
      {"ReduceL2", Red::L2}, {"ReduceLogSum", Red::LogSum}, {"ReduceLogSumExp", Red::LogSumExp}};
  const TensorType* xt = g.type_of(n.inputs[0]);
  if (!xt || !xt->is_static() || xt->dtype != DType::F32) {
    *why = "non-float or dynamic input";
    return std::nullopt;
  }
  const int64_t rank = xt->rank();
  ReduceSpec r;
  r.reduced.assign(size_t(rank), false);
  auto mark_from = [&](int64_t axis) {
    if (axis < 0) axis += rank;
    for (int64_t d = std::clamp<int64_t>(axis, 0, rank); d < rank; ++d) r.reduced[size_t(d)] = true;
  };
  if (auto it = reduce_ops.find(n.op_type); it != reduce_ops.end()) {
    r.op = it->second;
    r.keepdims = n.attr_int("keepdims", 1) != 0;
    auto axes = reduce_axes(g, n);
    if (!axes) {
      *why = "reduction axes computed at run time";
      return std::nullopt;
    }
    if (axes->empty()) {
      if (n.attr_int("noop_with_empty_axes", 0)) {
        *why = "noop reduction";
        return std::nullopt;
      }
      r.reduced.assign(size_t(rank), true);
    }
    for (int64_t a : *axes) r.reduced[size_t(a < 0 ? a + rank : a)] = true;
    if (rank == 0) {
      *why = "scalar reduction";
      return std::nullopt;
    }
    return r;
  }
  if (n.op_type == "GlobalAveragePool" || n.op_type == "GlobalMaxPool") {
    r.op = n.op_type == "GlobalMaxPool" ? Red::Max : Red::Mean;
    mark_from(2);
    return r;
  }
  if (n.op_type == "Softmax" || n.op_type == "LogSoftmax") {
    r.op = n.op_type == "Softmax" ? Red::Softmax : Red::LogSoftmax;
    const bool coerce = n.domain.empty() && g.opset() < 13;
    int64_t axis = n.attr_int("axis", coerce ? 1 : -1);
    if (coerce) mark_from(axis);
    else r.reduced[size_t(axis < 0 ? axis + rank : axis)] = true;
    return r;
  }
  if (n.op_type == "LayerNormalization" || n.op_type == "RMSNormalization") {
    for (size_t i = 1; i < n.outputs.size(); ++i)
      if (!n.outputs[i].empty()) {
        *why = "normalisation with statistics outputs";
        return std::nullopt;
      }
    r.op = n.op_type == "LayerNormalization" ? Red::LayerNorm : Red::RMSNorm;
    r.eps = n.attr_float("epsilon", 1e-5f);
    mark_from(n.attr_int("axis", -1));
    return r;
  }
  if (n.op_type == "InstanceNormalization") {
    r.op = Red::InstanceNorm;
    r.eps = n.attr_float("epsilon", 1e-5f);
    mark_from(2);
    return r;
  }
  *why = n.op_type + " is not a reduction";
  return std::nullopt;
}

namespace {

// Accumulation over the reduced dims: loops, vector + scalar accumulators, combine.
struct Pass {
  std::string init;      // float literal
  std::string combine;   // "sum" | "max" | "min" | "prod"
  std::function<std::string(Body&)> term;  // T expression of one element
};

std::string combine_expr(const std::string& how, const std::string& acc, const std::string& x) {
  if (how == "max") return "vmax(" + acc + ", " + x + ")";
  if (how == "min") return "vmin(" + acc + ", " + x + ")";
  if (how == "prod") return acc + " * " + x;
  return acc + " + " + x;
}

std::string horizontal(const std::string& how, const std::string& v) {
  if (how == "max") return "hmax(" + v + ")";
  if (how == "min") return "hmin(" + v + ")";
  if (how == "prod") return "hprod(" + v + ")";
  return "hsum(" + v + ")";
}

StageCode emit_reduce(EmitContext& cx, const Stage& s, const std::string& fn) {
  const Node& n = *s.anchor;
  std::string why;
  const ReduceSpec spec = *reduce_spec(cx.graph(), n, &why);
  const std::vector<int64_t> xs = cx.shape_of(n.inputs[0]);
  cx.reset_vars();
  // Trailing reduced dims with a short innermost one (a 7x7 plane of GlobalAveragePool)
  // are one loop, as in pointwise stages: 7 floats are all scalar tail, 49 are vectors.
  size_t fold = xs.size();
  if (!xs.empty() && spec.reduced.back()) {
    int64_t folded = xs.back();
    for (fold = xs.size() - 1; fold > 0 && spec.reduced[fold - 1] && folded < kShortRow &&
                               folded * xs[fold - 1] <= kFoldedRowMax;)
      folded *= xs[--fold];
  }
  Idx full(xs.size());
  std::vector<std::string> kept_names, red_names;
  std::vector<int64_t> kept_ext, red_ext;
  int inner = -1;  // the variable of the innermost reduced loop
  for (size_t d = 0; d < fold; ++d) {
    const std::string name = (spec.reduced[d] ? "r" : "k") + std::to_string(d);
    const int v = cx.new_var(name, xs[d]);
    full[d] = cx.var(v);
    if (spec.reduced[d]) inner = v;
    (spec.reduced[d] ? red_names : kept_names).push_back(name);
    (spec.reduced[d] ? red_ext : kept_ext).push_back(xs[d]);
  }
  if (fold < xs.size()) {
    const std::vector<int64_t> tail(xs.begin() + int64_t(fold), xs.end());
    const std::string name = "r" + std::to_string(fold);
    inner = cx.new_var(name, product(tail));
    const std::vector<Ix> unravelled = ix_unravel(cx.var(inner), tail);
    std::copy(unravelled.begin(), unravelled.end(), full.begin() + int64_t(fold));
    red_names.push_back(name);
    red_ext.push_back(product(tail));
  }
  int64_t count = product(red_ext);
  const bool vectorise = !red_ext.empty() && red_ext.back() >= 4;
  const std::string x = n.inputs[0];

  std::string code = "static void " + fn + "(void* p, int64_t begin, int64_t end) {\n" + decls(cx) +
                     "  for (int64_t task = begin; task < end; ++task) {\n" + decode(kept_names, kept_ext, "task");
  // Loops over the reduced dims but the innermost; `inside` runs in the innermost body.
  auto reduced_loops = [&](const std::string& inside_loop) {
    std::string open, close;
    for (size_t i = 0; i + 1 < red_names.size(); ++i) {
      open += "    for (int64_t " + red_names[i] + " = 0; " + red_names[i] + " < " + std::to_string(red_ext[i]) +
              "LL; ++" + red_names[i] + ") {\n";
      close += "    }\n";
    }
    return open + inside_loop + close;
  };
  auto run_pass = [&](const std::string& result, const Pass& pass) {
    cx.set_inner(inner, vectorise);
    Body body;
    const std::string t = pass.term(body);
    body.lines.push_back("acc_ = " + combine_expr(pass.combine, "acc_", t) + ";");
    const std::string inner_name = red_names.empty() ? "z_" : red_names.back();
    const int64_t inner_ext = red_names.empty() ? 1 : red_ext.back();
    code += "    float " + result + ";\n    {\n    vf vacc_ = splat<vf>(" + pass.init + "); float sacc_ = " + pass.init + ";\n";
    code += reduced_loops(vector_loop(inner_name, "0", std::to_string(inner_ext) + "LL", body, vectorise, ", auto& acc_",
                                      "vacc_", "sacc_"));
    code += "    " + result + " = " + combine_expr(pass.combine, horizontal(pass.combine, "vacc_"), "sacc_") + ";\n    }\n";
  };
  auto xval = [&](Body& b) { return cx.value_at(b, x, full); };
  const std::string inf = "__builtin_inff()";
  const std::string cnt = float_literal(double(count));
  std::string scalar_result;  // for reductions to one value per task
  std::function<std::string(Body&)> element;  // for softmax / norms: output element
  switch (spec.op) {
    case Red::Sum: case Red::Mean: case Red::SumSquare: case Red::L1: case Red::L2: case Red::LogSum:
      run_pass("s0", {"0.0f", "sum", [&](Body& b) {
                        const std::string v = xval(b);
                        if (spec.op == Red::SumSquare || spec.op == Red::L2) return v + " * " + v;
                        if (spec.op == Red::L1) return "vabs(" + v + ")";
                        return v;
                      }});
      scalar_result = spec.op == Red::Mean ? "s0 / " + cnt : spec.op == Red::L2 ? "vsqrt(s0)" :
                      spec.op == Red::LogSum ? "vlog(s0)" : "s0";
      break;
    case Red::Max: run_pass("s0", {"(-" + inf + ")", "max", xval}); scalar_result = "s0"; break;
    case Red::Min: run_pass("s0", {inf, "min", xval}); scalar_result = "s0"; break;
    case Red::Prod: run_pass("s0", {"1.0f", "prod", xval}); scalar_result = "s0"; break;
    case Red::LogSumExp:
    case Red::Softmax:
    case Red::LogSoftmax:
      run_pass("mx", {"(-" + inf + ")", "max", xval});
      code += "    const float mxs = (mx == -" + inf + " || mx == " + inf + ") ? 0.0f : mx;\n";
      run_pass("se", {"0.0f", "sum", [&](Body& b) { return "vexp(" + xval(b) + " - splat<T>(mxs))"; }});
      if (spec.op == Red::LogSumExp) scalar_result = "mxs + vlog(se)";
      else if (spec.op == Red::Softmax)
        element = [&](Body& b) { return "vexp(" + xval(b) + " - splat<T>(mxs)) * splat<T>(1.0f / se)"; };
      else
        element = [&](Body& b) { return xval(b) + " - splat<T>(mxs + vlog(se))"; };
      break;
    case Red::LayerNorm:
    case Red::InstanceNorm:
      run_pass("s0", {"0.0f", "sum", xval});
      code += "    const float mean = s0 / " + cnt + ";\n";
      run_pass("s1", {"0.0f", "sum", [&](Body& b) {
                        const std::string d = cx.bind(b, xval(b) + " - splat<T>(mean)");
                        return d + " * " + d;
                      }});
      code += "    const float rstd = 1.0f / vsqrt(s1 / " + cnt + " + " + float_literal(spec.eps) + ");\n";
      element = [&](Body& b) {
        std::string e = "(" + xval(b) + " - splat<T>(mean)) * splat<T>(rstd)";
        const Idx ch = {full.size() > 1 ? full[1] : ix_const(0)};
        if (n.has_input(1))
          e += " * " + (spec.op == Red::InstanceNorm ? cx.value_at(b, n.inputs[1], ch)
                                                     : cx.value_at(b, n.inputs[1], cx.bcast_index(n.inputs[1], full)));
        if (n.has_input(2))
          e += " + " + (spec.op == Red::InstanceNorm ? cx.value_at(b, n.inputs[2], ch)
                                                     : cx.value_at(b, n.inputs[2], cx.bcast_index(n.inputs[2], full)));
        return e;
      };
      break;
    case Red::RMSNorm:
      run_pass("s0", {"0.0f", "sum", [&](Body& b) { const std::string v = xval(b); return v + " * " + v; }});
      code += "    const float rstd = 1.0f / vsqrt(s0 / " + cnt + " + " + float_literal(spec.eps) + ");\n";
      element = [&](Body& b) {
        std::string e = xval(b) + " * splat<T>(rstd)";
        if (n.has_input(1)) e += " * " + cx.value_at(b, n.inputs[1], cx.bcast_index(n.inputs[1], full));
        return e;
      };
      break;
  }
  if (element) {
    // Write pass: the anchor's element and its merged epilogue, at the full index.
    cx.set_inner(inner, vectorise);
    Body body;
    const std::string av = cx.bind(body, element(body));
    store_epilogue(cx, body, s, full, av, s.store_value);
    const std::string inner_name = red_names.back();
    code += reduced_loops(vector_loop(inner_name, "0", std::to_string(red_ext.back()) + "LL", body, vectorise));
  } else {
    // One value per task: the anchor output index keeps (or drops) the reduced dims.
    cx.set_inner(-1, false);
    Idx out;
    for (size_t d = 0; d < xs.size(); ++d) {
      if (!spec.reduced[d]) out.push_back(full[d]);
      else if (spec.keepdims) out.push_back(ix_const(0));
    }
    Body body;
    const std::string av = cx.bind(body, "(float)(" + scalar_result + ")");
    store_epilogue(cx, body, s, out, av, s.store_value);
    code += "    {\n      using T = float;\n" + body.render(6) + "    }\n";
  }
  code += "  }\n}\n";
  StageCode c;
  c.functions = code;
  c.run = parallel_call(fn, product(kept_ext));
  return c;
}

// ---- pooling windows ------------------------------------------------------------------
// One task per output row (image, channel, outer output positions), in two phases per
// chunk of the row. Phase 1 folds the other dims' taps (a 3x3 window of rows for a
// 3x3x3 pool) into one row buffer, vectorised along the row: every input element is
// pulled through the block's producers (a Concat, a Relu) once per row instead of once
// per tap. Phase 2 reduces each output's taps along the row from that buffer, vectorised
// over the interior (outputs whose taps all lie inside the input); the few outputs at
// either end count their taps for the average. Reading every tap from the input, S3D's
// 3x3x3 pools took 3-4x ONNX Runtime's time, the scalar row ends most of it.

// Floats of a row buffer: with the input run of a chunk of outputs it stays in L1.
constexpr int64_t kPoolRowFloats = 4096;

StageCode emit_pool(EmitContext& cx, const Stage& s, const std::string& fn) {
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
  std::vector<std::string> names = {"pn", "pc"};
  std::vector<int64_t> ext = {ys[0], ys[1]};
  Idx out = {cx.var(cx.new_var("pn", ys[0])), cx.var(cx.new_var("pc", ys[1]))};
  for (int64_t d = 0; d < nsp; ++d) {
    names.push_back("o" + std::to_string(d));
    ext.push_back(ys[size_t(2 + d)]);
    out.push_back(cx.var(cx.new_var(names.back(), ext.back())));
  }
  const int last = int(nsp) + 1;  // the loop variable of the last output dim
  const int64_t klast = kernel.back(), slast = w.strides.back(), dlast = w.dilations.back();
  const int64_t plast = w.pad_begin(nsp - 1), wlast = xs.back(), owlast = ys.back();
  // Interior of the last dim: o*s - p >= 0 and o*s - p + (k-1)*d <= W-1.
  const int64_t lo = std::min(owlast, (plast + slast - 1) / slast);
  const int64_t top = wlast - 1 + plast - (klast - 1) * dlast;
  const int64_t hi = std::max(lo, std::min(owlast, top < 0 ? 0 : top / slast + 1));

  // The other dims' windows, looped and checked per task (a tap in the padding reads
  // nothing); the last dim is handled through the row buffer below.
  Idx fold_at = {out[0], out[1]};
  std::string open, close, checks;
  for (int64_t d = 0; d + 1 < nsp; ++d) {
    const std::string kv = "w" + std::to_string(d), iv = "x" + std::to_string(d);
    const Ix kix = cx.var(cx.new_var(kv, kernel[size_t(d)]));
    const Ix pos = ix_add(ix_add(ix_mul(out[size_t(2 + d)], w.strides[size_t(d)]), ix_mul(kix, w.dilations[size_t(d)])),
                          ix_const(-w.pad_begin(d)));
    fold_at.push_back(pos);
    const int64_t lim = xs[size_t(2 + d)];
    // Window positions beyond the padded input (ceil_mode) are skipped altogether;
    // positions in the padding count for count_include_pad but read nothing.
    open += "for (int64_t " + kv + " = 0; " + kv + " < " + cx.int_lit(kernel[size_t(d)]) + "; ++" + kv + ") {\n" +
            "  const int64_t " + iv + " = " + cx.ix(pos) + ";\n" + "  if (" + iv + " < -" + cx.int_lit(w.pad_begin(d)) +
            " || " + iv + " >= " + cx.int_lit(lim + w.pad_end(d)) + ") continue;\n";
    checks += "if (" + iv + " < 0 || " + iv + " >= " + cx.int_lit(lim) + ") inpad_ = 1;\n";
    close += "}\n";
  }
  const int xl = cx.new_var("xl", wlast);
  fold_at.push_back(cx.var(xl));
  const std::string identity = is_max ? "-__builtin_inff()" : "0.0f";
  const std::string accumulate = is_max ? "acc_ = vmax(acc_, " : "acc_ = acc_ + ";

  // Phase 1, per input position xl of the row: the fold of the other dims' taps, into
  // row_ (positions in the padding or past it hold the identity instead).
  cx.set_inner(xl, true);
  Body fold;
  {
    Body win;
    const std::string v = cx.value_at(win, n.inputs[0], fold_at);
    win.lines.push_back(accumulate + v + (is_max ? ");" : ";"));
    fold.add_text("T acc_ = splat<T>(" + identity + ");\n" + open + "int inpad_ = 0;\n" + checks + "if (!inpad_) {\n" +
                       win.render(2) + "}\n" + close + "store(row_ + (xl - xs_), acc_);\n");
  }
  // Phase 2, per output of the row: its taps along the last dim, read from row_.
  cx.set_inner(last, true);
  Body reduce;
  {
    const std::string wv = "w" + std::to_string(nsp - 1), ov = names.back();
    const std::string step = " + " + wv + " * " + cx.int_lit(dlast);
    const std::string tap = slast == 1 ? "load<T>(row_ + (" + ov + " - oc0_)" + step + ")"
                                       : "gather<T>([&](int i_) { return row_[(" + ov + " + i_ - oc0_) * " +
                                             cx.int_lit(slast) + step + "]; })";
    reduce.add_text("T acc_ = splat<T>(" + identity + ");\nfor (int64_t " + wv + " = 0; " + wv + " < " + cx.int_lit(klast) +
                         "; ++" + wv + ") {\n  const T t_ = " + tap + ";\n  " + accumulate + "t_" + (is_max ? ");" : ";") +
                         "\n}\n");
    const std::string av = cx.bind(reduce, is_max ? "acc_" : "acc_ / splat<T>(div_)");
    store_epilogue(cx, reduce, s, out, av, s.store_value);
  }
  cx.set_inner(-1, false);

  // Outputs per chunk of the row: its input run (row_) stays within kPoolRowFloats.
  const int64_t reach = (klast - 1) * dlast + 1;
  const int64_t chunk = std::max<int64_t>(1, std::min(owlast, (std::max(kPoolRowFloats, reach) - reach) / slast + 1));
  const int64_t span = (chunk - 1) * slast + reach;
  const std::string ov = names.back(), W = cx.int_lit(wlast), OW = cx.int_lit(owlast);
  std::vector<std::string> task_names(names.begin(), names.end() - 1);
  std::vector<int64_t> task_ext(ext.begin(), ext.end() - 1);
  std::string code = "static void " + fn + "(void* p, int64_t begin, int64_t end) {\n" + decls(cx) +
                     "  for (int64_t task = begin; task < end; ++task) {\n" + decode(task_names, task_ext, "task");
  std::string div_in = "1.0f", div_edge = "1.0f";
  if (!is_max) {  // the divisor: the window's taps inside the input (or its padding), per dim a count
    Body counts;
    counts.add_text("int64_t valid_o_ = 0, padded_o_ = 0;\n{\n" + open + "int inpad_ = 0;\n" + checks +
                         "padded_o_ += 1;\nif (!inpad_) valid_o_ += 1;\n" + close + "}\n");
    code += counts.render(4);
    const std::string per_row = include_pad ? "padded_o_" : "valid_o_";
    div_in = "(float)(" + per_row + " * " + cx.int_lit(klast) + ")";
    div_edge = "div_at_(" + ov + ")";
    code += "    auto div_at_ = [&](int64_t " + ov + ") {\n      int64_t valid_l_ = 0, padded_l_ = 0;\n"
            "      for (int64_t k_ = 0; k_ < " + cx.int_lit(klast) + "; ++k_) {\n"
            "        const int64_t x_ = " + ov + " * " + cx.int_lit(slast) + " + k_ * " + cx.int_lit(dlast) + " - " +
            cx.int_lit(plast) + ";\n"
            "        if (x_ < -" + cx.int_lit(plast) + " || x_ >= " + cx.int_lit(wlast + w.pad_end(nsp - 1)) + ") continue;\n"
            "        padded_l_ += 1;\n        if (x_ >= 0 && x_ < " + W + ") valid_l_ += 1;\n      }\n"
            "      return (float)(" + per_row + " * " + (include_pad ? "padded_l_" : "valid_l_") + ");\n    };\n";
  }
  code += "    alignas(64) float row_[" + std::to_string(span) + "];\n";
  code += "    int64_t xs_ = 0, oc0_ = 0;\n";
  code += "    auto fold_ = [&](auto zt_, int64_t xl) {\n      using T = decltype(zt_); (void)zt_;\n" + fold.render(6) + "    };\n";
  code += "    auto reduce_ = [&](auto zt_, int64_t " + ov + ", float div_) {\n      using T = decltype(zt_); (void)zt_; (void)div_;\n" +
          reduce.render(6) + "    };\n";
  code += "    for (oc0_ = 0; oc0_ < " + OW + "; oc0_ += " + cx.int_lit(chunk) + ") {\n";
  code += "      const int64_t oc1_ = oc0_ + " + cx.int_lit(chunk) + " < " + OW + " ? oc0_ + " + cx.int_lit(chunk) + " : " + OW + ";\n";
  code += "      xs_ = oc0_ * " + cx.int_lit(slast) + " - " + cx.int_lit(plast) + ";\n";
  code += "      const int64_t xe_ = (oc1_ - 1) * " + cx.int_lit(slast) + " + " + cx.int_lit(reach - plast) + ";\n";
  code += "      const int64_t va_ = xs_ > 0 ? xs_ : 0, vb_ = xe_ < " + W + " ? xe_ : " + W + ";\n";
  code += "      for (int64_t x_ = xs_; x_ < (va_ < xe_ ? va_ : xe_); ++x_) row_[x_ - xs_] = " + identity + ";\n";
  code += "      for (int64_t x_ = (vb_ > xs_ ? vb_ : xs_); x_ < xe_; ++x_) row_[x_ - xs_] = " + identity + ";\n";
  code += "      int64_t xl = va_;\n";
  code += "      for (; xl + VL <= vb_; xl += VL) fold_(vf{}, xl);\n";
  code += "      for (; xl < vb_; ++xl) fold_(0.0f, xl);\n";
  code += "      const int64_t ilo_ = oc0_ > " + cx.int_lit(lo) + " ? oc0_ : " + cx.int_lit(lo) + ";\n";
  code += "      const int64_t ie_ = oc1_ < " + cx.int_lit(hi) + " ? oc1_ : " + cx.int_lit(hi) + ";\n";
  code += "      const int64_t ihi_ = ie_ > ilo_ ? ie_ : ilo_;\n";
  code += "      int64_t " + ov + " = oc0_;\n";
  code += "      for (; " + ov + " < ilo_ && " + ov + " < oc1_; ++" + ov + ") reduce_(0.0f, " + ov + ", " + div_edge + ");\n";
  code += "      for (; " + ov + " + VL <= ihi_; " + ov + " += VL) reduce_(vf{}, " + ov + ", " + div_in + ");\n";
  code += "      for (; " + ov + " < ihi_; ++" + ov + ") reduce_(0.0f, " + ov + ", " + div_in + ");\n";
  code += "      for (; " + ov + " < oc1_; ++" + ov + ") reduce_(0.0f, " + ov + ", " + div_edge + ");\n";
  code += "    }\n  }\n}\n";
  StageCode c;
  c.functions = code;
  c.run = parallel_call(fn, product(task_ext));
  return c;
}

// ---- attention: scores, softmax and the weighted sum of V per query row ---------------

// Index of operand `v` (shape [..., r, c]) for batch indices `batch` (of the score
// tensor's batch dims) and row/col indices, with ONNX broadcasting of batch dims.
Idx batched_index(const EmitContext& cx, const std::string& v, const Idx& batch, const Ix& row, const Ix& col) {
  return batched_operand_index(cx.shape_of(v), batch, {row, col});
}

std::string attention_heads_run(EmitContext& cx, const Stage& s, const std::string& fn, int pack, int64_t heads,
                                int64_t rows, StageCode& c);

// Query rows per task: the rows of a task share every K and V vector they load, so a
// load feeds `rows` multiply-adds instead of one. One row per task ran BERT-base's
// attention at about 20 GFLOP/s, bound by the loads of K and V; four rows took a layer
// from 2.3-2.8 to about 2.0 ms, eight to 0.92-1.2 ms (eight accumulators, a K or V
// vector and a broadcast fit the 16 AVX2 registers).
int64_t attention_rows_per_task(int64_t Sq) {
  for (int64_t r : {8, 4, 2})
    if (Sq % r == 0) return r;
  return 1;
}

// A reduction over var = 0 .. extent-1 into one accumulator per row, `rows` of them,
// declared here as T r<i>acc_. `inner` adds to the r<i>acc_ names; it is emitted into
// separate partial sums per row so consecutive adds do not wait on each other (one chain
// of 64 to 128 dependent vector adds made the attention kernel latency-bound): four for
// one row, two each for two or four rows, one each for eight (already eight chains).
// Reassociates the float sum.
void rows_reduction_loop(Body& outer, const std::string& var, int64_t extent, const Body& inner, int64_t rows) {
  const int kPartials = rows == 1 ? 4 : rows >= 8 ? 1 : 2;
  const auto acc = [](int64_t r) { return "r" + std::to_string(r) + "acc_"; };
  auto renamed = [&](int k) {
    std::vector<std::string> lines;
    for (std::string l : inner.lines) {
      for (int64_t r = 0; r < rows; ++r) {
        const std::string from = acc(r), to = "r" + std::to_string(r) + "p" + std::to_string(k) + "_";
        for (size_t at = l.find(from); at != std::string::npos; at = l.find(from, at + to.size())) l.replace(at, from.size(), to);
      }
      lines.push_back(l);
    }
    return lines;
  };
  std::string decl = "T";
  for (int64_t r = 0; r < rows; ++r)
    for (int k = 0; k < kPartials; ++k)
      decl += std::string(r + k > 0 ? "," : "") + " r" + std::to_string(r) + "p" + std::to_string(k) + "_ = splat<T>(0.0f)";
  outer.lines.push_back(decl + ";");
  const std::string n = std::to_string(extent) + "LL";
  outer.lines.push_back("for (int64_t " + var + "_u = 0; " + var + "_u + " + std::to_string(kPartials) + " <= " + n + "; " +
                        var + "_u += " + std::to_string(kPartials) + ") {");
  for (int k = 0; k < kPartials; ++k) {
    outer.lines.push_back("  { const int64_t " + var + " = " + var + "_u + " + std::to_string(k) + ";");
    for (const std::string& l : renamed(k)) outer.lines.push_back("    " + l);
    outer.lines.push_back("  }");
  }
  outer.lines.push_back("}");
  outer.lines.push_back("for (int64_t " + var + " = " + std::to_string(extent / kPartials * kPartials) + "LL; " + var +
                        " < " + n + "; ++" + var + ") {");
  for (const std::string& l : renamed(0)) outer.lines.push_back("  " + l);
  outer.lines.push_back("}");
  for (int64_t r = 0; r < rows; ++r) {
    const std::string p = "r" + std::to_string(r) + "p";
    outer.lines.push_back("T " + acc(r) + " = " +
                          (kPartials == 4   ? "(" + p + "0_ + " + p + "1_) + (" + p + "2_ + " + p + "3_);"
                           : kPartials == 2 ? p + "0_ + " + p + "1_;"
                                            : p + "0_;"));
  }
}

StageCode emit_attention(EmitContext& cx, const Stage& s, const std::string& fn, int pack) {
  const Node& n = *s.anchor;
  StageCode c;
  const std::vector<int64_t> ys = cx.shape_of(n.outputs[0]);
  const std::vector<int64_t> qs = cx.shape_of(n.inputs[0]), ks = cx.shape_of(n.inputs[1]);
  const int64_t Sq = ys[ys.size() - 2], Dv = ys.back(), D = qs.back(), Sk = ks.back();
  const int64_t R = attention_rows_per_task(Sq);
  std::string heads_run;
  if (!s.chained.empty())  // before the Attention's loop variables: the GEMM epilogues reset them
    heads_run = attention_heads_run(cx, s, fn, pack, ys[1], Sq / R, c);
  const float scale = n.attr_float("scale", 1.0f);
  const bool bool_mask = n.has_input(3) && cx.dtype_of(n.inputs[3]) == DType::Bool;
  const float fill = n.attr_float("mask_fill", -INFINITY);
  std::vector<int64_t> batch_ext(ys.begin(), ys.end() - 2);
  cx.reset_vars();
  std::vector<std::string> names;
  Idx batch;
  for (size_t d = 0; d < batch_ext.size(); ++d) {
    names.push_back("ab" + std::to_string(d));
    batch.push_back(cx.var(cx.new_var(names.back(), batch_ext[d])));
  }
  const Ix qb = cx.var(cx.new_var("qb", Sq / R));
  names.push_back("qb");
  std::vector<Ix> qrow;  // the task's query rows
  for (int64_t r = 0; r < R; ++r) qrow.push_back(ix_add(ix_mul(qb, R), ix_const(r)));
  // Head-chained projections hold the current head's columns only.
  for (const Stage& h : s.chained) {
    cx.set_column_window(h.result_buffer, ix_mul(batch[1], h.chain_group));
    cx.set_available(h.result_buffer, true);
  }
  std::vector<int64_t> task_ext = batch_ext;
  task_ext.push_back(Sq / R);
  const int jv = cx.new_var("kj", Sk), dv = cx.new_var("dd", D), ov = cx.new_var("vo", Dv);
  const Ix kj = cx.var(jv), dd = cx.var(dv), vo = cx.var(ov);
  const auto acc = [](int64_t r) { return "r" + std::to_string(r) + "acc_"; };
  const std::string sk = std::to_string(Sk) + "LL";

  // Pass 1: scores over key positions (vectorised over kj), reduced over dd; each K
  // vector is loaded once for the task's rows.
  cx.set_inner(jv, true);
  Body scores;
  Body dot(&scores);
  const std::string kv = cx.value_at(dot, n.inputs[1], batched_index(cx, n.inputs[1], batch, dd, kj));
  for (int64_t r = 0; r < R; ++r) {
    const std::string qv = cx.value_at(dot, n.inputs[0], batched_index(cx, n.inputs[0], batch, qrow[size_t(r)], dd));
    dot.lines.push_back(acc(r) + " = " + acc(r) + " + " + qv + " * " + kv + ";");
  }
  rows_reduction_loop(scores, "dd", D, dot, R);
  for (int64_t r = 0; r < R; ++r) {
    Idx sidx = batch;
    sidx.push_back(qrow[size_t(r)]);
    sidx.push_back(kj);
    auto bcast_scores = [&](const std::string& v) {
      const std::vector<int64_t> ms = cx.shape_of(v);
      Idx idx(ms.size());
      const size_t off = sidx.size() - ms.size();
      for (size_t d = 0; d < ms.size(); ++d) idx[d] = ms[d] == 1 ? ix_const(0) : sidx[off + d];
      return cx.value_at(scores, v, idx);
    };
    std::string sc = cx.bind(scores, acc(r) + " * splat<T>(" + float_literal(scale) + ")");
    if (n.has_input(3)) {
      const std::string m = bcast_scores(n.inputs[3]);
      sc = cx.bind(scores, bool_mask ? "vwhere(" + m + ", " + sc + ", splat<T>(" + float_literal(fill) + "))"
                                     : sc + " + " + m);
    }
    if (n.has_input(4)) sc = cx.bind(scores, sc + " + " + bcast_scores(n.inputs[4]));
    scores.lines.push_back("store(srow_ + " + std::to_string(r * Sk) + "LL + kj, " + sc + ");");
  }

  // Pass 3: output rows (vectorised over vo), reduced over kj with the probabilities;
  // each V vector is loaded once for the task's rows.
  cx.set_inner(ov, true);
  Body out;
  Body wsum(&out);
  const std::string vv = cx.value_at(wsum, n.inputs[2], batched_index(cx, n.inputs[2], batch, kj, vo));
  for (int64_t r = 0; r < R; ++r)
    wsum.lines.push_back(acc(r) + " = " + acc(r) + " + splat<T>(srow_[" + std::to_string(r * Sk) + "LL + kj]) * " + vv +
                         ";");
  rows_reduction_loop(out, "kj", Sk, wsum, R);
  for (int64_t r = 0; r < R; ++r) {
    Idx yidx = batch;
    yidx.push_back(qrow[size_t(r)]);
    yidx.push_back(vo);
    store_epilogue(cx, out, s, yidx, cx.bind(out, acc(r) + " * splat<T>(inv_[" + std::to_string(r) + "])"),
                   s.store_value);
  }

  std::string code = "static void " + fn + "(void* p, int64_t begin, int64_t end) {\n" + decls(cx) +
                     "  float srow_[" + std::to_string(R * Sk) + "];\n  float inv_[" + std::to_string(R) + "];\n"
                     "  for (int64_t task = begin; task < end; ++task) {\n" + decode(names, task_ext, "task");
  code += vector_loop("kj", "0", sk, scores, true);
  // Softmax over each row: maximum and sum kept in vectors, one horizontal step each.
  code += "    for (int64_t r_ = 0; r_ < " + std::to_string(R) + "LL; ++r_) {\n"
          "    float* row_ = srow_ + r_ * " + sk + ";\n"
          "    float mx_ = -__builtin_inff();\n"
          "    { vf m = splat<vf>(-__builtin_inff()); int64_t j = 0;\n"
          "      for (; j + VL <= " + sk + "; j += VL) m = vmax(m, load<vf>(row_ + j));\n"
          "      if (j > 0) mx_ = hmax(m);\n"
          "      for (; j < " + sk + "; ++j) mx_ = row_[j] > mx_ ? row_[j] : mx_; }\n"
          "    if (mx_ != mx_ || mx_ == -__builtin_inff() || mx_ == __builtin_inff()) mx_ = 0.0f;\n"
          "    float sum_ = 0.0f;\n"
          "    { vf sv = splat<vf>(0.0f); int64_t j = 0;\n"
          "      for (; j + VL <= " + sk + "; j += VL) { vf e = vexp(load<vf>(row_ + j) - splat<vf>(mx_)); store(row_ + j, e); sv = sv + e; }\n"
          "      sum_ = hsum(sv);\n"
          "      for (; j < " + sk + "; ++j) { float e = vexp(row_[j] - mx_); row_[j] = e; sum_ += e; } }\n"
          "    inv_[r_] = 1.0f / sum_;\n    }\n";
  // Each output vector is its own reduction over kj, stored once: a pure function of vo.
  code += vector_loop("vo", "0", std::to_string(Dv) + "LL", out, true, "", "", "", true);
  code += "  }\n}\n";
  for (const Stage& h : s.chained) cx.set_column_window(h.result_buffer, nullptr);
  c.functions += code;
  if (s.chained.empty()) {
    c.run = parallel_call(fn, product(task_ext));
    return c;
  }
  // One head's tasks (query blocks) at a time: task = head * Sq / R + block over one batch.
  c.functions += "struct " + fn + "_tc { const dnnf_kernel_args* a; int64_t t0; };\n"
                 "static void " + fn + "_h(void* p, int64_t begin, int64_t end) {\n"
                 "  const " + fn + "_tc* t = (const " + fn + "_tc*)p;\n"
                 "  " + fn + "((void*)t->a, begin + t->t0, end + t->t0);\n}\n";
  c.run = heads_run;
  return c;
}

// ---- Attention per head of its projections (see head_chain.h) ---------------------------
// Head buffers of one task on its stack, at most (BERT-base: two of 128 x 64 floats).
constexpr int64_t kHeadsOnStackBytes = 128 * 1024;

// For each head h, every chained projection GEMM computes columns h*D .. h*D + D - 1 of its
// product (its weights' columns, packed ahead per head) into its head buffer, its
// epilogue computing at global indices; then the Attention's tasks for head h run, reading
// the head buffers through column windows. The GEMM epilogues and the per-head task
// wrapper go into c.functions; returns the statements of the run.
std::string attention_heads_run(EmitContext& cx, const Stage& s, const std::string& fn, int pack, int64_t heads,
                                int64_t rows, StageCode& c) {
  const std::string cb_type = fn + "_cb";
  c.functions += "struct " + cb_type + " { const dnnf_kernel_args* a; int64_t j0; };\n";
  std::string per_head, before, after;
  std::map<int, std::string> packed_a;  // left operand slot -> its packed copy, shared by all heads
  c.packs = int(heads * int64_t(s.chained.size()));
  for (size_t i = 0; i < s.chained.size(); ++i) {
    const Stage& h = s.chained[i];
    const GemmGeometry g = gemm_geometry(cx, *h.anchor);
    const int64_t D = h.chain_group;
    const std::string efn = fn + "p" + std::to_string(i);
    const bool epilogue = gemm_epilogue(cx, h, efn, g, &c.functions, cb_type);
    const std::string w = "(const float*)a->bufs[" + std::to_string(cx.buffer_slot(h.anchor->inputs[1])) + "] + h * " +
                          cx.int_lit(D);
    const std::string slot = std::to_string(pack) + " + " + std::to_string(i * size_t(heads)) + " + h";
    c.prepare += "  for (int64_t h = 0; h < " + cx.int_lit(heads) + "; ++h)\n    st->packs[" + slot +
                 "] = a->api->gemm_pack_b(" + w + ", " + cx.int_lit(g.K) + ", " + cx.int_lit(D) + ", " + cx.int_lit(g.N) + ", 0);\n";
    GemmCall call;  // head h's columns of the projection
    call.M = cx.int_lit(g.M), call.N = cx.int_lit(D), call.K = cx.int_lit(g.K);
    const int a_slot = cx.buffer_slot(h.anchor->inputs[0]);
    const std::string a_ptr = "(const float*)a->bufs[" + std::to_string(a_slot) + "]";
    if (!packed_a.count(a_slot)) {
      packed_a[a_slot] = "pa" + std::to_string(a_slot) + "_";
      before += "    void* " + packed_a[a_slot] + " = a->api->gemm_pack_a(" + a_ptr + ", " + cx.int_lit(g.M) + ", " + cx.int_lit(g.K) +
                ", " + cx.int_lit(g.K) + ", 0);\n";
      after += "    a->api->release(" + packed_a[a_slot] + ");\n";
    }
    call.A = a_ptr, call.lda = cx.int_lit(g.K), call.packed_a = packed_a[a_slot];
    call.B = w, call.ldb = cx.int_lit(g.N), call.packed_b = "((const dnnf_state_*)a->state)->packs[" + slot + "]";
    call.C = "(float*)a->bufs[" + std::to_string(cx.buffer_slot(h.result_buffer)) + "]", call.ldc = cx.int_lit(D);
    if (epilogue) {
      call.epilogue = efn + "_e", call.epilogue_ctx = "&cb";
      call.then = "        cb.j0 = h * " + cx.int_lit(D) + ";\n";
    }
    per_head += call.text("      ");
  }
  const std::string head_by_head = "    for (int64_t h = 0; h < " + cx.int_lit(heads) + "; ++h) {\n" + per_head +
                                   "      tc.t0 = h * " + cx.int_lit(rows) + ";\n"
                                   "      a->api->parallel_for(a->api->pool, " + cx.int_lit(rows) + ", " + fn +
                                   "_h, &tc);\n    }\n";
  // Heads over the threads: each task runs whole heads, projections and rows, into head
  // buffers on its own stack (the GEMMs inside a task run on its thread). One parallel
  // region instead of three per head, whose GEMMs (S x D x E, BERT-base 128 x 64 x 768)
  // are too small to split well over the threads. Taken when the heads share evenly.
  int64_t head_floats = 0;
  std::string rebind;
  for (const Stage& h : s.chained) {
    const int slot = cx.buffer_slot(h.result_buffer);
    rebind += "  bufs_[" + std::to_string(slot) + "] = hb_ + " + cx.int_lit(head_floats) + ";\n";
    head_floats += (product(cx.buffers()[size_t(slot)].shape) + 15) / 16 * 16;
  }
  const std::string open = "  {\n    " + cb_type + " cb = {a, 0}; (void)cb;\n    " + fn + "_tc tc = {a, 0};\n" + before;
  const std::string close = after + "  }\n";
  if (head_floats * int64_t(sizeof(float)) > kHeadsOnStackBytes) return open + head_by_head + close;
  std::string pa_fields, pa_values, pa_reads;
  for (const auto& entry : packed_a) {
    const std::string& name = entry.second;
    pa_fields += " void* " + name + ";";
    pa_values += ", " + name;
    pa_reads += "  void* " + name + " = c->" + name + ";\n";
  }
  const std::string nbufs = std::to_string(cx.buffers().size());
  c.functions += "static void " + fn + "(void* p, int64_t begin, int64_t end);\n"
                 "struct " + fn + "_hc { const dnnf_kernel_args* a;" + pa_fields + " };\n"
                 "static void " + fn + "_ph(void* p, int64_t begin, int64_t end) {\n"
                 "  const " + fn + "_hc* c = (const " + fn + "_hc*)p;\n"
                 "  alignas(64) float hb_[" + cx.int_lit(head_floats) + "];\n"
                 "  void* bufs_[" + nbufs + "];\n"
                 "  for (int i = 0; i < " + nbufs + "; ++i) bufs_[i] = c->a->bufs[i];\n" + rebind +
                 "  const dnnf_kernel_args ha_ = {bufs_, c->a->api, c->a->state};\n"
                 "  const dnnf_kernel_args* a = &ha_;\n" + pa_reads +
                 "  " + cb_type + " cb = {a, 0}; (void)cb;\n"
                 "  for (int64_t h = begin; h < end; ++h) {\n" + per_head +
                 "    " + fn + "((void*)a, h * " + cx.int_lit(rows) + ", (h + 1) * " + cx.int_lit(rows) + ");\n  }\n}\n";
  return open + "    if (a->api->num_threads > 1 && " + cx.int_lit(heads) + " % a->api->num_threads == 0) {\n"
                "      " + fn + "_hc hc_ = {a" + pa_values + "};\n"
                "      a->api->parallel_for(a->api->pool, " + cx.int_lit(heads) + ", " + fn + "_ph, &hc_);\n"
                "    } else {\n" + head_by_head + "    }\n" + close;
}

}  // namespace

const Node* transpose_behind(const std::function<const Node*(const std::string&)>& producer, const std::string& value) {
  for (const Node* n = producer(value); n; n = producer(n->inputs[0])) {
    if (n->op_type == "Transpose") return n;
    if (n->op_type != "Reshape" && n->op_type != "Flatten" && n->op_type != "Squeeze" && n->op_type != "Unsqueeze")
      return nullptr;
  }
  return nullptr;
}

std::optional<Ix> transposed_store_address(const EmitContext& cx, const Stage& s, const std::string& e,
                                           const std::vector<Ix>& idx, std::string* source) {
  if (std::find(s.transposed.begin(), s.transposed.end(), e) == s.transposed.end()) return std::nullopt;
  const Node* t = transpose_behind([&](const std::string& v) { return cx.producer(v); }, e);
  check(t != nullptr, "transposed epilogue value '", e, "' has no Transpose behind it");
  const std::vector<int64_t> perm = t->attr_ints("perm");
  check(perm.size() == idx.size(), "transposed epilogue value '", e, "': perm of rank ", perm.size(), " for rank ",
        idx.size());
  *source = t->inputs[0];
  std::vector<Ix> out(idx.size());
  for (size_t j = 0; j < idx.size(); ++j) out[j] = idx[size_t(perm[j])];  // output dim j is input dim perm[j]
  return ix_linear(out, row_major_strides(cx.shape_of(t->outputs[0])));
}

std::vector<Ix> batched_operand_index(const std::vector<int64_t>& s, const std::vector<Ix>& batch,
                                      const std::vector<Ix>& tail) {
  std::vector<Ix> idx;
  const size_t vb = s.size() - tail.size();
  const size_t off = batch.size() - vb;
  for (size_t d = 0; d < vb; ++d) idx.push_back(s[d] == 1 ? ix_const(0) : batch[off + d]);
  idx.insert(idx.end(), tail.begin(), tail.end());
  return idx;
}

MatMulShape matmul_shape(const Node& n, const std::vector<int64_t>& as, const std::vector<int64_t>& bs) {
  MatMulShape g;
  if (n.op_type == "Gemm") {
    g.trans_a = n.attr_int("transA", 0) != 0;
    g.trans_b = n.attr_int("transB", 0) != 0;
    g.alpha = n.attr_float("alpha", 1.0f);
    g.beta = n.attr_float("beta", 1.0f);
    g.M = g.trans_a ? as[1] : as[0];
    g.K = g.trans_a ? as[0] : as[1];
    g.N = g.trans_b ? bs[0] : bs[1];
    return g;
  }
  std::vector<int64_t> a = as, b = bs;
  if (a.size() == 1) { a.insert(a.begin(), 1); g.a_rank1 = true; }
  if (b.size() == 1) { b.push_back(1); g.b_rank1 = true; }
  g.M = a[a.size() - 2];
  g.K = a.back();
  g.N = b.back();
  const size_t rb = std::max(a.size(), b.size()) - 2;
  g.a_batch.assign(rb, 1);
  g.b_batch.assign(rb, 1);
  std::copy(a.begin(), a.end() - 2, g.a_batch.begin() + int64_t(rb - (a.size() - 2)));
  std::copy(b.begin(), b.end() - 2, g.b_batch.begin() + int64_t(rb - (b.size() - 2)));
  for (size_t d = 0; d < rb; ++d) g.batch_shape.push_back(std::max(g.a_batch[d], g.b_batch[d]));
  return g;
}

StageKind anchor_kind(const Graph& g, const Node& n, std::string* why) {
  auto all_float = [&](std::initializer_list<size_t> ins) {
    for (size_t i : ins) {
      if (!n.has_input(i)) continue;
      const TensorType* t = g.type_of(n.inputs[i]);
      if (!t || t->dtype != DType::F32) return false;
    }
    return true;
  };
  if (n.op_type == "MatMul" && (n.domain.empty() || n.domain == "dnnf")) {
    if (!all_float({0, 1})) { *why = "non-float MatMul"; return StageKind::Pointwise; }
    return StageKind::Gemm;
  }
  if (n.op_type == "Gemm") {
    if (!all_float({0, 1, 2})) { *why = "non-float Gemm"; return StageKind::Pointwise; }
    return StageKind::Gemm;
  }
  if (n.op_type == "Conv") {
    const TensorType* x = g.type_of(n.inputs[0]);
    const bool three_d = x && x->rank() == 5 && n.attr_int("group", 1) == 1;
    if (!all_float({0, 1, 2}) || !x || (x->rank() != 3 && x->rank() != 4 && !three_d)) {
      *why = "Conv other than float 1-D/2-D or ungrouped 3-D";
      return StageKind::Pointwise;
    }
    return StageKind::Conv;
  }
  if (n.op_type == "ConvTranspose") {
    const TensorType* x = g.type_of(n.inputs[0]);
    if (!all_float({0, 1, 2}) || !x || x->rank() < 3 || x->rank() > 5) {
      *why = "ConvTranspose other than float 1-D/2-D/3-D";
      return StageKind::Pointwise;
    }
    return StageKind::ConvTranspose;
  }
  if (n.op_type == "MaxPool" || n.op_type == "AveragePool") {
    const TensorType* x = g.type_of(n.inputs[0]);
    if (!all_float({0}) || !x || x->rank() < 3 || x->rank() > 5 || (n.outputs.size() > 1 && !n.outputs[1].empty())) {
      *why = n.op_type + " with indices or unusual rank";
      return StageKind::Pointwise;
    }
    // The generated loop keeps one window's run of the last dim on the stack.
    const std::vector<int64_t> k = n.attr_ints("kernel_shape"), d = n.attr_ints("dilations");
    if (!k.empty() && (k.back() - 1) * (d.empty() ? 1 : d.back()) + 1 > 65536) {
      *why = n.op_type + " window wider than 65536 along the last dim";
      return StageKind::Pointwise;
    }
    return StageKind::Pool;
  }
  if (n.op_type == "Attention" && n.domain == "dnnf") {
    const TensorType* k = g.type_of(n.inputs[1]);
    if (!all_float({0, 1, 2, 4}) || !k || !k->is_static() || k->numel_or(0) == 0 || k->dims.back().value > 16384) {
      *why = "Attention other than float with at most 16384 keys";
      return StageKind::Pointwise;
    }
    return StageKind::Attention;
  }
  if (reduce_spec(g, n, why)) return StageKind::Reduce;
  return StageKind::Pointwise;
}

StageCode emit_stage(EmitContext& cx, const Stage& s, int index, int first_pack) {
  const std::string fn = "@K@_s" + std::to_string(index);
  switch (s.kind) {
    case StageKind::Pointwise: return emit_pointwise(cx, s, fn);
    case StageKind::Gemm: return emit_gemm(cx, s, fn, first_pack);
    case StageKind::Conv: return emit_conv(cx, s, fn, first_pack);
    case StageKind::ConvTranspose: return emit_conv_transpose(cx, s, fn);
    case StageKind::Reduce: return emit_reduce(cx, s, fn);
    case StageKind::Pool: return emit_pool(cx, s, fn);
    case StageKind::Attention: return emit_attention(cx, s, fn, first_pack);
  }
  return {};
}

}  // namespace dnnf::codegen
