// The Vulkan backend end to end on small hand-built graphs: fusion plan -> one GLSL
// shader per block -> SPIR-V -> pipelines -> one command buffer, checked against the
// reference executor (rtol 1e-3). Skips where no Vulkan device exists; CI has lavapipe.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "core/codegen/block_codegen.h"
#include "core/codegen/glsl/glsl_block.h"
#include "core/pipeline/pipeline.h"
#include "core/runtime/compare.h"
#include "core/runtime/random_inputs.h"
#include "core/util/error.h"
#include "tests/support/rule_test_util.h"
#include "tests/support/test_util.h"

#ifdef DNNF_HAVE_VULKAN
#include "core/vulkan/vk_pipeline.h"
#include "core/vulkan/vk_program.h"
#include "tests/support/model_test_util.h"
#endif

namespace dnnf {
namespace {

using test::GraphBuilder;

Attribute ints(std::vector<int64_t> v) { return Attribute::from_ints(std::move(v)); }
Attribute i(int64_t v) { return Attribute::from_int(v); }

// The GLSL emitter needs no device: every block of a small MLP becomes a shader.
TEST(VulkanGlsl, MatMulBiasGeluBlockIsOneShaderWithAnEpilogue) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{2, 5, 24});
  Tensor w(DType::F32, {24, 40});
  for (int64_t k = 0; k < w.numel(); ++k) w.set_f64(k, std::sin(double(k)) * 0.3);
  std::string y = b.node("MatMul", {x, b.constant("w", w)});
  y = b.node("Add", {y, b.constant("bias", Tensor::from_vector<float>(DType::F32, {40}, std::vector<float>(40, 0.1f)))});
  y = b.node("Relu", {y});
  b.output(y);
  Model m = b.finish();
  const fusion::FusionPlan plan = dnnf::test::analytic_plan(m);
  ASSERT_EQ(plan.blocks.size(), 1u);
  std::string why;
  auto k = codegen::glsl::generate_shader(m.graph, plan.blocks[0], {}, &why);
  ASSERT_TRUE(k.has_value()) << why;
  EXPECT_EQ(k->dispatches.size(), 1u);
  EXPECT_EQ(k->dispatches[0].what, "gemm");
  EXPECT_GE(k->merged_epilogues, 1);
  EXPECT_NE(k->source.find("#version 450"), std::string::npos);
  EXPECT_NE(k->source.find("barrier()"), std::string::npos);
  EXPECT_EQ(k->source.find("splat<T>"), std::string::npos) << "C++ syntax leaked into GLSL";
}

// x -> Silu (as Sigmoid, Mul) -> GlobalAveragePool, Silu also an output: fused, one
// shader of two stages, the second reading what the first wrote.
Model silu_pool_model() {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1, 12, 7, 9});
  const std::string y = b.node("Mul", {x, b.node("Sigmoid", {x})});
  b.output(y);
  b.output(b.node("GlobalAveragePool", {y}));
  return b.finish();
}

TEST(VulkanGlsl, TexelReadsCoverInputsAndWhatEarlierStagesWrote) {
  Model m = silu_pool_model();
  const fusion::FusionPlan plan = dnnf::test::analytic_plan(m);
  ASSERT_EQ(plan.blocks.size(), 1u);
  codegen::glsl::Target t;
  t.local_size = 32;
  t.texel_reads = true;
  t.max_texel_elements = 1 << 20;
  std::string why;
  auto k = codegen::glsl::generate_shader(m.graph, plan.blocks[0], t, &why);
  ASSERT_TRUE(k.has_value()) << why;
  ASSERT_EQ(k->dispatches.size(), 2u);
  // x (an input) and the Silu output (written by stage 0, read by stage 1) have views.
  std::set<std::string> viewed;
  for (const codegen::glsl::TexelView& v : k->texel_views) {
    EXPECT_EQ(v.components, 1);
    viewed.insert(k->buffers.at(size_t(v.buffer)).value);
  }
  const std::string silu = m.graph.nodes[1].outputs[0];
  EXPECT_EQ(viewed, (std::set<std::string>{"x", silu}));
  // Stage 0 writes the Silu output, so it reads that buffer as a storage buffer.
  EXPECT_NE(k->source.find("if (dnnf_stage_spec < 0 || dnnf_stage_spec == 0) return b"), std::string::npos)
      << k->source;
  // An input larger than the device's texel limit stays a storage buffer.
  t.max_texel_elements = 100;
  k = codegen::glsl::generate_shader(m.graph, plan.blocks[0], t, &why);
  ASSERT_TRUE(k.has_value()) << why;
  EXPECT_TRUE(k->texel_views.empty());
  EXPECT_EQ(k->source.find("samplerBuffer"), std::string::npos);
  // Without texel reads (GPUs, export bundles): storage buffers only.
  t = {};
  k = codegen::glsl::generate_shader(m.graph, plan.blocks[0], t, &why);
  ASSERT_TRUE(k.has_value()) << why;
  EXPECT_TRUE(k->texel_views.empty());
  EXPECT_EQ(k->source.find("samplerBuffer"), std::string::npos);
}

#ifdef DNNF_HAVE_VULKAN

// Skips the test (with the reason) when this machine has no Vulkan device.
#define DNNF_REQUIRE_VULKAN()                                    \
  do {                                                           \
    std::string why_;                                            \
    if (!vulkan_device(&why_)) GTEST_SKIP() << "no Vulkan: " << why_; \
  } while (0)

bool vulkan_device(std::string* why) {
  try {
    vk::choose_device(vk::list_devices(), -1);
    return true;
  } catch (const Error& e) {
    *why = e.what();
    return false;
  }
}

struct VkRun {
  vk::VulkanRuntimeStats stats;
  CompareResult check;
  size_t validation_errors = 0;
  bool validation_on = false;
};

VkRun run_vulkan(const Model& model, bool fusion = true, int validation = 0,
                 std::optional<codegen::glsl::GemmShape> gemm = std::nullopt,
                 std::optional<bool> attention_shader = std::nullopt, std::optional<bool> texel_reads = std::nullopt,
                 const std::string& target = "cpu") {
  Model m = model;
  const fusion::FusionPlan plan = dnnf::test::analytic_plan(m, fusion, target);
  vk::VulkanRuntimeOptions ro;
  ro.context.validation = validation;
  ro.gemm = gemm;
  ro.attention_shader = attention_shader;
  ro.texel_reads = texel_reads;
  vk::VulkanProgram program(m.graph, plan, ro);
  RandomInputOptions ri;
  ri.seed = 7;
  const TensorMap inputs = make_random_inputs(model.graph, ri);
  const TensorMap got = program.run(inputs);
  const TensorMap again = program.run(inputs);  // the recorded command buffers run twice
  const TensorMap want = ReferenceExecutor(model.graph).run(inputs);
  VkRun r;
  r.check.ok = true;
  for (const ValueInfo& o : model.graph.outputs) {
    for (const TensorMap* t : {&got, &again}) {
      CompareResult c = compare_tensors(t->at(o.name), want.at(o.name), {1e-3, 1e-4});
      if (!c.ok && r.check.ok) {
        r.check = c;
        r.check.message = o.name + ": " + c.message;
      }
    }
  }
  r.stats = program.stats();
  r.validation_errors = program.context().validation_errors();
  r.validation_on = program.context().validation();
  return r;
}

std::string on_host(const VkRun& r) {
  std::string s;
  for (const std::string& w : r.stats.cpu_reasons) s += w + "; ";
  return s;
}

TEST(VulkanRuntime, ElementwiseChainWithBroadcastIsOneDispatch) {
  DNNF_REQUIRE_VULKAN();
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{2, 3, 37});
  const std::string bias = b.constant("bias", Tensor::from_vector<float>(DType::F32, {37}, std::vector<float>(37, 0.25f)));
  std::string y = b.node("Add", {x, bias});
  y = b.node("Relu", {y});
  y = b.node("Mul", {y, b.scalar("k", 1.5f)});
  y = b.node("Sigmoid", {y});
  y = b.node("Erf", {y});
  b.output(y);
  const VkRun r = run_vulkan(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.shader_blocks, 1u) << on_host(r);
  EXPECT_EQ(r.stats.dispatches, 1u);
  EXPECT_EQ(r.stats.submits, 1u);
}

TEST(VulkanRuntime, MatMulWithBiasAndGeluRunsInTheGemmEpilogue) {
  DNNF_REQUIRE_VULKAN();
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{2, 5, 70});
  Tensor w(DType::F32, {70, 90});
  for (int64_t k = 0; k < w.numel(); ++k) w.set_f64(k, std::sin(double(k)) * 0.3);
  std::string y = b.node("MatMul", {x, b.constant("w", w)});
  Tensor bias(DType::F32, {90});
  for (int64_t k = 0; k < 90; ++k) bias.set_f64(k, 0.01 * double(k));
  y = b.node("Add", {y, b.constant("bias", bias)});
  y = b.node("Gelu", {y}, {}, 1, "dnnf");
  b.output(y);
  const VkRun r = run_vulkan(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.cpu_blocks, 0u) << on_host(r);
  EXPECT_EQ(r.stats.dispatches, 1u);
  EXPECT_GE(r.stats.merged_epilogues, 1u);
}

// Every GEMM shader shape (shared-memory tiles, rows, rows broadcast across a subgroup)
// on shapes that end mid-tile in every dimension: single rows and columns, odd K, more
// rows than one group takes (16) and more columns (32 x 4, or 32 x 4 x 1..4 as vec4),
// batches that broadcast, vector operands, and Gemm with transposes, alpha, beta and a
// row-broadcast bias.
TEST(VulkanRuntime, GemmShadersOfEveryShapeMatchTheReferenceOnEdgeShapes) {
  DNNF_REQUIRE_VULKAN();
  struct Case {
    const char* what;
    Shape a, b;
    std::map<std::string, Attribute> attrs;  // non-empty: Gemm
    Shape bias;                                             // Gemm's C, when not empty
  };
  const Attribute one = Attribute::from_int(1);
  const std::vector<Case> cases = {
      {"1x1x1", {1, 1}, {1, 1}, {}, {}},
      {"3x7x5", {3, 7}, {7, 5}, {}, {}},
      {"17x16x33", {17, 16}, {16, 33}, {}, {}},
      {"33x9x130", {33, 9}, {9, 130}, {}, {}},
      // K and N multiples of 4: the rows shape reads both operands as vec4.
      {"vec4 1x33x12 . 12x132", {1, 33, 12}, {12, 132}, {}, {}},
      {"vec4 20x8x4", {20, 8}, {8, 4}, {}, {}},
      {"vec4 17x4x388", {17, 4}, {4, 388}, {}, {}},
      {"batched 2x3x17x7 . 7x19", {2, 3, 17, 7}, {7, 19}, {}, {}},
      {"batched 2x1x5x8 . 3x8x6", {2, 1, 5, 8}, {3, 8, 6}, {}, {}},
      {"vector . matrix", {13}, {2, 13, 6}, {}, {}},
      {"matrix . vector", {2, 18, 11}, {11}, {}, {}},
      {"Gemm transA transB", {9, 19}, {37, 9}, {{"transA", one}, {"transB", one}}, {37}},
      {"Gemm alpha beta, bias per row", {20, 5}, {5, 3},
       {{"alpha", Attribute::from_float(0.5f)}, {"beta", Attribute::from_float(2.0f)}}, {20, 1}},
  };
  using codegen::glsl::GemmShape;
  for (const GemmShape shape : {GemmShape::Tiles, GemmShape::Rows, GemmShape::RowsBroadcast})
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(c.what) + ", shape " + std::to_string(int(shape)));
      GraphBuilder b;
      const std::string x = b.input("x", DType::F32, c.a);
      const std::string w = b.input("w", DType::F32, c.b);
      std::string y;
      if (c.attrs.empty()) {
        y = b.node("MatMul", {x, w});
      } else {
        Tensor bias(DType::F32, c.bias);
        for (int64_t k = 0; k < bias.numel(); ++k) bias.set_f64(k, 0.1 * double(k) - 0.4);
        y = b.node("Gemm", {x, w, b.constant("c", bias)}, c.attrs);
      }
      b.output(b.node("Relu", {y}));
      const VkRun r = run_vulkan(b.finish(), true, 0, shape);
      EXPECT_TRUE(r.check.ok) << r.check.message;
      EXPECT_EQ(r.stats.cpu_blocks, 0u) << on_host(r);
      EXPECT_EQ(r.stats.dispatches, 1u);
    }
}

TEST(VulkanRuntime, AttentionHeadsReshapeTransposeSoftmax) {
  DNNF_REQUIRE_VULKAN();
  GraphBuilder b;
  const std::string q = b.input("q", DType::F32, Shape{2, 6, 32});
  const std::string k = b.input("k", DType::F32, Shape{2, 6, 32});
  const std::string split_shape = b.constant("split_shape", Tensor::vector_i64({2, 6, 4, 8}));
  auto heads = [&](const std::string& v) {
    const std::string r = b.node("Reshape", {v, split_shape});
    return b.node("Transpose", {r}, {{"perm", ints({0, 2, 1, 3})}});
  };
  const std::string qh = heads(q);
  const std::string kh = b.node("Transpose", {heads(k)}, {{"perm", ints({0, 1, 3, 2})}});
  std::string s = b.node("MatMul", {qh, kh});
  s = b.node("Div", {s, b.scalar("scale", 2.8284f)});
  s = b.node("Softmax", {s}, {{"axis", i(-1)}});
  b.output(b.node("Mul", {s, b.scalar("two", 2.0f)}));
  const VkRun r = run_vulkan(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.cpu_blocks, 0u) << on_host(r);
}

// dnnf.Attention as one shader (one work group per query row, scores in shared memory)
// with a float mask, a bool mask and a bias, on key counts below, at and above the work
// group size, with 1, 4 and 8 query rows per group. Q.K reads four elements per load
// along D (Q and a transposed K), or four keys of a plain Kt (D = 6), or one; P.V four
// columns of V (shared by several invocations or one per invocation) or one (Dv = 33).
// Each vec4 path fails this test when its arithmetic is broken (checked by mutation).
TEST(VulkanRuntime, AttentionCompositeIsOneShaderPerQueryRow) {
  DNNF_REQUIRE_VULKAN();
  struct Case {
    int64_t Sq, D, Sk, Dv;
    const char* mask;  // "float", "bool" or "bias"
    bool k_rows;       // Kt is a transposed K [.., Sk, D] (rows along D) rather than an input
  };
  for (const Case& c : {Case{5, 8, 21, 8, "float", true}, Case{3, 12, 67, 40, "bool", false},
                        Case{4, 6, 32, 33, "bias", false}, Case{8, 8, 9, 128, "float", true}}) {
    SCOPED_TRACE(std::string(c.mask) + " Sk=" + std::to_string(c.Sk));
    GraphBuilder b;
    const std::string q = b.input("q", DType::F32, Shape{2, 3, c.Sq, c.D});
    const std::string kt = c.k_rows ? b.node("Transpose", {b.input("k", DType::F32, Shape{2, 3, c.Sk, c.D})},
                                             {{"perm", ints({0, 1, 3, 2})}})
                                    : b.input("kt", DType::F32, Shape{2, 3, c.D, c.Sk});
    const std::string v = b.input("v", DType::F32, Shape{2, 3, c.Sk, c.Dv});
    const std::string mask = std::string(c.mask);
    Tensor m(mask == "bool" ? DType::Bool : DType::F32, mask == "bias" ? Shape{3, c.Sq, c.Sk} : Shape{2, 1, 1, c.Sk});
    for (int64_t k = 0; k < m.numel(); ++k)
      m.set_f64(k, mask == "bool" ? (k % 3 != 1 ? 1.0 : 0.0) : mask == "float" ? (k % 4 == 0 ? -10000.0 : 0.0)
                                                                                : 0.01 * double(k % 17));
    std::vector<std::string> ins = {q, kt, v};
    if (mask == "bias") ins.push_back("");
    ins.push_back(b.constant("mask", m));
    const std::string y = b.node("Attention", ins, {{"scale", Attribute::from_float(0.35f)}}, 1, "dnnf");
    b.output(b.node("Add", {y, b.scalar("one", 1.0f)}));
    const Model model = b.finish();
    const VkRun r = run_vulkan(model, true, 0, std::nullopt, true);
    EXPECT_TRUE(r.check.ok) << r.check.message;
    EXPECT_EQ(r.stats.cpu_blocks, 0u) << on_host(r);
    EXPECT_EQ(r.stats.dispatches, 1u);  // split into its operators it would be 5 or more
    // Unpinned on a CPU driver, the block runs on the host and says why.
    const VkRun host = run_vulkan(model, true, 0, std::nullopt, false);
    EXPECT_TRUE(host.check.ok) << host.check.message;
    ASSERT_EQ(host.stats.cpu_reasons.size(), 1u);
    EXPECT_NE(host.stats.cpu_reasons[0].find("Attention runs on the host"), std::string::npos) << on_host(host);
  }
}

// The Attention shader stores its result through Transpose(0, 2, 1, 3) and a Reshape
// (BERT's heads merged back) at the transposed address, as the C++ kernel does: one
// dispatch, and the result checked against the reference.
TEST(VulkanRuntime, AttentionShaderStoresItsResultTransposed) {
  DNNF_REQUIRE_VULKAN();
  for (const bool reshape : {false, true}) {
    SCOPED_TRACE(reshape ? "reshaped after" : "transposed");
    GraphBuilder b;
    const std::string q = b.input("q", DType::F32, Shape{2, 3, 12, 8});
    const std::string kt = b.input("kt", DType::F32, Shape{2, 3, 8, 21});
    const std::string v = b.input("v", DType::F32, Shape{2, 3, 21, 8});
    const std::string y = b.node("Attention", {q, kt, v}, {{"scale", Attribute::from_float(0.35f)}}, 1, "dnnf");
    std::string t = b.node("Transpose", {b.node("Add", {y, b.scalar("one", 1.0f)})}, {{"perm", ints({0, 2, 1, 3})}});
    if (reshape) t = b.node("Reshape", {t, b.constant("shape", Tensor::vector_i64({2, 12, 24}))});
    b.output(t);
    const VkRun r = run_vulkan(b.finish(), true, 0, std::nullopt, true);
    EXPECT_TRUE(r.check.ok) << r.check.message;
    EXPECT_EQ(r.stats.cpu_blocks, 0u) << on_host(r);
    EXPECT_EQ(r.stats.dispatches, 1u);
  }
}

TEST(VulkanRuntime, LayerNormalizationAndReductions) {
  DNNF_REQUIRE_VULKAN();
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{3, 5, 300});
  Tensor g(DType::F32, {300}), be(DType::F32, {300});
  for (int64_t k = 0; k < 300; ++k) { g.set_f64(k, 1 + 0.01 * double(k)); be.set_f64(k, -0.02 * double(k)); }
  const std::string ln = b.node("LayerNormalization", {x, b.constant("g", g), b.constant("b", be)},
                                {{"axis", i(-1)}, {"epsilon", Attribute::from_float(1e-5f)}});
  b.output(b.node("Tanh", {ln}));
  b.output(b.node("ReduceMean", {x}, {{"axes", ints({1})}, {"keepdims", i(0)}}));
  b.output(b.node("ReduceMax", {x}, {{"axes", ints({2})}, {"keepdims", i(1)}}));
  b.output(b.node("Softmax", {x}, {{"axis", i(1)}}));
  b.output(b.node("ReduceSum", {x}, {{"axes", ints({0, 2})}, {"keepdims", i(0)}}));
  const VkRun r = run_vulkan(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.cpu_blocks, 0u) << on_host(r);
}

TEST(VulkanRuntime, ConvBatchNormReluPoolAndClassifier) {
  DNNF_REQUIRE_VULKAN();
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1, 3, 17, 15});
  Tensor w(DType::F32, {8, 3, 3, 3}), cb(DType::F32, {8});
  for (int64_t k = 0; k < w.numel(); ++k) w.set_f64(k, std::cos(double(k)) * 0.2);
  for (int64_t k = 0; k < 8; ++k) cb.set_f64(k, 0.1 * double(k));
  std::string y = b.node("Conv", {x, b.constant("w", w), b.constant("cb", cb)},
                         {{"pads", ints({1, 1, 1, 1})}, {"strides", ints({2, 1})}});
  Tensor s(DType::F32, {8}), m(DType::F32, {8}), v(DType::F32, {8});
  for (int64_t k = 0; k < 8; ++k) { s.set_f64(k, 1.1); m.set_f64(k, 0.05 * double(k)); v.set_f64(k, 0.5 + 0.1 * double(k)); }
  y = b.node("BatchNormalization", {y, b.constant("s", s), b.constant("bb", cb), b.constant("m", m), b.constant("v", v)});
  y = b.node("Relu", {y});
  y = b.node("MaxPool", {y}, {{"kernel_shape", ints({3, 3})}, {"strides", ints({2, 2})}, {"pads", ints({1, 1, 1, 1})}});
  Tensor dw(DType::F32, {8, 1, 3, 3});
  for (int64_t k = 0; k < dw.numel(); ++k) dw.set_f64(k, 0.1 * double(k % 5));
  y = b.node("Conv", {y, b.constant("dw", dw)}, {{"group", i(8)}, {"pads", ints({1, 1, 1, 1})}});
  y = b.node("AveragePool", {y}, {{"kernel_shape", ints({2, 2})}, {"ceil_mode", i(1)}, {"strides", ints({2, 2})}});
  y = b.node("GlobalAveragePool", {y});
  y = b.node("Flatten", {y});
  Tensor fw(DType::F32, {10, 8});
  for (int64_t k = 0; k < fw.numel(); ++k) fw.set_f64(k, 0.05 * double(k % 7));
  y = b.node("Gemm", {y, b.constant("fw", fw), b.constant("fb", Tensor::from_vector<float>(DType::F32, {10}, std::vector<float>(10, 0.5f)))},
             {{"transB", i(1)}});
  b.output(y);
  const VkRun r = run_vulkan(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.cpu_blocks, 0u) << on_host(r);
}

// Pointwise convolutions (1x1, stride 1, no padding, one group): as a rows GEMM where the
// target runs GEMMs as rows (vec4 when channels and pixels are multiples of 4), direct
// otherwise, on 2-D and 1-D images, batches of two, with and without bias, with a fused
// epilogue; a strided 1x1 and a 3x3 stay direct.
struct PointwiseConvCase {
  const char* what;
  Shape x;
  int64_t out_channels;
  bool bias;
  std::map<std::string, Attribute> attrs;
  bool as_gemm;  // under GemmShape::Rows / RowsBroadcast
};

std::vector<PointwiseConvCase> pointwise_conv_cases() {
  return {
      {"vec4 12ch 5x8 -> 20ch, bias", {1, 12, 5, 8}, 20, true, {}, true},
      {"scalar 7ch 3x5 -> 9ch, batch 2", {2, 7, 3, 5}, 9, false, {}, true},
      {"vec4 1-D 8ch x12 -> 36ch", {1, 8, 12}, 36, true, {}, true},
      {"strided 1x1", {1, 8, 6, 6}, 8, true, {{"strides", Attribute::from_ints({2, 2})}}, false},
      {"3x3", {1, 4, 6, 6}, 8, true, {{"kernel_shape", Attribute::from_ints({3, 3})}}, false},
  };
}

Model pointwise_conv_model(const PointwiseConvCase& c) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, c.x);
  Shape ws = {c.out_channels, c.x[1]};
  const bool k3 = c.attrs.count("kernel_shape") != 0;
  for (size_t d = 2; d < c.x.size(); ++d) ws.push_back(k3 ? 3 : 1);
  Tensor w(DType::F32, ws);
  for (int64_t k = 0; k < w.numel(); ++k) w.set_f64(k, std::sin(double(k) * 0.7) * 0.3);
  std::vector<std::string> in = {x, b.constant("w", w)};
  if (c.bias) {
    Tensor bias(DType::F32, {c.out_channels});
    for (int64_t k = 0; k < c.out_channels; ++k) bias.set_f64(k, 0.05 * double(k) - 0.3);
    in.push_back(b.constant("bias", bias));
  }
  std::map<std::string, Attribute> attrs = c.attrs;
  attrs.erase("kernel_shape");
  const std::string y = b.node("Conv", in, attrs);
  b.output(b.node("Sigmoid", {y}));
  return b.finish();
}

// The emitter alone (no device): which convolutions become GEMMs under which shape.
TEST(VulkanGlsl, PointwiseConvolutionsBecomeRowsGemmsOnlyWhereTheyCan) {
  using codegen::glsl::GemmShape;
  for (const PointwiseConvCase& c : pointwise_conv_cases())
    for (const GemmShape shape : {GemmShape::Tiles, GemmShape::RowsBroadcast}) {
      SCOPED_TRACE(std::string(c.what) + ", shape " + std::to_string(int(shape)));
      Model m = pointwise_conv_model(c);
      const fusion::FusionPlan plan = dnnf::test::analytic_plan(m);
      ASSERT_EQ(plan.blocks.size(), 1u);
      codegen::glsl::Target t;
      t.local_size = 32;
      t.gemm = shape;
      t.subgroup_size = 8;
      std::string why;
      auto k = codegen::glsl::generate_shader(m.graph, plan.blocks[0], t, &why);
      ASSERT_TRUE(k.has_value()) << why;
      const bool gemm = k->source.find("subgroupBroadcast") != std::string::npos;
      EXPECT_EQ(gemm, c.as_gemm && shape != GemmShape::Tiles);
      EXPECT_EQ(k->source.find("vec4 b") != std::string::npos, gemm && std::string(c.what).rfind("vec4", 0) == 0);
    }
}

TEST(VulkanRuntime, PointwiseConvolutionsOfEveryGemmShapeMatchTheReference) {
  DNNF_REQUIRE_VULKAN();
  using codegen::glsl::GemmShape;
  for (const GemmShape shape : {GemmShape::Tiles, GemmShape::Rows, GemmShape::RowsBroadcast})
    for (const PointwiseConvCase& c : pointwise_conv_cases()) {
      SCOPED_TRACE(std::string(c.what) + ", shape " + std::to_string(int(shape)));
      const VkRun r = run_vulkan(pointwise_conv_model(c), true, 0, shape);
      EXPECT_TRUE(r.check.ok) << r.check.message;
      EXPECT_EQ(r.stats.cpu_blocks, 0u) << on_host(r);
      EXPECT_EQ(r.stats.dispatches, 1u);
    }
}

// Squeeze-excitation in front of a pointwise convolution, the EfficientNet projection:
// y = Sigmoid(Conv(x * Sigmoid(g))), g one factor per channel (and per image).
struct ChannelScaleCase {
  const char* what;
  Shape x;
  bool per_image;  // g is [N, C, 1...] rather than [1, C, 1...]
  bool pointwise;  // a 1x1, stride-1 Conv (else strided: the product stays in memory)
};

std::vector<ChannelScaleCase> channel_scale_cases() {
  return {
      {"vec4 12ch 5x8 -> 20ch", {1, 12, 5, 8}, false, true},
      {"scalar 7ch 3x5, per image, batch 2", {2, 7, 3, 5}, true, true},
      {"vec4 8ch 4x4, per image, batch 2", {2, 8, 4, 4}, true, true},
      {"1-D 8ch x12", {1, 8, 12}, false, true},
      {"strided 1x1", {1, 8, 6, 6}, false, false},
  };
}

Model channel_scale_model(const ChannelScaleCase& c) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, c.x);
  Shape gs(c.x.size(), 1);
  gs[0] = c.per_image ? c.x[0] : 1;
  gs[1] = c.x[1];
  const std::string g = b.input("g", DType::F32, gs);
  const int64_t oc = 20;
  Shape ws = {oc, c.x[1]};
  for (size_t d = 2; d < c.x.size(); ++d) ws.push_back(1);
  Tensor w(DType::F32, ws), bias(DType::F32, {oc});
  for (int64_t k = 0; k < w.numel(); ++k) w.set_f64(k, std::sin(double(k) * 0.7) * 0.3);
  for (int64_t k = 0; k < oc; ++k) bias.set_f64(k, 0.05 * double(k) - 0.3);
  std::map<std::string, Attribute> attrs;
  if (!c.pointwise) attrs["strides"] = ints({2, 2});
  const std::string scaled = b.node("Mul", {x, b.node("Sigmoid", {g})});
  b.output(b.node("Sigmoid", {b.node("Conv", {scaled, b.constant("w", w), b.constant("bias", bias)}, attrs)}));
  return b.finish();
}

// The plan and the layout (no device): the Vulkan target fuses the Mul into a pointwise
// Conv, whose shaders never hold the product; the CPU target and a strided Conv keep the
// table's break.
TEST(VulkanGlsl, ChannelScaleIsReadWithTheWeightsNotStored) {
  using codegen::glsl::GemmShape;
  for (const ChannelScaleCase& c : channel_scale_cases())
    for (const std::string target : {"cpu", "vulkan"}) {
      SCOPED_TRACE(std::string(c.what) + ", target " + target);
      Model m = channel_scale_model(c);
      const fusion::FusionPlan plan = dnnf::test::analytic_plan(m, true, target);
      const Node *mul = nullptr, *conv = nullptr;
      for (const Node& n : m.graph.nodes) {
        if (n.op_type == "Mul") mul = &n;
        if (n.op_type == "Conv") conv = &n;
      }
      ASSERT_TRUE(mul && conv);
      const int blk = plan.block_of.at(conv->id);
      const bool fused = plan.block_of.at(mul->id) == blk;
      EXPECT_EQ(fused, target == "vulkan" && c.pointwise);
      if (!fused) continue;
      std::string why;
      const auto layout = codegen::plan_block(m.graph, plan.blocks[size_t(blk)], &why, /*scaled_inputs=*/true);
      ASSERT_TRUE(layout.has_value()) << why;
      for (const codegen::KernelBuffer& buf : layout->buffers) EXPECT_NE(buf.value, mul->outputs[0]);
      for (const GemmShape shape : {GemmShape::Tiles, GemmShape::RowsBroadcast}) {
        codegen::glsl::Target t;
        t.local_size = 32;
        t.gemm = shape;
        t.subgroup_size = 8;
        auto k = codegen::glsl::generate_shader(m.graph, plan.blocks[size_t(blk)], t, &why);
        ASSERT_TRUE(k.has_value()) << why;
      }
    }
}

TEST(VulkanRuntime, ChannelScaledConvolutionsOfEveryShapeMatchTheReference) {
  DNNF_REQUIRE_VULKAN();
  using codegen::glsl::GemmShape;
  for (const GemmShape shape : {GemmShape::Tiles, GemmShape::Rows, GemmShape::RowsBroadcast})
    for (const bool texel : {false, true})
      for (const ChannelScaleCase& c : channel_scale_cases()) {
        SCOPED_TRACE(std::string(c.what) + ", shape " + std::to_string(int(shape)) + (texel ? ", texel" : ""));
        const VkRun r =
            run_vulkan(channel_scale_model(c), true, 0, shape, std::nullopt, texel, /*target=*/"vulkan");
        EXPECT_TRUE(r.check.ok) << r.check.message;
        EXPECT_EQ(r.stats.cpu_blocks, 0u) << on_host(r);
      }
}

TEST(VulkanRuntime, ConcatSlicePadGatherResizeAreIndexRewrites) {
  DNNF_REQUIRE_VULKAN();
  GraphBuilder b(13);
  const std::string x = b.input("x", DType::F32, Shape{2, 4, 9});
  const std::string y = b.input("y", DType::F32, Shape{2, 3, 9});
  std::string c = b.node("Concat", {x, y}, {{"axis", i(1)}});
  c = b.node("Slice", {c, b.constant("st", Tensor::vector_i64({1, 2})), b.constant("en", Tensor::vector_i64({7, 9})),
                       b.constant("ax", Tensor::vector_i64({1, 2}))});
  c = b.node("Pad", {c, b.constant("pads", Tensor::vector_i64({0, 1, 2, 0, 0, 3}))});
  b.output(b.node("Exp", {c}));
  const std::string table = b.input("table", DType::F32, Shape{11, 6});
  const std::string ids = b.constant("ids", Tensor::vector_i64({3, -1, 0, 10, 4}));
  b.output(b.node("Add", {b.node("Gather", {table, ids}, {{"axis", i(0)}}), b.scalar("one", 1.0f)}));
  const std::string img = b.input("img", DType::F32, Shape{1, 2, 5, 7});
  const std::string roi = b.constant("roi", Tensor(DType::F32, {0}));
  const std::string odd = b.constant("odd", Tensor::from_vector<float>(DType::F32, {4}, {1, 1, 1.7f, 0.6f}));
  b.output(b.node("Resize", {img, roi, odd}, {{"mode", Attribute::from_string("nearest")}}));
  b.output(b.node("Less", {x, b.scalar("half", 0.5f)}));
  const VkRun r = run_vulkan(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.cpu_blocks, 0u) << on_host(r);
}

TEST(VulkanRuntime, NoFusionRunsOneDispatchPerOperator) {
  DNNF_REQUIRE_VULKAN();
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{4, 16});
  b.output(b.node("Exp", {b.node("Neg", {b.node("Abs", {x})})}));
  const Model m = b.finish();
  const VkRun fused = run_vulkan(m, true), unfused = run_vulkan(m, false);
  EXPECT_TRUE(fused.check.ok && unfused.check.ok);
  EXPECT_EQ(fused.stats.dispatches, 1u);
  EXPECT_EQ(unfused.stats.dispatches, 3u);
  EXPECT_EQ(unfused.stats.submits, 1u);  // one command buffer for the whole inference
}

TEST(VulkanRuntime, UnsupportedOperatorsRunOnTheHostAndSayWhy) {
  DNNF_REQUIRE_VULKAN();
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{3, 8});
  const std::string e = b.node("Exp", {x});
  const std::string k = b.constant("k", Tensor::vector_i64({2}));
  const std::string top = b.node("TopK", {e, k}, {{"axis", i(1)}}, 2);
  b.output(b.node("Sqrt", {top}));
  const VkRun r = run_vulkan(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  ASSERT_FALSE(r.stats.cpu_reasons.empty());
  EXPECT_NE(r.stats.cpu_reasons[0].find("TopK"), std::string::npos) << r.stats.cpu_reasons[0];
  EXPECT_GE(r.stats.shader_blocks, 1u);
}

TEST(VulkanRuntime, IdenticalBlocksShareOnePipeline) {
  DNNF_REQUIRE_VULKAN();
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{4, 16});
  const std::string y = b.input("y", DType::F32, Shape{4, 16});
  b.output(b.node("Tanh", {b.node("Mul", {x, b.scalar("a", 2.0f)})}));
  b.output(b.node("Tanh", {b.node("Mul", {y, b.scalar("c", 2.0f)})}));
  const VkRun r = run_vulkan(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.shader_blocks, 2u);
  EXPECT_EQ(r.stats.unique_shaders, 1u);
}

// Both ways of reading, on whatever device exists: storage buffers only, and texel
// buffers for inputs and for values earlier stages wrote (validation on: the texel
// views and their descriptors are valid usage).
TEST(VulkanRuntime, TexelAndStorageReadsMatchTheReference) {
  DNNF_REQUIRE_VULKAN();
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{2, 6, 40});
  Tensor w(DType::F32, {40, 24});
  for (int64_t k = 0; k < w.numel(); ++k) w.set_f64(k, std::cos(double(k)) * 0.2);
  const std::string y = b.node("MatMul", {x, b.constant("w", w)});
  b.output(b.node("Softmax", {b.node("Mul", {y, b.node("Sigmoid", {y})})}, {{"axis", i(-1)}}));
  const Model gemm_softmax = b.finish();
  for (const bool texel : {false, true})
    for (const Model& model : {gemm_softmax, silu_pool_model()}) {
      SCOPED_TRACE(texel ? "texel reads" : "storage reads");
      VkRun r;
      try {
        r = run_vulkan(model, true, /*validation=*/texel ? 1 : 0, std::nullopt, std::nullopt, texel);
      } catch (const Error& e) {
        if (std::string(e.what()).find("not installed") != std::string::npos) GTEST_SKIP() << e.what();
        throw;
      }
      EXPECT_TRUE(r.check.ok) << r.check.message;
      EXPECT_EQ(r.stats.cpu_blocks, 0u) << on_host(r);
      EXPECT_EQ(r.validation_errors, 0u);
    }
}

TEST(VulkanRuntime, ValidationLayersReportNoErrors) {
  DNNF_REQUIRE_VULKAN();
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{2, 7, 33});
  Tensor w(DType::F32, {33, 20});
  for (int64_t k = 0; k < w.numel(); ++k) w.set_f64(k, std::cos(double(k)) * 0.1);
  std::string y = b.node("MatMul", {x, b.constant("w", w)});
  y = b.node("Softmax", {y}, {{"axis", i(-1)}});
  const std::string k = b.constant("k", Tensor::vector_i64({3}));
  b.output(b.node("Abs", {b.node("TopK", {y, k}, {{"axis", i(2)}}, 2)}));  // a host block between two submits
  Model m = b.finish();
  VkRun r;
  try {
    r = run_vulkan(m, true, /*validation=*/1);
  } catch (const Error& e) {
    if (std::string(e.what()).find("not installed") != std::string::npos) GTEST_SKIP() << e.what();
    throw;
  }
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_TRUE(r.validation_on);
  EXPECT_EQ(r.validation_errors, 0u);
  EXPECT_GE(r.stats.submits, 2u);
}

// The messenger counts what the layer reports: a buffer of size 0 is invalid usage
// (VUID-VkBufferCreateInfo-size-00912), so the count must go up. Without this the test
// above could pass with a messenger that never fires.
TEST(VulkanRuntime, ValidationMessengerCountsAnInvalidCall) {
  DNNF_REQUIRE_VULKAN();
  std::unique_ptr<vk::Context> cx;
  try {
    vk::ContextOptions o;
    o.validation = 1;
    cx = std::make_unique<vk::Context>(o);
  } catch (const Error& e) {
    if (std::string(e.what()).find("not installed") != std::string::npos) GTEST_SKIP() << e.what();
    throw;
  }
  ASSERT_TRUE(cx->validation());
  EXPECT_EQ(cx->validation_errors(), 0u);
  auto bi = vk::make_info<VkBufferCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
  bi.size = 0;
  bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
  bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VkBuffer buffer = VK_NULL_HANDLE;
  const VkResult r = cx->vk().vkCreateBuffer(cx->device(), &bi, nullptr, &buffer);
  if (r == VK_SUCCESS && buffer) cx->vk().vkDestroyBuffer(cx->device(), buffer, nullptr);
  EXPECT_GE(cx->validation_errors(), 1u);
}

TEST(VulkanRuntime, ShaderCacheReturnsTheSameSpirv) {  // shaderc only: no device needed
  const std::string src = "#version 450\nlayout(local_size_x = 1) in;\nvoid main() {}\n";
  const vk::SpirvResult a = vk::compile_glsl(src, "empty");
  const vk::SpirvResult b = vk::compile_glsl(src, "empty");
  EXPECT_TRUE(b.cached);
  EXPECT_EQ(a.words, b.words);
  EXPECT_THROW(vk::compile_glsl("#version 450\nvoid main() { undefined_name(); }\n", "bad"), Error);
}

// compile_glsl shares one shaderc compiler across the process (its built-in tables
// are set up once, not per shader), so compiles from several threads must give what a
// lone compile gives.
TEST(VulkanRuntime, ConcurrentCompilesMatchSequentialOnes) {  // shaderc only
  test::TempDir dir;
  setenv("DNNF_SHADER_CACHE", dir.file("cold").c_str(), 1);  // nothing cached: every call compiles
  std::vector<std::string> sources;
  for (int i = 0; i < 8; ++i)
    sources.push_back("#version 450\nlayout(local_size_x = " + std::to_string(i + 1) +
                      ") in;\nlayout(std430, binding = 0) buffer B { float b[]; };\nvoid main() { b[gl_LocalInvocationID.x] = " +
                      std::to_string(i) + ".0; }\n");
  std::vector<std::vector<uint32_t>> parallel(sources.size());
  {
    std::vector<std::thread> threads;
    for (size_t t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (size_t i = t; i < sources.size(); i += 4) parallel[i] = vk::compile_glsl(sources[i], "p").words;
      });
    for (std::thread& th : threads) th.join();
  }
  setenv("DNNF_SHADER_CACHE", dir.file("cold2").c_str(), 1);
  for (size_t i = 0; i < sources.size(); ++i) {
    const vk::SpirvResult one = vk::compile_glsl(sources[i], "s");
    EXPECT_FALSE(one.cached);
    EXPECT_EQ(one.words, parallel[i]) << "shader " << i;
  }
  unsetenv("DNNF_SHADER_CACHE");
}

TEST(VulkanRuntime, DumpGlslKeepsEachShaderSourceBesideItsKey) {  // shaderc only
  test::TempDir dir;
  const std::string dump = dir.file("glsl");
  setenv("DNNF_DUMP_GLSL", dump.c_str(), 1);
  const std::string src = "#version 450\nlayout(local_size_x = 2) in;\nvoid main() {}\n";
  vk::compile_glsl(src, "dumped");
  vk::compile_glsl(src, "dumped");  // from the cache: dumped all the same
  unsetenv("DNNF_DUMP_GLSL");
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dump)) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].extension(), ".comp");
  std::ifstream in(files[0]);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), src);
  // The cached SPIR-V has the same name.
  EXPECT_TRUE(std::filesystem::exists(vk::shader_cache_dir() + "/" + files[0].stem().string() + ".spv"));
}

#endif  // DNNF_HAVE_VULKAN

}  // namespace
}  // namespace dnnf
