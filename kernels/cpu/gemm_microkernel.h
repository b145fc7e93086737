// The register-tiled GEMM inner kernel, chosen once per process by CPU features.
//
// Operands arrive packed in panels (see gemm_packing.h): A as kc steps of `mr` values,
// B as kc steps of `nr` values, so the kernel streams both linearly.
#pragma once

#include <cstdint>

namespace dnnf_kernels {

// c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0) + alpha * sum_k a[k * mr + i] * b[k * nr + j]
// for a full mr x nr tile. When b_next is not null the kernel also prefetches the kc x nr
// panel there into L2, a step of it per step of k: the driver passes the B panel it needs
// next, which otherwise arrives from L3 or memory while the FMA units wait.
using MicroKernelFn = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                               float alpha, bool accumulate, const float* b_next);

struct MicroKernel {
  int mr;
  int nr;
  MicroKernelFn fn;
  const char* isa;  // "avx512", "avx2", "sse2", "neon": for benchmarks and logs
  // rows[r], r = 1..mr: the same for the first r rows of an A panel (still mr wide), full
  // nr columns; for the last rows of a matrix whose row count is not a multiple of mr.
  const MicroKernelFn* rows;
  // The same for the first `cols` columns of a B panel (still nr wide), all mr rows,
  // narrowest first (unused entries: cols 0): for the last column panel of a matrix when
  // it has no more columns than that.
  struct Narrow {
    int cols;
    MicroKernelFn fn;
  } narrow[2];

  // The kernel for a tile of `cols` < nr columns (into a buffer nr floats wide).
  MicroKernelFn for_columns(int cols) const {
    for (const Narrow& n : narrow)
      if (n.cols > 0 && cols <= n.cols) return n.fn;
    return fn;
  }
};

// The widest kernel this CPU supports (decided on first call).
const MicroKernel& micro_kernel();

}  // namespace dnnf_kernels
