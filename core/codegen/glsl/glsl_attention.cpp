#include "core/codegen/glsl/glsl_attention.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/codegen/glsl/glsl_stage_util.h"

namespace dnnf::codegen::glsl {

namespace {

using namespace stage_util;

// The loop var = 0 .. extent-1 around `inner`, which adds to acc_ (declared here): four
// partial sums, so consecutive adds of a lane do not wait on each other; they are
// combined into acc_ at the end (the float sum is reassociated, as the CPU kernel does).
std::string summed_loop(const Body& inner, const std::string& var, int64_t extent, int indent) {
  const std::string pad(size_t(indent), ' ');
  auto renamed = [&](const std::string& acc, const std::string& at) {
    std::string s = pad + "  {\n" + pad + "    const int " + var + " = " + at + ";\n";
    Body b;
    for (std::string l : inner.lines) {
      for (size_t p = l.find("acc_"); p != std::string::npos; p = l.find("acc_", p + acc.size()))
        l.replace(p, 4, acc);
      b.lines.push_back(l);
    }
    return s + b.render(indent + 4) + pad + "  }\n";
  };
  std::string s = pad + "float acc_ = 0.0f;\n" + pad + "{\n";
  s += pad + "float acc0_ = 0.0f, acc1_ = 0.0f, acc2_ = 0.0f, acc3_ = 0.0f;\n";
  s += pad + "int u_ = 0;\n";
  s += pad + "for (; u_ + 4 <= " + str(extent) + "; u_ += 4) {\n";
  for (int k = 0; k < 4; ++k) s += renamed("acc" + str(k) + "_", k == 0 ? "u_" : "u_ + " + str(k));
  s += pad + "}\n";
  s += pad + "for (; u_ < " + str(extent) + "; ++u_) {\n" + renamed("acc0_", "u_") + pad + "}\n";
  s += pad + "acc_ = (acc0_ + acc1_) + (acc2_ + acc3_);\n" + pad + "}\n";
  return s;
}

// Combines every invocation's locals[r] (r < R) into results[r] (all invocations get
// them) through sh_[0 .. R * L): each writes its own, then each reads them all. Two
// barriers instead of a tree's log2(L) + 2, and the reads are the same for every
// invocation (one load each on CPU drivers, where a barrier switches between all the
// invocations of the group).
std::string group_combine(const std::string& results, const std::string& locals, const std::string& how, int R,
                          int L) {
  const std::string x = results + "[r_]", y = "sh_[r_ * " + str(L) + " + w_]";
  const std::string step = how == "max" ? "vmax(" + x + ", " + y + ")" : x + " + " + y;
  return "  for (int r_ = 0; r_ < " + str(R) + "; ++r_) sh_[r_ * " + str(L) + " + lid_] = " + locals + "[r_];\n" +
         "  barrier();\n  float " + results + "[" + str(R) + "];\n  for (int r_ = 0; r_ < " + str(R) + "; ++r_) {\n    " +
         x + " = sh_[r_ * " + str(L) + "];\n    for (int w_ = 1; w_ < " + str(L) + "; ++w_) " + x + " = " + step +
         ";\n  }\n  barrier();\n";
}

// A read of `v` at idx that is one float load whose address steps by 1 along `var` and
// is a multiple of 4 where var is (every other coefficient and the offset are): four
// elements along var are then one vec4 load, b<slot>v[index] with the loop variable
// `var4` (= var / 4) in place of var. nullopt when the value is computed in the block,
// is not float, or is laid out otherwise. On CPU drivers every load whose address
// differs between invocations is a loop over the lanes, so a vec4 load costs what a
// float load does.
struct Vec4Read {
  int slot = -1;
  std::string index;
};

// Whether `b` is one load bound to a name, then only copies of it (an index-rewriting
// operator such as Transpose or Reshape adds a copy and no arithmetic).
bool only_copies_after_load(const Body& b) {
  if (b.lines.empty()) return false;
  auto name_of = [](const std::string& line) {  // "float <name> = ...;"
    const size_t sp = line.find(' '), eq = line.find(" = ");
    return sp == std::string::npos || eq == std::string::npos ? std::string() : line.substr(sp + 1, eq - sp - 1);
  };
  for (size_t i = 1; i < b.lines.size(); ++i)
    if (b.lines[i] != "float " + name_of(b.lines[i]) + " = " + name_of(b.lines[i - 1]) + ";") return false;
  return true;
}

std::optional<Vec4Read> vec4_read(EmitContext& cx, const std::string& v, const Idx& idx, int var, int64_t extent,
                                  const Ix& var4) {
  if (extent % 4 != 0) return std::nullopt;
  Body probe;
  const size_t before = cx.accesses().size();
  cx.value_at(probe, v, idx);
  if (cx.accesses().size() != before + 1 || !only_copies_after_load(probe)) return std::nullopt;
  const BufferAccess a = cx.accesses().back();
  const int slot = cx.buffer_slot(a.value);
  if (a.write || slot < 0 || cx.buffers()[size_t(slot)].dtype != DType::F32) return std::nullopt;
  const std::optional<Affine> af = affine_of(a.address);
  if (!af || af->offset % 4 != 0) return std::nullopt;
  const auto step = af->coef.find(var);
  if (step == af->coef.end() || step->second != 1) return std::nullopt;
  Ix e = ix_add(ix_const(af->offset / 4), var4);
  for (const auto& [u, c] : af->coef) {
    if (u == var) continue;
    if (c % 4 != 0) return std::nullopt;
    e = ix_add(e, ix_mul(cx.var(u), c / 4));
  }
  return Vec4Read{slot, cx.ix(e)};
}

std::string vec4_load(const Vec4Read& r) { return read4(r.slot, r.index); }

}  // namespace

ShaderStage emit_attention(EmitContext& cx, const Stage& s, const std::string& fn, const Target& t) {
  const Node& n = *s.anchor;
  const std::vector<int64_t> ys = cx.shape_of(n.outputs[0]);
  const std::vector<int64_t> qs = cx.shape_of(n.inputs[0]), ks = cx.shape_of(n.inputs[1]),
                             vs = cx.shape_of(n.inputs[2]);
  const int64_t Sq = ys[ys.size() - 2], Dv = ys.back(), D = qs.back(), Sk = ks.back();
  const bool bool_mask = n.has_input(3) && cx.dtype_of(n.inputs[3]) == DType::Bool;
  const int L = t.local_size;
  cx.reset_vars();
  cx.set_inner(-1, false);

  std::vector<int64_t> group_ext(ys.begin(), ys.end() - 2);
  std::vector<std::string> group_names;
  Idx batch;
  for (size_t d = 0; d < group_ext.size(); ++d) {
    group_names.push_back("ab" + str(int64_t(d)));
    batch.push_back(cx.var(cx.new_var(group_names.back(), group_ext[d])));
  }
  const Ix qi = cx.var(cx.new_var("qi", Sq));
  const int dd_var = cx.new_var("dd", D), vo_var = cx.new_var("vo", Dv), kj_var = cx.new_var("kj", Sk);
  const Ix kj = cx.var(kj_var), dd = cx.var(dd_var), vo = cx.var(vo_var);
  const Ix d4 = cx.var(cx.new_var("d4", std::max<int64_t>(1, D / 4)));
  const Ix k4i = cx.var(cx.new_var("k4", std::max<int64_t>(1, Sk / 4)));
  const Ix v4 = cx.var(cx.new_var("v4", std::max<int64_t>(1, Dv / 4)));
  const Idx qidx = batched_operand_index(qs, batch, {qi, dd}), kidx = batched_operand_index(ks, batch, {dd, kj}),
            vidx = batched_operand_index(vs, batch, {kj, vo});
  // Four elements per load where the layout allows: Q and K rows along D, or else Kt's
  // rows along Sk (BERT's key projection writes Kt [heads, D, Sk]); V's rows along Dv.
  const std::optional<Vec4Read> q4 = vec4_read(cx, n.inputs[0], qidx, dd_var, D, d4);
  const std::optional<Vec4Read> k4 = q4 ? vec4_read(cx, n.inputs[1], kidx, dd_var, D, d4) : std::nullopt;
  const std::optional<Vec4Read> kt4 = q4 && k4 ? std::nullopt : vec4_read(cx, n.inputs[1], kidx, kj_var, Sk, k4i);
  const std::optional<Vec4Read> v4r = vec4_read(cx, n.inputs[2], vidx, vo_var, Dv, v4);

  // R query rows per work group: each K and V element loaded feeds R rows. On CPU
  // drivers a load whose address differs between invocations is a loop over the lanes
  // and costs far more than the multiply-adds it feeds (BERT-base: 1 row per group, 122
  // ms per attention block). GPUs keep one row per group for parallelism.
  const int64_t nv4 = Dv / 4, parts = v4r && nv4 < L ? L / nv4 : 1;
  auto shared_floats = [&](int64_t r) { return r * L + r * Sk + (parts > 1 ? 4 * r * L : 0); };
  int64_t R = t.gemm == GemmShape::Tiles ? 1 : 8;
  while (R > 1 && (Sq % R != 0 || shared_floats(R) * 4 > t.shared_bytes)) R /= 2;
  const std::string r = str(R), l = str(L), sk = str(Sk);
  const std::string rows_loop = "for (int r_ = 0; r_ < " + r + "; ++r_) {\n";
  const std::string row_qi = "const int qi = qi0_ + r_;\n";
  const std::string score_at = "sh_[" + str(R * L) + " + r_ * " + sk + " + kj]";
  group_names.push_back("qb_");
  group_ext.push_back(Sq / R);

  // Pass 1: this invocation's scores (keys lid_, lid_ + L, ... or four at a time) of the
  // R rows into shared memory, and their maxima.
  Body score;
  std::string sc = cx.bind(score, "acc_ * " + cx.lit(n.attr_float("scale", 1.0f)));
  Idx sidx = batch;
  sidx.push_back(qi);
  sidx.push_back(kj);
  auto broadcast_to_scores = [&](const std::string& v) {  // mask and bias: trailing dims aligned
    const std::vector<int64_t> ms = cx.shape_of(v);
    Idx idx(ms.size());
    const size_t off = sidx.size() - ms.size();
    for (size_t d = 0; d < ms.size(); ++d) idx[d] = ms[d] == 1 ? ix_const(0) : sidx[off + d];
    return cx.value_at(score, v, idx);
  };
  if (n.has_input(3)) {
    const std::string m = broadcast_to_scores(n.inputs[3]);
    sc = cx.bind(score, bool_mask ? "vwhere(" + m + ", " + sc + ", " + cx.lit(n.attr_float("mask_fill", -INFINITY)) + ")"
                                  : sc + " + " + m);
  }
  if (n.has_input(4)) sc = cx.bind(score, sc + " + " + broadcast_to_scores(n.inputs[4]));
  score.lines.push_back(score_at + " = " + sc + ";");
  score.lines.push_back("mx_[r_] = vmax(mx_[r_], " + sc + ");");

  std::string c = "void " + fn + "() {\n  const int g_ = dnnf_group();\n  if (g_ >= " + str(product(group_ext)) +
                  ") return;\n  const int lid_ = dnnf_lid();\n" + decode(group_names, group_ext, "g_") +
                  "  const int qi0_ = qb_ * " + r + ";\n";
  c += "  float mx_[" + r + "];\n  for (int r_ = 0; r_ < " + r + "; ++r_) mx_[r_] = -dnnf_inf();\n";
  if (kt4) {
    Body qb;
    const std::string qv = cx.value_at(qb, n.inputs[0], qidx);
    c += "  for (int k4 = lid_; k4 < " + str(Sk / 4) + "; k4 += " + l + ") {\n    vec4 a_[" + r + "];\n    " +
         rows_loop + "      a_[r_] = vec4(0.0f);\n    }\n    for (int dd = 0; dd < " + str(D) +
         "; ++dd) {\n      const vec4 k_ = " + vec4_load(*kt4) + ";\n      " + rows_loop + "        " + row_qi +
         qb.render(8) + "        a_[r_] += " + qv + " * k_;\n      }\n    }\n    " + rows_loop + "      " + row_qi +
         "      for (int c_ = 0; c_ < 4; ++c_) {\n        const int kj = k4 * 4 + c_;\n        const float acc_ = a_[r_][c_];\n" +
         score.render(8) + "      }\n    }\n  }\n";
  } else {
    std::string dot;
    if (q4 && k4) {
      dot = "      vec4 a_ = vec4(0.0f);\n      for (int d4 = 0; d4 < " + str(D / 4) + "; ++d4) a_ += " + vec4_load(*q4) +
            " * " + vec4_load(*k4) + ";\n      const float acc_ = (a_.x + a_.y) + (a_.z + a_.w);\n";
    } else {
      Body b;
      const std::string qv = cx.value_at(b, n.inputs[0], qidx), kv = cx.value_at(b, n.inputs[1], kidx);
      b.lines.push_back("acc_ = acc_ + " + qv + " * " + kv + ";");
      dot = summed_loop(b, "dd", D, 6);
    }
    c += "  for (int kj = lid_; kj < " + sk + "; kj += " + l + ") {\n    " + rows_loop + "      " + row_qi + dot +
         score.render(6) + "    }\n  }\n";
  }
  c += group_combine("mxr_", "mx_", "max", int(R), L);
  // Pass 2: exponentials in place and their sums (a row of -inf or NaN subtracts 0, as
  // the CPU kernel does). The combine's barriers make sh_ visible to the whole group.
  c += "  float se_[" + r + "];\n  " + rows_loop +
       "    const float mxs_ = (isnan(mxr_[r_]) || isinf(mxr_[r_])) ? 0.0f : mxr_[r_];\n    se_[r_] = 0.0f;\n" +
       "    for (int kj = lid_; kj < " + sk + "; kj += " + l + ") {\n      const float e_ = vexp(" + score_at +
       " - mxs_);\n      " + score_at + " = e_;\n      se_[r_] += e_;\n    }\n  }\n";
  c += group_combine("ser_", "se_", "sum", int(R), L);

  // Pass 3: the probabilities times V [.., Sk, Dv], the output columns spread over the
  // invocations (four per invocation when V's rows are vec4s).
  Body out;
  Idx yidx = batch;
  yidx.push_back(qi);
  yidx.push_back(vo);
  store_epilogue(cx, out, s, yidx, cx.bind(out, "acc_ * inv_"), s.store_value);
  const std::string row_inv = "const float inv_ = 1.0f / ser_[r_];\n";
  if (v4r) {
    // nv4 vec4 columns; when they are fewer than the invocations, `parts` invocations
    // share a column, each summing every parts-th key, and the first adds them up.
    const std::string accumulate = "{\n        const vec4 v_ = " + vec4_load(*v4r) + ";\n        " + rows_loop +
                                   "          o_[r_] += " + score_at + " * v_;\n        }\n      }\n";
    const std::string store4 = "    " + rows_loop + "      " + row_qi + "      " + row_inv +
                               "      for (int c_ = 0; c_ < 4; ++c_) {\n        const int vo = v4 * 4 + c_;\n"
                               "        const float acc_ = o_[r_][c_];\n" + out.render(8) + "      }\n    }\n";
    const std::string zero = "    vec4 o_[" + r + "];\n    " + rows_loop + "      o_[r_] = vec4(0.0f);\n    }\n";
    if (parts == 1) {
      c += "  for (int v4 = lid_; v4 < " + str(nv4) + "; v4 += " + l + ") {\n" + zero + "    for (int kj = 0; kj < " +
           sk + "; ++kj) " + accumulate + store4 + "  }\n";
    } else {
      const std::string base = str(R * L + R * Sk);
      c += "  {\n    const int v4 = lid_ % " + str(nv4) + ", part_ = lid_ / " + str(nv4) + ";\n" + zero +
           "    if (part_ < " + str(parts) + ")\n      for (int kj = part_; kj < " + sk + "; kj += " + str(parts) +
           ") " + accumulate + "    " + rows_loop + "      for (int c_ = 0; c_ < 4; ++c_) sh_[" + base + " + 4 * (r_ * " +
           l + " + lid_) + c_] = o_[r_][c_];\n    }\n  }\n  barrier();\n";
      c += "  if (lid_ < " + str(nv4) + ") {\n    const int v4 = lid_;\n" + zero + "    " + rows_loop +
           "      for (int p_ = 0; p_ < " + str(parts) + "; ++p_)\n        for (int c_ = 0; c_ < 4; ++c_) o_[r_][c_] += sh_[" +
           base + " + 4 * (r_ * " + l + " + p_ * " + str(nv4) + " + lid_) + c_];\n    }\n" + store4 + "  }\n";
    }
  } else {
    Body wsum;
    const std::string vv = cx.value_at(wsum, n.inputs[2], vidx);
    wsum.lines.push_back("acc_ = acc_ + " + score_at + " * " + vv + ";");
    c += "  for (int vo = lid_; vo < " + str(Dv) + "; vo += " + l + ") {\n    " + rows_loop + "      " + row_qi +
         "      " + row_inv + summed_loop(wsum, "kj", Sk, 6) + out.render(6) + "    }\n  }\n";
  }
  c += "}\n";

  ShaderStage st;
  st.what = "attention";
  st.groups = product(group_ext);
  st.shared_floats = shared_floats(R);
  st.function = c;
  if (kt4) st.vec4_views = {kt4->slot};
  else if (q4 && k4) st.vec4_views = {q4->slot, k4->slot};
  if (v4r) st.vec4_views.push_back(v4r->slot);
  return st;
}

}  // namespace dnnf::codegen::glsl
