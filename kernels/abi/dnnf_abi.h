/* The C ABI between generated block kernels and the host runtime.
 *
 * Generated code (core/codegen) includes this header and kernels/simd/simd.h only, so a
 * kernel compiles in a fraction of a second and never links against dnnf: everything
 * it needs from the host (thread pool, GEMM, convolution) arrives through dnnf_api.
 * Plain C so that the same header serves the host build, the kernel cache and the
 * aarch64 export bundle. Bump DNNF_ABI_VERSION on any layout change: the kernel cache
 * key includes it. */
#ifndef DNNF_ABI_H
#define DNNF_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DNNF_ABI_VERSION 3

/* One parallel task range [begin, end) of a loop the kernel split into n tasks. */
typedef void (*dnnf_task_fn)(void* ctx, int64_t begin, int64_t end);

/* Runs fn over [0, n) on the host's thread pool; returns when all tasks are done.
 * The pool may call fn with any sub-range; fn must be safe to run concurrently. */
typedef void (*dnnf_parallel_for_fn)(void* pool, int64_t n, dnnf_task_fn fn, void* ctx);

/* Called by GEMM/convolution once a tile of the result is final, while it is still in
 * cache: the fused epilogue of a Many-to-Many operator. `tile` points at element
 * (row0, col0) of matrix `batch` of the result, rows are `ldt` floats apart. For a
 * convolution, batch = image n, rows = output channels, cols = output positions
 * (oh * OW + ow) and ldt = OH * OW. */
typedef void (*dnnf_epilogue_fn)(void* ctx, float* tile, int64_t ldt, int64_t batch, int64_t row0,
                                 int64_t col0, int64_t rows, int64_t cols);

/* C[b] = alpha * op(A[b]) * op(B[b]) for b in [0, batch), op = optional transpose.
 * Element (m, k) of A[b] is A[a_off(b) + m * lda + k], or A[a_off(b) + k * lda + m] when
 * trans_a; likewise B (k, n). a_off(b) is a_offsets[b] when a_offsets is non-null,
 * else b * a_batch_stride (0 broadcasts one matrix to every batch). Same for B and C.
 * packed_b, when non-null, replaces B (from gemm_pack_b with the same K, N, ldb,
 * trans_b; all batches then share it); packed_a likewise replaces A (from gemm_pack_a
 * with the same M, K, lda, trans_a). With a_k_block > 0 (trans_a 0, K a multiple of it),
 * A's columns come in blocks of a_k_block, each a_k_block_stride floats after the one
 * before: element (m, k) is at A[(k / a_k_block) * a_k_block_stride + m * lda +
 * k % a_k_block] (an Attention's [H, S, D] result read as [S, H * D]). C is written, or
 * added to when accumulate is
 * non-zero (C += alpha * op(A) * op(B): a product summed over blocks of K, the epilogue
 * passed with the last). */
typedef struct dnnf_gemm_desc {
  int64_t batch, M, N, K;
  const float* A;
  int64_t lda, a_batch_stride;
  const int64_t* a_offsets;
  int32_t trans_a;
  const float* B;
  int64_t ldb, b_batch_stride;
  const int64_t* b_offsets;
  int32_t trans_b;
  const void* packed_b;
  float* C;
  int64_t ldc, c_batch_stride;
  const int64_t* c_offsets;
  float alpha;
  dnnf_epilogue_fn epilogue; /* may be null */
  void* epilogue_ctx;
  int32_t accumulate;
  const void* packed_a;
  int64_t a_k_block, a_k_block_stride;
} dnnf_gemm_desc;

/* 2-D convolution, NCHW input (contiguous), OIHW weights with C / group input channels
 * per output channel, optional bias[OC]; output NCHW contiguous with OH, OW given. */
typedef struct dnnf_conv2d_desc {
  int64_t N, C, H, W;
  int64_t OC, KH, KW;
  int64_t OH, OW;
  int64_t stride_h, stride_w, pad_top, pad_left, dil_h, dil_w, group;
  const float* input;
  const float* weight;        /* OIHW; ignored when packed_weight is non-null */
  const void* packed_weight;  /* from conv2d_pack for the same geometry, or null */
  const float* bias;          /* may be null */
  float* output;
  dnnf_epilogue_fn epilogue;  /* may be null; rows = channels, cols = positions */
  void* epilogue_ctx;
} dnnf_conv2d_desc;

/* Everything a kernel may call on the host. */
typedef struct dnnf_api {
  int32_t abi_version;
  int32_t num_threads;
  void* pool;
  dnnf_parallel_for_fn parallel_for;
  void (*gemm)(const dnnf_gemm_desc* d, const struct dnnf_api* api);
  /* Packs B (K x N, element (k, n) at B[k * ldb + n] or B[n * ldb + k] when trans_b)
   * once, for repeated GEMMs with constant weights. Free with release. */
  void* (*gemm_pack_b)(const float* B, int64_t K, int64_t N, int64_t ldb, int32_t trans_b);
  void (*conv2d)(const dnnf_conv2d_desc* d, const struct dnnf_api* api);
  void* (*conv2d_pack)(const dnnf_conv2d_desc* d); /* packs d->weight; free with release */
  void (*release)(void* packed);
  /* Packs A (M x K, element (m, k) at A[m * lda + k] or A[k * lda + m] when trans_a)
   * once, for several GEMMs with the same left operand. Free with release. */
  void* (*gemm_pack_a)(const float* A, int64_t M, int64_t K, int64_t lda, int32_t trans_a);
  /* A pointwise convolution and the depthwise one reading its output, in bands of output
   * rows: the tensor between them is never in memory whole (kernels/cpu/conv2d_chain.h).
   * pointwise->output is the first thread's band buffer, or null; depthwise->input is
   * ignored. */
  void (*conv2d_chain)(const dnnf_conv2d_desc* pointwise, const dnnf_conv2d_desc* depthwise,
                       const struct dnnf_api* api);
} dnnf_api;

/* What the runtime hands a block kernel. bufs: the block's inputs, then its outputs,
 * then its scratch buffers, in the order the code generator listed them. */
typedef struct dnnf_kernel_args {
  void* const* bufs;
  const dnnf_api* api;
  void* state; /* what the kernel's _prepare returned (packed weights), or null */
} dnnf_kernel_args;

/* A generated kernel named K exports:
 *   void  K(const dnnf_kernel_args*);             runs the block once
 *   void* K_prepare(const dnnf_kernel_args*);     packs constant inputs; may return null
 *   void  K_release(void* state, const dnnf_api*);
 * _prepare sees only constant inputs bound in bufs (others are null). */

#ifdef __cplusplus
}
#endif

#endif /* DNNF_ABI_H */
