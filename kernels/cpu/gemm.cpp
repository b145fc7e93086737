#include "kernels/cpu/gemm.h"

#include <stdexcept>

#include "kernels/cpu/gemm_driver.h"
#include "kernels/cpu/gemm_microkernel.h"
#include "kernels/cpu/gemm_packing.h"
#include "kernels/cpu/packed_buffer.h"

using namespace dnnf_kernels;

namespace {
// dims of a packed B block, and of a packed A block (rows and panel height in the same
// places as B's columns and panel width)
enum { kDimK, kDimN, kDimNr };
enum { kDimM = kDimN, kDimMr = kDimNr };
}  // namespace

extern "C" void dnnf_gemm_f32(const dnnf_gemm_desc* d, const dnnf_api* api) {
  GemmProblem p;
  p.batch = d->batch;
  p.M = d->M;
  p.N = d->N;
  p.K = d->K;
  p.a = {d->A, d->lda, d->a_batch_stride, d->a_offsets, d->trans_a != 0};
  p.b = {d->B, d->ldb, d->b_batch_stride, d->b_offsets, d->trans_b != 0};
  if (d->packed_b) {
    const PackedHeader* h = packed_header(d->packed_b, PackedKind::gemm_b);
    if (h->dims[kDimK] != d->K || h->dims[kDimN] != d->N || h->dims[kDimNr] != micro_kernel().nr)
      throw std::invalid_argument("gemm: packed B was packed for another K or N");
    p.packed_b = h->data();
  }
  if (d->packed_a) {
    const PackedHeader* h = packed_header(d->packed_a, PackedKind::gemm_a);
    if (h->dims[kDimK] != d->K || h->dims[kDimM] != d->M || h->dims[kDimMr] != micro_kernel().mr)
      throw std::invalid_argument("gemm: packed A was packed for another M or K");
    p.packed_a = h->data();
  }
  p.c = d->C;
  p.ldc = d->ldc;
  p.c_batch_stride = d->c_batch_stride;
  p.c_offsets = d->c_offsets;
  p.alpha = d->alpha;
  p.accumulate = d->accumulate != 0;
  if (d->a_k_block > 0) {
    if (d->trans_a || d->packed_a || d->K % d->a_k_block != 0)
      throw std::invalid_argument("gemm: column blocks of A need trans_a 0, no packed A and K a multiple of them");
    p.a_k_block = d->a_k_block;
    p.a_k_block_stride = d->a_k_block_stride;
  }
  p.epilogue = d->epilogue;
  p.epilogue_ctx = d->epilogue_ctx;
  run_gemm(p, api);
}

namespace {
// A packed operand of `count` rows (A) or columns (B) in panels of `unit`, whole K.
PackedHeader* packed_operand(PackedKind kind, int64_t count, int64_t K, int unit) {
  PackedHeader* h = allocate_packed(kind, panel_floats(count, K, unit));
  h->dims[kDimK] = K;
  h->dims[kDimN] = count;
  h->dims[kDimNr] = unit;
  return h;
}
}  // namespace

extern "C" void* dnnf_gemm_pack_b(const float* B, int64_t K, int64_t N, int64_t ldb,
                                  int32_t trans_b) {
  const int nr = micro_kernel().nr;
  PackedHeader* h = packed_operand(PackedKind::gemm_b, N, K, nr);
  if (K > 0 && N > 0) pack_b_block(B, ldb, trans_b != 0, 0, K, 0, N, nr, h->data());
  return h;
}

extern "C" void* dnnf_gemm_pack_a(const float* A, int64_t M, int64_t K, int64_t lda, int32_t trans_a) {
  const int mr = micro_kernel().mr;
  PackedHeader* h = packed_operand(PackedKind::gemm_a, M, K, mr);
  if (K > 0 && M > 0) pack_a_block(A, lda, trans_a != 0, 0, M, 0, K, mr, h->data());
  return h;
}

extern "C" void dnnf_release_packed(void* packed) { free_packed(packed); }
