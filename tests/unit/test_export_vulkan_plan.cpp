// The Vulkan bundle's plan description: the text format round-trips, the reader (the
// same source the bundle runtime compiles) refuses malformed plans with the line named,
// and the builder turns fused plans into steps, constants and barriers.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "core/export/vulkan_bundle_plan_builder.h"
#include "core/pipeline/pipeline.h"
#include "core/util/error.h"
#include "tests/support/model_test_util.h"
#include "kernels/bundle/interp/interp_plan.h"
#include "kernels/bundle/vulkan/vulkan_plan.h"
#include "tests/support/rule_test_util.h"

namespace dnnf {
namespace {

using dnnf_bundle::read_vulkan_plan;
using dnnf_bundle::VulkanPlan;
using dnnf_bundle::write_vulkan_plan;

VulkanPlan small_plan() {
  VulkanPlan p;
  p.local_size = 64;
  p.shared_bytes = 1024;
  p.max_bindings = 3;
  p.values = {{0, 64, "x"}, {256, 32, "w eight%"}, {512, 64, "y"}};
  p.arena_bytes = 576;
  p.weights_bytes = 64;
  p.constants = {{1, 0, 32}};
  p.inputs = {{0, "int64", {2, 8}, "input ids"}};
  p.outputs = {{2, "float32", {16}, "out"}};
  p.shaders = {{"shaders/0123456789abcdef.spv", 3}};
  dnnf_bundle::PlanStep s;
  s.shader = 0;
  s.bindings = {0, 1, 2};
  s.dispatches = {{0, {1, 1, 1}, false}, {1, {65535, 2, 1}, true}};
  p.steps = {s};
  return p;
}

TEST(ExportVulkanPlan, TextRoundTripsAndIsStable) {
  const VulkanPlan p = small_plan();
  const std::string text = write_vulkan_plan(p);
  const VulkanPlan q = read_vulkan_plan(text);
  EXPECT_EQ(write_vulkan_plan(q), text);
  ASSERT_EQ(q.values.size(), 3u);
  EXPECT_EQ(q.values[1].name, "w eight%");
  EXPECT_EQ(q.inputs[0].name, "input ids");
  EXPECT_EQ(q.inputs[0].dtype, "int64");
  EXPECT_EQ(q.inputs[0].elements(), 16);
  EXPECT_EQ(q.constants[0].bytes, 32u);
  ASSERT_EQ(q.steps.size(), 1u);
  ASSERT_EQ(q.steps[0].dispatches.size(), 2u);
  EXPECT_EQ(q.steps[0].dispatches[1].groups[0], 65535u);
  EXPECT_EQ(q.steps[0].dispatches[1].groups[1], 2u);
  EXPECT_TRUE(q.steps[0].dispatches[1].barrier);
  EXPECT_EQ(q.dispatch_count(), 2u);
  EXPECT_EQ(q.barrier_count(), 1u);
  // Names are one space-free token each.
  EXPECT_NE(text.find("input%20ids"), std::string::npos);
  EXPECT_NE(text.find("w%20eight%25"), std::string::npos);
}

TEST(ExportVulkanPlan, NamesEscapeAndUnescape) {
  for (const std::string n : {"", "a", "a b", "%", "x/y:z.0-1", "\xc3\xa9t\xc3\xa9", "tab\there"})
    EXPECT_EQ(dnnf_bundle::plan_decode_name(dnnf_bundle::plan_encode_name(n)), n) << n;
  EXPECT_THROW(dnnf_bundle::plan_decode_name("a%4"), std::runtime_error);
  EXPECT_THROW(dnnf_bundle::plan_decode_name("a%zz"), std::runtime_error);
}

// Replaces the first line starting with `prefix` by `line` ("" removes it).
std::string edit(std::string text, const std::string& prefix, const std::string& line) {
  const size_t at = text.rfind("\n" + prefix) == std::string::npos ? text.find(prefix) : text.find("\n" + prefix) + 1;
  EXPECT_NE(at, std::string::npos) << prefix;
  const size_t end = text.find('\n', at);
  return text.replace(at, end - at + 1, line.empty() ? "" : line + "\n");
}

void expect_refused(const std::string& text, const std::string& message) {
  try {
    read_vulkan_plan(text);
    ADD_FAILURE() << "accepted a plan that should fail with '" << message << "'";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
  }
}

TEST(ExportVulkanPlan, ReaderRefusesMalformedPlansNamingTheLine) {
  const std::string good = write_vulkan_plan(small_plan());
  expect_refused("", "empty");
  expect_refused("hello 1\n", "line 1: not a dnnf Vulkan plan");
  expect_refused(edit(good, "dnnf-vulkan-plan", "dnnf-vulkan-plan 7"), "plan version 7");
  expect_refused(edit(good, "value 1", "value 1 200 32 w"), "not 256-aligned");
  expect_refused(edit(good, "value 2", "value 2 512 128 y"), "outside the arena");
  expect_refused(edit(good, "value 2", "value 3 512 64 y"), "numbered 0, 1, 2");
  expect_refused(edit(good, "constant", "constant 1 48 32"), "outside weights.bin");
  expect_refused(edit(good, "constant", "constant 1 0 64"), "larger than its value");
  expect_refused(edit(good, "constant", "constant 9 0 4"), "value 9 is not defined");
  expect_refused(edit(good, "input", "input 0 float16 1 16 x"), "dtype 'float16'");
  expect_refused(edit(good, "input", "input 0 float32 1 17 x"), "does not fit its value");
  expect_refused(edit(good, "shader", "shader 0 ../evil.spv 3"), "leaves the bundle");
  expect_refused(edit(good, "step", "step 0 2 0 1"), "step binds 2 buffers, its shader has 3");
  expect_refused(edit(good, "step", "step 0 3 0 1 7"), "value 7 is not defined");
  expect_refused(edit(good, "step", ""), "dispatch before any step");
  expect_refused(edit(good, "step", "copy 0 2 64 0"), "dispatch before any step");
  expect_refused(good + "copy 0 2 128 0\n", "copy is larger than its values");
  expect_refused(good + "copy 2 2 4 0\n", "onto itself");
  expect_refused(edit(good, "dispatch 0", "dispatch 0 1 1 1 2"), "out of range");
  expect_refused(edit(good, "dispatch 0", "dispatch 0 1 1 1 0 extra"), "unexpected 'extra'");
  expect_refused(edit(good, "dispatch 0", "dispatch 0 1 -1 1 0"), "'-1' is not a number");
  expect_refused(edit(good, "output", ""), "no output");
  expect_refused(good + "bogus 1\n", "unknown keyword 'bogus'");
  expect_refused(edit(good, "max_bindings", "max_bindings 2"), "more than max_bindings");
  // The line number is the file's.
  expect_refused(edit(good, "local_size", "local_size 0"), "plan.txt line 2: local_size 0");
}

Tensor weights(Shape shape) {
  Tensor w(DType::F32, shape);
  for (int64_t k = 0; k < w.numel(); ++k) w.set_f64(k, std::sin(double(k)) * 0.3);
  return w;
}

TEST(ExportVulkanPlan, BuilderBindsConstantsAndPlacesBarriersOnHazardsOnly) {
  test::GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{4, 16});
  const std::string a = b.node("Relu", {x});
  const std::string s = b.node("Sigmoid", {x});  // independent of the Relu
  const std::string sum = b.node("Add", {a, s});  // reads both
  const std::string y = b.node("MatMul", {sum, b.constant("w", weights({16, 8}))});
  b.output(y);
  Model m = b.finish();
  const exporter::VulkanBundleContent c = exporter::build_vulkan_bundle_plan(m.graph, dnnf::test::analytic_plan(m, false, "vulkan"));
  const VulkanPlan& p = c.plan;
  ASSERT_EQ(p.steps.size(), 4u);
  ASSERT_EQ(p.inputs.size(), 1u);
  ASSERT_EQ(p.outputs.size(), 1u);
  EXPECT_EQ(p.values[p.inputs[0].value].name, "x");
  EXPECT_EQ(p.values[p.outputs[0].value].name, y);
  // The weight is a constant copied from weights.bin, as float32.
  ASSERT_EQ(p.constants.size(), 1u);
  EXPECT_EQ(p.values[p.constants[0].value].name, "w");
  EXPECT_EQ(p.constants[0].bytes, 16u * 8u * 4u);
  EXPECT_EQ(c.weights.bytes().size() % 64, 0u);
  EXPECT_EQ(p.weights_bytes, c.weights.bytes().size());
  // Relu and Sigmoid only read x: no barrier between them; Add reads both (barrier),
  // MatMul reads Add's result (barrier).
  EXPECT_FALSE(p.steps[0].dispatches.front().barrier);
  EXPECT_FALSE(p.steps[1].dispatches.front().barrier);
  EXPECT_TRUE(p.steps[2].dispatches.front().barrier);
  EXPECT_TRUE(p.steps[3].dispatches.front().barrier);
  // Relu, Sigmoid and Add are different shaders; every binding count matches.
  EXPECT_GE(p.shaders.size(), 3u);
  EXPECT_EQ(c.shader_sources.size(), p.shaders.size());
  for (const dnnf_bundle::PlanStep& st : p.steps) EXPECT_EQ(st.bindings.size(), p.shaders[st.shader].bindings);
  for (const dnnf_bundle::PlanValue& v : p.values) EXPECT_EQ(v.offset % dnnf_bundle::kArenaAlignment, 0u);
  // What the bundle runtime reads back is what was built.
  EXPECT_EQ(write_vulkan_plan(read_vulkan_plan(write_vulkan_plan(p))), write_vulkan_plan(p));
}

TEST(ExportVulkanPlan, IdenticalBlocksShareOneShaderAndBuildsAreDeterministic) {
  test::GraphBuilder b;
  std::string y = b.input("x", DType::F32, Shape{2, 32});
  for (int k = 0; k < 3; ++k) {
    y = b.node("MatMul", {y, b.constant("w" + std::to_string(k), weights({32, 32}))});
    y = b.node("Relu", {y});
  }
  b.output(y);
  Model m = b.finish();
  const fusion::FusionPlan plan = dnnf::test::analytic_plan(m, true, "vulkan");
  const exporter::VulkanBundleContent c1 = exporter::build_vulkan_bundle_plan(m.graph, plan);
  const exporter::VulkanBundleContent c2 = exporter::build_vulkan_bundle_plan(m.graph, plan);
  EXPECT_EQ(c1.plan.steps.size(), 3u);
  EXPECT_EQ(c1.plan.shaders.size(), 1u) << "three identical MatMul+Relu blocks, one SPIR-V module";
  EXPECT_EQ(c1.plan.constants.size(), 3u);
  EXPECT_EQ(write_vulkan_plan(c1.plan), write_vulkan_plan(c2.plan));
  EXPECT_EQ(c1.weights.bytes(), c2.weights.bytes());
  EXPECT_EQ(c1.shader_sources, c2.shader_sources);
}

TEST(ExportVulkanPlan, Int64ReshapeBecomesABufferCopy) {
  test::GraphBuilder b;
  const std::string ids = b.input("ids", DType::I64, Shape{2, 3});
  const std::string shape = b.constant("shape", Tensor::from_vector<int64_t>(DType::I64, {1}, {6}));
  const std::string flat = b.node("Reshape", {ids, shape});
  b.output(flat);
  const std::string x = b.input("x", DType::F32, Shape{4});
  b.output(b.node("Relu", {x}));
  Model m = b.finish();
  const exporter::VulkanBundleContent c = exporter::build_vulkan_bundle_plan(m.graph, dnnf::test::analytic_plan(m, false, "vulkan"));
  const VulkanPlan& p = c.plan;
  ASSERT_EQ(p.copy_count(), 1u) << write_vulkan_plan(p);
  const dnnf_bundle::PlanStep* copy = nullptr;
  for (const dnnf_bundle::PlanStep& st : p.steps)
    if (st.is_copy) copy = &st;
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(p.values[copy->copy.src].name, "ids");
  EXPECT_EQ(p.values[copy->copy.dst].name, flat);
  EXPECT_EQ(copy->copy.bytes, 6u * 4u);
  EXPECT_FALSE(copy->copy.barrier) << "it only reads a model input";
  ASSERT_EQ(p.outputs.size(), 2u);
  EXPECT_EQ(p.outputs[0].dtype, "int64");
  EXPECT_EQ(p.steps.size(), 2u) << "the copy and the Relu shader";
  EXPECT_EQ(p.values[p.outputs[0].value].name, flat);
  const std::string text = write_vulkan_plan(p);
  EXPECT_NE(text.find("\ncopy "), std::string::npos);
  EXPECT_EQ(write_vulkan_plan(read_vulkan_plan(text)), text);
}

// TopK has no shader: it runs on the host (a host step of interp.txt), and the Relu
// shader after it reads its values through an upload after that step.
TEST(ExportVulkanPlan, OperatorWithoutShaderRunsOnTheHost) {
  test::GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{2, 10});
  const std::string k = b.constant("k", Tensor::from_vector<int64_t>(DType::I64, {1}, {3}));
  const std::string v = b.node("TopK", {x, k}, {}, 2);
  b.output(b.node("Relu", {v}));
  Model m = b.finish();
  const exporter::VulkanBundleContent c = exporter::build_vulkan_bundle_plan(m.graph, dnnf::test::analytic_plan(m, true, "vulkan"));
  const VulkanPlan& p = c.plan;
  ASSERT_TRUE(c.interp.has_value());
  ASSERT_EQ(p.steps.size(), 2u);
  ASSERT_TRUE(p.steps[0].is_host);
  ASSERT_EQ(c.interp->steps.size(), 1u);
  EXPECT_EQ(c.interp->graph.nodes[c.interp->steps[0][0]].op_type, "TopK");
  ASSERT_EQ(p.steps[0].uploads.size(), 1u);
  EXPECT_EQ(p.values[p.steps[0].uploads[0].value].name, v);
  EXPECT_EQ(p.steps[0].uploads[0].elements, 6u);
  EXPECT_FALSE(p.steps[1].is_host);
  ASSERT_EQ(c.interp->imports.size(), 1u);  // x; k is a weight (int64, as it is)
  EXPECT_EQ(c.interp->imports[0].name, x);
  ASSERT_EQ(c.interp->weights.size(), 1u);
  EXPECT_EQ(c.interp->weights[0].dtype, DType::I64);
  const std::string text = write_vulkan_plan(p);
  EXPECT_EQ(text.rfind("dnnf-vulkan-plan 2\n", 0), 0u) << "host steps need version 2";
  EXPECT_EQ(write_vulkan_plan(read_vulkan_plan(text)), text);
  EXPECT_EQ(dnnf_bundle::write_interp_plan(dnnf_bundle::read_interp_plan(dnnf_bundle::write_interp_plan(*c.interp))),
            dnnf_bundle::write_interp_plan(*c.interp));
}

// A buffer over the storage-buffer range every device guarantees has no shader a bundle
// can run: the operator runs on the host, and the output it computes comes from there.
TEST(ExportVulkanPlan, BufferOverTheGuaranteedRangeRunsOnTheHost) {
  test::GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1, 64});
  b.output(b.node("Relu", {x}));
  Model m = b.finish();
  exporter::VulkanBundleLimits limits;
  limits.max_buffer_range = 128;  // 64 floats are 256 bytes
  const exporter::VulkanBundleContent c = exporter::build_vulkan_bundle_plan(m.graph, dnnf::test::analytic_plan(m, true, "vulkan"), limits);
  EXPECT_TRUE(c.plan.shaders.empty());
  ASSERT_EQ(c.plan.steps.size(), 1u);
  EXPECT_TRUE(c.plan.steps[0].is_host);
  ASSERT_EQ(c.plan.outputs.size(), 1u);
  EXPECT_TRUE(c.plan.outputs[0].on_host);
  EXPECT_EQ(c.plan.outputs[0].dims, (std::vector<int64_t>{1, 64}));
}

// Plans without host steps keep version 1, so fixed-shape bundles read as before; host
// lines in a version-1 plan are unknown keywords.
TEST(ExportVulkanPlan, HostLinesNeedVersion2) {
  const std::string text = write_vulkan_plan(small_plan());
  EXPECT_EQ(text.rfind("dnnf-vulkan-plan 1\n", 0), 0u);
  try {
    read_vulkan_plan(text + "host 0\n");
    ADD_FAILURE() << "a host step in a version-1 plan must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown keyword 'host'"), std::string::npos) << e.what();
  }
  std::string v2 = text;
  v2.replace(0, std::string("dnnf-vulkan-plan 1").size(), "dnnf-vulkan-plan 2");
  const VulkanPlan q = read_vulkan_plan(v2 + "host 3\nupload 2 16\nhost_output int64 2 ? 4 boxes\n");
  ASSERT_EQ(q.host_step_count(), 1u);
  EXPECT_EQ(q.steps.back().host_step, 3u);
  ASSERT_EQ(q.steps.back().uploads.size(), 1u);
  EXPECT_EQ(q.outputs.back().elements(), -1);
  EXPECT_EQ(q.outputs.back().dims, (std::vector<int64_t>{-1, 4}));
  EXPECT_THROW(read_vulkan_plan(v2 + "upload 2 16\n"), std::runtime_error);  // not after a host step
  EXPECT_THROW(read_vulkan_plan(v2 + "host 0\nupload 2 17\n"), std::runtime_error);  // larger than its value
}

}  // namespace
}  // namespace dnnf
