// Bad input never crashes the CLI: each case gives one line on stderr naming the
// problem and exit code 1 (2 for usage errors).
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "core/onnx_io/onnx_export.h"
#include "core/onnx_io/tensor_io.h"
#include "tests/support/test_util.h"

using namespace dnnf;
using dnnf::test::make_node;
using dnnf::test::run_cli;
using dnnf::test::TempDir;

namespace {

Model tiny_model(Shape input_shape = {1, 3}) {
  Model m;
  m.ir_version = 8;
  m.graph.name = "tiny";
  m.graph.opsets[""] = 17;
  m.graph.inputs.push_back({"x", TensorType(DType::F32, input_shape)});
  m.graph.add_node(make_node("Relu", {"x"}, {"y"}));
  m.graph.outputs.push_back({"y", TensorType(DType::F32, input_shape)});
  return m;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
}

size_t line_count(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

void expect_clean_error(const dnnf::test::CliResult& r, int code, const std::string& needle) {
  EXPECT_EQ(r.signal, 0) << "crashed: " << r.err;
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(line_count(r.err), code == 2 ? 2u : 1u) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr: " << r.err;
}

}  // namespace

TEST(CliBadInput, ValidModelRuns) {
  TempDir d;
  onnx_io::save_model(tiny_model(), d.file("ok.onnx"));
  auto r = run_cli({"run", d.file("ok.onnx"), "--check"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(CliBadInput, MissingFile) {
  TempDir d;
  expect_clean_error(run_cli({"run", d.file("nope.onnx")}), 1, "nope.onnx");
}

TEST(CliBadInput, TruncatedFile) {
  TempDir d;
  const std::string bytes = onnx_io::serialize_model(tiny_model());
  write_file(d.file("t.onnx"), bytes.substr(0, bytes.size() / 2));
  expect_clean_error(run_cli({"inspect", d.file("t.onnx")}), 1, "t.onnx");
}

TEST(CliBadInput, RandomBytes) {
  TempDir d;
  std::mt19937 rng(7);
  std::string bytes(4096, '\0');
  for (char& c : bytes) c = char(rng());
  write_file(d.file("r.onnx"), bytes);
  expect_clean_error(run_cli({"run", d.file("r.onnx")}), 1, "r.onnx");
}

TEST(CliBadInput, Cycle) {
  TempDir d;
  Model m = tiny_model();
  m.graph.nodes.clear();
  m.graph.add_node(make_node("Add", {"x", "b"}, {"a"}));
  m.graph.add_node(make_node("Relu", {"a"}, {"b"}));
  m.graph.outputs[0].name = "b";
  onnx_io::save_model(m, d.file("c.onnx"));
  expect_clean_error(run_cli({"run", d.file("c.onnx")}), 1, "cycle");
}

TEST(CliBadInput, UnknownOperator) {
  TempDir d;
  Model m = tiny_model();
  m.graph.nodes[0].op_type = "FrobnicateTensor";
  onnx_io::save_model(m, d.file("u.onnx"));
  expect_clean_error(run_cli({"run", d.file("u.onnx")}), 1, "FrobnicateTensor");
}

TEST(CliBadInput, MissingInitializer) {
  TempDir d;
  Model m = tiny_model();
  m.graph.nodes.clear();
  m.graph.add_node(make_node("Add", {"x", "weights_not_there"}, {"y"}));
  onnx_io::save_model(m, d.file("m.onnx"));
  expect_clean_error(run_cli({"run", d.file("m.onnx")}), 1, "weights_not_there");
}

TEST(CliBadInput, MismatchedInputShape) {
  TempDir d;
  onnx_io::save_model(tiny_model({1, 3}), d.file("s.onnx"));
  onnx_io::write_npy(Tensor(DType::F32, {2, 2}), d.file("x.npy"));
  expect_clean_error(run_cli({"run", d.file("s.onnx"), "--input", "x=" + d.file("x.npy")}), 1, "shape");
}

TEST(CliBadInput, AbsurdTensorSize) {
  TempDir d;
  onnx_io::save_model(tiny_model({int64_t(1) << 20, int64_t(1) << 20}), d.file("big.onnx"));
  expect_clean_error(run_cli({"run", d.file("big.onnx")}), 1, "limit");
}

TEST(CliBadInput, AbsurdConstantOfShape) {
  TempDir d;
  Model m;
  m.graph.opsets[""] = 17;
  m.graph.initializers["shape"] = Tensor::vector_i64({int64_t(1) << 20, int64_t(1) << 20});
  m.graph.add_node(make_node("ConstantOfShape", {"shape"}, {"y"}));
  m.graph.outputs.push_back({"y", TensorType::unknown_shape(DType::F32)});
  onnx_io::save_model(m, d.file("cos.onnx"));
  expect_clean_error(run_cli({"inspect", d.file("cos.onnx")}), 1, "limit");
}

TEST(CliBadInput, UsageErrorsExitTwo) {
  auto r = run_cli({"run"});
  EXPECT_EQ(r.exit_code, 2);
  r = run_cli({"inspect", "a.onnx", "--no-such-option"});
  EXPECT_EQ(r.exit_code, 2);
  r = run_cli({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
}
