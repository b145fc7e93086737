// Internal helpers of the matmul / reduce / attention / detection families: the
// plain row-major GEMM loop the reference kernels share, and float conversions.
// Not a public header: only core/ops/{matmul,reduce,attention,detection}_*.cpp use it.
#pragma once

#include <cstdint>
#include <vector>

#include "core/ir/graph.h"
#include "core/ir/op_registry.h"

namespace dnnf::ops::mm {

// C[M,N] = A[M,K] * B[K,N] (accumulate=false) or C += A*B (accumulate=true); all
// row-major and contiguous. Blocked i-k-j loops with a contiguous inner loop over C and B.
// Compiled with the dynamic vectorizer cost model even at -O2 (the inner j loop has an
// unknown trip count, which -O2's very-cheap model refuses to vectorize).
#if defined(__GNUC__) && !defined(__clang__)
#define DNNF_MM_VECTORIZE __attribute__((optimize("tree-vectorize", "vect-cost-model=dynamic")))
#else
#define DNNF_MM_VECTORIZE
#endif
template <class T>
DNNF_MM_VECTORIZE void gemm_rowmajor(
    int64_t M, int64_t N, int64_t K, const T* __restrict A, const T* __restrict B, T* __restrict C,
    bool accumulate) {
  if (!accumulate)
    for (int64_t i = 0; i < M * N; ++i) C[i] = T(0);
  // Blocked i-k-j: a [kRows x kCols] panel of B stays in L2 while every row of A
  // passes over it; four rows of C are updated per loaded row of B.
  constexpr int64_t kCols = 512, kRows = 128;
  for (int64_t j0 = 0; j0 < N; j0 += kCols) {
    const int64_t nj = N - j0 < kCols ? N - j0 : kCols;
    for (int64_t k0 = 0; k0 < K; k0 += kRows) {
      const int64_t k1 = K - k0 < kRows ? K : k0 + kRows;
      int64_t i = 0;
      for (; i + 4 <= M; i += 4) {
        const T* a = A + i * K;
        T* __restrict c0 = C + i * N + j0;
        T* __restrict c1 = c0 + N;
        T* __restrict c2 = c1 + N;
        T* __restrict c3 = c2 + N;
        for (int64_t k = k0; k < k1; ++k) {
          const T a0 = a[k], a1 = a[K + k], a2 = a[2 * K + k], a3 = a[3 * K + k];
          const T* __restrict brow = B + k * N + j0;
          for (int64_t j = 0; j < nj; ++j) {
            const T b = brow[j];
            c0[j] += a0 * b;
            c1[j] += a1 * b;
            c2[j] += a2 * b;
            c3[j] += a3 * b;
          }
        }
      }
      for (; i < M; ++i) {
        T* __restrict crow = C + i * N + j0;
        const T* arow = A + i * K;
        for (int64_t k = k0; k < k1; ++k) {
          const T a = arow[k];
          const T* __restrict brow = B + k * N + j0;
          for (int64_t j = 0; j < nj; ++j) crow[j] += a * brow[j];
        }
      }
    }
  }
}

// Row-major transpose of a [rows, cols] matrix into dst [cols, rows].
template <class T>
void transpose2d(int64_t rows, int64_t cols, const T* src, T* dst) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) dst[c * rows + r] = src[r * cols + c];
}

// The compute dtype of a floating tensor: F16/BF16 go through F32; others unchanged.
inline DType compute_dtype(DType t) { return (t == DType::F16 || t == DType::BF16) ? DType::F32 : t; }
// The tensor in its compute dtype (a cheap handle copy when already there).
inline Tensor to_compute(const Tensor& t) {
  DType c = compute_dtype(t.dtype());
  return c == t.dtype() ? t : t.cast(c);
}

// All elements as double (any numeric dtype, F16/BF16 included).
std::vector<double> to_f64(const Tensor& t);

// Batched numpy-style matmul on typed contiguous buffers. a_shape/b_shape are the
// operand shapes (rank >= 1); the result shape follows numpy (1-D promotion, batch
// broadcasting). Throws dnnf::Error (naming `node`) on a shape mismatch.
Shape matmul_output_shape(const Shape& a, const Shape& b, const Node& node);
template <class T>
void matmul_batched(const T* A, const Shape& a_shape, const T* B, const Shape& b_shape, T* C,
                    const Node& node);

// Element count of a static type, or -1.
int64_t static_numel(const TensorType& t);
// Bytes of all static inputs plus outputs (0 for non-static ones).
double io_bytes(const std::vector<TensorType>& in, const std::vector<TensorType>& out);

}  // namespace dnnf::ops::mm
