// Pointwise -> depthwise convolution in bands of output rows (see conv2d_chain.h).
//
// The bands of all images form one sequence, cut into one contiguous run per thread, so
// each thread walks down its images band after band and keeps the rows the next band's
// windows share with this one: the pointwise GEMM computes every expanded row once (a
// row at the seam of two threads' runs twice).
#include "kernels/cpu/conv2d_chain.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "kernels/cpu/conv2d_internal.h"
#include "kernels/cpu/gemm_driver.h"
#include "kernels/cpu/packed_buffer.h"

namespace dnnf_kernels {

int64_t chain_band_input_rows(int64_t rows, int64_t kernel_h, int64_t stride_h, int64_t dil_h) {
  return (rows - 1) * stride_h + (kernel_h - 1) * dil_h + 1;
}

int64_t chain_band_rows(int64_t channels, int64_t width, int64_t out_rows, int64_t kernel_h, int64_t stride_h,
                        int64_t dil_h) {
  const int64_t row_bytes = channels * width * int64_t(sizeof(float));
  int64_t rows = 1;
  while (rows < out_rows && chain_band_input_rows(rows + 1, kernel_h, stride_h, dil_h) * row_bytes <= kChainBandBytes)
    ++rows;
  return rows;
}

namespace {

struct Chain {
  const dnnf_conv2d_desc* pw;
  const dnnf_conv2d_desc* dw;
  const float* pw_weights;  // GEMM panels when packed, else OIHW rows
  bool pw_packed;
  const float* dw_weights;
  int64_t rows, bands, runs;  // output rows per band, bands per image, runs of bands
  int64_t band_ld;             // floats per channel of the band buffer
};

// Expanded rows [from, to) of image n into the band buffer at band row `at` (all channels).
void pointwise_rows(const Chain& ch, int64_t n, int64_t from, int64_t to, float* band, int64_t band_ld, int64_t at) {
  const dnnf_conv2d_desc& pw = *ch.pw;
  const int64_t plane = pw.H * pw.W;
  // The GEMM sees the columns of the rows it computes; the epilogue, their place in the band.
  ShiftedEpilogue e{pw.bias, 0, at * pw.W, pw.epilogue, pw.epilogue_ctx};
  GemmProblem p;
  p.M = pw.OC;
  p.N = (to - from) * pw.W;
  p.K = pw.C;
  if (ch.pw_packed)
    p.packed_a = ch.pw_weights;
  else
    p.a = {ch.pw_weights, pw.C, 0, nullptr, false};
  p.b = {pw.input + n * pw.C * plane + from * pw.W, plane, 0, nullptr, false};
  p.c = band + at * pw.W;
  p.ldc = band_ld;
  p.epilogue = (pw.bias || pw.epilogue) ? shifted_epilogue : nullptr;
  p.epilogue_ctx = &e;
  run_gemm(p, nullptr);  // on this thread: the threads run bands
}

void run_bands(const Chain& ch, int64_t first, int64_t last, float* band) {
  const dnnf_conv2d_desc& dw = *ch.dw;
  const int64_t W = dw.W, band_ld = ch.band_ld, out_plane = dw.OH * dw.OW;
  int64_t held_n = -1, held_lo = 0, held_hi = 0;  // expanded rows [held_lo, held_hi) of image held_n
  for (int64_t b = first; b < last; ++b) {
    const int64_t n = b / ch.bands, o0 = b % ch.bands * ch.rows, o1 = std::min(dw.OH, o0 + ch.rows);
    // The rows the band's windows read, inside the image.
    const int64_t lo = std::clamp<int64_t>(o0 * dw.stride_h - dw.pad_top, 0, dw.H);
    const int64_t hi = std::clamp<int64_t>((o1 - 1) * dw.stride_h - dw.pad_top + (dw.KH - 1) * dw.dil_h + 1, lo, dw.H);
    int64_t from = lo;
    if (held_n == n && held_lo <= lo && lo < held_hi) {  // move the shared rows to the top
      const int64_t keep = std::min(held_hi, hi) - lo, shift = lo - held_lo;
      if (shift > 0)
        for (int64_t c = 0; c < dw.C; ++c)
          std::memmove(band + c * band_ld, band + c * band_ld + shift * W, size_t(keep * W) * sizeof(float));
      from = lo + keep;
    }
    if (hi > from) pointwise_rows(ch, n, from, hi, band, band_ld, from - lo);
    held_n = n, held_lo = lo, held_hi = std::max(hi, from);
    dnnf_conv2d_desc sub = dw;
    sub.N = 1;
    sub.H = hi - lo;
    sub.pad_top = lo + dw.pad_top - o0 * dw.stride_h;  // window rows above the band's first row
    sub.OH = o1 - o0;
    sub.input = band;
    sub.output = dw.output + n * dw.C * out_plane + o0 * dw.OW;
    depthwise_rows(sub, ch.dw_weights, n, band_ld, out_plane, o0 * dw.OW);
  }
}

void run_runs(void* ctx, int64_t begin, int64_t end) {
  const auto& ch = *static_cast<const Chain*>(ctx);
  const int64_t total = ch.pw->N * ch.bands;
  const int64_t band_floats = ch.dw->C * ch.band_ld;
  for (int64_t r = begin; r < end; ++r) {
    float* band = r == 0 ? ch.pw->output : nullptr;
    thread_local std::vector<float> buffer;
    if (!band) {
      if (buffer.size() < size_t(band_floats)) buffer.resize(size_t(band_floats));
      band = buffer.data();
    }
    run_bands(ch, r * total / ch.runs, (r + 1) * total / ch.runs, band);
  }
}

void check_chain(const dnnf_conv2d_desc* pw, const dnnf_conv2d_desc* dw) {
  check_geometry(pw);
  check_geometry(dw);
  auto fail = [](const char* what) { throw std::invalid_argument(std::string("conv2d chain: ") + what); };
  if (!is_pointwise(pw) || pw->group != 1) fail("the first convolution must be pointwise with one group");
  if (!is_depthwise(dw) || dw->C != pw->OC) fail("the second convolution must be depthwise over the first's output");
  if (dw->N != pw->N || dw->H != pw->H || dw->W != pw->W) fail("the second convolution must read the first's output");
  if (!pw->input || !dw->output) fail("null input or output");
}

}  // namespace
}  // namespace dnnf_kernels

extern "C" void dnnf_conv2d_chain_f32(const dnnf_conv2d_desc* pw, const dnnf_conv2d_desc* dw, const dnnf_api* api) {
  using namespace dnnf_kernels;
  check_chain(pw, dw);
  if (pw->N == 0 || dw->OH == 0 || dw->OW == 0) return;
  // Bands run the pointwise GEMM as weight * input: weights packed for the transposed
  // product (a plane small enough for it) are unpacked for them, or read as they are.
  const bool transposed = packed_is(pw->packed_weight, PackedKind::conv_pointwise_t);
  std::vector<float> unpacked;
  if (transposed && !pw->weight) {
    unpacked.resize(size_t(pw->OC * pw->C));
    unpack_transposed_pointwise_weights(pw, conv_weights(pw), unpacked.data());
  }
  const float* pw_weights = !transposed ? conv_weights(pw) : pw->weight ? pw->weight : unpacked.data();
  Chain ch{pw, dw, pw_weights, pw->packed_weight != nullptr && !transposed, conv_weights(dw), 0, 0, 0, 0};
  // The widest band fixes the buffer's layout (the pointwise epilogue's strides). On T
  // threads the bands may be narrower, so that every thread gets as many: 5 bands on 2
  // threads ran 3 against 2, and EfficientNet-B0's 56x56 chains lost to channel groups.
  const int64_t widest = chain_band_rows(dw->C, dw->W, dw->OH, dw->KH, dw->stride_h, dw->dil_h);
  ch.band_ld = chain_band_input_rows(widest, dw->KH, dw->stride_h, dw->dil_h) * dw->W;
  const int64_t threads = api && api->parallel_for && api->num_threads > 1 ? api->num_threads : 1;
  int64_t bands = (dw->OH + widest - 1) / widest;
  while (pw->N * bands % threads != 0 && bands < dw->OH) ++bands;
  ch.rows = (dw->OH + bands - 1) / bands;
  ch.bands = (dw->OH + ch.rows - 1) / ch.rows;
  ch.runs = std::min(threads, pw->N * ch.bands);
  if (ch.runs > 1)
    api->parallel_for(api->pool, ch.runs, run_runs, &ch);
  else
    run_runs(&ch, 0, 1);
}
