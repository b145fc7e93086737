// Every input a fuzzer found a bug with (tests/data/fuzz_regressions/TARGET/*) replayed
// through what that fuzz target does with an input (tests/fuzz/fuzz_inputs.h), in the
// normal and the sanitizer builds: it must be refused with a dnnf::Error or accepted
// with the target's invariants holding, never crash. graph_passes findings are stored
// as the generated model in ONNX (DNNF_FUZZ_DUMP), so no fuzzing runtime is needed here.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/onnx_io/onnx_import.h"
#include "core/util/limits.h"
#include "tests/fuzz/fuzz_inputs.h"

namespace fs = std::filesystem;
using namespace dnnf;

namespace {

const fs::path kRegressions = fs::path(DNNF_TEST_DATA_DIR) / "data" / "fuzz_regressions";

std::vector<fs::path> inputs_of(const std::string& target) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kRegressions / target, ec))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The fuzzers' limits (tests/fuzz/fuzz_common.h), restored after each test.
class FuzzRegressions : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = limits();
    Limits l;
    l.tensor_elements = 1 << 16;
    l.plan_memory = int64_t(64) << 20;
    l.subgraph_depth = 16;
    l.model_file = l.tensor_file = l.journal_file = l.external_data = int64_t(1) << 20;
    set_limits(l);
    scratch_ = fs::temp_directory_path() / ("dnnf_fuzzreg_" + std::to_string(::getpid()));
    fs::create_directories(scratch_);
    std::ofstream(scratch_ / "weights.bin", std::ios::binary) << std::string(256, '\x3f');
  }
  void TearDown() override {
    set_limits(saved_);
    std::error_code ec;
    fs::remove_all(scratch_, ec);
  }
  // Copies a regression input into the scratch dir (readers that take a path).
  std::string staged(const fs::path& input, const std::string& name) {
    const fs::path p = scratch_ / name;
    fs::copy_file(input, p, fs::copy_options::overwrite_existing);
    return p.string();
  }
  fs::path scratch_;

 private:
  Limits saved_;
};

#define FOR_EACH_INPUT(target, body)                                            \
  do {                                                                          \
    const auto files = inputs_of(target);                                       \
    if (files.empty()) GTEST_SKIP() << "no " target " regression inputs";        \
    for (const fs::path& input : files) {                                       \
      SCOPED_TRACE(input.filename().string());                                  \
      body;                                                                     \
    }                                                                           \
  } while (0)

}  // namespace

TEST_F(FuzzRegressions, OnnxImport) {
  FOR_EACH_INPUT("onnx_import", fuzz::import_model_bytes(read_bytes(input), scratch_.string()));
}

TEST_F(FuzzRegressions, ShapeInference) {
  FOR_EACH_INPUT("shape_inference", fuzz::infer_imported(read_bytes(input)));
}

TEST_F(FuzzRegressions, GraphPasses) {
  Limits l = limits();
  l.tensor_elements = 1 << 12;  // as fuzz_graph_passes
  set_limits(l);
  FOR_EACH_INPUT("graph_passes", {
    Model m = onnx_io::load_model(input.string());
    fuzz::optimize_graph(m);
  });
}

TEST_F(FuzzRegressions, Journal) {
  const Graph target = fuzz::journal_target_graph();
  FOR_EACH_INPUT("journal", fuzz::load_journal_file(staged(input, "journal.json"), target));
}

TEST_F(FuzzRegressions, FusionDatabase) {
  FOR_EACH_INPUT("fusion_db", fuzz::open_fusion_db(staged(input, "fusion.db")));
}

TEST_F(FuzzRegressions, Npy) {
  FOR_EACH_INPUT("npy", fuzz::read_npy_file(staged(input, "t.npy"), (scratch_ / "again.npy").string()));
}

TEST_F(FuzzRegressions, TensorPb) {
  FOR_EACH_INPUT("tensor_pb", fuzz::read_pb_file(staged(input, "t.pb"), (scratch_ / "again.pb").string()));
}
