// Fuzz target: the NumPy .npy reader (header dictionary, dtype, shape, data size), with a
// write + read round trip of what it accepts.
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = (dnnf::fuzz::set_fuzz_limits(), true);
  (void)init;
  const std::string path = dnnf::fuzz::write_scratch("tensor.npy", data, size);
  return dnnf::fuzz::read_npy_file(path, (dnnf::fuzz::scratch_dir() / "again.npy").string()) ? 0 : -1;
}
