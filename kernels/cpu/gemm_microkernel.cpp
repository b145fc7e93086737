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

// MR rows x NV vectors of W floats, from A panels of AS rows (AS > MR: the first MR
// rows of a panel, for the last rows of a matrix) and B panels of BS floats per k step
// (BS > W * NV: the first columns of a panel, for the last columns of a matrix).
// Accumulators live in registers once GCC unrolls the constant-trip loops and scalarises
// `acc`.
template <int W, int MR, int NV, int AS = MR, int BS = W * NV>
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
      b_next += BS;
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
    a += AS;
    b += BS;
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

// Kernels for the first R rows of a panel, R = 1..MR, indexed by R: the last row panel of
// a matrix whose row count is not a multiple of MR (64, 128, 256 channels against 12)
// computes only its rows instead of a full tile into a buffer.
template <class Fn, Fn... F> struct RowKernels {
  static constexpr MicroKernelFn table[] = {nullptr, F...};
};

#if defined(__x86_64__) || defined(__i386__)
constexpr int kAvx512Mr = 12, kAvx2Mr = 6;
template <int R>
__attribute__((target("avx512f,fma"))) void micro_avx512(int64_t kc, const float* a, const float* b, float* c,
                                                         int64_t ldc, float alpha, bool accumulate,
                                                         const float* b_next) {
  micro_body<16, R, 2, kAvx512Mr>(kc, a, b, c, ldc, alpha, accumulate, b_next);
}
// The first 16 or 8 columns of a 32-wide panel: a matrix's last column panel with that
// few columns (100 = 3 x 32 + 4 positions of a 10x10 map) computes a half or a quarter
// of the tile, not all of it.
__attribute__((target("avx512f,fma"))) void half_avx512(int64_t kc, const float* a, const float* b, float* c,
                                                       int64_t ldc, float alpha, bool accumulate, const float* b_next) {
  micro_body<16, kAvx512Mr, 1, kAvx512Mr, 32>(kc, a, b, c, ldc, alpha, accumulate, b_next);
}
__attribute__((target("avx512f,fma"))) void quarter_avx512(int64_t kc, const float* a, const float* b, float* c,
                                                          int64_t ldc, float alpha, bool accumulate,
                                                          const float* b_next) {
  micro_body<8, kAvx512Mr, 1, kAvx512Mr, 32>(kc, a, b, c, ldc, alpha, accumulate, b_next);
}
template <int R>
__attribute__((target("avx2,fma"))) void micro_avx2(int64_t kc, const float* a, const float* b, float* c,
                                                    int64_t ldc, float alpha, bool accumulate,
                                                    const float* b_next) {
  micro_body<8, R, 2, kAvx2Mr>(kc, a, b, c, ldc, alpha, accumulate, b_next);
}
__attribute__((target("avx2,fma"))) void narrow_avx2(int64_t kc, const float* a, const float* b, float* c,
                                                    int64_t ldc, float alpha, bool accumulate, const float* b_next) {
  micro_body<8, kAvx2Mr, 1, kAvx2Mr, 16>(kc, a, b, c, ldc, alpha, accumulate, b_next);
}
using Avx512Rows = RowKernels<MicroKernelFn, micro_avx512<1>, micro_avx512<2>, micro_avx512<3>, micro_avx512<4>,
                              micro_avx512<5>, micro_avx512<6>, micro_avx512<7>, micro_avx512<8>,
                              micro_avx512<9>, micro_avx512<10>, micro_avx512<11>, micro_avx512<12>>;
using Avx2Rows = RowKernels<MicroKernelFn, micro_avx2<1>, micro_avx2<2>, micro_avx2<3>, micro_avx2<4>,
                            micro_avx2<5>, micro_avx2<6>>;
static_assert(sizeof(Avx512Rows::table) / sizeof(MicroKernelFn) == kAvx512Mr + 1);
static_assert(sizeof(Avx2Rows::table) / sizeof(MicroKernelFn) == kAvx2Mr + 1);
#endif

#if defined(__aarch64__)
constexpr int kBaseMr = 8, kBaseNv = 3;  // 24 of the 32 NEON registers accumulate
const char* const kBaseIsa = "neon";
#else
constexpr int kBaseMr = 6, kBaseNv = 2;  // 12 of the 16 SSE registers accumulate
const char* const kBaseIsa = "sse2";
#endif
template <int R>
void micro_base(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha, bool accumulate,
                const float* b_next) {
  micro_body<4, R, kBaseNv, kBaseMr>(kc, a, b, c, ldc, alpha, accumulate, b_next);
}
// The first vector of each k step: for NEON's three vectors, a third of the tile.
void narrow_base(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha, bool accumulate,
                 const float* b_next) {
  micro_body<4, kBaseMr, 1, kBaseMr, 4 * kBaseNv>(kc, a, b, c, ldc, alpha, accumulate, b_next);
}
#if defined(__aarch64__)
using BaseRows = RowKernels<MicroKernelFn, micro_base<1>, micro_base<2>, micro_base<3>, micro_base<4>,
                            micro_base<5>, micro_base<6>, micro_base<7>, micro_base<8>>;
#else
using BaseRows = RowKernels<MicroKernelFn, micro_base<1>, micro_base<2>, micro_base<3>, micro_base<4>,
                            micro_base<5>, micro_base<6>>;
#endif
static_assert(sizeof(BaseRows::table) / sizeof(MicroKernelFn) == kBaseMr + 1);

// DNNF_KERNEL_ISA=avx2 / base caps the choice, so tests can cover every kernel on one
// machine.
MicroKernel choose() {
  const char* cap = std::getenv("DNNF_KERNEL_ISA");
  const std::string limit = cap ? cap : "";
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (limit.empty() && __builtin_cpu_supports("avx512f"))
    return {kAvx512Mr, 32, micro_avx512<kAvx512Mr>, "avx512", Avx512Rows::table, {{8, quarter_avx512}, {16, half_avx512}}};
  if ((limit.empty() || limit == "avx2") && __builtin_cpu_supports("avx2") &&
      __builtin_cpu_supports("fma"))
    return {kAvx2Mr, 16, micro_avx2<kAvx2Mr>, "avx2", Avx2Rows::table, {{8, narrow_avx2}}};
#endif
  return {kBaseMr, 4 * kBaseNv, micro_base<kBaseMr>, kBaseIsa, BaseRows::table, {{4, narrow_base}}};
}

}  // namespace

const MicroKernel& micro_kernel() {
  static const MicroKernel kernel = choose();
  return kernel;
}

}  // namespace dnnf_kernels
