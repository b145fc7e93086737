// Host GEMM entry points of the dnnf_api table (semantics in kernels/abi/dnnf_abi.h).
#pragma once

#include "kernels/abi/dnnf_abi.h"

extern "C" {

// C[b] = alpha * op(A[b]) * op(B[b]); the epilogue sees each finished tile once.
void dnnf_gemm_f32(const dnnf_gemm_desc* d, const dnnf_api* api);

// Packs B (K x N) for repeated GEMMs; free with dnnf_release_packed.
void* dnnf_gemm_pack_b(const float* B, int64_t K, int64_t N, int64_t ldb, int32_t trans_b);

// Packs A (M x K) for several GEMMs with the same left operand; free with
// dnnf_release_packed.
void* dnnf_gemm_pack_a(const float* A, int64_t M, int64_t K, int64_t lda, int32_t trans_a);

// Frees anything returned by dnnf_gemm_pack_a/_b or dnnf_conv2d_pack (null is fine).
void dnnf_release_packed(void* packed);
}
