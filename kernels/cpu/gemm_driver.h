// The cache-blocked, multi-threaded GEMM loop behind dnnf_gemm_f32 and the convolution.
//
// Work is cut into tasks of (batch, mc-row block, nc-column block); each task loops over
// k-blocks, packs what is not pre-packed, runs the micro-kernel over its tile and then
// hands the finished tile to the epilogue once, while it is still in cache. A small
// result with a long K is instead split over K on several threads (split_k_pays in the
// .cpp): each thread sums its share of K into its own copy of the result, and a second
// pass adds the copies up and hands each strip of rows to the epilogue.
#pragma once

#include <cstdint>

#include "kernels/abi/dnnf_abi.h"

namespace dnnf_kernels {

// One matrix per batch: base + offsets[b], or base + b * batch_stride.
struct StridedMatrix {
  const float* base = nullptr;
  int64_t ld = 0;
  int64_t batch_stride = 0;
  const int64_t* offsets = nullptr;
  bool trans = false;
  const float* at(int64_t b) const { return base + (offsets ? offsets[b] : b * batch_stride); }
};

// Produces B for the k-block [k0, k0 + kc) and columns [n0, n0 + nc) of batch `batch` in
// the layout of pack_b_block (the convolution's im2col writes straight into panels).
using PackBFn = void (*)(const void* ctx, int64_t batch, int64_t k0, int64_t kc, int64_t n0,
                         int64_t nc, int nr, float* dst);

struct GemmProblem {
  int64_t batch = 1, M = 0, N = 0, K = 0;
  StridedMatrix a;
  const float* packed_a = nullptr;  // whole-K panels of mr rows, shared by all batches
  StridedMatrix b;
  const float* packed_b = nullptr;  // whole-K panels of nr columns, shared by all batches
  PackBFn pack_b = nullptr;         // when set (and packed_b is not), produces B
  const void* pack_b_ctx = nullptr;
  float* c = nullptr;
  int64_t ldc = 0, c_batch_stride = 0;
  const int64_t* c_offsets = nullptr;
  float alpha = 1.0f;
  bool accumulate = false;  // C += alpha * A * B instead of C =
  // A's columns in blocks of a_k_block, a_k_block_stride floats apart (0: one block);
  // see dnnf_gemm_desc. k-blocks then never straddle two of them.
  int64_t a_k_block = 0, a_k_block_stride = 0;
  dnnf_epilogue_fn epilogue = nullptr;
  void* epilogue_ctx = nullptr;
};

// C = alpha * op(A) * op(B) (or C += with accumulate) for every batch, then the epilogue
// once per finished tile.
// Runs on api->parallel_for when api is non-null and the product is big enough.
void run_gemm(const GemmProblem& p, const dnnf_api* api);

}  // namespace dnnf_kernels
