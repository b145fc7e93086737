// Panel layouts shared by the GEMM driver, gemm_pack_b and the convolution.
//
// A panel of width w holds `depth` steps of w values: element (k, j) of the panel at
// [k * w + j]. Rows of A are packed into panels of mr rows, columns of B into panels of
// nr columns; the last panel is zero padded. A matrix packed over its whole depth K has
// panel p at offset p * K * w, so a k-block [k0, k0 + kc) of it starts at p * K * w + k0 * w.
#pragma once

#include <cstdint>

namespace dnnf_kernels {

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Floats needed for `count` rows (or columns) in panels of width w over depth K.
inline int64_t panel_floats(int64_t count, int64_t K, int w) { return ceil_div(count, w) * w * K; }

// Rows [m0, m0 + mc) x depth [k0, k0 + kc) of A into ceil(mc / mr) panels of kc * mr.
// Element (m, k) is A[m * lda + k], or A[k * lda + m] when trans.
void pack_a_block(const float* A, int64_t lda, bool trans, int64_t m0, int64_t mc, int64_t k0,
                  int64_t kc, int mr, float* dst);

// Columns [n0, n0 + nc) x depth [k0, k0 + kc) of B into ceil(nc / nr) panels of kc * nr.
// Element (k, n) is B[k * ldb + n], or B[n * ldb + k] when trans.
void pack_b_block(const float* B, int64_t ldb, bool trans, int64_t k0, int64_t kc, int64_t n0,
                  int64_t nc, int nr, float* dst);

}  // namespace dnnf_kernels
