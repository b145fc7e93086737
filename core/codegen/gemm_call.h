// The generated text of one call to the host GEMM (dnnf_api::gemm): a dnnf_gemm_desc
// filled in field by field and passed on. Every stage that multiplies matrices writes
// its calls through this one struct, so the descriptor's fields have one place to be
// spelled out.
#pragma once

#include <string>

namespace dnnf::codegen {

// Each field is a C++ expression; an empty one keeps the descriptor's zero.
struct GemmCall {
  std::string batch = "1", M, N, K;
  std::string A, lda, a_batch_stride, a_offsets, trans_a, packed_a, a_k_block, a_k_block_stride;
  std::string B, ldb, b_batch_stride, b_offsets, trans_b, packed_b;
  std::string C, ldc, c_batch_stride, alpha = "1.0f", accumulate;
  std::string epilogue, epilogue_ctx;
  std::string then;              // statements after the fields (indented by the caller), before the call
  std::string api = "a->api";    // the dnnf_api* to call through

  // "{ dnnf_gemm_desc d = {}; d.<field> = ...; api->gemm(&d, api); }", the braces at
  // `indent` and the statements two spaces further in.
  std::string text(const std::string& indent) const;
};

}  // namespace dnnf::codegen
