// Fuzz target: the journal reader and its consumers (replay, plan_from_journal) on a
// small fixed graph; see load_journal_file in fuzz_inputs.h.
// DNNF_FUZZ_WRITE_SEED=FILE: writes the journal of `dnnf optimize` on that graph to FILE
// and exits (tools/fuzz.sh seeds the corpus with it, so steps match real node ids).
#include <cstdlib>

#include "core/pipeline/pipeline.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const dnnf::Graph target = [] {
    dnnf::fuzz::set_fuzz_limits();
    dnnf::Graph g = dnnf::fuzz::journal_target_graph();
    if (const char* seed = std::getenv("DNNF_FUZZ_WRITE_SEED")) {
      dnnf::Model m;
      m.graph = g;
      dnnf::PipelineOptions options;
      options.use_db = false;
      options.measure = false;
      dnnf::run_pipeline(m, options).journal.save(seed);
      std::exit(0);
    }
    return g;
  }();
  const std::string path = dnnf::fuzz::write_scratch("journal.json", data, size);
  return dnnf::fuzz::load_journal_file(path, target) ? 0 : -1;
}
