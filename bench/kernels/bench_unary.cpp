// Throughput of the SIMD layer's transcendental functions (kernels/simd/simd.h) as the
// generated kernels use them: a vector loop over 4096 floats that stay in L1, compiled
// with the kernel compiler's flags (bench/CMakeLists.txt). Read as ns per element
// (items_per_second): SiLU is x * sigmoid(x), EfficientNet's activation.
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "kernels/simd/simd.h"

namespace {

using namespace dnnf_simd;

template <class F> void run_unary(benchmark::State& state, F f) {
  constexpr int64_t n = 4096;
  std::vector<float> x(n), y(n);
  for (int64_t i = 0; i < n; ++i) x[size_t(i)] = std::sin(0.37f * float(i)) * 8.0f;
  for (auto _ : state) {
    int64_t i = 0;
    for (; i + VL <= n; i += VL) store(y.data() + i, f(load<vf>(x.data() + i)));
    for (; i < n; ++i) y[size_t(i)] = f(x[size_t(i)]);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * n);
}

void BM_Exp(benchmark::State& s) { run_unary(s, [](auto v) { return vexp(v); }); }
void BM_Sigmoid(benchmark::State& s) { run_unary(s, [](auto v) { return vsigmoid(v); }); }
void BM_Silu(benchmark::State& s) { run_unary(s, [](auto v) { return v * vsigmoid(v); }); }
void BM_Tanh(benchmark::State& s) { run_unary(s, [](auto v) { return vtanh(v); }); }
void BM_Erf(benchmark::State& s) { run_unary(s, [](auto v) { return verf(v); }); }

BENCHMARK(BM_Exp);
BENCHMARK(BM_Sigmoid);
BENCHMARK(BM_Silu);
BENCHMARK(BM_Tanh);
BENCHMARK(BM_Erf);

}  // namespace
