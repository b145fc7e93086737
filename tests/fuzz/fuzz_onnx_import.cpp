// Fuzz target: the ONNX importer on raw protobuf bytes (in a directory holding one small
// external-data file, weights.bin, so that external references can resolve).
#include <fstream>

#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    dnnf::fuzz::set_fuzz_limits();
    const std::string d = dnnf::fuzz::scratch_dir().string();
    std::ofstream(d + "/weights.bin", std::ios::binary) << std::string(256, '\x3f');
    return d;
  }();
  dnnf::fuzz::import_model_bytes(std::string(reinterpret_cast<const char*>(data), size), dir);
  return 0;
}
