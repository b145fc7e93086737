// Operator rows of the attention family (see op_families.h): ONNX Attention (opset 23+):
// 3-D and 4-D Q/K/V, grouped-query heads, bool/float masks (padded to the total
// sequence), causal masking, scale, softcap, KV cache (past/present), nonpad_kv_seqlen
// and the optional qk_matmul_output in its four modes.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/ops/matmul_internal.h"
#include "core/ops/op_families.h"
#include "core/ops/op_util.h"

namespace dnnf::ops {
namespace {

using mm::io_bytes;
using mm::static_numel;

Dim dim_add(const Dim& a, const Dim& b) {
  if (a.known() && b.known()) return Dim(a.value + b.value);
  return Dim();
}
Dim dim_mul(const Dim& a, int64_t k) { return a.known() ? Dim(a.value * k) : Dim(); }
Dim dim_div(const Dim& a, int64_t k) { return a.known() && k > 0 ? Dim(a.value / k) : Dim(); }

struct AttnDims {
  int64_t B = 0, Hq = 0, Hkv = 0, Sq = 0, Skv = 0, Sp = 0, D = 0, Dv = 0;
};

// Q/K/V as [B, H, S, D] float buffers.
std::vector<float> to_bhsd(const Tensor& x, int64_t heads, bool three_d) {
  std::vector<float> v = x.to_f32_vector();
  if (!three_d) return v;
  const int64_t B = x.dim(0), S = x.dim(1), HD = x.dim(2), D = HD / heads;
  std::vector<float> out(v.size());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s)
      for (int64_t h = 0; h < heads; ++h)
        std::copy_n(v.begin() + ((b * S + s) * HD + h * D), D, out.begin() + (((b * heads + h) * S + s) * D));
  return out;
}

// present = concat(past, cur) along the sequence axis: [B, H, Sp + S, D].
std::vector<float> concat_seq(const std::vector<float>& past, const std::vector<float>& cur, int64_t B, int64_t H,
                              int64_t Sp, int64_t S, int64_t D) {
  std::vector<float> out(size_t(B * H * (Sp + S) * D));
  for (int64_t bh = 0; bh < B * H; ++bh) {
    auto dst = out.begin() + bh * (Sp + S) * D;
    if (Sp > 0) std::copy_n(past.begin() + bh * Sp * D, Sp * D, dst);
    std::copy_n(cur.begin() + bh * S * D, S * D, dst + Sp * D);
  }
  return out;
}

Tensor make_out(DType dt, const Shape& shape, const std::vector<float>& v) {
  Tensor t(DType::F32, shape);
  std::copy(v.begin(), v.end(), t.data<float>());
  return dt == DType::F32 ? t : t.cast(dt);
}

std::vector<Tensor> attention_kernel(KernelContext& ctx) {
  const Node& node = ctx.node;
  require_inputs(ctx, 3);
  const Tensor& Q = ctx.in(0);
  const Tensor& K = ctx.in(1);
  const Tensor& V = ctx.in(2);
  const DType dt = Q.dtype();
  check(dtype_is_float(dt), node.label(), ": element type ", dtype_name(dt), " is not supported");
  check(K.dtype() == dt && V.dtype() == dt, node.label(), ": Q, K and V must have the same element type");
  check((Q.rank() == 3 || Q.rank() == 4) && K.rank() == Q.rank() && V.rank() == Q.rank(), node.label(),
        ": Q, K and V must all be 3-D or all 4-D (got ", shape_str(Q.shape()), ", ", shape_str(K.shape()), ", ",
        shape_str(V.shape()), ")");
  const bool three_d = Q.rank() == 3;
  AttnDims d;
  d.B = Q.dim(0);
  check(K.dim(0) == d.B && V.dim(0) == d.B, node.label(), ": batch sizes of Q, K and V differ");
  if (three_d) {
    d.Hq = node.attr_int("q_num_heads", 0);
    d.Hkv = node.attr_int("kv_num_heads", 0);
    check(d.Hq > 0 && d.Hkv > 0, node.label(), ": 3-D inputs need positive q_num_heads and kv_num_heads");
    check(Q.dim(2) % d.Hq == 0 && K.dim(2) % d.Hkv == 0 && V.dim(2) % d.Hkv == 0, node.label(),
          ": hidden sizes are not divisible by the number of heads");
    d.Sq = Q.dim(1);
    d.Skv = K.dim(1);
    d.D = Q.dim(2) / d.Hq;
    d.Dv = V.dim(2) / d.Hkv;
    check(K.dim(2) / d.Hkv == d.D, node.label(), ": Q and K head sizes differ");
    check(V.dim(1) == d.Skv, node.label(), ": K and V sequence lengths differ");
  } else {
    d.Hq = Q.dim(1);
    d.Hkv = K.dim(1);
    d.Sq = Q.dim(2);
    d.Skv = K.dim(2);
    d.D = Q.dim(3);
    d.Dv = V.dim(3);
    check(K.dim(3) == d.D, node.label(), ": Q and K head sizes differ");
    check(V.dim(1) == d.Hkv && V.dim(2) == d.Skv, node.label(), ": K and V shapes disagree");
  }
  check(d.Hkv > 0 && d.Hq % d.Hkv == 0, node.label(), ": q heads (", d.Hq, ") must be a multiple of kv heads (",
        d.Hkv, ")");
  const std::vector<float> q = to_bhsd(Q, d.Hq, three_d);
  std::vector<float> k = to_bhsd(K, d.Hkv, three_d);
  std::vector<float> v = to_bhsd(V, d.Hkv, three_d);

  // KV cache.
  const bool has_past = ctx.has_input(4);
  check(has_past == ctx.has_input(5), node.label(), ": past_key and past_value must be given together");
  if (has_past) {
    const Tensor& pk = ctx.in(4);
    const Tensor& pv = ctx.in(5);
    check(pk.rank() == 4 && pv.rank() == 4 && pk.dim(0) == d.B && pk.dim(1) == d.Hkv && pk.dim(3) == d.D &&
              pv.dim(0) == d.B && pv.dim(1) == d.Hkv && pv.dim(2) == pk.dim(2) && pv.dim(3) == d.Dv,
          node.label(), ": past_key ", shape_str(pk.shape()), " / past_value ", shape_str(pv.shape()),
          " do not match [B, kv_heads, past, head_size]");
    d.Sp = pk.dim(2);
    k = concat_seq(pk.to_f32_vector(), k, d.B, d.Hkv, d.Sp, d.Skv, d.D);
    v = concat_seq(pv.to_f32_vector(), v, d.B, d.Hkv, d.Sp, d.Skv, d.Dv);
  }
  const int64_t T = d.Sp + d.Skv;
  const double ninf = -std::numeric_limits<double>::infinity();

  // Additive bias [B, Hq, Sq, T] expressed through broadcast strides of the mask.
  std::vector<double> mask;  // empty when absent
  std::vector<int64_t> mstr(4, 0);
  if (ctx.has_input(3)) {
    const Tensor& m = ctx.in(3);
    check(m.rank() >= 2 && m.rank() <= 4, node.label(), ": attn_mask must be 2-D to 4-D (got ",
          shape_str(m.shape()), ")");
    const int64_t mt = m.dim(-1);
    check(mt <= T, node.label(), ": attn_mask last dimension ", mt, " exceeds total sequence length ", T);
    Shape ms = m.shape();
    ms.back() = T;  // padded
    Shape target{d.B, d.Hq, d.Sq, T};
    check(broadcast_shapes(ms, target, node) == target, node.label(), ": attn_mask ", shape_str(m.shape()),
          " does not broadcast to ", shape_str(target));
    const bool is_bool = m.dtype() == DType::Bool;
    const std::vector<double> raw = mm::to_f64(m);
    const int64_t rows = m.numel() / std::max<int64_t>(mt, 1);
    mask.assign(size_t(rows * T), is_bool ? ninf : ninf);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < mt; ++j) {
        const double x = raw[size_t(r * mt + j)];
        mask[size_t(r * T + j)] = is_bool ? (x != 0 ? 0.0 : ninf) : x;
      }
    mstr = broadcast_strides(ms, target);
  }
  std::vector<int64_t> nonpad;
  if (ctx.has_input(6)) {
    nonpad = ctx.in(6).to_i64_vector();
    check(int64_t(nonpad.size()) == d.B, node.label(), ": nonpad_kv_seqlen must have one entry per batch");
  }
  const bool causal = node.attr_int("is_causal", 0) != 0;
  const double scale = node.has_attr("scale") ? double(node.attr_float("scale", 1.0f)) : 1.0 / std::sqrt(double(d.D));
  const double softcap = node.attr_float("softcap", 0.0f);
  const int64_t mode = node.attr_int("qk_matmul_output_mode", 0);
  check(mode >= 0 && mode <= 3, node.label(), ": qk_matmul_output_mode must be 0..3 (got ", mode, ")");
  const bool want_qk = ctx.num_outputs() > 3 && !node.outputs[3].empty();

  std::vector<float> y(size_t(d.B * d.Hq * d.Sq * d.Dv));
  std::vector<float> qk_out(want_qk ? size_t(d.B * d.Hq * d.Sq * T) : 0);
  std::vector<double> s(static_cast<size_t>(T));
  const int64_t reps = d.Hq / d.Hkv;
  for (int64_t b = 0; b < d.B; ++b)
    for (int64_t h = 0; h < d.Hq; ++h) {
      const int64_t hk = h / reps;
      const float* kb = k.data() + (b * d.Hkv + hk) * T * d.D;
      const float* vb = v.data() + (b * d.Hkv + hk) * T * d.Dv;
      for (int64_t i = 0; i < d.Sq; ++i) {
        const float* qi = q.data() + ((b * d.Hq + h) * d.Sq + i) * d.D;
        for (int64_t j = 0; j < T; ++j) {
          double acc = 0;
          const float* kj = kb + j * d.D;
          for (int64_t e = 0; e < d.D; ++e) acc += double(qi[e]) * double(kj[e]);
          acc *= scale;
          if (softcap > 0) acc = softcap * std::tanh(acc / softcap);
          s[size_t(j)] = acc;
        }
        float* qko = want_qk ? qk_out.data() + ((b * d.Hq + h) * d.Sq + i) * T : nullptr;
        if (qko && mode <= 1)
          for (int64_t j = 0; j < T; ++j) qko[j] = float(s[size_t(j)]);
        // Bias: mask, causal frontier, padding.
        int64_t frontier = std::numeric_limits<int64_t>::max();
        if (causal) {
          int64_t offset = 0;
          if (has_past) offset = d.Sp;
          else if (!nonpad.empty()) offset = nonpad[size_t(b)] - d.Sq;
          frontier = i + offset;
        }
        const int64_t valid = nonpad.empty() ? T : nonpad[size_t(b)];
        for (int64_t j = 0; j < T; ++j) {
          double bias = 0;
          if (!mask.empty()) bias += mask[size_t(b * mstr[0] + h * mstr[1] + i * mstr[2] + j * mstr[3])];
          if (j > frontier) bias += ninf;
          if (j >= valid) bias += ninf;
          s[size_t(j)] += bias;
        }
        if (qko && mode == 2)
          for (int64_t j = 0; j < T; ++j) qko[j] = float(s[size_t(j)]);
        double mx = ninf;
        for (int64_t j = 0; j < T; ++j) mx = std::max(mx, s[size_t(j)]);
        double sum = 0;
        for (int64_t j = 0; j < T; ++j) {
          s[size_t(j)] = std::exp(s[size_t(j)] - mx);
          sum += s[size_t(j)];
        }
        for (int64_t j = 0; j < T; ++j) s[size_t(j)] /= sum;
        if (qko && mode == 3)
          for (int64_t j = 0; j < T; ++j) qko[j] = float(s[size_t(j)]);
        std::vector<double> acc(size_t(d.Dv), 0.0);
        for (int64_t j = 0; j < T; ++j) {
          const double p = s[size_t(j)];
          const float* vj = vb + j * d.Dv;
          for (int64_t e = 0; e < d.Dv; ++e) acc[size_t(e)] += p * double(vj[e]);
        }
        float* yo = three_d ? y.data() + ((b * d.Sq + i) * d.Hq + h) * d.Dv
                            : y.data() + ((b * d.Hq + h) * d.Sq + i) * d.Dv;
        for (int64_t e = 0; e < d.Dv; ++e) yo[e] = float(acc[size_t(e)]);
      }
    }

  std::vector<Tensor> outs;
  outs.push_back(make_out(dt, three_d ? Shape{d.B, d.Sq, d.Hq * d.Dv} : Shape{d.B, d.Hq, d.Sq, d.Dv}, y));
  if (ctx.num_outputs() > 1) outs.push_back(make_out(dt, {d.B, d.Hkv, T, d.D}, k));
  if (ctx.num_outputs() > 2) outs.push_back(make_out(dt, {d.B, d.Hkv, T, d.Dv}, v));
  if (ctx.num_outputs() > 3) outs.push_back(want_qk ? make_out(dt, {d.B, d.Hq, d.Sq, T}, qk_out) : Tensor());
  return outs;
}

std::vector<TensorType> attention_shape(const InferContext& ctx) {
  require_inputs(ctx, 3);
  const Node& node = ctx.node;
  const TensorType& q = ctx.in(0);
  const TensorType& k = ctx.in(1);
  const TensorType& v = ctx.in(2);
  const DType dt = q.dtype;
  const size_t nout = ctx.num_outputs();
  std::vector<TensorType> outs(nout, TensorType::unknown_shape(dt));
  if (!q.has_shape || !k.has_shape || !v.has_shape) return outs;
  check((q.rank() == 3 || q.rank() == 4) && k.rank() == q.rank() && v.rank() == q.rank(), node.label(),
        ": Q, K and V must all be 3-D or all 4-D (got ", q.str(), ", ", k.str(), ", ", v.str(), ")");
  Dim B = q.dims[0], Hq, Hkv, Sq, Skv, D, Dv;
  if (q.rank() == 3) {
    const int64_t hq = node.attr_int("q_num_heads", 0), hkv = node.attr_int("kv_num_heads", 0);
    check(hq > 0 && hkv > 0, node.label(), ": 3-D inputs need positive q_num_heads and kv_num_heads");
    Hq = Dim(hq);
    Hkv = Dim(hkv);
    Sq = q.dims[1];
    Skv = k.dims[1];
    D = dim_div(q.dims[2], hq);
    Dv = dim_div(v.dims[2], hkv);
  } else {
    Hq = q.dims[1];
    Hkv = k.dims[1];
    Sq = q.dims[2];
    Skv = k.dims[2];
    D = q.dims[3];
    Dv = v.dims[3];
  }
  Dim T = Skv;
  if (ctx.has_input(4)) {
    const TensorType& pk = ctx.in(4);
    T = pk.has_shape && pk.rank() == 4 ? dim_add(pk.dims[2], Skv) : Dim();
  }
  if (q.rank() == 3) {
    outs[0] = TensorType(dt, {B, Sq, Hq.known() && Dv.known() ? dim_mul(Dv, Hq.value) : Dim()});
  } else {
    outs[0] = TensorType(dt, {B, Hq, Sq, Dv});
  }
  if (nout > 1) outs[1] = TensorType(dt, {B, Hkv, T, D});
  if (nout > 2) outs[2] = TensorType(dt, {B, Hkv, T, Dv});
  if (nout > 3) outs[3] = TensorType(dt, {B, Hq, Sq, T});
  return outs;
}

OpCost attention_cost(const Node&, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
  OpCost c;
  c.bytes = io_bytes(in, out);
  if (out.empty() || !out[0].is_static() || in.size() < 3 || !in[0].is_static()) return c;
  if (out.size() > 3 && out[3].is_static()) {
    // qk [B,Hq,Sq,T]: QK^T and PV each cost 2 * qk * head size.
    const double qk = double(static_numel(out[3]));
    c.flops = qk * (2.0 * double(in[0].dims.back().value) + 5.0) + 2.0 * qk * double(out[0].dims.back().value);
    return c;
  }
  if (in[1].is_static()) {
    // Without the qk output, estimate T from K: Q·K^T costs numel(Q) * Skv * 2, P·V costs numel(Y) * Skv * 2.
    const int64_t skv = in[1].dims[size_t(in[1].rank() - 2)].value;
    c.flops = 2.0 * double(static_numel(in[0])) * double(skv) + 2.0 * double(static_numel(out[0])) * double(skv);
  }
  return c;
}

}  // namespace

void register_attention_ops(OpRegistry& r) {
  OpInfo info;
  info.name = "Attention";
  info.since = 23;
  info.family = "attention";
  info.mapping = MappingType::ManyToMany;
  info.shape = attention_shape;
  info.kernel = attention_kernel;
  info.cost = attention_cost;
  info.summary = "scaled dot-product attention (GQA, masks, causal, softcap, KV cache, qk output modes)";
  r.add(info);
}

}  // namespace dnnf::ops
