// Fuzz target: shape inference (with partial evaluation of shape subgraphs) on imported
// graphs, symbolic dims kept and then bound to 1. Inputs that do not import are kept out
// of the corpus, so it holds models.
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = (dnnf::fuzz::set_fuzz_limits(), true);
  (void)init;
  return dnnf::fuzz::infer_imported(std::string(reinterpret_cast<const char*>(data), size)) ? 0 : -1;
}
