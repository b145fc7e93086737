// ConvTranspose as a generated anchor on every backend: one model holding a table of
// odd cases (strides 1/2/3, explicit and SAME pads, dilations, groups, output_padding,
// output_shape, 1-D/2-D/3-D, channel counts 1, 3, 17), each with bias and a Relu the
// block should take into the anchor's epilogue, run on the CPU backend, the Vulkan
// backend (lavapipe in CI; skips without a device) and as a NEON bundle under
// qemu-aarch64 (ctest neon_conv_transpose_bundle; skips without the cross compiler or
// qemu), and compared with the reference executor.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "core/export/neon_bundle.h"
#include "core/export/neon_cross_compile.h"
#include "core/onnx_io/onnx_export.h"
#include "core/onnx_io/tensor_io.h"
#include "core/ir/shape_inference.h"
#include "core/pipeline/pipeline.h"
#include "core/runtime/compare.h"
#include "core/runtime/cpu_runtime.h"
#include "core/runtime/random_inputs.h"
#include "core/util/error.h"
#include "tests/support/rule_test_util.h"
#include "tests/support/test_util.h"

#ifdef DNNF_HAVE_VULKAN
#include "core/vulkan/vk_program.h"
#include "tests/support/model_test_util.h"
#endif

namespace dnnf {
namespace {

using test::GraphBuilder;

struct ConvTCase {
  const char* name;
  int64_t N, C, M, G;
  Shape in, kernel, strides, pads, dilations, output_padding;
  const char* auto_pad = nullptr;  // SAME_UPPER / SAME_LOWER / VALID
  Shape output_shape = {};
  bool bias = true, relu = true;
};

// One row per case; M is the total output channel count (W is [C, M/G, k...]).
const std::vector<ConvTCase>& cases() {
  static const std::vector<ConvTCase> c = {
      {"stride1_c1", 1, 1, 1, 1, {5, 7}, {3, 3}, {1, 1}, {0, 0, 0, 0}, {1, 1}, {0, 0}},
      {"stride2_pads_c3_to_17", 2, 3, 17, 1, {4, 5}, {3, 3}, {2, 2}, {1, 0, 1, 2}, {1, 1}, {1, 0}},
      {"stride3_dilated_c17_to_3", 1, 17, 3, 1, {3, 4}, {2, 3}, {3, 3}, {0, 1, 2, 0}, {2, 1}, {2, 1}},
      {"groups3_c6_to_9", 1, 6, 9, 3, {5, 5}, {3, 3}, {2, 1}, {1, 1, 1, 1}, {1, 1}, {0, 0}},
      {"depthwise_c17", 1, 17, 17, 17, {6, 5}, {4, 4}, {2, 2}, {1, 1, 1, 1}, {1, 1}, {0, 0}},
      {"c3_to_8_output_padding", 1, 3, 8, 1, {5, 6}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, {1, 1}},
      {"same_upper_1d", 2, 3, 4, 1, {9}, {3}, {2}, {0, 0}, {1}, {0}, "SAME_UPPER"},
      {"same_lower_no_bias", 1, 3, 5, 1, {4, 3}, {2, 3}, {3, 2}, {0, 0, 0, 0}, {1, 1}, {0, 0}, "SAME_LOWER",
       {}, false, true},
      {"output_shape_no_relu", 1, 2, 4, 2, {3, 4}, {3, 3}, {2, 2}, {0, 0, 0, 0}, {1, 1}, {0, 0}, nullptr,
       {8, 9}, true, false},
      {"three_d_c3_to_4", 1, 3, 4, 1, {3, 4, 5}, {2, 3, 2}, {2, 1, 2}, {0, 1, 0, 1, 0, 1}, {1, 1, 1}, {0, 0, 1}},
  };
  return c;
}

Tensor pseudo_random(const Shape& shape, uint32_t seed) {
  Tensor t(DType::F32, shape);
  uint32_t s = seed * 2654435761u + 1;
  for (int64_t i = 0; i < t.numel(); ++i) {
    s = s * 1664525u + 1013904223u;
    t.data<float>()[i] = float(int32_t(s >> 8) % 2001 - 1000) / 1000.0f;
  }
  return t;
}

// Every case as an independent input -> ConvTranspose (+ Relu) -> output chain; the
// output of case k is named after it.
Model all_cases_model() {
  GraphBuilder b;
  uint32_t seed = 1;
  for (const ConvTCase& k : cases()) {
    Shape xs = {k.N, k.C};
    xs.insert(xs.end(), k.in.begin(), k.in.end());
    const std::string x = b.input(std::string("x_") + k.name, DType::F32, xs);
    Shape ws = {k.C, k.M / k.G};
    ws.insert(ws.end(), k.kernel.begin(), k.kernel.end());
    std::vector<std::string> ins = {x, b.constant(std::string("w_") + k.name, pseudo_random(ws, seed++))};
    if (k.bias) ins.push_back(b.constant(std::string("b_") + k.name, pseudo_random({k.M}, seed++)));
    std::map<std::string, Attribute> attrs = {{"kernel_shape", Attribute::from_ints(k.kernel)},
                                              {"strides", Attribute::from_ints(k.strides)},
                                              {"dilations", Attribute::from_ints(k.dilations)},
                                              {"output_padding", Attribute::from_ints(k.output_padding)},
                                              {"group", Attribute::from_int(k.G)}};
    if (k.auto_pad) attrs["auto_pad"] = Attribute::from_string(k.auto_pad);
    else if (!k.output_shape.empty()) attrs["output_shape"] = Attribute::from_ints(k.output_shape);
    else attrs["pads"] = Attribute::from_ints(k.pads);
    std::string y = b.node("ConvTranspose", ins, attrs);
    if (k.relu) y = b.node("Relu", {y});
    y = b.node("Identity", {y});
    b.output(y);
  }
  Model m = b.finish();
  // Name each output after its case, so a mismatch says which case failed.
  for (size_t i = 0; i < m.graph.outputs.size(); ++i) {
    const std::string old = m.graph.outputs[i].name, name = std::string("y_") + cases()[i].name;
    for (Node& n : m.graph.nodes)
      for (std::string& o : n.outputs)
        if (o == old) o = name;
    m.graph.outputs[i].name = name;
  }
  infer_shapes(m.graph);
  return m;
}

TensorMap seeded_inputs(const Graph& g) {
  RandomInputOptions ri;
  ri.seed = 11;
  return make_random_inputs(g, ri);
}

// Empty when every output equals the reference at the tolerance, else the first miss.
std::string mismatch(const Graph& g, const TensorMap& got, const TensorMap& want, Tolerance tol) {
  for (const ValueInfo& o : g.outputs) {
    auto it = got.find(o.name);
    if (it == got.end()) return o.name + ": missing";
    const CompareResult c = compare_tensors(it->second, want.at(o.name), tol);
    if (!c.ok) return o.name + ": " + c.message;
  }
  return "";
}

TEST(ConvTransposeCodegen, CasesGenerateOneKernelPerCaseWithTheReluInTheEpilogue) {
  Model m = all_cases_model();
  const fusion::FusionPlan plan = dnnf::test::analytic_plan(m);
  CpuRuntimeOptions ro;
  ro.threads = 2;
  CpuProgram program(m.graph, plan, ro);
  const TensorMap in = seeded_inputs(m.graph);
  const std::string miss = mismatch(m.graph, program.run(in), ReferenceExecutor(m.graph).run(in), {1e-4, 1e-5});
  EXPECT_EQ(miss, "");
  std::string why;
  for (const std::string& w : program.stats().interpreted_reasons) why += w + "; ";
  EXPECT_EQ(program.stats().interpreted_blocks, 0u) << why;
  // One block per case: ConvTranspose, its Relu and the Identity fused into one kernel.
  EXPECT_EQ(program.stats().blocks, cases().size());
}

TEST(ConvTransposeCodegen, UnfusedPlanRunsEveryConvTransposeAsItsOwnGeneratedKernel) {
  Model m = all_cases_model();
  PipelineOptions po;
  po.rewrite = false;
  po.fusion = false;
  po.use_db = false;
  po.measure = false;
  const fusion::FusionPlan plan = run_pipeline(m, po).plan;
  CpuProgram program(m.graph, plan, {});
  const TensorMap in = seeded_inputs(m.graph);
  EXPECT_EQ(mismatch(m.graph, program.run(in), ReferenceExecutor(m.graph).run(in), {1e-4, 1e-5}), "");
  EXPECT_EQ(program.stats().interpreted_blocks, 0u);
}

#ifdef DNNF_HAVE_VULKAN
TEST(ConvTransposeVulkan, CasesRunAsShadersEqualToTheReference) {
  Model m = all_cases_model();
  const fusion::FusionPlan plan = dnnf::test::analytic_plan(m);
  try {
    vk::choose_device(vk::list_devices(), -1);
  } catch (const Error& e) {
    GTEST_SKIP() << "no Vulkan: " << e.what();
  }
  auto program = std::make_unique<vk::VulkanProgram>(m.graph, plan);
  const TensorMap in = seeded_inputs(m.graph);
  EXPECT_EQ(mismatch(m.graph, program->run(in), ReferenceExecutor(m.graph).run(in), {1e-3, 1e-4}), "");
  std::string why;
  for (const std::string& w : program->stats().cpu_reasons) why += w + "; ";
  EXPECT_EQ(program->stats().cpu_blocks, 0u) << why;
  EXPECT_EQ(program->stats().shader_blocks, cases().size());
}
#endif

// Runs only from ctest's neon_conv_transpose_bundle (label neon): cross-compiling a
// bundle takes a minute, too long for every unit-test run.
TEST(ConvTransposeNeon, BundleUnderQemuEqualsTheReference) {
  if (!std::getenv("DNNF_NEON_BUNDLE_TESTS")) GTEST_SKIP() << "run by ctest neon_conv_transpose_bundle";
  if (!exporter::find_aarch64_compiler()) GTEST_SKIP() << "no aarch64 cross compiler";
  if (std::system("command -v qemu-aarch64 >/dev/null 2>&1") != 0) GTEST_SKIP() << "no qemu-aarch64";
  test::TempDir t;
  Model m = all_cases_model();
  onnx_io::save_model(m, t.file("convt.onnx"));
  exporter::BundleRequest r;
  r.model_path = t.file("convt.onnx");
  r.output_dir = t.file("bundle");
  const exporter::NeonExportReport rep = exporter::export_neon_bundle(r);
  ASSERT_TRUE(rep.compiled) << rep.not_compiled_why;
  const TensorMap in = seeded_inputs(m.graph);
  std::string cmd = "qemu-aarch64 " + t.file("bundle/bin/runner") + " " + t.file("bundle");
  for (const auto& [name, tensor] : in) {
    onnx_io::write_npy(tensor, t.file(name + ".npy"));
    cmd += " --input " + name + "=" + t.file(name + ".npy");
  }
  std::filesystem::create_directories(t.path() / "out");
  cmd += " --output " + t.file("out") + " >" + t.file("runner.log") + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  TensorMap got;
  for (const ValueInfo& o : m.graph.outputs) got[o.name] = onnx_io::read_npy(t.file("out/" + o.name + ".npy"));
  EXPECT_EQ(mismatch(m.graph, got, ReferenceExecutor(m.graph).run(in), {1e-4, 1e-5}), "");
}

}  // namespace
}  // namespace dnnf
