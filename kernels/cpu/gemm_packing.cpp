#include "kernels/cpu/gemm_packing.h"

#include <algorithm>
#include <cstring>

namespace dnnf_kernels {

void pack_a_block(const float* A, int64_t lda, bool trans, int64_t m0, int64_t mc, int64_t k0,
                  int64_t kc, int mr, float* dst) {
  for (int64_t p0 = 0; p0 < mc; p0 += mr, dst += kc * mr) {
    const int rows = int(std::min<int64_t>(mr, mc - p0));
    if (trans) {  // a row of k: the panel's mr values are contiguous
      for (int64_t k = 0; k < kc; ++k) {
        const float* src = A + (k0 + k) * lda + m0 + p0;
        float* out = dst + k * mr;
        std::memcpy(out, src, rows * sizeof(float));
        std::fill(out + rows, out + mr, 0.0f);
      }
    } else {
      for (int i = 0; i < rows; ++i) {
        const float* src = A + (m0 + p0 + i) * lda + k0;
        for (int64_t k = 0; k < kc; ++k) dst[k * mr + i] = src[k];
      }
      for (int i = rows; i < mr; ++i)
        for (int64_t k = 0; k < kc; ++k) dst[k * mr + i] = 0.0f;
    }
  }
}

void pack_b_block(const float* B, int64_t ldb, bool trans, int64_t k0, int64_t kc, int64_t n0,
                  int64_t nc, int nr, float* dst) {
  for (int64_t p0 = 0; p0 < nc; p0 += nr, dst += kc * nr) {
    const int cols = int(std::min<int64_t>(nr, nc - p0));
    if (!trans) {
      for (int64_t k = 0; k < kc; ++k) {
        const float* src = B + (k0 + k) * ldb + n0 + p0;
        float* out = dst + k * nr;
        std::memcpy(out, src, cols * sizeof(float));
        std::fill(out + cols, out + nr, 0.0f);
      }
    } else {
      for (int j = 0; j < cols; ++j) {
        const float* src = B + (n0 + p0 + j) * ldb + k0;
        for (int64_t k = 0; k < kc; ++k) dst[k * nr + j] = src[k];
      }
      for (int j = cols; j < nr; ++j)
        for (int64_t k = 0; k < kc; ++k) dst[k * nr + j] = 0.0f;
    }
  }
}

}  // namespace dnnf_kernels
