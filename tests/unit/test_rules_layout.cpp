// Layout rules: Transpose chains composed, Reorganize chains collapsed into one Reshape,
// and Transposes moved through One-to-One operators and cancelled. Each rule fires where
// it should, not where its condition fails, and keeps the numbers.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/rule_test_util.h"

using namespace dnnf;
using dnnf::test::count_ops;
using dnnf::test::GraphBuilder;
using dnnf::test::outputs_agree;
using dnnf::test::run_rule;

namespace {

Attribute perm(std::vector<int64_t> p) { return Attribute::from_ints(std::move(p)); }

Tensor values(const Shape& shape, double start, double step) {
  Tensor t(DType::F32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.set_f64(i, start + step * double(i));
  return t;
}

test::RuleRun expect_fires(const Model& m, const std::string& rule) {
  test::RuleRun r = run_rule(m, rule);
  EXPECT_TRUE(r.fired) << rule;
  for (uint64_t seed : {1, 2, 3}) EXPECT_TRUE(outputs_agree(r.before, r.after, 1e-4, 1e-5, seed)) << rule;
  return r;
}

void expect_not_fired(const Model& m, const std::string& rule) {
  const test::RuleRun r = run_rule(m, rule);
  EXPECT_FALSE(r.fired) << rule;
  EXPECT_EQ(r.after.graph.nodes.size(), r.before.graph.nodes.size()) << rule;
}

}  // namespace

// ---- transpose-compose ---------------------------------------------------------------------------

TEST(RulesLayout, TransposeComposeFires) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{2, 3, 4, 5});
  auto t1 = b.node("Transpose", {x}, {{"perm", perm({0, 2, 3, 1})}});
  auto t2 = b.node("Transpose", {t1}, {{"perm", perm({0, 3, 1, 2})}});  // inverse: identity overall
  b.output(b.node("Relu", {t2}));
  auto r = expect_fires(b.finish(), "transpose-compose");
  EXPECT_EQ(count_ops(r.after.graph, "Transpose"), 0u);
}

TEST(RulesLayout, TransposeComposeNotFiredOnASingleOrSharedTranspose) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{2, 3, 4});
  auto t1 = b.node("Transpose", {x}, {{"perm", perm({1, 0, 2})}});
  b.output(b.node("Relu", {t1}));
  b.output(b.node("Transpose", {b.node("Exp", {t1})}, {{"perm", perm({2, 1, 0})}}));
  expect_not_fired(b.finish(), "transpose-compose");
  // The inner Transpose has another reader: composing would keep both nodes.
  GraphBuilder s;
  auto sx = s.input("x", DType::F32, Shape{2, 3, 4});
  auto st = s.node("Transpose", {sx}, {{"perm", perm({1, 0, 2})}});
  s.output(s.node("Transpose", {st}, {{"perm", perm({0, 2, 1})}}));
  s.output(s.node("Relu", {st}));
  expect_not_fired(s.finish(), "transpose-compose");
}

TEST(RulesLayout, TransposeComposeNumericGeneralPermutations) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{2, 3, 4, 5});
  auto t1 = b.node("Transpose", {x}, {{"perm", perm({3, 1, 0, 2})}});
  auto t2 = b.node("Transpose", {t1}, {{"perm", perm({1, 3, 2, 0})}});
  auto t3 = b.node("Transpose", {t2});  // default: reversed axes
  b.output(t3);
  auto r = expect_fires(b.finish(), "transpose-compose");
  EXPECT_EQ(count_ops(r.after.graph, "Transpose"), 1u);
}

// ---- reshape-chain -----------------------------------------------------------------------------------

TEST(RulesLayout, ReshapeChainFires) {
  GraphBuilder b(13);
  auto x = b.input("x", DType::F32, Shape{2, 3, 4});
  auto r1 = b.node("Reshape", {x, b.constant("s1", Tensor::vector_i64({6, 4}))});
  auto f = b.node("Flatten", {r1}, {{"axis", Attribute::from_int(0)}});
  auto u = b.node("Unsqueeze", {f, b.constant("ax", Tensor::vector_i64({0}))});
  auto q = b.node("Squeeze", {u, b.constant("ax2", Tensor::vector_i64({0}))});
  auto r2 = b.node("Reshape", {q, b.constant("s2", Tensor::vector_i64({4, -1}))});
  b.output(b.node("Relu", {r2}));
  auto r = expect_fires(b.finish(), "reshape-chain");
  EXPECT_EQ(count_ops(r.after.graph, "Reshape"), 1u);
  EXPECT_EQ(r.after.graph.nodes.size(), 2u);
}

TEST(RulesLayout, ReshapeChainAbsorbsSizeOneTransposes) {
  // Reshape [1,1,32] -> [1,1,4,8], Transpose(0,2,1,3) -> [1,4,1,8] moves only a size-1 dim.
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{1, 1, 32});
  auto r1 = b.node("Reshape", {x, b.constant("s", Tensor::vector_i64({1, 1, 4, 8}))});
  b.output(b.node("Transpose", {r1}, {{"perm", perm({0, 2, 1, 3})}}));
  auto r = expect_fires(b.finish(), "reshape-chain");
  EXPECT_EQ(count_ops(r.after.graph, "Transpose"), 0u);
  EXPECT_EQ(r.after.graph.nodes.size(), 1u);
}

TEST(RulesLayout, ReshapeChainNotFiredOtherwise) {
  GraphBuilder b;
  // A real Transpose in the middle stops the chain.
  auto x = b.input("x", DType::F32, Shape{2, 3, 4});
  auto r1 = b.node("Reshape", {x, b.constant("s1", Tensor::vector_i64({6, 4}))});
  auto t = b.node("Transpose", {r1}, {{"perm", perm({1, 0})}});
  b.output(b.node("Reshape", {t, b.constant("s2", Tensor::vector_i64({24}))}));
  // A dynamic final shape.
  auto d = b.input("d", DType::F32, std::vector<Dim>{Dim::sym("N"), Dim(4)});
  auto dr = b.node("Reshape", {d, b.constant("s3", Tensor::vector_i64({-1, 2, 2}))});
  b.output(b.node("Flatten", {dr}, {{"axis", Attribute::from_int(1)}}));
  expect_not_fired(b.finish(), "reshape-chain");
}

TEST(RulesLayout, ReshapeChainNumericSharedIntermediateAndOpset11) {
  GraphBuilder b(11);
  auto x = b.input("x", DType::F32, Shape{2, 3, 4});
  auto u = b.node("Unsqueeze", {x}, {{"axes", Attribute::from_ints({0})}});
  auto f = b.node("Flatten", {u}, {{"axis", Attribute::from_int(2)}});      // [2, 12]
  b.output(b.node("Relu", {f}));                                                  // shared
  auto s = b.node("Squeeze", {b.node("Reshape", {f, b.constant("s", Tensor::vector_i64({1, 24}))})},
                  {{"axes", Attribute::from_ints({0})}});
  b.output(b.node("Exp", {s}));
  auto r = expect_fires(b.finish(), "reshape-chain");
  EXPECT_EQ(count_ops(r.after.graph, "Squeeze"), 0u);
}

// ---- transpose-through-elementwise ------------------------------------------------------------------

TEST(RulesLayout, TransposeThroughElementwiseCancels) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{1, 8, 4, 4});
  auto t1 = b.node("Transpose", {x}, {{"perm", perm({0, 2, 3, 1})}});
  auto u = b.node("Sigmoid", {b.node("Add", {b.node("Relu", {t1}), b.scalar("c", 0.5f)})});
  b.output(b.node("Transpose", {u}, {{"perm", perm({0, 3, 1, 2})}}));
  auto r = expect_fires(b.finish(), "transpose-through-elementwise");
  EXPECT_EQ(count_ops(r.after.graph, "Transpose"), 0u);
  EXPECT_EQ(r.after.graph.nodes.size(), 3u);
}

TEST(RulesLayout, TransposeThroughElementwiseNotFiredOtherwise) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{2, 3, 4});
  // Softmax has an axis: not One-to-One.
  auto t1 = b.node("Transpose", {x}, {{"perm", perm({2, 0, 1})}});
  b.output(b.node("Transpose", {b.node("Softmax", {t1}, {{"axis", Attribute::from_int(-1)}})},
                  {{"perm", perm({1, 2, 0})}}));
  // A chain value read elsewhere.
  auto t2 = b.node("Transpose", {x}, {{"perm", perm({1, 0, 2})}});
  auto e = b.node("Exp", {t2});
  b.output(e);
  b.output(b.node("Transpose", {e}, {{"perm", perm({1, 0, 2})}}));
  // Two non-constant operands.
  auto y = b.input("y", DType::F32, Shape{3, 2, 4});
  auto t3 = b.node("Transpose", {x}, {{"perm", perm({1, 0, 2})}});
  b.output(b.node("Transpose", {b.node("Add", {t3, y})}, {{"perm", perm({1, 0, 2})}}));
  expect_not_fired(b.finish(), "transpose-through-elementwise");
}

TEST(RulesLayout, TransposeThroughElementwiseNumericWithChannelConstants) {
  // NCHW -> NHWC, per-channel scale and bias in NHWC, Clip, then NHWC -> CHWN.
  GraphBuilder b(13);
  auto x = b.input("x", DType::F32, Shape{2, 3, 4, 5});
  auto t1 = b.node("Transpose", {x}, {{"perm", perm({0, 2, 3, 1})}});              // [2,4,5,3]
  auto m = b.node("Mul", {t1, b.constant("scale", values({3}, 0.5, 0.25))});
  auto a = b.node("Add", {b.constant("bias", values({5, 1}, -0.2, 0.1)), m});
  auto c = b.node("Clip", {a, b.scalar("lo", -0.5f), b.scalar("hi", 0.75f)});
  b.output(b.node("Transpose", {c}, {{"perm", perm({3, 1, 2, 0})}}));               // [3,4,5,2]
  auto r = expect_fires(b.finish(), "transpose-through-elementwise");
  EXPECT_EQ(count_ops(r.after.graph, "Transpose"), 1u);
}
