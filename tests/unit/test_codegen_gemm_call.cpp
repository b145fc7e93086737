// The generated text of a host GEMM call (codegen/gemm_call.h): set fields only, in the
// descriptor's groups, statements after the fields, the call through the chosen api.
#include <gtest/gtest.h>

#include "core/codegen/gemm_call.h"

namespace dnnf::codegen {
namespace {

TEST(GemmCall, WritesTheSetFieldsOnlyThenTheCall) {
  GemmCall call;
  call.M = "gn", call.N = "64LL", call.K = "32LL";
  call.A = "w + g0", call.lda = "32LL", call.packed_b = "xb_";
  call.C = "buf", call.ldc = "64LL";
  EXPECT_EQ(call.text("  "),
            "  {\n"
            "    dnnf_gemm_desc d = {};\n"
            "    d.batch = 1; d.M = gn; d.N = 64LL; d.K = 32LL;\n"
            "    d.A = w + g0; d.lda = 32LL;\n"
            "    d.packed_b = xb_;\n"
            "    d.C = buf; d.ldc = 64LL; d.alpha = 1.0f;\n"
            "    a->api->gemm(&d, a->api);\n"
            "  }\n");
}

TEST(GemmCall, RunsItsStatementsBeforeTheCallThroughTheGivenApi) {
  GemmCall call;
  call.batch = "", call.alpha = "";  // both left at the descriptor's zero
  call.a_k_block = "64LL", call.accumulate = "gi > 0";
  call.epilogue = "k_e", call.epilogue_ctx = "&cb";
  call.then = "  cb.j0 = h;\n";
  call.api = "api";
  EXPECT_EQ(call.text(""),
            "{\n"
            "  dnnf_gemm_desc d = {};\n"
            "  d.a_k_block = 64LL;\n"
            "  d.accumulate = gi > 0;\n"
            "  d.epilogue = k_e; d.epilogue_ctx = &cb;\n"
            "  cb.j0 = h;\n"
            "  api->gemm(&d, api);\n"
            "}\n");
}

}  // namespace
}  // namespace dnnf::codegen
