// Single-thread GFLOP/s of the host GEMM and convolution kernels (Google Benchmark).
// The "FLOP/s" counter is 2 * M * N * K per second.
#include <benchmark/benchmark.h>

#include <vector>

#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/conv2d_internal.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/gemm_microkernel.h"
#include "kernels/cpu/kernel_api.h"

namespace {

void gemm(benchmark::State& state, bool packed) {
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  std::vector<float> A(M * K, 0.5f), B(K * N, 0.25f), C(M * N);
  const dnnf_api api = dnnf_make_api(nullptr, nullptr, 1);
  void* pb = packed ? dnnf_gemm_pack_b(B.data(), K, N, N, 0) : nullptr;
  dnnf_gemm_desc d{};
  d.batch = 1;
  d.M = M;
  d.N = N;
  d.K = K;
  d.A = A.data();
  d.lda = K;
  d.B = B.data();
  d.ldb = N;
  d.packed_b = pb;
  d.C = C.data();
  d.ldc = N;
  d.alpha = 1.0f;
  for (auto _ : state) {
    dnnf_gemm_f32(&d, &api);
    benchmark::DoNotOptimize(C.data());
  }
  dnnf_release_packed(pb);
  state.counters["FLOP/s"] =
      benchmark::Counter(2.0 * M * N * K, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(dnnf_kernels::micro_kernel().isa);
}

void BM_Gemm(benchmark::State& state) { gemm(state, false); }
void BM_GemmPackedB(benchmark::State& state) { gemm(state, true); }

void shapes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {128, 256, 512, 1024}) b->Args({n, n, n});
  b->Args({128, 768, 768});   // BERT-base projections, sequence 128
  b->Args({128, 3072, 768});  // BERT-base FFN up
  b->Args({128, 768, 3072});  // BERT-base FFN down
}
BENCHMARK(BM_Gemm)->Apply(shapes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GemmPackedB)->Apply(shapes)->Unit(benchmark::kMicrosecond);

// Args: C, H (= W), OC, kernel, stride, group, Winograd allowed; padding keeps "same"
// size / stride. FLOP/s counts the direct convolution's multiply-adds whatever the
// algorithm, so Winograd's rate against the im2col GEMM's is its speed-up.
void BM_Conv2d(benchmark::State& state) {
  const int64_t C = state.range(0), H = state.range(1), OC = state.range(2), k = state.range(3),
                s = state.range(4), g = state.range(5);
  const bool winograd = state.range(6) != 0;
  const int64_t pad = k / 2, OH = (H + 2 * pad - k) / s + 1;
  std::vector<float> in(C * H * H, 0.5f), w(OC * (C / g) * k * k, 0.01f), out(OC * OH * OH);
  const dnnf_api api = dnnf_make_api(nullptr, nullptr, 1);
  dnnf_conv2d_desc d{};
  d.N = 1;
  d.C = C;
  d.H = d.W = H;
  d.OC = OC;
  d.KH = d.KW = k;
  d.OH = d.OW = OH;
  d.stride_h = d.stride_w = s;
  d.pad_top = d.pad_left = pad;
  d.dil_h = d.dil_w = 1;
  d.group = g;
  d.input = in.data();
  d.weight = w.data();
  d.output = out.data();
  void* packed = dnnf_kernels::pack_conv_weights(&d, winograd);
  d.packed_weight = packed;
  for (auto _ : state) {
    dnnf_conv2d_f32(&d, &api);
    benchmark::DoNotOptimize(out.data());
  }
  dnnf_release_packed(packed);
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * OC * OH * OH * (C / g) * k * k,
                                                benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Conv2d)
    ->Args({64, 56, 64, 3, 1, 1, 0})     // ResNet stage 1, im2col GEMM
    ->Args({64, 56, 64, 3, 1, 1, 1})     // the same as Winograd F(4x4, 3x3)
    ->Args({256, 14, 256, 3, 1, 1, 0})   // ResNet stage 3
    ->Args({256, 14, 256, 3, 1, 1, 1})
    ->Args({128, 112, 128, 3, 1, 1, 0})  // VGG-16 block 2
    ->Args({128, 112, 128, 3, 1, 1, 1})
    ->Args({512, 28, 512, 3, 1, 1, 0})   // VGG-16 block 4
    ->Args({512, 28, 512, 3, 1, 1, 1})
    ->Args({64, 56, 256, 1, 1, 1, 0})    // pointwise
    ->Args({3, 224, 64, 7, 2, 1, 0})     // stem
    ->Args({32, 112, 32, 3, 1, 32, 0})   // MobileNet depthwise
    ->Args({96, 56, 96, 3, 2, 96, 0})    // depthwise, stride 2
    ->Args({672, 14, 672, 5, 1, 672, 0})  // EfficientNet-B0 depthwise 5x5, small plane
    ->Args({1152, 7, 1152, 5, 1, 1152, 0})  // EfficientNet-B0 depthwise 5x5, 7x7 plane
    ->Args({144, 56, 144, 5, 2, 144, 0})  // EfficientNet-B0 depthwise 5x5, stride 2
    ->Args({16, 112, 96, 1, 1, 1, 0})     // EfficientNet-B0 expand 1x1, K = 16
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
