// Folding rules: constant folding, shape folding, BatchNormalization and per-channel
// scale/bias folded into convolutions and GEMMs.
#include <gtest/gtest.h>

#include <random>

#include "tests/support/rule_test_util.h"

using namespace dnnf;
using dnnf::test::GraphBuilder;
using dnnf::test::outputs_agree;
using dnnf::test::run_rule;

namespace {
Tensor random_tensor(Shape shape, uint32_t seed, double lo = -1, double hi = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  Tensor t(DType::F32, std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) t.set_f64(i, d(rng));
  return t;
}

std::string batchnorm(GraphBuilder& b, const std::string& x, int64_t c) {
  return b.node("BatchNormalization",
                {x, b.constant("bn_s", random_tensor({c}, 1)), b.constant("bn_b", random_tensor({c}, 2)),
                 b.constant("bn_m", random_tensor({c}, 3)), b.constant("bn_v", random_tensor({c}, 4, 0.5, 2))},
                {{"epsilon", Attribute::from_float(1e-3f)}});
}
}  // namespace

TEST(RulesFolding, ConstantSubgraphIsEvaluated) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{3});
  auto c = b.node("Exp", {b.node("Add", {b.scalar("a", 1), b.scalar("b", 2)})});
  b.output(b.node("Mul", {x, c}));
  auto r = run_rule(b.finish(), "constant-folding");
  EXPECT_TRUE(r.fired);
  EXPECT_EQ(r.after.graph.nodes.size(), 1u);
  EXPECT_TRUE(outputs_agree(r.before, r.after));
}

TEST(RulesFolding, ShapeOfStaticValueFolds) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{2, 6});
  auto s = b.node("Shape", {x});
  b.output(b.node("Reshape", {x, s}));
  auto r = run_rule(b.finish(), "constant-folding");
  EXPECT_TRUE(r.fired);
  EXPECT_EQ(test::count_ops(r.after.graph, "Shape"), 0u);
  EXPECT_TRUE(outputs_agree(r.before, r.after));
}

TEST(RulesFolding, NothingToFoldOnRuntimeValues) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, std::vector<Dim>{Dim::sym("N"), Dim(3)});
  b.output(b.node("Shape", {b.node("Relu", {x})}));
  EXPECT_FALSE(run_rule(b.finish(), "constant-folding").fired);
}

TEST(RulesFolding, BatchNormIntoConv) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{1, 3, 8, 8});
  auto conv = b.node("Conv", {x, b.constant("w", random_tensor({4, 3, 3, 3}, 5)), b.constant("cb", random_tensor({4}, 6))},
                     {{"pads", Attribute::from_ints({1, 1, 1, 1})}});
  b.output(b.node("Relu", {batchnorm(b, conv, 4)}));
  auto r = run_rule(b.finish(), "fold-batchnorm");
  EXPECT_TRUE(r.fired);
  EXPECT_EQ(test::count_ops(r.after.graph, "BatchNormalization"), 0u);
  EXPECT_TRUE(outputs_agree(r.before, r.after));
}

TEST(RulesFolding, BatchNormIntoGroupedConvTranspose) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{1, 4, 5, 5});
  auto ct = b.node("ConvTranspose", {x, b.constant("w", random_tensor({4, 3, 3, 3}, 7))},
                   {{"group", Attribute::from_int(2)}, {"strides", Attribute::from_ints({2, 2})}});
  b.output(batchnorm(b, ct, 6));
  auto r = run_rule(b.finish(), "fold-batchnorm");
  EXPECT_TRUE(r.fired);
  EXPECT_TRUE(outputs_agree(r.before, r.after));
}

TEST(RulesFolding, BatchNormIntoGemm) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{2, 5});
  auto g = b.node("Gemm", {x, b.constant("w", random_tensor({4, 5}, 8)), b.constant("c", random_tensor({4}, 9))},
                  {{"transB", Attribute::from_int(1)}, {"alpha", Attribute::from_float(0.5f)}});
  b.output(batchnorm(b, g, 4));
  auto r = run_rule(b.finish(), "fold-batchnorm");
  EXPECT_TRUE(r.fired);
  EXPECT_TRUE(outputs_agree(r.before, r.after));
}

TEST(RulesFolding, BatchNormNotFoldedWhenConvOutputIsShared) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{1, 3, 8, 8});
  auto conv = b.node("Conv", {x, b.constant("w", random_tensor({4, 3, 1, 1}, 5))});
  b.output(batchnorm(b, conv, 4));
  b.output(conv);
  EXPECT_FALSE(run_rule(b.finish(), "fold-batchnorm").fired);
}

TEST(RulesFolding, ChannelScaleAndBiasIntoConv) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{1, 3, 6, 6});
  auto conv = b.node("Conv", {x, b.constant("w", random_tensor({4, 3, 3, 3}, 5))});
  auto m = b.node("Mul", {conv, b.constant("s", random_tensor({4, 1, 1}, 11))});
  b.output(b.node("Add", {b.constant("d", random_tensor({1, 4, 1, 1}, 12)), m}));
  auto r = run_rule(b.finish(), "fold-scale-bias-into-conv");
  EXPECT_TRUE(r.fired);
  EXPECT_EQ(r.after.graph.nodes.size(), 1u);
  EXPECT_TRUE(outputs_agree(r.before, r.after));
}

TEST(RulesFolding, SpatialScaleIsNotFolded) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{1, 3, 4, 4});
  auto conv = b.node("Conv", {x, b.constant("w", random_tensor({4, 3, 1, 1}, 5))});
  b.output(b.node("Mul", {conv, b.constant("s", random_tensor({1, 1, 4}, 11))}));
  EXPECT_FALSE(run_rule(b.finish(), "fold-scale-bias-into-conv").fired);
}
