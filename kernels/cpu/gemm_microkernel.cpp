// One template body, instantiated per instruction set with a register tile that fits
// that set's vector registers; the x86 variants carry target attributes so the library
// itself stays built for the baseline architecture and picks the kernel at run time.
#include "kernels/cpu/gemm_microkernel.h"

#include <cstdlib>
#include <cstring>
#include <string>

namespace dnnf_kernels {
namespace {

template <int W> struct Vec {
  typedef float type __attribute__((vector_size(W * 4)));
};

// MR rows x NV vectors of W floats. Accumulators live in registers once GCC unrolls the
// constant-trip loops and scalarises `acc`.
template <int W, int MR, int NV>
__attribute__((always_inline)) inline void micro_body(int64_t kc, const float* __restrict a,
                                                     const float* __restrict b, float* c,
                                                     int64_t ldc, float alpha, bool accumulate,
                                                     const float* b_next) {
  typedef typename Vec<W>::type V;
  constexpr int NR = W * NV;
  // The C tile is read at the end: start fetching its rows now.
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) __builtin_prefetch(c + i * ldc, 1, 3);
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = V{};
  for (int64_t k = 0; k < kc; ++k) {
    if (b_next) {  // one k step of the next panel: NR floats, one or two cache lines
      __builtin_prefetch(b_next, 0, 2);
      if constexpr (NR * 4 > 64) __builtin_prefetch(b_next + 16, 0, 2);
      b_next += NR;
    }
    V bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) std::memcpy(&bv[j], b + j * W, sizeof(V));
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const V av = a[i] - V{};  // broadcast; x - 0 == x folds away, unlike 0 + x
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] += av * bv[j];
    }
    a += MR;
    b += NR;
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      float* dst = c + i * ldc + j * W;
      V out = acc[i][j] * alpha;
      if (accumulate) {
        V old;
        std::memcpy(&old, dst, sizeof(V));
        out += old;
      }
      std::memcpy(dst, &out, sizeof(V));
    }
}

#if defined(__x86_64__) || defined(__i386__)
constexpr int kAvx512Mr = 12, kAvx2Mr = 6;
__attribute__((target("avx512f,fma"))) void micro_avx512(int64_t kc, const float* a,
                                                         const float* b, float* c, int64_t ldc,
                                                         float alpha, bool accumulate, const float* b_next) {
  micro_body<16, kAvx512Mr, 2>(kc, a, b, c, ldc, alpha, accumulate, b_next);
}
__attribute__((target("avx2,fma"))) void micro_avx2(int64_t kc, const float* a, const float* b,
                                                    float* c, int64_t ldc, float alpha,
                                                    bool accumulate, const float* b_next) {
  micro_body<8, kAvx2Mr, 2>(kc, a, b, c, ldc, alpha, accumulate, b_next);
}
#endif

#if defined(__aarch64__)
constexpr int kBaseMr = 8, kBaseNv = 3;  // 24 of the 32 NEON registers accumulate
const char* const kBaseIsa = "neon";
#else
constexpr int kBaseMr = 6, kBaseNv = 2;  // 12 of the 16 SSE registers accumulate
const char* const kBaseIsa = "sse2";
#endif
void micro_base(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha,
                bool accumulate, const float* b_next) {
  micro_body<4, kBaseMr, kBaseNv>(kc, a, b, c, ldc, alpha, accumulate, b_next);
}

// DNNF_KERNEL_ISA=avx2 / base caps the choice, so tests can cover every kernel on one
// machine.
MicroKernel choose() {
  const char* cap = std::getenv("DNNF_KERNEL_ISA");
  const std::string limit = cap ? cap : "";
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (limit.empty() && __builtin_cpu_supports("avx512f"))
    return {kAvx512Mr, 32, micro_avx512, "avx512"};
  if ((limit.empty() || limit == "avx2") && __builtin_cpu_supports("avx2") &&
      __builtin_cpu_supports("fma"))
    return {kAvx2Mr, 16, micro_avx2, "avx2"};
#endif
  return {kBaseMr, 4 * kBaseNv, micro_base, kBaseIsa};
}

}  // namespace

const MicroKernel& micro_kernel() {
  static const MicroKernel kernel = choose();
  return kernel;
}

}  // namespace dnnf_kernels
