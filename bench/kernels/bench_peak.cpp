// This machine's FP32 peak on one core: independent fused multiply-add chains in
// registers, no memory traffic. The GEMM benchmarks are read as a share of this number
// (bench/gemm_peak.sh prints the ratio). 2 FLOPs per lane per FMA.
#include <benchmark/benchmark.h>

#include <cstdint>

#include <immintrin.h>

namespace {

// Enough independent accumulators to cover FMA latency x throughput (4 cycles x 2 ports
// on current x86 cores; 12 leaves headroom without spilling 16 or 32 vector registers).
constexpr int kChains = 12;
constexpr int64_t kSteps = 1 << 16;

// Explicit FMA instructions: in ISO C++ mode the compiler does not contract a * b + c.
#define DNNF_PEAK_BODY(V, set1, fmadd, store, lanes)                        \
  V acc[kChains];                                                           \
  for (int c = 0; c < kChains; ++c) acc[c] = set1(float(c) * 1e-3f);       \
  const V a = set1(0.999999f), b = set1(1e-7f);                             \
  for (int64_t s = 0; s < kSteps; ++s) {                                    \
    _Pragma("GCC unroll 12") for (int c = 0; c < kChains; ++c)              \
        acc[c] = fmadd(acc[c], a, b);                                       \
  }                                                                         \
  float sum = 0, lane[lanes];                                               \
  for (int c = 0; c < kChains; ++c) {                                       \
    store(lane, acc[c]);                                                    \
    for (int l = 0; l < lanes; ++l) sum += lane[l];                         \
  }                                                                         \
  return sum;

__attribute__((target("avx512f,fma"), noinline)) float fma_chains_avx512() {
  DNNF_PEAK_BODY(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_storeu_ps, 16)
}
__attribute__((target("avx2,fma"), noinline)) float fma_chains_avx2() {
  DNNF_PEAK_BODY(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_storeu_ps, 8)
}

void peak(benchmark::State& state, float (*chains)(), int lanes, bool supported) {
  if (!supported) {
    state.SkipWithError("the CPU lacks this instruction set");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(chains());
  state.counters["FLOP/s"] =
      benchmark::Counter(2.0 * lanes * kChains * double(kSteps), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_PeakFp32Avx512(benchmark::State& state) { peak(state, fma_chains_avx512, 16, __builtin_cpu_supports("avx512f")); }
void BM_PeakFp32Avx2(benchmark::State& state) { peak(state, fma_chains_avx2, 8, __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")); }

BENCHMARK(BM_PeakFp32Avx512)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PeakFp32Avx2)->Unit(benchmark::kMicrosecond);

}  // namespace
