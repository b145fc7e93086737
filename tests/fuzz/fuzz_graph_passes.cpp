// Fuzz target: the rewrite driver and the fusion planner (the `dnnf optimize` pipeline,
// analytic estimates, no database) on generated valid-but-odd graphs (graph_generator.h);
// see optimize_graph in fuzz_inputs.h for the invariants checked.
// With DNNF_FUZZ_DUMP=FILE.onnx the generated model is saved first, so that a finding
// becomes an ONNX regression input (tests/data/fuzz_regressions/graph_passes/).
#include "core/onnx_io/onnx_export.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_inputs.h"
#include "tests/fuzz/graph_generator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = [] {
    dnnf::fuzz::set_fuzz_limits();
    dnnf::Limits l = dnnf::limits();
    l.tensor_elements = 1 << 12;  // constant folding runs kernels: keep each one cheap
    dnnf::set_limits(l);
    return true;
  }();
  (void)init;
  FuzzedDataProvider in(data, size);
  dnnf::Model m = dnnf::fuzz::generate_model(in);
  if (const char* dump = std::getenv("DNNF_FUZZ_DUMP")) dnnf::onnx_io::save_model(m, dump);
  dnnf::fuzz::optimize_graph(m);
  return 0;
}
