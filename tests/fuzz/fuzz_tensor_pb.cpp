// Fuzz target: the ONNX TensorProto (.pb) reader (every dtype, raw and typed fields,
// external data next to the file: weights.bin), with a write + read round trip.
#include <fstream>

#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = [] {
    dnnf::fuzz::set_fuzz_limits();
    std::ofstream((dnnf::fuzz::scratch_dir() / "weights.bin").string(), std::ios::binary) << std::string(256, '\x3f');
    return true;
  }();
  (void)init;
  const std::string path = dnnf::fuzz::write_scratch("tensor.pb", data, size);
  return dnnf::fuzz::read_pb_file(path, (dnnf::fuzz::scratch_dir() / "again.pb").string()) ? 0 : -1;
}
