#include "kernels/cpu/gemm.h"

#include <stdexcept>

#include "kernels/cpu/gemm_driver.h"
#include "kernels/cpu/gemm_microkernel.h"
#include "kernels/cpu/gemm_packing.h"
#include "kernels/cpu/packed_buffer.h"

using namespace dnnf_kernels;

namespace {
// dims of a packed B block
enum { kDimK, kDimN, kDimNr };
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
  p.c = d->C;
  p.ldc = d->ldc;
  p.c_batch_stride = d->c_batch_stride;
  p.c_offsets = d->c_offsets;
  p.alpha = d->alpha;
  p.accumulate = d->accumulate != 0;
  p.epilogue = d->epilogue;
  p.epilogue_ctx = d->epilogue_ctx;
  run_gemm(p, api);
}

extern "C" void* dnnf_gemm_pack_b(const float* B, int64_t K, int64_t N, int64_t ldb,
                                  int32_t trans_b) {
  const int nr = micro_kernel().nr;
  PackedHeader* h = allocate_packed(PackedKind::gemm_b, panel_floats(N, K, nr));
  h->dims[kDimK] = K;
  h->dims[kDimN] = N;
  h->dims[kDimNr] = nr;
  if (K > 0 && N > 0) pack_b_block(B, ldb, trans_b != 0, 0, K, 0, N, nr, h->data());
  return h;
}

extern "C" void dnnf_release_packed(void* packed) { free_packed(packed); }
