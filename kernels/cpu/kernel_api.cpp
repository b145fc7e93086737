#include "kernels/cpu/kernel_api.h"

#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/conv2d_chain.h"
#include "kernels/cpu/gemm.h"

extern "C" dnnf_api dnnf_make_api(void* pool, dnnf_parallel_for_fn parallel_for,
                                  int32_t threads) {
  dnnf_api api{};
  api.abi_version = DNNF_ABI_VERSION;
  api.num_threads = threads;
  api.pool = pool;
  api.parallel_for = parallel_for;
  api.gemm = dnnf_gemm_f32;
  api.gemm_pack_b = dnnf_gemm_pack_b;
  api.conv2d = dnnf_conv2d_f32;
  api.conv2d_pack = dnnf_conv2d_pack;
  api.release = dnnf_release_packed;
  api.gemm_pack_a = dnnf_gemm_pack_a;
  api.conv2d_chain = dnnf_conv2d_chain_f32;
  return api;
}
