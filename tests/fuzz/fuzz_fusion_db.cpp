// Fuzz target: the fusion-database reader on a fuzzed SQLite file in a scratch path
// (open, look up, count, integrity check); a corrupt file must be a dnnf::Error naming it.
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dnnf::fuzz::open_fusion_db(dnnf::fuzz::write_scratch("fusion.db", data, size));
  return 0;
}
