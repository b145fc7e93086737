#include "core/codegen/gemm_call.h"

#include <initializer_list>
#include <utility>

namespace dnnf::codegen {

std::string GemmCall::text(const std::string& indent) const {
  const std::string in = indent + "  ";
  std::string s = indent + "{\n" + in + "dnnf_gemm_desc d = {};\n";
  // One line per group of related fields, the set ones only.
  const auto line = [&](std::initializer_list<std::pair<const char*, const std::string*>> fields) {
    std::string l;
    for (const auto& [name, value] : fields)
      if (!value->empty()) l += std::string(l.empty() ? "" : " ") + "d." + name + " = " + *value + ";";
    if (!l.empty()) s += in + l + "\n";
  };
  line({{"batch", &batch}, {"M", &M}, {"N", &N}, {"K", &K}});
  line({{"A", &A}, {"lda", &lda}, {"a_batch_stride", &a_batch_stride}, {"a_offsets", &a_offsets},
        {"trans_a", &trans_a}, {"packed_a", &packed_a}});
  line({{"a_k_block", &a_k_block}, {"a_k_block_stride", &a_k_block_stride}});
  line({{"B", &B}, {"ldb", &ldb}, {"b_batch_stride", &b_batch_stride}, {"b_offsets", &b_offsets},
        {"trans_b", &trans_b}, {"packed_b", &packed_b}});
  line({{"C", &C}, {"ldc", &ldc}, {"c_batch_stride", &c_batch_stride}, {"alpha", &alpha}, {"accumulate", &accumulate}});
  line({{"epilogue", &epilogue}, {"epilogue_ctx", &epilogue_ctx}});
  s += then;
  return s + in + api + "->gemm(&d, " + api + ");\n" + indent + "}\n";
}

}  // namespace dnnf::codegen
