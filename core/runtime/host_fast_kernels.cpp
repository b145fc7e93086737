#include "core/runtime/host_fast_kernels.h"

#include <algorithm>
#include <functional>

#include "core/ops/conv_geometry.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/gemm.h"

namespace dnnf {
namespace {

using Inputs = std::vector<const Tensor*>;
using FastKernel = std::function<std::optional<std::vector<Tensor>>(const Node&, const Inputs&, const dnnf_api&)>;

bool is_f32(const Tensor* t) { return t && t->dtype() == DType::F32 && (t->raw() != nullptr || t->numel() == 0); }
const Tensor* input(const Inputs& in, size_t i) { return i < in.size() ? in[i] : nullptr; }

int64_t product(const Shape& s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i) p *= s[i];
  return p;
}

// Y = alpha * op(A) op(B) + beta * C, C broadcast to [M, N] (scalar, [N], [1, N], [M, 1]
// or [M, N]).
std::optional<std::vector<Tensor>> gemm(const Node& node, const Inputs& in, const dnnf_api& api) {
  const Tensor *A = input(in, 0), *B = input(in, 1), *C = input(in, 2);
  if (!is_f32(A) || !is_f32(B) || A->rank() != 2 || B->rank() != 2) return std::nullopt;
  if (C && !is_f32(C)) return std::nullopt;
  const bool ta = node.attr_int("transA", 0) != 0, tb = node.attr_int("transB", 0) != 0;
  const int64_t M = ta ? A->dim(1) : A->dim(0), K = ta ? A->dim(0) : A->dim(1);
  const int64_t KB = tb ? B->dim(1) : B->dim(0), N = tb ? B->dim(0) : B->dim(1);
  if (K != KB) return std::nullopt;  // the reference kernel names the mismatch
  const float beta = node.attr_float("beta", 1.0f);
  int64_t c_row = 0, c_col = 0;  // C's strides over [M, N]; 0 = broadcast
  if (C && beta != 0.0f) {
    const Shape& cs = C->shape();
    if (cs.size() > 2) return std::nullopt;
    const int64_t cm = cs.size() == 2 ? cs[0] : 1, cn = cs.empty() ? 1 : cs.back();
    if ((cm != 1 && cm != M) || (cn != 1 && cn != N)) return std::nullopt;
    c_col = cn == 1 ? 0 : 1;
    c_row = cm == 1 ? 0 : cn;
  }
  Tensor Y(DType::F32, {M, N});
  dnnf_gemm_desc d{};
  d.batch = 1;
  d.M = M;
  d.N = N;
  d.K = K;
  d.A = A->data<float>();
  d.lda = A->dim(1);
  d.trans_a = ta;
  d.B = B->data<float>();
  d.ldb = B->dim(1);
  d.trans_b = tb;
  d.C = Y.data<float>();
  d.ldc = N;
  d.alpha = node.attr_float("alpha", 1.0f);
  if (M > 0 && N > 0) dnnf_gemm_f32(&d, &api);
  if (C && beta != 0.0f) {
    const float* c = C->data<float>();
    float* y = Y.data<float>();
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) y[m * N + n] += beta * c[m * c_row + n * c_col];
  }
  return std::vector<Tensor>{std::move(Y)};
}

// [..., M, K] x [K, N] as one GEMM of all leading rows, or [b..., M, K] x [b..., K, N]
// with equal batch dims. Other broadcasts and 1-D operands go to the reference kernel.
std::optional<std::vector<Tensor>> matmul(const Node&, const Inputs& in, const dnnf_api& api) {
  const Tensor *A = input(in, 0), *B = input(in, 1);
  if (!is_f32(A) || !is_f32(B) || A->rank() < 2 || B->rank() < 2) return std::nullopt;
  const Shape &as = A->shape(), &bs = B->shape();
  const int64_t K = as.back(), N = bs.back(), M = as[as.size() - 2];
  if (bs[bs.size() - 2] != K) return std::nullopt;
  dnnf_gemm_desc d{};
  Shape out;
  if (bs.size() == 2) {
    d.batch = 1;
    d.M = product(as, 0, as.size() - 1);
    out.assign(as.begin(), as.end() - 1);
  } else {
    if (as.size() != bs.size() || !std::equal(as.begin(), as.end() - 2, bs.begin())) return std::nullopt;
    d.batch = product(as, 0, as.size() - 2);
    d.M = M;
    d.a_batch_stride = M * K;
    d.b_batch_stride = K * N;
    d.c_batch_stride = M * N;
    out.assign(as.begin(), as.end() - 1);
  }
  out.push_back(N);
  Tensor Y(DType::F32, out);
  d.N = N;
  d.K = K;
  d.A = A->data<float>();
  d.lda = K;
  d.B = B->data<float>();
  d.ldb = N;
  d.C = Y.data<float>();
  d.ldc = N;
  d.alpha = 1.0f;
  if (d.batch > 0 && d.M > 0 && N > 0) dnnf_gemm_f32(&d, &api);
  return std::vector<Tensor>{std::move(Y)};
}

// 2-D convolution, NCHW, any pads (auto_pad resolved like the reference), strides,
// dilations and groups.
std::optional<std::vector<Tensor>> conv(const Node& node, const Inputs& in, const dnnf_api& api) {
  const Tensor *X = input(in, 0), *W = input(in, 1), *Bias = input(in, 2);
  if (!is_f32(X) || !is_f32(W) || X->rank() != 4 || W->rank() != 4) return std::nullopt;
  if (Bias && (!is_f32(Bias) || Bias->numel() != W->dim(0))) return std::nullopt;
  const int64_t G = node.attr_int("group", 1);
  if (G < 1 || W->dim(1) * G != X->dim(1) || W->dim(0) % G != 0) return std::nullopt;
  ops::convgeo::Window win = ops::convgeo::read_window(node, 2, {W->dim(2), W->dim(3)});
  const Shape out_sp = ops::convgeo::resolve_all(node, win, {X->dim(2), X->dim(3)}, false);
  if (out_sp[0] < 0 || out_sp[1] < 0) return std::nullopt;
  Tensor Y(DType::F32, {X->dim(0), W->dim(0), out_sp[0], out_sp[1]});
  dnnf_conv2d_desc d{};
  d.N = X->dim(0);
  d.C = X->dim(1);
  d.H = X->dim(2);
  d.W = X->dim(3);
  d.OC = W->dim(0);
  d.KH = W->dim(2);
  d.KW = W->dim(3);
  d.OH = out_sp[0];
  d.OW = out_sp[1];
  d.stride_h = win.strides[0];
  d.stride_w = win.strides[1];
  d.pad_top = win.pad_begin(0);
  d.pad_left = win.pad_begin(1);
  d.dil_h = win.dilations[0];
  d.dil_w = win.dilations[1];
  d.group = G;
  d.input = X->data<float>();
  d.weight = W->data<float>();
  d.bias = Bias ? Bias->data<float>() : nullptr;
  d.output = Y.data<float>();
  dnnf_conv2d_f32(&d, &api);
  return std::vector<Tensor>{std::move(Y)};
}

struct FastRow {
  const char* op;
  FastKernel kernel;
};

const std::vector<FastRow>& table() {
  static const std::vector<FastRow> rows = {
      {"Gemm", gemm},
      {"MatMul", matmul},
      {"Conv", conv},
  };
  return rows;
}

}  // namespace

std::optional<std::vector<Tensor>> run_host_fast(const Node& node, const std::vector<const Tensor*>& inputs,
                                                 const dnnf_api& api) {
  if (!node.domain.empty() && node.domain != "ai.onnx") return std::nullopt;
  for (const FastRow& row : table())
    if (node.op_type == row.op) return row.kernel(node, inputs, api);
  return std::nullopt;
}

std::vector<std::string> host_fast_operators() {
  std::vector<std::string> ops;
  for (const FastRow& row : table()) ops.push_back(row.op);
  return ops;
}

}  // namespace dnnf
