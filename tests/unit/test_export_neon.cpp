// The NEON bundle's host side: the program (kernels, weights, arena bindings) of a small
// fused graph, the plan table's C text, a block without a generated kernel becoming an
// interpreted step, and the export job writing a complete, reproducible bundle (sources
// only here: tests/cli/export_neon.sh builds and runs bundles under qemu) or nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/export/bundle_sha256.h"
#include "core/export/neon_bundle.h"
#include "core/export/neon_program.h"
#include "core/onnx_io/onnx_export.h"
#include "core/pipeline/pipeline.h"
#include "core/util/error.h"
#include "tests/support/model_test_util.h"
#include "tests/support/rule_test_util.h"
#include "tests/support/test_util.h"

using namespace dnnf;
using namespace dnnf::exporter;
using dnnf::test::GraphBuilder;
using dnnf::test::TempDir;
namespace fs = std::filesystem;

namespace {

Tensor filled(const Shape& shape, float start) {
  Tensor t(DType::F32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = start + 0.01f * float(i);
  return t;
}

// x[2, 8] -> MatMul W[8, 4] -> Add b[4] -> Relu: one fused block with a GEMM anchor.
Model dense_model(const std::string& input_name = "x") {
  GraphBuilder b;
  const std::string x = b.input(input_name, DType::F32, Shape{2, 8});
  const std::string w = b.constant("W", filled({8, 4}, -0.1f));
  const std::string bias = b.constant("bias", filled({4}, 0.05f));
  const std::string y = b.node("Relu", {b.node("Add", {b.node("MatMul", {x, w}), bias})});
  b.output(y);
  return b.finish();
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST(NeonProgram, BindsInputsWeightsAndArena) {
  Model m = dense_model();
  const fusion::FusionPlan plan = dnnf::test::analytic_plan(m);
  const NeonProgram p = build_neon_program(m.graph, plan);
  ASSERT_EQ(p.steps.size(), plan.blocks.size());
  ASSERT_FALSE(p.kernels.empty());
  EXPECT_TRUE(p.weights.contains("W"));
  EXPECT_EQ(p.weights.at("W").offset % kWeightAlignment, 0u);
  bool reads_input = false;
  for (const NeonStep& s : p.steps)
    for (const NeonSlot& sl : s.slots) {
      if (sl.kind == NeonSlotKind::Input) {
        reads_input = true;
        EXPECT_EQ(sl.offset, 0);
      }
      if (sl.kind == NeonSlotKind::Weights) {
        EXPECT_EQ(sl.offset, int64_t(p.weights.at(sl.value).offset));
      }
    }
  EXPECT_TRUE(reads_input);
  ASSERT_EQ(p.output_sources.size(), 1u);
  EXPECT_EQ(p.output_sources[0].kind, NeonSlotKind::Arena);
  EXPECT_GE(p.arena_bytes, size_t(2 * 4 * 4));
  ASSERT_EQ(p.outputs.size(), 1u);
  EXPECT_EQ(p.outputs[0].shape, (std::vector<int64_t>{2, 4}));

  const std::string src = neon_plan_source(p, "dense.onnx");
  EXPECT_NE(src.find("dnnf_bundle_plan"), std::string::npos);
  EXPECT_NE(src.find(p.kernels[0].symbol + "_prepare"), std::string::npos);
  EXPECT_NE(src.find("static const int64_t kOutputsShape0[] = {2, 4};"), std::string::npos) << src;
}

TEST(NeonProgram, PlanSourceEscapesNames) {
  Model m = dense_model("in\"put\\x?");
  const NeonProgram p = build_neon_program(m.graph, dnnf::test::analytic_plan(m));
  const std::string src = neon_plan_source(p, "a*/b.onnx");
  EXPECT_NE(src.find("\"in\\\"put\\\\x\\077\""), std::string::npos) << src;
  // In the header comment "*/" would end it early; in the string literal it is harmless.
  const std::string first_line = src.substr(0, src.find('\n'));
  EXPECT_EQ(first_line.find("*/"), std::string::npos) << first_line;
  EXPECT_NE(src.find("\"a*/b.onnx\""), std::string::npos);
}

TEST(NeonProgram, KernelFileKeepsIncludesFirstAndWrapsTheRest) {
  const NeonKernel k{"dnnf_k0123", "#include \"dnnf_abi.h\"\nstatic int helper() { return 1; }\n"
                                   "extern \"C\" void dnnf_k0123(const dnnf_kernel_args*) {}\n"};
  const std::string f = neon_kernel_file(k);
  EXPECT_EQ(f.rfind("#include \"dnnf_abi.h\"\n", 0), 0u) << f;
  EXPECT_LT(f.find("namespace dnnf_block_dnnf_k0123 {"), f.find("static int helper"));
  EXPECT_NE(f.find("}  // namespace dnnf_block_dnnf_k0123"), std::string::npos);
}

// ArgMax (int64 output) has no generated kernel: its block becomes an interpreted step,
// its nodes go into the interpreter plan, and the output is read from the interpreter.
TEST(NeonProgram, ABlockWithoutGeneratedKernelIsAnInterpretedStep) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{2, 5});
  const std::string y = b.node("ArgMax", {b.node("Relu", {x})}, {{"axis", Attribute::from_int(1)}});
  b.output(y);
  Model m = b.finish();
  const NeonProgram p = build_neon_program(m.graph, dnnf::test::analytic_plan(m));
  ASSERT_TRUE(p.interp.has_value());
  bool argmax_interpreted = false;
  for (const NeonStep& st : p.steps)
    if (st.host_step >= 0) {
      EXPECT_TRUE(st.slots.empty());
      for (uint32_t idx : p.interp->steps[size_t(st.host_step)])
        argmax_interpreted = argmax_interpreted || p.interp->graph.nodes[idx].op_type == "ArgMax";
    }
  EXPECT_TRUE(argmax_interpreted);
  ASSERT_EQ(p.output_sources.size(), 1u);
  EXPECT_EQ(p.output_sources[0].kind, NeonSlotKind::Host);
  ASSERT_EQ(p.host_values.size(), 1u);
  EXPECT_EQ(p.host_values[0].first, y);
  EXPECT_EQ(p.host_values[0].second, 2 * 8) << "int64[2,1] as the output port expects";
  EXPECT_EQ(p.interp->weights_bytes, p.weights.bytes().size());
  const std::string src = neon_plan_source(p, "argmax.onnx");
  EXPECT_NE(src.find("dnnf_bundle::make_host_interpreter"), std::string::npos) << src;
  EXPECT_NE(src.find("kHostValues"), std::string::npos) << src;
  // A model without interpreted steps names no interpreter.
  Model d = dense_model();
  const NeonProgram q = build_neon_program(d.graph, dnnf::test::analytic_plan(d));
  EXPECT_FALSE(q.interp.has_value());
  EXPECT_NE(neon_plan_source(q, "dense.onnx").find("nullptr, 0, 0, nullptr, nullptr"), std::string::npos);
}

TEST(NeonBundle, WritesACompleteReproducibleBundleWithoutACompiler) {
  TempDir t;
  onnx_io::save_model(dense_model(), t.file("dense.onnx"));
  BundleRequest r;
  r.model_path = t.file("dense.onnx");
  NeonExportOptions o;
  o.compile = false;
  std::vector<std::string> stages;
  r.output_dir = t.file("a");
  const NeonExportReport rep = export_neon_bundle(r, o, [&](const std::string& s, size_t, size_t) {
    if (stages.empty() || stages.back() != s) stages.push_back(s);
  });
  EXPECT_FALSE(rep.compiled);
  EXPECT_FALSE(rep.not_compiled_why.empty());
  EXPECT_EQ(stages.front(), "rewriting");
  EXPECT_NE(std::find(stages.begin(), stages.end(), "generating kernels"), stages.end());
  const fs::path a = t.path() / "a";
  for (const char* f : {"manifest.json", "weights.bin", "include/dnnf_model.h", "CMakeLists.txt",
                        "src/runtime/plan.cpp", "src/runtime/neon_runtime.cpp", "src/runner/runner.cpp",
                        "src/kernels/simd/simd.h", "src/core/runtime/thread_pool.cpp"})
    EXPECT_TRUE(fs::exists(a / f)) << f;
  EXPECT_FALSE(fs::exists(a / "lib/libmodel.so"));
  const nlohmann::json m = nlohmann::json::parse(slurp(a / "manifest.json"));
  EXPECT_EQ(m["target"], "neon");
  EXPECT_EQ(m["model"]["file"], "dense.onnx");
  EXPECT_EQ(m["model"]["sha256"], sha256_file(t.file("dense.onnx")));
  EXPECT_EQ(m["plan"]["blocks"], rep.plan.blocks);
  EXPECT_EQ(m["inputs"][0]["shape"], nlohmann::json({2, 8}));
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(a))
    if (e.is_regular_file() && e.path().filename() != "manifest.json") {
      ++files;
      const std::string rel = fs::relative(e.path(), a).string();
      ASSERT_TRUE(m["files"].contains(rel)) << rel;
      EXPECT_EQ(m["files"][rel]["sha256"], sha256_file(e.path().string())) << rel;
    }
  EXPECT_EQ(files, m["files"].size());
  bool has_block = false;
  for (const auto& [rel, _] : m["files"].items()) has_block = has_block || rel.rfind("src/blocks/dnnf_k", 0) == 0;
  EXPECT_TRUE(has_block);

  r.output_dir = t.file("b");
  export_neon_bundle(r, o);
  EXPECT_EQ(slurp(a / "manifest.json"), slurp(t.path() / "b" / "manifest.json"));
  EXPECT_EQ(slurp(a / "weights.bin"), slurp(t.path() / "b" / "weights.bin"));
}

TEST(NeonBundle, AFailedOrCancelledExportLeavesNoFolder) {
  TempDir t;
  BundleRequest r;
  r.model_path = t.file("missing.onnx");
  r.output_dir = t.file("out");
  NeonExportOptions o;
  o.compile = false;
  EXPECT_THROW(export_neon_bundle(r, o), Error);
  onnx_io::save_model(dense_model(), t.file("dense.onnx"));
  r.model_path = t.file("dense.onnx");
  EXPECT_THROW(export_neon_bundle(r, o, [](const std::string& stage, size_t, size_t) {
                 if (stage == "writing") throw Error("cancelled");
               }),
               Error);
  for (const auto& e : fs::directory_iterator(t.path()))
    EXPECT_EQ(e.path().extension(), ".onnx") << "left behind: " << e.path();
}
