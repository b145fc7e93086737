// Pointwise convolutions on small planes as the transposed product: output^T[positions x
// OC] = input^T[positions x C] * weight^T[C x OC]. As weight * input, the positions are
// the GEMM's columns, cut into panels of nr (32 on AVX-512): a 7x7 plane's 49 positions
// fill two panels of which 15 columns are computed for nothing. Transposed, the
// positions are rows, and a short last row tile has a kernel of its own (no waste),
// while the channel counts of such layers are multiples of nr. The GEMM writes each
// finished block of the transposed product into a scratch matrix; its epilogue moves it
// into the NCHW output and hands it on (bias, the user's epilogue) as rows of channels.
// EfficientNet-B0's 1x1 convolutions on 7x7 planes ran at 84 GFLOP/s as weight * input,
// their transposed GEMMs at 102-107 and the whole transposed convolution at 96 (one
// thread, AVX-512, dnnf_bench_kernels).
#include "kernels/cpu/conv2d_internal.h"
#include "kernels/cpu/gemm_driver.h"
#include "kernels/cpu/gemm_microkernel.h"
#include "kernels/cpu/gemm_packing.h"
#include "kernels/cpu/scratch.h"

namespace dnnf_kernels {
namespace {

// Positions per image up to which the transposed product is considered: three column
// panels of the widest micro-kernel. A 14x14 plane (196 positions, 12% of its last
// panel unused) ran as fast either way.
constexpr int64_t kMaxPositions = 96;
// How many times more of its columns the GEMM must compute for nothing, as weight *
// input against the transposed product, before the transposed product (its transposing
// epilogue, A read transposed) pays: 7x7 planes compute 64 columns for 49 on AVX-512
// (1.31) and ran 13% faster transposed (320 -> 1280 channels); an 11x11 plane computes
// 128 for 121 (1.06) and ran 17% slower.
constexpr double kMinWasteRatio = 1.2;

// How many columns a GEMM computes for `n` of them: whole panels of nr, then the
// narrowest kernel that covers the rest, over `n`.
double computed_ratio(int64_t n, const MicroKernel& mk) {
  const int64_t rest = n % mk.nr;
  int64_t last = rest == 0 ? 0 : mk.nr;
  for (const MicroKernel::Narrow& w : mk.narrow)
    if (rest > 0 && w.cols >= rest && w.cols < last) last = w.cols;
  return double(n / mk.nr * mk.nr + last) / double(n);
}

struct TransposingEpilogue {
  const dnnf_conv2d_desc* d;
  int64_t positions;
};

// A finished block of the transposed product of image `batch`: rows = positions
// [row0, row0 + rows), columns = channels [col0, col0 + cols). Written into the output
// as channel rows, then the bias and the user's epilogue see it there.
void transposing_epilogue(void* ctx, float* tile, int64_t ldt, int64_t batch, int64_t row0, int64_t col0,
                          int64_t rows, int64_t cols) {
  const auto& e = *static_cast<const TransposingEpilogue*>(ctx);
  float* out = e.d->output + (batch * e.d->OC + col0) * e.positions + row0;
  for (int64_t c = 0; c < cols; ++c) {
    float* dst = out + c * e.positions;
    const float* src = tile + c;
    const float b = e.d->bias ? e.d->bias[col0 + c] : 0.0f;
    for (int64_t p = 0; p < rows; ++p) dst[p] = src[p * ldt] + b;
  }
  if (e.d->epilogue) e.d->epilogue(e.d->epilogue_ctx, out, e.positions, batch, col0, row0, cols, rows);
}

}  // namespace

bool transposed_pointwise_pays(const dnnf_conv2d_desc* d) {
  if (!is_pointwise(d) || d->group != 1) return false;
  const int64_t positions = d->OH * d->OW;
  const MicroKernel& mk = micro_kernel();
  return positions <= kMaxPositions && computed_ratio(positions, mk) >= kMinWasteRatio * computed_ratio(d->OC, mk);
}

int64_t transposed_pointwise_floats(const dnnf_conv2d_desc* d) {
  return panel_floats(d->OC, d->C, micro_kernel().nr);
}

void pack_transposed_pointwise_weights(const dnnf_conv2d_desc* d, float* dst) {
  // weight^T as GEMM B: element (k = c, n = oc) is weight[oc * C + c].
  pack_b_block(d->weight, d->C, /*trans=*/true, 0, d->C, 0, d->OC, micro_kernel().nr, dst);
}

void unpack_transposed_pointwise_weights(const dnnf_conv2d_desc* d, const float* packed, float* weight) {
  const int nr = micro_kernel().nr;
  for (int64_t oc = 0; oc < d->OC; ++oc) {
    const float* panel = packed + (oc / nr) * d->C * nr + oc % nr;
    for (int64_t c = 0; c < d->C; ++c) weight[oc * d->C + c] = panel[c * nr];
  }
}

void transposed_pointwise_conv2d(const dnnf_conv2d_desc* d, const float* packed_weights, const dnnf_api* api) {
  const int64_t positions = d->OH * d->OW;
  TransposingEpilogue e{d, positions};
  GemmProblem p;
  p.batch = d->N;
  p.M = positions;
  p.N = d->OC;
  p.K = d->C;
  p.a = {d->input, positions, d->C * positions, nullptr, /*trans=*/true};  // (position, c) at input[c * HW + position]
  p.packed_b = packed_weights;
  // The caller's thread holds the product; the GEMM's tasks write their blocks into it.
  thread_local Scratch product;
  p.c = product.get(d->N * positions * d->OC);
  p.ldc = d->OC;
  p.c_batch_stride = positions * d->OC;
  p.epilogue = transposing_epilogue;
  p.epilogue_ctx = &e;
  run_gemm(p, api);
}

}  // namespace dnnf_kernels
