// The CPU backend end to end on small hand-built graphs: fusion plan -> generated
// kernels -> run, checked against the reference executor (rtol 1e-4, atol 1e-5).
#include <gtest/gtest.h>

#include "core/codegen/block_codegen.h"
#include "core/pipeline/pipeline.h"
#include "core/runtime/compare.h"
#include "core/runtime/cpu_runtime.h"
#include "core/runtime/random_inputs.h"
#include "tests/support/rule_test_util.h"

namespace dnnf {
namespace {

using test::GraphBuilder;

struct CpuRun {
  CpuRuntimeStats stats;
  fusion::FusionPlan plan;
  CompareResult check;
  size_t peak = 0;  // peak activation bytes
  Graph graph;      // the graph the plan is for (rewritten when asked)
};

Attribute ints(std::vector<int64_t> v) { return Attribute::from_ints(std::move(v)); }
Attribute i(int64_t v) { return Attribute::from_int(v); }

CpuRun run_cpu(const Model& model, bool fusion = true, int threads = 2, bool rewrite = false) {
  Model m = model;
  PipelineOptions po;
  po.rewrite = rewrite;
  po.fusion = fusion;
  po.use_db = false;
  po.measure = false;  // the analytic estimate keeps plans deterministic (timings are noisy)
  CpuRun r;
  r.plan = run_pipeline(m, po).plan;
  CpuRuntimeOptions ro;
  ro.threads = threads;
  CpuProgram program(m.graph, r.plan, ro);
  RandomInputOptions ri;
  ri.seed = 7;
  const TensorMap inputs = make_random_inputs(model.graph, ri);
  const TensorMap got = program.run(inputs);
  const TensorMap want = ReferenceExecutor(model.graph).run(inputs);
  r.check.ok = true;
  for (const ValueInfo& o : model.graph.outputs) {
    CompareResult c = compare_tensors(got.at(o.name), want.at(o.name), {1e-4, 1e-5});
    if (!c.ok) {
      r.check = c;
      r.check.message = o.name + ": " + c.message;
      break;
    }
  }
  r.stats = program.stats();
  r.peak = program.peak_activation_bytes();
  r.graph = m.graph;
  return r;
}

// Shapes of the block-local buffers of a block's generated kernel (empty when it cannot
// be generated, which fails the test).
std::vector<std::vector<int64_t>> scratch_shapes(const Graph& g, const fusion::FusedBlock& block) {
  std::string why;
  const std::optional<codegen::BlockKernel> k = codegen::generate_block(g, block, &why);
  EXPECT_TRUE(k) << why;
  std::vector<std::vector<int64_t>> shapes;
  if (k)
    for (const codegen::KernelBuffer& kb : k->buffers)
      if (kb.role == codegen::BufferRole::Scratch) shapes.push_back(kb.shape);
  return shapes;
}

std::string why_interpreted(const CpuRun& r);

// Runs `m` fused against the reference. With `group` (the one block-local buffer of a
// chain), its two Many-to-Many operators and their epilogues are one block holding just
// that buffer; without, they stay two blocks.
void expect_chain(const Model& m, const std::optional<std::vector<int64_t>>& group) {
  const CpuRun r = run_cpu(m);
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.interpreted_blocks, 0u) << why_interpreted(r);
  if (!group) {
    EXPECT_EQ(r.plan.blocks.size(), 2u);
    return;
  }
  ASSERT_EQ(r.plan.blocks.size(), 1u) << "the two Many-to-Many operators and their epilogues are one block";
  EXPECT_EQ(scratch_shapes(m.graph, r.plan.blocks[0]), std::vector<std::vector<int64_t>>{*group});
}

std::string why_interpreted(const CpuRun& r) {
  std::string s;
  for (const std::string& w : r.stats.interpreted_reasons) s += w + "; ";
  return s;
}

TEST(CpuRuntime, ElementwiseChainWithBroadcastIsOneGeneratedKernel) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{2, 3, 37});
  const std::string bias = b.constant("bias", Tensor::from_vector<float>(DType::F32, {37}, std::vector<float>(37, 0.25f)));
  std::string y = b.node("Add", {x, bias});
  y = b.node("Relu", {y});
  y = b.node("Mul", {y, b.scalar("k", 1.5f)});
  y = b.node("Sigmoid", {y});
  b.output(y);
  const CpuRun r = run_cpu(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.blocks, 1u);
  EXPECT_EQ(r.stats.generated_blocks, 1u) << why_interpreted(r);
}

TEST(CpuRuntime, MatMulWithBiasAndGeluRunsTheChainInTheGemmEpilogue) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{2, 5, 24});
  Tensor w(DType::F32, {24, 40});
  for (int64_t k = 0; k < w.numel(); ++k) w.set_f64(k, std::sin(double(k)) * 0.3);
  std::string y = b.node("MatMul", {x, b.constant("w", w)});
  Tensor bias(DType::F32, {40});
  for (int64_t k = 0; k < 40; ++k) bias.set_f64(k, 0.01 * double(k));
  y = b.node("Add", {y, b.constant("bias", bias)});
  y = b.node("Gelu", {y}, {}, 1, "dnnf");
  b.output(y);
  const CpuRun r = run_cpu(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.blocks, 1u);
  EXPECT_EQ(r.stats.generated_blocks, 1u) << why_interpreted(r);
  EXPECT_GE(r.stats.merged_epilogues, 1u);
}

TEST(CpuRuntime, AttentionHeadsReshapeTransposeSoftmax) {
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
  s = b.node("Mul", {s, b.scalar("two", 2.0f)});
  b.output(s);
  const CpuRun r = run_cpu(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.interpreted_blocks, 0u) << why_interpreted(r);
}

// The Attention kernel takes 8, 4, 2 or 1 query rows per task, the most that divide the
// query count (the rows share each K and V vector loaded): 16, 12, 6 and 5 queries take
// each path. Heads of 26 values (TinyBERT's) end in a partial vector at every width,
// which runs as one more vector overlapping the one before.
TEST(CpuRuntime, AttentionCompositeIsOneKernelOverBlocksOfQueryRows) {
  const std::pair<int64_t, int64_t> cases[] = {{16, 8}, {12, 8}, {6, 8}, {5, 8}, {12, 26}, {5, 26}};
  for (const auto& [sq, dv] : cases) {
    SCOPED_TRACE(std::to_string(sq) + " queries, head size " + std::to_string(dv));
    GraphBuilder b;
    const std::string q = b.input("q", DType::F32, Shape{2, 3, sq, dv});
    const std::string kt = b.input("kt", DType::F32, Shape{2, 3, dv, 21});
    const std::string v = b.input("v", DType::F32, Shape{2, 3, 21, dv});
    Tensor mask(DType::F32, {2, 1, sq, 21});
    for (int64_t k = 0; k < mask.numel(); ++k) mask.set_f64(k, k % 4 == 0 || k % 7 == 3 ? -10000.0 : 0.0);
    const std::string y = b.node("Attention", {q, kt, v, b.constant("mask", mask)},
                                 {{"scale", Attribute::from_float(0.35f)}}, 1, "dnnf");
    b.output(b.node("Add", {y, b.scalar("one", 1.0f)}));
    const CpuRun r = run_cpu(b.finish());
    EXPECT_TRUE(r.check.ok) << r.check.message;
    EXPECT_EQ(r.stats.blocks, 1u);
    EXPECT_EQ(r.stats.generated_blocks, 1u) << why_interpreted(r);
  }
}

// An Attention followed by Transpose(0, 2, 1, 3) (BERT's heads merged back) stores its
// result at the transposed address: the untransposed [2, 3, 12, 8] tensor is never in
// memory. Also through an Add of its epilogue (computed where it is stored, or kept in
// memory as well), and with a Reshape after the Transpose. A Transpose moving the last
// axis reads the stored result instead.
TEST(CpuRuntime, AttentionStoresItsResultTransposed) {
  struct Case {
    const char* what;
    std::vector<int64_t> perm;
    bool add, add_output, reshape;
  };
  const Shape attn_shape{2, 3, 12, 8};
  for (const Case& c : {Case{"heads merged", {0, 2, 1, 3}, false, false, false},
                        Case{"through an Add", {0, 2, 1, 3}, true, false, false},
                        Case{"through an Add also stored", {0, 2, 1, 3}, true, true, false},
                        Case{"reshaped after", {1, 2, 0, 3}, true, false, true},
                        Case{"last axis moved", {0, 1, 3, 2}, false, false, false}}) {
    SCOPED_TRACE(c.what);
    GraphBuilder b;
    const std::string q = b.input("q", DType::F32, Shape{2, 3, 12, 8});
    const std::string kt = b.input("kt", DType::F32, Shape{2, 3, 8, 21});
    const std::string v = b.input("v", DType::F32, Shape{2, 3, 21, 8});
    std::string y = b.node("Attention", {q, kt, v}, {{"scale", Attribute::from_float(0.35f)}}, 1, "dnnf");
    if (c.add) y = b.node("Add", {y, b.scalar("one", 1.0f)});
    if (c.add_output) b.output(y);
    std::string t = b.node("Transpose", {y}, {{"perm", ints(c.perm)}});
    if (c.reshape) t = b.node("Reshape", {t, b.constant("shape", Tensor::vector_i64({3, 12, 16}))});
    b.output(t);
    const Model m = b.finish();
    const CpuRun r = run_cpu(m);
    EXPECT_TRUE(r.check.ok) << r.check.message;
    ASSERT_EQ(r.plan.blocks.size(), 1u);
    EXPECT_EQ(r.stats.interpreted_blocks, 0u) << why_interpreted(r);
    const bool moved = c.perm.back() != 3;
    EXPECT_EQ(scratch_shapes(m.graph, r.plan.blocks[0]),
              moved ? std::vector<std::vector<int64_t>>{attn_shape} : std::vector<std::vector<int64_t>>{});
  }
}

TEST(CpuRuntime, LayerNormalizationAndReductions) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{3, 5, 48});
  Tensor g(DType::F32, {48}), be(DType::F32, {48});
  for (int64_t k = 0; k < 48; ++k) { g.set_f64(k, 1 + 0.01 * double(k)); be.set_f64(k, -0.02 * double(k)); }
  const std::string ln = b.node("LayerNormalization", {x, b.constant("g", g), b.constant("b", be)},
                                {{"axis", i(-1)}, {"epsilon", Attribute::from_float(1e-5f)}});
  b.output(b.node("Tanh", {ln}));
  b.output(b.node("ReduceMean", {x}, {{"axes", ints({1})}, {"keepdims", i(0)}}));
  b.output(b.node("ReduceMax", {x}, {{"axes", ints({2})}, {"keepdims", i(1)}}));
  b.output(b.node("Softmax", {x}, {{"axis", i(1)}}));
  const CpuRun r = run_cpu(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.interpreted_blocks, 0u) << why_interpreted(r);
}

TEST(CpuRuntime, ConvBatchNormReluPoolAndClassifier) {
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
  const CpuRun r = run_cpu(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.interpreted_blocks, 0u) << why_interpreted(r);
}

TEST(CpuRuntime, Conv3dRunsAsSlabsOfTwoDimensionalConvolutions) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{2, 3, 5, 7, 6});
  Tensor w(DType::F32, {4, 3, 3, 3, 3}), cb(DType::F32, {4});
  for (int64_t k = 0; k < w.numel(); ++k) w.set_f64(k, std::sin(0.37 * double(k)) * 0.2);
  for (int64_t k = 0; k < 4; ++k) cb.set_f64(k, 0.05 * double(k));
  std::string y = b.node("Conv", {x, b.constant("w", w), b.constant("cb", cb)},
                         {{"pads", ints({1, 0, 1, 1, 0, 1})}, {"strides", ints({2, 1, 1})}});
  b.output(b.node("Relu", {y}));
  const CpuRun r = run_cpu(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.blocks, 1u);
  EXPECT_EQ(r.stats.interpreted_blocks, 0u) << why_interpreted(r);
}

// A temporal convolution (KD x 1 x 1, no spatial stride or padding) runs as one KD x 1
// 2-D convolution per output depth over the input as it is: no slab is copied. The
// cases: S3D's 7 x 1 x 1 stride 2, dilation with uneven padding, two images.
TEST(CpuRuntime, TemporalConv3dReadsTheInputWithoutASlab) {
  struct Case {
    Shape x;
    int64_t oc, kd, stride, dilation, pad_front, pad_back;
  };
  const std::vector<Case> cases = {
      {{1, 5, 9, 6, 7}, 6, 7, 2, 1, 3, 3},
      {{1, 4, 8, 5, 5}, 3, 3, 1, 2, 0, 3},
      {{2, 3, 4, 3, 9}, 5, 3, 1, 1, 1, 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "kd " << c.kd << " stride " << c.stride << " dilation " << c.dilation);
    GraphBuilder b;
    const std::string x = b.input("x", DType::F32, c.x);
    Tensor w(DType::F32, {c.oc, c.x[1], c.kd, 1, 1}), cb(DType::F32, {c.oc});
    for (int64_t k = 0; k < w.numel(); ++k) w.set_f64(k, std::sin(0.41 * double(k)) * 0.3);
    for (int64_t k = 0; k < c.oc; ++k) cb.set_f64(k, 0.1 * double(k));
    const std::string y = b.node("Conv", {x, b.constant("w", w), b.constant("cb", cb)},
                                 {{"pads", ints({c.pad_front, 0, 0, c.pad_back, 0, 0})},
                                  {"strides", ints({c.stride, 1, 1})},
                                  {"dilations", ints({c.dilation, 1, 1})}});
    b.output(b.node("Relu", {y}));
    const Model m = b.finish();
    const CpuRun r = run_cpu(m);
    EXPECT_TRUE(r.check.ok) << r.check.message;
    ASSERT_EQ(r.plan.blocks.size(), 1u);
    std::string why;
    const std::optional<codegen::BlockKernel> k = codegen::generate_block(r.graph, r.plan.blocks[0], &why);
    ASSERT_TRUE(k) << why;
    EXPECT_EQ(k->code.find("slab"), std::string::npos);
  }
}

// Pooling folds the other dims' taps into a row buffer, then reduces each output's taps
// along the row from it, vectorised over the outputs whose window lies inside the input
// and counting taps at the ends. Rows of 37 and more outputs take both paths at every
// vector width; the cases cover 1-D, 2-D and 3-D windows, strides (a gather per tap),
// dilations, ceil_mode, both padding counts, and rows longer than one buffer (chunks of
// about 4096 input elements, the last one short).
TEST(CpuRuntime, PoolingRowsMatchTheReferenceInsideAndAtTheEnds) {
  struct Case {
    std::string op;
    Shape x;
    std::vector<int64_t> kernel, strides, pads, dilations;
    int64_t ceil_mode = 0, include_pad = 0;
  };
  const std::vector<Case> cases = {
      {"MaxPool", {1, 3, 41}, {3}, {1}, {1, 1}, {1}},
      {"MaxPool", {2, 3, 9, 43}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}},
      {"MaxPool", {1, 2, 7, 40}, {2, 5}, {1, 3}, {0, 2, 1, 0}, {1, 2}, 1},
      {"MaxPool", {1, 4, 5, 6, 37}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1, 1, 1, 1}, {1, 1, 1}},
      {"MaxPool", {1, 2, 4, 9, 38}, {1, 3, 3}, {1, 2, 2}, {0, 1, 1, 0, 1, 1}, {1, 1, 1}},
      {"AveragePool", {1, 3, 8, 45}, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}},
      {"AveragePool", {1, 3, 8, 45}, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 0, 1},
      {"AveragePool", {1, 2, 7, 39}, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 1},
      {"MaxPool", {1, 2, 5, 3}, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}},  // no interior at all
      {"MaxPool", {1, 2, 5, 6, 33}, {2, 3, 3}, {2, 2, 3}, {0, 1, 1, 1, 0, 2}, {1, 1, 2}, 1},
      {"AveragePool", {1, 2, 5, 7, 31}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1, 1, 1, 1}, {1, 1, 1}, 1, 1},
      {"MaxPool", {1, 2, 9000}, {3}, {2}, {1, 1}, {1}},                      // three chunks
      {"AveragePool", {1, 1, 8300}, {4}, {3}, {2, 2}, {1}, 1, 1},            // three chunks, ceil_mode
      {"MaxPool", {1, 1, 2, 8200}, {2, 3}, {1, 1}, {1, 1, 0, 1}, {1, 2}},    // dilated across chunks
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op + " over " + std::to_string(c.x.size() - 2) + "-D, row of " + std::to_string(c.x.back()));
    GraphBuilder b;
    const std::string x = b.input("x", DType::F32, c.x);
    std::map<std::string, Attribute> attrs = {
        {"kernel_shape", ints(c.kernel)}, {"strides", ints(c.strides)}, {"pads", ints(c.pads)}, {"ceil_mode", i(c.ceil_mode)}};
    if (c.op == "MaxPool") attrs["dilations"] = ints(c.dilations);
    else attrs["count_include_pad"] = i(c.include_pad);
    // A Relu before and an Add after: the pool reads through one and stores through the other.
    const std::string y = b.node(c.op, {b.node("Relu", {x})}, attrs);
    b.output(b.node("Add", {y, b.scalar("k", 0.5f)}));
    const CpuRun r = run_cpu(b.finish());
    EXPECT_TRUE(r.check.ok) << r.check.message;
    EXPECT_EQ(r.stats.blocks, 1u);
    EXPECT_EQ(r.stats.interpreted_blocks, 0u) << why_interpreted(r);
  }
}

// A window wider than the generated loop's row buffer allows runs on the reference kernel.
TEST(CpuRuntime, PoolingWindowWiderThanTheRowLimitRunsOnTheReferenceKernel) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1, 1, 70003});
  b.output(b.node("MaxPool", {x}, {{"kernel_shape", ints({70000})}, {"strides", ints({2})}}));
  const CpuRun r = run_cpu(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.interpreted_blocks, 1u);
}

// S3D's inception join: the MaxPool reads the Concat of two ReLUs inside its block while
// the Concat is also a block output.
TEST(CpuRuntime, PoolingReadsThroughAConcatInItsBlock) {
  GraphBuilder b;
  const std::string x1 = b.input("x1", DType::F32, Shape{1, 3, 4, 6, 35});
  const std::string x2 = b.input("x2", DType::F32, Shape{1, 5, 4, 6, 35});
  const std::string cat = b.node("Concat", {b.node("Relu", {x1}), b.node("Relu", {x2})}, {{"axis", i(1)}});
  b.output(cat);
  b.output(b.node("MaxPool", {cat}, {{"kernel_shape", ints({3, 3, 3})}, {"pads", ints({1, 1, 1, 1, 1, 1})}}));
  const CpuRun r = run_cpu(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.interpreted_blocks, 0u) << why_interpreted(r);
}

TEST(CpuRuntime, NearestResizeIsAnIndexMap) {
  GraphBuilder b(13);
  const std::string x = b.input("x", DType::F32, Shape{1, 2, 5, 7});
  const std::string roi = b.constant("roi", Tensor(DType::F32, {0}));
  const std::string up = b.constant("up", Tensor::from_vector<float>(DType::F32, {4}, {1, 1, 2, 2}));
  const std::string odd = b.constant("odd", Tensor::from_vector<float>(DType::F32, {4}, {1, 1, 1.7f, 0.6f}));
  b.output(b.node("Relu", {b.node("Resize", {x, roi, up}, {{"mode", Attribute::from_string("nearest")},
                                                          {"coordinate_transformation_mode", Attribute::from_string("asymmetric")},
                                                          {"nearest_mode", Attribute::from_string("floor")}})}));
  b.output(b.node("Resize", {x, roi, odd}, {{"mode", Attribute::from_string("nearest")}}));
  const CpuRun r = run_cpu(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.interpreted_blocks, 0u) << why_interpreted(r);
}

TEST(CpuRuntime, ConcatSlicePadGatherAreIndexRewrites) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{2, 4, 9});
  const std::string y = b.input("y", DType::F32, Shape{2, 3, 9});
  std::string c = b.node("Concat", {x, y}, {{"axis", i(1)}});
  c = b.node("Slice", {c, b.constant("st", Tensor::vector_i64({1, 2})), b.constant("en", Tensor::vector_i64({7, 9})),
                       b.constant("ax", Tensor::vector_i64({1, 2}))});
  c = b.node("Pad", {c, b.constant("pads", Tensor::vector_i64({0, 1, 2, 0, 0, 3}))});
  c = b.node("Exp", {c});
  b.output(c);
  const std::string table = b.input("table", DType::F32, Shape{11, 6});
  const std::string ids = b.constant("ids", Tensor::vector_i64({3, -1, 0, 10, 4}));
  b.output(b.node("Add", {b.node("Gather", {table, ids}, {{"axis", i(0)}}), b.scalar("one", 1.0f)}));
  b.output(b.node("Concat", {x, x}, {{"axis", i(2)}}));
  const CpuRun r = run_cpu(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.interpreted_blocks, 0u) << why_interpreted(r);
}

// A squeeze-excitation gate: the per-channel sigmoid of a 1x1 convolution, broadcast
// over the feature map. The block keeps the gate in memory (computed once per channel)
// instead of evaluating the sigmoid at every pixel.
TEST(CpuRuntime, BroadcastGateIsComputedOnceAndKeptInMemory) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1, 8, 6, 6});
  const std::string pooled = b.input("pooled", DType::F32, Shape{1, 8, 1, 1});
  Tensor w(DType::F32, {8, 8, 1, 1});
  for (int64_t k = 0; k < w.numel(); ++k) w.set_f64(k, std::sin(double(k)) * 0.4);
  const std::string conv = b.node("Conv", {pooled, b.constant("w", w)});
  const std::string gate = b.node("Sigmoid", {conv});
  b.output(b.node("Mul", {x, gate}));
  Model m = b.finish();
  const CpuRun r = run_cpu(m);
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.interpreted_blocks, 0u) << why_interpreted(r);
  ASSERT_EQ(r.plan.blocks.size(), 1u);
  std::string why;
  const auto layout = codegen::plan_block(m.graph, r.plan.blocks[0], &why);
  ASSERT_TRUE(layout.has_value()) << why;
  bool gate_in_memory = false;
  for (const codegen::KernelBuffer& buf : layout->buffers)
    if (buf.value == gate && buf.role == codegen::BufferRole::Scratch) gate_in_memory = true;
  EXPECT_TRUE(gate_in_memory) << "the gate would be recomputed at every pixel";
}

TEST(CpuRuntime, NoFusionRunsOneKernelPerOperator) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{4, 16});
  std::string y = b.node("Exp", {b.node("Neg", {b.node("Abs", {x})})});
  b.output(y);
  const Model m = b.finish();
  const CpuRun fused = run_cpu(m, true), unfused = run_cpu(m, false);
  EXPECT_TRUE(fused.check.ok && unfused.check.ok);
  EXPECT_EQ(fused.stats.blocks, 1u);
  EXPECT_EQ(unfused.stats.blocks, 3u);
  EXPECT_EQ(unfused.stats.generated_blocks, 3u);
}

// Large graph outputs (1 MB and more) are written straight into tensors the next run
// writes into again, unless the caller still holds them: a held result must never change
// under the caller.
TEST(CpuRuntime, LargeGraphOutputsAreReusedByTheNextRunOnlyWhenNoLongerHeld) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1024, 256});
  std::vector<float> w(256 * 256);
  for (size_t k = 0; k < w.size(); ++k) w[k] = float(k % 7) * 0.0125f - 0.0375f;
  const std::string weight = b.constant("w", Tensor::from_vector<float>(DType::F32, {256, 256}, w));
  const std::string h = b.node("MatMul", {x, weight});
  b.output(h);  // an output also read by the next operator
  b.output(b.node("Tanh", {b.node("MatMul", {h, weight})}));
  const Model m = b.finish();
  PipelineOptions po;
  po.use_db = false;
  po.measure = false;
  Model planned = m;
  const fusion::FusionPlan plan = run_pipeline(planned, po).plan;
  CpuRuntimeOptions ro;
  ro.threads = 2;
  CpuProgram program(planned.graph, plan, ro);
  ASSERT_EQ(program.stats().interpreted_blocks, 0u);
  ASSERT_EQ(program.stats().direct_outputs, 2u) << "both outputs are 1 MB, written outside the arena";
  RandomInputOptions ri;
  ri.seed = 3;
  const TensorMap in_a = make_random_inputs(m.graph, ri);
  ri.seed = 4;
  const TensorMap in_b = make_random_inputs(m.graph, ri);
  const TensorMap want_a = ReferenceExecutor(m.graph).run(in_a), want_b = ReferenceExecutor(m.graph).run(in_b);
  const auto expect_matches = [&](const TensorMap& got, const TensorMap& want, const char* what) {
    for (const ValueInfo& o : m.graph.outputs) {
      const CompareResult c = compare_tensors(got.at(o.name), want.at(o.name), {1e-4, 1e-5});
      EXPECT_TRUE(c.ok) << what << ", " << o.name << ": " << c.message;
    }
  };

  const TensorMap held = program.run(in_a);
  TensorMap second = program.run(in_b);
  expect_matches(held, want_a, "the held first result after a second run");
  expect_matches(second, want_b, "the second result");
  std::map<std::string, const void*> second_storage;
  for (const ValueInfo& o : m.graph.outputs) {
    EXPECT_NE(held.at(o.name).raw(), second.at(o.name).raw()) << o.name << ": a held output was written again";
    second_storage[o.name] = second.at(o.name).raw();
  }
  EXPECT_EQ(program.stats().output_allocations, 4u) << "two runs, each result still held";
  second.clear();  // dropped: the next run writes where the second one did
  const TensorMap third = program.run(in_a);
  expect_matches(third, want_a, "the third result");
  EXPECT_EQ(program.stats().output_allocations, 4u) << "the third run allocated again";
  for (const ValueInfo& o : m.graph.outputs)
    EXPECT_EQ(third.at(o.name).raw(), second_storage[o.name]) << o.name << ": a dropped output was not reused";
}

TEST(CpuRuntime, UnsupportedOperatorsRunOnReferenceKernelsAndSayWhy) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{3, 8});
  const std::string e = b.node("Exp", {x});
  const std::string k = b.constant("k", Tensor::vector_i64({2}));
  b.node("TopK", {e, k}, {{"axis", i(1)}}, 2);
  b.output("TopK_1");
  const CpuRun r = run_cpu(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_GE(r.stats.interpreted_blocks, 1u);
  ASSERT_FALSE(r.stats.interpreted_reasons.empty());
  EXPECT_NE(r.stats.interpreted_reasons[0].find("TopK"), std::string::npos) << r.stats.interpreted_reasons[0];
}

TEST(CpuRuntime, IdenticalBlocksShareOneKernel) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{4, 16});
  const std::string y = b.input("y", DType::F32, Shape{4, 16});
  b.output(b.node("Tanh", {b.node("Mul", {x, b.scalar("a", 2.0f)})}));
  b.output(b.node("Tanh", {b.node("Mul", {y, b.scalar("c", 2.0f)})}));
  const CpuRun r = run_cpu(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.generated_blocks, 2u);
  EXPECT_EQ(r.stats.unique_kernels, 1u);
}

TEST(CpuRuntime, MemoryPlanReusesBuffersOfAChain) {
  GraphBuilder b;
  std::string y = b.input("x", DType::F32, Shape{64, 64});
  Tensor w(DType::F32, {64, 64});
  for (int64_t k = 0; k < w.numel(); ++k) w.set_f64(k, (k % 3) * 0.01);
  for (int l = 0; l < 6; ++l) y = b.node("MatMul", {y, b.constant("w" + std::to_string(l), w)});
  b.output(y);
  const CpuRun r = run_cpu(b.finish());
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_LT(r.stats.arena_bytes, r.stats.unplanned_bytes);
}

// Conv -> Relu -> Concat(parts) in one block; `parts` names the Concat inputs in order,
// "r" for the Relu output and "y" for a model input of 3 channels.
CpuRun concat_of_conv(int64_t batch, const std::vector<std::string>& parts, int64_t* concat_bytes) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{batch, 4, 8, 8});
  const std::string y = b.input("y", DType::F32, Shape{batch, 3, 8, 8});
  Tensor w(DType::F32, {6, 4, 3, 3});
  for (int64_t k = 0; k < w.numel(); ++k) w.set_f64(k, std::sin(double(k)) * 0.3);
  const std::string r = b.node("Relu", {b.node("Conv", {x, b.constant("w", w)}, {{"pads", ints({1, 1, 1, 1})}})});
  std::vector<std::string> ins;
  int64_t channels = 0;
  for (const std::string& p : parts) {
    ins.push_back(p == "r" ? r : y);
    channels += p == "r" ? 6 : 3;
  }
  b.output(b.node("Concat", ins, {{"axis", i(1)}}));
  *concat_bytes = batch * channels * 64 * 4;
  return run_cpu(b.finish());
}

// A Concat part computed in the Concat's block is written straight into its run of the
// Concat's output, so the block holds no buffer for it: the arena is the output alone.
TEST(CpuRuntime, ConcatPartIsWrittenInsideTheConcatOutput) {
  int64_t bytes = 0;
  const CpuRun r = concat_of_conv(1, {"y", "r"}, &bytes);
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.interpreted_blocks, 0u) << why_interpreted(r);
  EXPECT_EQ(r.stats.blocks, 1u);
  EXPECT_EQ(r.stats.arena_bytes, size_t(bytes));
}

// Not in place: with a batch the part is not one contiguous run of the output, and a
// part read twice by the Concat would need two places. The part keeps its own buffer.
TEST(CpuRuntime, ConcatPartKeepsItsBufferWhenNotOneRun) {
  int64_t bytes = 0;
  const CpuRun batched = concat_of_conv(2, {"y", "r"}, &bytes);
  EXPECT_TRUE(batched.check.ok) << batched.check.message;
  EXPECT_EQ(batched.stats.blocks, 1u);
  EXPECT_GT(batched.stats.arena_bytes, size_t(bytes));
  const CpuRun twice = concat_of_conv(1, {"r", "y", "r"}, &bytes);
  EXPECT_TRUE(twice.check.ok) << twice.check.message;
  EXPECT_EQ(twice.stats.blocks, 1u);
  EXPECT_GT(twice.stats.arena_bytes, size_t(bytes));
}

// Element-wise kernels write their output over an input that dies there (the kernel
// reads each input element before writing the output element at the same index): an
// unfused chain of them runs in one buffer. x is a model input, outside the arena.
TEST(CpuRuntime, ElementwiseOutputTakesTheBytesOfAnInputThatDiesThere) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{16, 64});
  b.output(b.node("Tanh", {b.node("Exp", {b.node("Neg", {b.node("Abs", {x})})})}));
  const CpuRun r = run_cpu(b.finish(), false);
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.generated_blocks, 4u);
  EXPECT_EQ(r.stats.in_place_buffers, 3u);
  EXPECT_EQ(r.stats.arena_bytes, 16u * 64 * 4);
}

// Not in place: an input read again later (e by the Add), a kernel that reads other
// elements than the one it writes (Transpose, Conv), a smaller input (broadcast).
TEST(CpuRuntime, NoInPlaceWhenTheInputLivesOnOrOtherElementsAreRead) {
  {
    GraphBuilder b;
    const std::string e = b.node("Exp", {b.input("x", DType::F32, Shape{16, 64})});
    b.output(b.node("Add", {e, b.node("Neg", {e})}));  // Neg must not write over e; Add may
    const CpuRun r = run_cpu(b.finish(), false);
    EXPECT_TRUE(r.check.ok) << r.check.message;
    EXPECT_EQ(r.stats.in_place_buffers, 1u);
    EXPECT_EQ(r.stats.arena_bytes, 2u * 16 * 64 * 4);
  }
  {
    GraphBuilder b;
    // Square, rows of 64: same shape, the loops stay two (i0, i1), both addresses affine, not equal.
    const std::string e = b.node("Exp", {b.input("x", DType::F32, Shape{64, 64})});
    b.output(b.node("Transpose", {e}, {{"perm", ints({1, 0})}}));
    const CpuRun r = run_cpu(b.finish(), false);
    EXPECT_TRUE(r.check.ok) << r.check.message;
    EXPECT_EQ(r.stats.in_place_buffers, 0u);
  }
  {
    GraphBuilder b;
    Tensor w(DType::F32, {4, 4, 3, 3});
    for (int64_t k = 0; k < w.numel(); ++k) w.set_f64(k, std::cos(double(k)) * 0.2);
    const std::string e = b.node("Relu", {b.input("x", DType::F32, Shape{1, 4, 8, 8})});
    b.output(b.node("Conv", {e, b.constant("w", w)}, {{"pads", ints({1, 1, 1, 1})}}));  // same shape as e
    const CpuRun r = run_cpu(b.finish(), false);
    EXPECT_TRUE(r.check.ok) << r.check.message;
    EXPECT_EQ(r.stats.in_place_buffers, 0u);
  }
  {
    GraphBuilder b;
    const std::string e = b.node("Exp", {b.input("x", DType::F32, Shape{64})});
    b.output(b.node("Add", {e, b.input("z", DType::F32, Shape{8, 64})}));
    const CpuRun r = run_cpu(b.finish(), false);
    EXPECT_TRUE(r.check.ok) << r.check.message;
    EXPECT_EQ(r.stats.in_place_buffers, 0u);
  }
}

// A GEMM epilogue (bias, then + r) writes its output over r when r dies there, but not
// over the GEMM's own operand: the GEMM reads all of it while earlier tiles are stored.
TEST(CpuRuntime, GemmEpilogueWritesOverADyingInputButNotOverItsOperand) {
  auto weight = [](double scale) {
    Tensor w(DType::F32, {64, 64});
    for (int64_t k = 0; k < w.numel(); ++k) w.set_f64(k, std::sin(double(k) * scale) * 0.1);
    return w;
  };
  Tensor bias(DType::F32, {64});
  for (int64_t k = 0; k < 64; ++k) bias.set_f64(k, 0.01 * double(k));
  for (bool onto_operand : {false, true}) {
    GraphBuilder b;
    const std::string x = b.input("x", DType::F32, Shape{64, 64});
    const std::string a = b.node("MatMul", {x, b.constant("w0", weight(0.3))});
    const std::string r = onto_operand ? a : b.node("MatMul", {x, b.constant("w2", weight(0.7))});
    const std::string g = b.node("Gemm", {a, b.constant("w1", weight(0.5)), b.constant("bias", bias)});
    b.output(b.node("Add", {g, r}));
    const CpuRun run = run_cpu(b.finish());
    EXPECT_TRUE(run.check.ok) << run.check.message;
    EXPECT_EQ(run.stats.interpreted_blocks, 0u) << why_interpreted(run);
    EXPECT_EQ(run.stats.in_place_buffers, onto_operand ? 0u : 1u) << "onto the GEMM operand: " << onto_operand;
  }
}

}  // namespace
}  // namespace dnnf

namespace dnnf {
namespace {

// Pointwise Conv -> element-wise ops -> depthwise Conv (the expand half of an inverted
// residual block) as one block that runs in row bands or per channel group
// (codegen/channel_chain.h), over two images. The depthwise epilogue adds a graph input,
// so its channel and image indices must be the global ones. With 5 input channels, the
// planes of 96x96 and 48x48 run in bands of 60 channels by 19 input rows of 96 (9 output
// rows at stride 2, 15 under the 5x5 window) or 39 rows of 48 (37 output rows, two
// bands): the pointwise weights each band reads again are tiny next to the input each
// channel group would read again. 1000 channels of 14x14
// run in three groups of 336 (the weights packed ahead per group); 40 channels of 7x7
// make one group, which still holds one image of two. With one image that group would
// be the whole expanded tensor beside the input and the output: those stay two blocks.
// On 3 threads the bands are cut into one run per thread.
struct ChainCase {
  const char* name;
  int64_t images, channels, size, kernel, stride, pad;
  bool silu;  // Sigmoid * x between the convolutions; else Clip(0, 6)
  std::vector<int64_t> buffer;  // the band or group buffer's shape; empty: not chained
};

Model inverted_residual_half(const ChainCase& c) {
  GraphBuilder b;
  const int64_t ch = c.channels;
  const std::string x = b.input("x", DType::F32, Shape{c.images, 5, c.size, c.size});
  Tensor w(DType::F32, {ch, 5, 1, 1}), wb(DType::F32, {ch}), dw(DType::F32, {ch, 1, c.kernel, c.kernel}),
      db(DType::F32, {ch});
  for (int64_t k = 0; k < w.numel(); ++k) w.set_f64(k, std::sin(0.7 * double(k)) * 0.5);
  for (int64_t k = 0; k < ch; ++k) wb.set_f64(k, std::cos(0.1 * double(k)) * 0.4), db.set_f64(k, 0.1 - 0.001 * double(k));
  for (int64_t k = 0; k < dw.numel(); ++k) dw.set_f64(k, std::cos(0.3 * double(k)) * 0.3);
  std::string e = b.node("Conv", {x, b.constant("w", w), b.constant("wb", wb)});
  e = c.silu ? b.node("Mul", {e, b.node("Sigmoid", {e})})
             : b.node("Clip", {e, b.scalar("lo", 0.0f), b.scalar("hi", 6.0f)});
  std::string y = b.node("Conv", {e, b.constant("dw", dw), b.constant("db", db)},
                         {{"group", i(ch)},
                          {"strides", ints({c.stride, c.stride})},
                          {"pads", ints({c.pad, c.pad, c.pad, c.pad})}});
  const int64_t out = (c.size + 2 * c.pad - c.kernel) / c.stride + 1;
  const std::string r = b.input("r", DType::F32, Shape{c.images, ch, out, out});
  b.output(b.node("Add", {b.node("Relu", {y}), r}));
  return b.finish();
}

TEST(CpuRuntime, DepthwiseConvRunsInBandsOrPerChannelGroupOfThePointwiseConvBeforeIt) {
  for (const ChainCase& c : {ChainCase{"96x96 3x3 stride 2, SiLU", 2, 60, 96, 3, 2, 1, true, {1, 60, 19, 96}},
                             ChainCase{"96x96 5x5 stride 1, ReLU6", 2, 60, 96, 5, 1, 2, false, {1, 60, 19, 96}},
                             ChainCase{"48x48 3x3 stride 1, SiLU", 1, 60, 48, 3, 1, 1, true, {1, 60, 39, 48}},
                             ChainCase{"14x14 3x3 stride 1, SiLU", 2, 1000, 14, 3, 1, 1, true, {1, 336, 14, 14}},
                             ChainCase{"7x7 3x3 stride 1 unpadded, ReLU6", 2, 40, 7, 3, 1, 0, false, {1, 40, 7, 7}},
                             ChainCase{"7x7, one image", 1, 40, 7, 3, 1, 0, false, {}}}) {
    SCOPED_TRACE(c.name);
    const Model m = inverted_residual_half(c);
    // The expanded tensor is in memory one band or one group of one image at a time.
    expect_chain(m, c.buffer.empty() ? std::nullopt : std::optional<std::vector<int64_t>>(c.buffer));
    if (c.buffer.empty()) continue;
    for (const int threads : {1, 3}) {
      const CpuRun r = run_cpu(m, /*fusion=*/true, threads);
      EXPECT_TRUE(r.check.ok) << threads << " threads: " << r.check.message;
    }
    // Unfused, the same graph still matches (the plain convolutions).
    EXPECT_TRUE(run_cpu(m, /*fusion=*/false).check.ok);
  }
}

}  // namespace
}  // namespace dnnf

namespace dnnf {
namespace {

// A transformer's feed-forward network: MatMul + bias + SiLU -> MatMul + bias, plus a
// residual. The second MatMul runs per column block of the first (matmul_chain.h): the
// wide tensor between them is in memory one block of columns at a time, the second
// product summed over the blocks. Where one block would be all of it, or the input holds
// more than one matrix, the two stay two blocks.
struct FfnCase {
  const char* name;
  Shape x;  // [..., rows, K]
  int64_t wide, out;
  bool epilogue;  // bias + SiLU between the MatMuls; else the product as it is
  int64_t block;  // columns per block; 0: not chained
};

Model feed_forward(const FfnCase& c) {
  GraphBuilder b;
  const int64_t K = c.x.back();
  const std::string x = b.input("x", DType::F32, c.x);
  Tensor w1(DType::F32, {K, c.wide}), b1(DType::F32, {c.wide}), w2(DType::F32, {c.wide, c.out}), b2(DType::F32, {c.out});
  for (int64_t k = 0; k < w1.numel(); ++k) w1.set_f64(k, std::sin(0.7 * double(k)) * 0.5);
  for (int64_t k = 0; k < w2.numel(); ++k) w2.set_f64(k, std::cos(0.3 * double(k)) * 0.1);
  for (int64_t k = 0; k < c.wide; ++k) b1.set_f64(k, std::cos(0.1 * double(k)) * 0.4);
  for (int64_t k = 0; k < c.out; ++k) b2.set_f64(k, 0.1 - 0.01 * double(k));
  std::string h = b.node("MatMul", {x, b.constant("w1", w1)});
  if (c.epilogue) {
    h = b.node("Add", {h, b.constant("b1", b1)});
    h = b.node("Mul", {h, b.node("Sigmoid", {h})});
  }
  const std::string y = b.node("Add", {b.node("MatMul", {h, b.constant("w2", w2)}), b.constant("b2", b2)});
  Shape rs = c.x;
  rs.back() = c.out;
  b.output(b.node("Add", {y, b.input("r", DType::F32, rs)}));
  return b.finish();
}

TEST(CpuRuntime, MatMulRunsPerColumnBlockOfTheMatMulBeforeIt) {
  for (const FfnCase& c : {FfnCase{"131 rows, 1003 wide: blocks of 504 and 499", Shape{1, 131, 17}, 1003, 19, true, 504},
                           FfnCase{"2-D, 300 rows: three blocks, the last short", Shape{300, 5}, 700, 3, true, 240},
                           FfnCase{"the product itself between them", Shape{1, 256, 8}, 2048, 8, false, 344},
                           FfnCase{"one block would be all of it", Shape{1, 17, 3}, 64, 5, true, 0},
                           FfnCase{"two matrices", Shape{2, 131, 17}, 1003, 19, true, 0}}) {
    SCOPED_TRACE(c.name);
    const Model m = feed_forward(c);
    std::vector<int64_t> one_block = c.x;
    one_block.back() = c.block;
    expect_chain(m, c.block == 0 ? std::nullopt : std::optional<std::vector<int64_t>>(one_block));
    if (c.block == 0) continue;
    EXPECT_TRUE(run_cpu(m, /*fusion=*/true, /*threads=*/1).check.ok);
    EXPECT_TRUE(run_cpu(m, /*fusion=*/false).check.ok);
  }
}

// A transformer's self-attention with its projections, as BERT exports it (MatMul + bias,
// Reshape and Transpose to heads, scores / sqrt(D) + mask, Softmax, weighted values,
// heads merged back, output projection, residual). After the rewrites form the Attention,
// the C++ kernels run it one head at a time with the query and value projections computing
// that head's columns (head_chain.h), and the output projection reads the Attention's
// result in place, head by head as column blocks of its left operand: neither the
// projections nor the transposed result are ever in memory whole.
Model self_attention(int64_t S, int64_t H, int64_t D) {
  GraphBuilder b;
  const int64_t E = H * D;
  const std::string x = b.input("x", DType::F32, Shape{1, S, E});
  const std::string mask = b.input("mask", DType::F32, Shape{1, 1, 1, S});
  int salt = 0;
  auto weights = [&](const std::string& name, Shape shape, double scale) {
    Tensor t(DType::F32, shape);
    ++salt;
    for (int64_t k = 0; k < t.numel(); ++k) t.set_f64(k, std::sin(0.37 * double(k) + salt) * scale);
    return b.constant(name, t);
  };
  auto projection = [&](const std::string& name) {
    return b.node("Add", {weights(name + "_b", {E}, 0.2), b.node("MatMul", {x, weights(name + "_w", {E, E}, 0.3)})});
  };
  auto heads = [&](const std::string& v, std::vector<int64_t> perm) {
    const std::string r = b.node("Reshape", {v, b.constant(v + "_shape", Tensor::vector_i64({1, S, H, D}))});
    return b.node("Transpose", {r}, {{"perm", ints(perm)}});
  };
  const std::string q = heads(projection("q"), {0, 2, 1, 3}), k = heads(projection("k"), {0, 2, 3, 1});
  const std::string v = heads(projection("v"), {0, 2, 1, 3});
  std::string s = b.node("Div", {b.node("MatMul", {q, k}), b.scalar("scale", std::sqrt(float(D)))});
  s = b.node("Softmax", {b.node("Add", {s, mask})}, {{"axis", i(-1)}});
  const std::string o = b.node("Transpose", {b.node("MatMul", {s, v})}, {{"perm", ints({0, 2, 1, 3})}});
  const std::string merged = b.node("Reshape", {o, b.constant("merged_shape", Tensor::vector_i64({1, S, E}))});
  const std::string y = b.node("Add", {b.node("MatMul", {merged, weights("o_w", {E, E}, 0.2)}), weights("o_b", {E}, 0.1)});
  b.output(b.node("Add", {y, x}));
  return b.finish();
}

// On 2 threads the 4 heads share evenly and each task runs whole heads into head buffers
// of its own; on 1 and 3 threads the heads run one after another, each over the threads.
TEST(CpuRuntime, AttentionRunsPerHeadOfItsProjectionsAndTheOutputProjectionReadsItInPlace) {
  const int64_t S = 37, H = 4, D = 12;
  const Model m = self_attention(S, H, D);
  for (const int threads : {1, 2, 3}) {
    SCOPED_TRACE(threads);
    const CpuRun r = run_cpu(m, /*fusion=*/true, threads, /*rewrite=*/true);
    EXPECT_TRUE(r.check.ok) << r.check.message;
    EXPECT_EQ(r.stats.interpreted_blocks, 0u) << why_interpreted(r);
    std::vector<std::vector<int64_t>> head_buffers;
    std::string code;
    for (const fusion::FusedBlock& block : r.plan.blocks) {
      std::string why;
      const std::optional<codegen::BlockKernel> k = codegen::generate_block(r.graph, block, &why);
      ASSERT_TRUE(k) << why;
      code += k->code;
      for (const codegen::KernelBuffer& kb : k->buffers)
        if (kb.role == codegen::BufferRole::Scratch && kb.shape.back() == D) head_buffers.push_back(kb.shape);
    }
    // The queries and the values, one head each; the keys stay whole (read transposed).
    EXPECT_EQ(head_buffers, (std::vector<std::vector<int64_t>>{{1, S, D}, {1, S, D}}));
    EXPECT_NE(code.find("d.a_k_block = 12LL;"), std::string::npos) << "the output projection reads the heads in place";
    EXPECT_NE(code.find("4LL % a->api->num_threads == 0"), std::string::npos) << "heads over the threads when even";
    // Unfused: the same graph, holding every projection and the transposed result.
    const CpuRun u = run_cpu(m, /*fusion=*/false, threads, /*rewrite=*/true);
    EXPECT_TRUE(u.check.ok) << u.check.message;
    EXPECT_LT(r.peak, u.peak);
  }
}

// EfficientNet's head: SiLU then GlobalAveragePool over 7x7 planes. The plane is one
// reduced loop of 49 (vectors and a tail), not 7 rows of 7 (all scalar tail: the fused
// block took 632 us against 103 us for Silu and the pool apart).
TEST(CpuRuntime, ReductionOverShortTrailingDimsIsOneVectorLoop) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1, 40, 7, 7});
  const std::string silu = b.node("Mul", {x, b.node("Sigmoid", {x})});
  b.output(b.node("GlobalAveragePool", {silu}));
  b.output(b.node("ReduceMax", {silu}, {{"axes", ints({1, 2, 3})}, {"keepdims", i(0)}}));
  const Model m = b.finish();
  const CpuRun r = run_cpu(m);
  EXPECT_TRUE(r.check.ok) << r.check.message;
  EXPECT_EQ(r.stats.interpreted_blocks, 0u) << why_interpreted(r);
  std::string code;
  for (const fusion::FusedBlock& block : r.plan.blocks) {
    std::string why;
    const std::optional<codegen::BlockKernel> k = codegen::generate_block(m.graph, block, &why);
    ASSERT_TRUE(k) << why;
    code += k->code;
  }
  EXPECT_NE(code.find("+ VL <= 49LL"), std::string::npos) << "the 7x7 plane of the pool is one loop";
  EXPECT_NE(code.find("+ VL <= 1960LL"), std::string::npos) << "all of ReduceMax's 40x7x7 is one loop";
}

}  // namespace
}  // namespace dnnf
