// Cleanup rules: each fires where it should, not where its condition fails, and
// leaves the numbers unchanged.
#include <gtest/gtest.h>

#include "tests/support/rule_test_util.h"

using namespace dnnf;
using dnnf::test::GraphBuilder;
using dnnf::test::outputs_agree;
using dnnf::test::run_rule;

TEST(RulesCleanup, IdentityAndDropoutRemoved) {
  GraphBuilder b(13);
  auto x = b.input("x", DType::F32, Shape{2, 3});
  auto y = b.node("Relu", {b.node("Dropout", {b.node("Identity", {x})})});
  b.output(y);
  auto r = run_rule(b.finish(), "remove-identity");
  EXPECT_TRUE(r.fired);
  EXPECT_EQ(r.after.graph.nodes.size(), 1u);
  EXPECT_TRUE(outputs_agree(r.before, r.after));
}

TEST(RulesCleanup, TrainingDropoutKept) {
  GraphBuilder b(13);
  auto x = b.input("x", DType::F32, Shape{2, 3});
  Tensor yes(DType::Bool, {});
  yes.set_i64(0, 1);
  auto y = b.node("Dropout", {x, b.scalar("ratio", 0.5f), b.constant("train", yes)});
  b.output(y);
  EXPECT_FALSE(run_rule(b.finish(), "remove-identity").fired);
}

TEST(RulesCleanup, NoOpCastPadReshapeTransposeRemoved) {
  GraphBuilder b(13);
  auto x = b.input("x", DType::F32, Shape{2, 3});
  auto c = b.node("Cast", {x}, {{"to", Attribute::from_int(1)}});
  auto p = b.node("Pad", {c, b.constant("pads", Tensor::vector_i64({0, 0, 0, 0}))});
  auto rs = b.node("Reshape", {p, b.constant("shape", Tensor::vector_i64({2, 3}))});
  auto t = b.node("Transpose", {rs}, {{"perm", Attribute::from_ints({0, 1})}});
  b.output(b.node("Relu", {t}));
  auto r = run_rule(b.finish(), "remove-no-op");
  EXPECT_TRUE(r.fired);
  EXPECT_EQ(r.after.graph.nodes.size(), 1u);
  EXPECT_TRUE(outputs_agree(r.before, r.after));
}

TEST(RulesCleanup, RealCastAndPadKept) {
  GraphBuilder b(13);
  auto x = b.input("x", DType::F32, Shape{2, 3});
  auto c = b.node("Cast", {x}, {{"to", Attribute::from_int(11)}});
  auto p = b.node("Pad", {x, b.constant("pads", Tensor::vector_i64({0, 1, 0, 0}))});
  b.output(c);
  b.output(p);
  EXPECT_FALSE(run_rule(b.finish(), "remove-no-op").fired);
}

TEST(RulesCleanup, ReversingSliceIsKept) {
  // Regression (mask_rcnn_small): a Slice with step -1 keeps the shape but reverses.
  GraphBuilder b(13);
  auto x = b.input("x", DType::F32, Shape{4, 3});
  auto y = b.node("Slice", {x, b.constant("starts", Tensor::vector_i64({-1})), b.constant("ends", Tensor::vector_i64({-100})),
                            b.constant("axes", Tensor::vector_i64({0})), b.constant("steps", Tensor::vector_i64({-1}))});
  b.output(b.node("Relu", {y}));
  Model m = b.finish();
  ASSERT_EQ(m.graph.type_of(y)->str(), "float32[4,3]");
  auto r = run_rule(m, "remove-no-op");
  EXPECT_FALSE(r.fired);
  EXPECT_TRUE(outputs_agree(r.before, r.after));
}

TEST(RulesCleanup, DeadCodeRemovedLiveKept) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{4});
  b.node("Exp", {b.node("Neg", {x})});  // nobody reads this chain
  b.output(b.node("Relu", {x}));
  auto r = run_rule(b.finish(), "dead-code", false);
  EXPECT_TRUE(r.fired);
  EXPECT_EQ(r.after.graph.nodes.size(), 1u);
  EXPECT_TRUE(outputs_agree(r.before, r.after));

  GraphBuilder live;
  auto y = live.input("x", DType::F32, Shape{4});
  live.output(live.node("Relu", {y}));
  EXPECT_FALSE(run_rule(live.finish(), "dead-code", false).fired);
}

TEST(RulesCleanup, ConstantNodeBecomesInitializer) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{3});
  auto c = b.node("Constant", {}, {{"value", Attribute::from_tensor(Tensor::from_vector<float>(DType::F32, {3}, {1, 2, 3}))}});
  b.output(b.node("Add", {x, c}));
  auto r = run_rule(b.finish(), "constant-to-initializer");
  EXPECT_TRUE(r.fired);
  EXPECT_EQ(test::count_ops(r.after.graph, "Constant"), 0u);
  EXPECT_TRUE(outputs_agree(r.before, r.after));
}

TEST(RulesCleanup, ConstantThatIsAGraphOutputStays) {
  GraphBuilder b;
  auto c = b.node("Constant", {}, {{"value", Attribute::from_tensor(Tensor::scalar_f32(2))}});
  b.output(c);
  EXPECT_FALSE(run_rule(b.finish(), "constant-to-initializer").fired);
}

TEST(RulesCleanup, CommonSubexpressionMerged) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{5});
  auto a1 = b.node("Sigmoid", {x});
  auto a2 = b.node("Sigmoid", {x});
  b.output(b.node("Add", {a1, a2}));
  auto r = run_rule(b.finish(), "common-subexpression");
  EXPECT_TRUE(r.fired);
  EXPECT_EQ(test::count_ops(r.after.graph, "Sigmoid"), 1u);
  EXPECT_TRUE(outputs_agree(r.before, r.after));
}

TEST(RulesCleanup, DifferentAttributesAreNotMerged) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{5});
  auto a1 = b.node("LeakyRelu", {x}, {{"alpha", Attribute::from_float(0.1f)}});
  auto a2 = b.node("LeakyRelu", {x}, {{"alpha", Attribute::from_float(0.2f)}});
  b.output(b.node("Add", {a1, a2}));
  EXPECT_FALSE(run_rule(b.finish(), "common-subexpression").fired);
}
