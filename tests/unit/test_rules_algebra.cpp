// Algebraic rules (associative, distributive, commutative families): each rule fires
// where it should, stays away where its condition fails, and keeps the numbers
// (reference outputs before and after agree on seeded random inputs).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "core/ir/shape_inference.h"
#include "core/onnx_io/onnx_import.h"
#include "core/rewrite/cost_model.h"
#include "tests/support/rule_test_util.h"
#include "tests/support/test_util.h"

using namespace dnnf;
using dnnf::test::count_ops;
using dnnf::test::GraphBuilder;
using dnnf::test::outputs_agree;
using dnnf::test::run_rule;

namespace {

Attribute ints(std::vector<int64_t> v) { return Attribute::from_ints(std::move(v)); }
Attribute one_int(int64_t v) { return Attribute::from_int(v); }

Tensor values(const Shape& shape, double start, double step, DType dt = DType::F32) {
  Tensor t(dt, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.set_f64(i, start + step * double(i));
  return t;
}

size_t arithmetic_ops(const Graph& g) {
  size_t n = 0;
  for (const char* op : {"Add", "Sub", "Mul", "Div", "Neg", "Reciprocal"}) n += count_ops(g, op);
  return n;
}

// Fired, outputs agree on three seeds; returns the run for structural checks.
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

double flops(const Model& m) { return rewrite::graph_cost(m.graph).flops; }

}  // namespace

// ---- associative: constant chains ------------------------------------------------------------

TEST(RulesAssociative, MulConstantChainFires) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{2, 3});
  auto y = b.node("Mul", {b.node("Div", {b.node("Mul", {x, b.scalar("c1", 2.0f)}), b.scalar("c2", 4.0f)}),
                          b.scalar("c3", 3.0f)});
  b.output(b.node("Relu", {y}));
  auto r = expect_fires(b.finish(), "mul-constant-chain");
  EXPECT_EQ(arithmetic_ops(r.after.graph), 1u);
}

TEST(RulesAssociative, MulConstantChainFoldsToIdentity) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{2, 3});
  auto y = b.node("Mul", {b.node("Mul", {x, b.scalar("c1", 2.0f)}), b.scalar("c2", 0.5f)});
  b.output(b.node("Relu", {y}));
  auto r = expect_fires(b.finish(), "mul-constant-chain");
  EXPECT_EQ(arithmetic_ops(r.after.graph), 0u);
  EXPECT_EQ(r.after.graph.nodes.size(), 1u);
}

TEST(RulesAssociative, MulConstantChainNeedsTwoConstants) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{2, 3});
  auto y = b.input("y", DType::F32, Shape{2, 3});
  b.output(b.node("Mul", {b.node("Mul", {x, b.scalar("c1", 2.0f)}), y}));
  expect_not_fired(b.finish(), "mul-constant-chain");
  // A shared inner product is not part of the chain.
  GraphBuilder s;
  auto sx = s.input("x", DType::F32, Shape{2, 3});
  auto inner = s.node("Mul", {sx, s.scalar("c1", 2.0f)});
  s.output(s.node("Mul", {inner, s.scalar("c2", 3.0f)}));
  s.output(s.node("Relu", {inner}));
  expect_not_fired(s.finish(), "mul-constant-chain");
}

TEST(RulesAssociative, MulConstantChainNumericWithBroadcastConstants) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{2, 3, 4});
  auto c1 = b.constant("c1", values({4}, 0.5, 0.25));
  auto c2 = b.constant("c2", values({3, 1}, -1.5, 0.5));
  auto c3 = b.constant("c3", values({1, 1, 1, 1}, 2.0, 0));
  auto y = b.node("Div", {b.node("Mul", {c2, b.node("Div", {x, c1})}), c3});
  b.output(y);
  auto r = expect_fires(b.finish(), "mul-constant-chain");
  EXPECT_EQ(arithmetic_ops(r.after.graph), 1u);
  EXPECT_EQ(r.after.graph.type_of(r.after.graph.outputs[0].name)->static_shape(), (Shape{1, 2, 3, 4}));
}

TEST(RulesAssociative, AddConstantChainFires) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{2, 3});
  auto y = b.node("Add", {b.node("Sub", {x, b.scalar("c1", 1.0f)}), b.scalar("c2", 3.0f)});
  b.output(b.node("Relu", {y}));
  auto r = expect_fires(b.finish(), "add-constant-chain");
  EXPECT_EQ(arithmetic_ops(r.after.graph), 1u);
}

TEST(RulesAssociative, AddConstantChainSkipsIntegers) {
  GraphBuilder b;
  auto x = b.input("x", DType::I64, Shape{2, 3});
  auto one = b.constant("one", Tensor::scalar_i64(1));
  auto two = b.constant("two", Tensor::scalar_i64(2));
  b.output(b.node("Add", {b.node("Add", {x, one}), two}));
  expect_not_fired(b.finish(), "add-constant-chain");
}

TEST(RulesAssociative, AddConstantChainNumeric) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{3, 4});
  auto y = b.input("y", DType::F32, Shape{4});
  auto s = b.node("Sub", {b.constant("c1", values({4}, 0.1, 0.3)), b.node("Add", {x, b.scalar("c0", 0.7f)})});
  auto t = b.node("Sub", {b.node("Add", {s, y}), b.constant("c2", values({3, 1}, -1, 0.5))});
  b.output(t);
  auto r = expect_fires(b.finish(), "add-constant-chain");
  EXPECT_LT(arithmetic_ops(r.after.graph), arithmetic_ops(r.before.graph));
}

// ---- associative: sqrt pairs, abs pairs, regrouping ----------------------------------------

TEST(RulesAssociative, MulSqrtPairFires) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{4, 5});
  auto x = b.input("x", DType::F32, Shape{4, 5});
  auto c = b.input("c", DType::F32, Shape{4, 5});
  auto bb = b.node("Abs", {x});
  auto y = b.node("Mul", {b.node("Mul", {a, b.node("Sqrt", {bb})}), b.node("Mul", {b.node("Sqrt", {bb}), c})});
  b.output(y);
  auto r = expect_fires(b.finish(), "mul-sqrt-pair");
  EXPECT_EQ(count_ops(r.after.graph, "Sqrt"), 0u);
  EXPECT_EQ(count_ops(r.after.graph, "Mul"), 2u);
}

TEST(RulesAssociative, MulSqrtPairNeedsNonNegativeRadicand) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{4, 5});
  auto x = b.input("x", DType::F32, Shape{4, 5});  // may be negative: sqrt(x)^2 is NaN there
  auto s = b.node("Sqrt", {x});
  b.output(b.node("Mul", {b.node("Mul", {a, s}), s}));
  expect_not_fired(b.finish(), "mul-sqrt-pair");
}

TEST(RulesAssociative, MulSqrtPairNumericWithBroadcast) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{2, 3});
  auto x = b.input("x", DType::F32, Shape{3});
  auto c = b.input("c", DType::F32, Shape{2, 1});
  auto e = b.node("Exp", {x});
  auto s = b.node("Sqrt", {e});
  auto y = b.node("Div", {b.node("Mul", {b.node("Mul", {a, s}), c}), b.node("Sqrt", {e})});
  auto z = b.node("Mul", {y, b.node("Mul", {s, s})});  // a*s*c/s * s*s: the s*s pair merges
  b.output(z);
  auto r = expect_fires(b.finish(), "mul-sqrt-pair");
  EXPECT_LT(count_ops(r.after.graph, "Sqrt") + count_ops(r.after.graph, "Mul"),
            count_ops(r.before.graph, "Sqrt") + count_ops(r.before.graph, "Mul"));
}

TEST(RulesAssociative, MulAbsPairFires) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{4, 5});
  auto m = b.input("b", DType::F32, Shape{4, 5});
  auto c = b.input("c", DType::F32, Shape{4, 5});
  b.output(b.node("Mul", {b.node("Mul", {b.node("Abs", {a}), m}), b.node("Abs", {c})}));
  auto r = expect_fires(b.finish(), "mul-abs-pair");
  EXPECT_EQ(count_ops(r.after.graph, "Abs"), 1u);
  EXPECT_EQ(count_ops(r.after.graph, "Mul"), 2u);
}

TEST(RulesAssociative, MulAbsPairNeedsTwoAbsAndFloats) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{4, 5});
  auto m = b.input("b", DType::F32, Shape{4, 5});
  auto c = b.input("c", DType::F32, Shape{4, 5});
  b.output(b.node("Mul", {b.node("Mul", {b.node("Abs", {a}), m}), c}));
  expect_not_fired(b.finish(), "mul-abs-pair");
  GraphBuilder i;
  auto ia = i.input("a", DType::I32, Shape{4});
  auto ic = i.input("c", DType::I32, Shape{4});
  i.output(i.node("Mul", {i.node("Abs", {ia}), i.node("Abs", {ic})}));
  expect_not_fired(i.finish(), "mul-abs-pair");
}

TEST(RulesAssociative, MulAbsPairNumericWithDivision) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{3, 4});
  auto m = b.input("b", DType::F32, Shape{4});
  auto c = b.input("c", DType::F32, Shape{3, 1});
  auto d = b.input("d", DType::F32, Shape{3, 4});
  auto y = b.node("Div", {b.node("Mul", {b.node("Abs", {a}), m}), b.node("Abs", {c})});
  b.output(b.node("Mul", {y, b.node("Abs", {d})}));
  auto r = expect_fires(b.finish(), "mul-abs-pair");
  EXPECT_EQ(count_ops(r.after.graph, "Abs"), 1u);
}

TEST(RulesAssociative, MulRegroupSquaresTheSmallReduction) {
  // (A * ReduceSum(B)) * (ReduceSum(B) * C) -> A * Square(ReduceSum(B)) * C
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{16, 32});
  auto x = b.input("x", DType::F32, Shape{16, 32});
  auto c = b.input("c", DType::F32, Shape{16, 32});
  auto rs = b.node("ReduceSum", {x, b.constant("axes", Tensor::vector_i64({1}))}, {{"keepdims", one_int(1)}});
  b.output(b.node("Mul", {b.node("Mul", {a, rs}), b.node("Mul", {rs, c})}));
  auto r = expect_fires(b.finish(), "mul-regroup-small-first");
  EXPECT_LT(flops(r.after), flops(r.before));
  bool square = false;
  for (const Node& n : r.after.graph.nodes) square = square || (n.op_type == "Mul" && n.inputs[0] == rs && n.inputs[1] == rs);
  EXPECT_TRUE(square);
}

TEST(RulesAssociative, MulRegroupKeepsBalancedProducts) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{4, 8});
  auto x = b.input("x", DType::F32, Shape{4, 8});
  auto c = b.input("c", DType::F32, Shape{4, 8});
  auto d = b.input("d", DType::F32, Shape{4, 8});
  b.output(b.node("Mul", {b.node("Mul", {a, x}), b.node("Mul", {c, d})}));
  expect_not_fired(b.finish(), "mul-regroup-small-first");
}

TEST(RulesAssociative, MulRegroupNumericWithDivisors) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{8, 16});
  auto s1 = b.input("s1", DType::F32, Shape{8, 1});
  auto s2 = b.input("s2", DType::F32, Shape{1, 16});
  auto c = b.input("c", DType::F32, Shape{8, 16});
  auto y = b.node("Div", {b.node("Mul", {a, s1}), b.node("Add", {b.node("Abs", {s2}), b.scalar("one", 1.0f)})});
  b.output(b.node("Mul", {y, b.node("Mul", {c, s1})}));
  auto r = expect_fires(b.finish(), "mul-regroup-small-first");
  EXPECT_LT(flops(r.after), flops(r.before));
}

TEST(RulesAssociative, AddRegroupFires) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{16, 32});
  auto r1 = b.input("r1", DType::F32, Shape{16, 1});
  auto r2 = b.input("r2", DType::F32, Shape{16, 1});
  auto c = b.input("c", DType::F32, Shape{16, 32});
  b.output(b.node("Add", {b.node("Add", {a, r1}), b.node("Sub", {c, r2})}));
  auto r = expect_fires(b.finish(), "add-regroup-small-first");
  EXPECT_LT(flops(r.after), flops(r.before));
}

TEST(RulesAssociative, AddRegroupKeepsBalancedSums) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{4, 8});
  auto x = b.input("x", DType::F32, Shape{4, 8});
  auto c = b.input("c", DType::F32, Shape{4, 8});
  b.output(b.node("Sub", {b.node("Add", {a, x}), c}));
  expect_not_fired(b.finish(), "add-regroup-small-first");
}

TEST(RulesAssociative, AddRegroupNumeric) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{2, 8, 16});
  auto r1 = b.input("r1", DType::F32, Shape{8, 1});
  auto r2 = b.input("r2", DType::F32, Shape{1, 8, 1});
  auto c = b.input("c", DType::F32, Shape{2, 8, 16});
  b.output(b.node("Sub", {b.node("Sub", {a, r1}), b.node("Add", {c, r2})}));
  expect_fires(b.finish(), "add-regroup-small-first");
}

// ---- associative: Recip(A)*Recip(A*B) ---------------------------------------------------------

TEST(RulesAssociative, RecipProductFiresWhenBIsConstant) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{4, 6});
  auto c = b.constant("b", values({4, 6}, 0.5, 0.1));
  b.output(b.node("Mul", {b.node("Reciprocal", {a}), b.node("Reciprocal", {b.node("Mul", {a, c})})}));
  auto r = expect_fires(b.finish(), "recip-product");
  EXPECT_EQ(count_ops(r.after.graph, "Reciprocal"), 1u);
  EXPECT_LT(flops(r.after), flops(r.before));
}

TEST(RulesAssociative, RecipProductFiresWhenBIsSmall) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{8, 16});
  auto s = b.input("s", DType::F32, Shape{16});
  b.output(b.node("Mul", {b.node("Reciprocal", {b.node("Mul", {s, a})}), b.node("Reciprocal", {a})}));
  auto r = expect_fires(b.finish(), "recip-product");
  EXPECT_LT(flops(r.after), flops(r.before));
}

TEST(RulesAssociative, RecipProductNotFiredWithoutGain) {
  // B as large as A and not constant: the paper's form saves nothing.
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{4, 6});
  auto x = b.input("b", DType::F32, Shape{4, 6});
  b.output(b.node("Mul", {b.node("Reciprocal", {a}), b.node("Reciprocal", {b.node("Mul", {a, x})})}));
  expect_not_fired(b.finish(), "recip-product");
  // Different A on the two sides.
  GraphBuilder d;
  auto a1 = d.input("a1", DType::F32, Shape{4, 6});
  auto a2 = d.input("a2", DType::F32, Shape{4, 6});
  auto c = d.constant("b", values({4, 6}, 0.5, 0.1));
  d.output(d.node("Mul", {d.node("Reciprocal", {a1}), d.node("Reciprocal", {d.node("Mul", {a2, c})})}));
  expect_not_fired(d.finish(), "recip-product");
}

TEST(RulesAssociative, RecipProductNumericWithBroadcastConstant) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{2, 3, 4});
  auto c = b.constant("b", values({3, 1}, 0.75, 0.5));
  b.output(b.node("Mul", {b.node("Reciprocal", {b.node("Mul", {c, a})}), b.node("Reciprocal", {a})}));
  auto r = expect_fires(b.finish(), "recip-product");
  EXPECT_EQ(r.after.graph.type_of(r.after.graph.outputs[0].name)->static_shape(), (Shape{2, 3, 4}));
}

// ---- associative: identity elements -----------------------------------------------------------

TEST(RulesAssociative, IdentityElementsRemoved) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{2, 3});
  auto v = b.node("Mul", {b.scalar("one", 1.0f), x});
  v = b.node("Add", {v, b.constant("zeros", values({3}, 0, 0))});
  v = b.node("Sub", {v, b.scalar("zero", 0.0f)});
  v = b.node("Div", {v, b.constant("ones", values({1, 1}, 1, 0))});
  v = b.node("Pow", {v, b.scalar("p1", 1.0f)});
  b.output(b.node("Relu", {v}));
  auto r = expect_fires(b.finish(), "remove-identity-element");
  EXPECT_EQ(r.after.graph.nodes.size(), 1u);
}

TEST(RulesAssociative, IdentityElementKeptWhenItBroadcasts) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{3});
  b.output(b.node("Mul", {x, b.constant("ones", values({2, 3}, 1, 0))}));    // [3] -> [2,3]
  b.output(b.node("Sub", {b.scalar("zero", 0.0f), x}));                       // 0 - x is -x
  b.output(b.node("Add", {x, b.scalar("half", 0.5f)}));
  expect_not_fired(b.finish(), "remove-identity-element");
}

TEST(RulesAssociative, IdentityElementNumericIntegersAndSymbolicDims) {
  GraphBuilder b;
  auto x = b.input("x", DType::I64, std::vector<Dim>{Dim::sym("N"), Dim(4)});
  auto y = b.node("Mul", {x, b.constant("one", Tensor::scalar_i64(1))});
  b.output(b.node("Add", {y, b.constant("two", Tensor::scalar_i64(2))}));
  auto r = expect_fires(b.finish(), "remove-identity-element");
  EXPECT_EQ(count_ops(r.after.graph, "Mul"), 0u);
}

// ---- distributive --------------------------------------------------------------------------------

TEST(RulesDistributive, FactorCommonMulFires) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{4, 8});
  auto x = b.input("x", DType::F32, Shape{4, 8});
  auto c = b.input("c", DType::F32, Shape{4, 8});
  b.output(b.node("Add", {b.node("Mul", {a, x}), b.node("Mul", {c, a})}));
  auto r = expect_fires(b.finish(), "factor-common-mul");
  EXPECT_EQ(count_ops(r.after.graph, "Mul"), 1u);
  EXPECT_EQ(count_ops(r.after.graph, "Add"), 1u);
}

TEST(RulesDistributive, FactorCommonMulNeedsACommonFactor) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{4, 8});
  auto x = b.input("x", DType::F32, Shape{4, 8});
  auto c = b.input("c", DType::F32, Shape{4, 8});
  auto d = b.input("d", DType::F32, Shape{4, 8});
  b.output(b.node("Add", {b.node("Mul", {a, x}), b.node("Mul", {c, d})}));
  expect_not_fired(b.finish(), "factor-common-mul");
  // Integers are left alone (only float arithmetic is reassociated).
  GraphBuilder i;
  auto ia = i.input("a", DType::I32, Shape{4});
  auto ix = i.input("x", DType::I32, Shape{4});
  auto ic = i.input("c", DType::I32, Shape{4});
  i.output(i.node("Add", {i.node("Mul", {ia, ix}), i.node("Mul", {ia, ic})}));
  expect_not_fired(i.finish(), "factor-common-mul");
}

TEST(RulesDistributive, FactorCommonMulNumericSubWithBroadcast) {
  // (A.B) * C - (A.B) * D, Fig. 2(b) with Sub: the MatMul result is the common factor.
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{4, 6});
  auto w = b.constant("w", values({6, 8}, -0.5, 0.02));
  auto ab = b.node("MatMul", {a, w});
  auto c = b.input("c", DType::F32, Shape{8});
  auto d = b.input("d", DType::F32, Shape{4, 1});
  b.output(b.node("Sub", {b.node("Mul", {ab, c}), b.node("Mul", {d, ab})}));
  auto r = expect_fires(b.finish(), "factor-common-mul");
  EXPECT_LT(flops(r.after), flops(r.before));
}

TEST(RulesDistributive, FactorCommonDivFires) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{4, 8});
  auto x = b.input("x", DType::F32, Shape{4, 8});
  auto c = b.input("c", DType::F32, Shape{4, 8});
  auto den = b.node("Add", {b.node("Abs", {a}), b.scalar("one", 1.0f)});
  b.output(b.node("Add", {b.node("Div", {x, den}), b.node("Div", {c, den})}));
  auto r = expect_fires(b.finish(), "factor-common-div");
  EXPECT_EQ(count_ops(r.after.graph, "Div"), 1u);
}

TEST(RulesDistributive, FactorCommonDivNeedsTheSameDivisor) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{4, 8});
  auto x = b.input("x", DType::F32, Shape{4, 8});
  auto c = b.input("c", DType::F32, Shape{4, 8});
  b.output(b.node("Add", {b.node("Div", {a, x}), b.node("Div", {a, c})}));  // common dividend only
  expect_not_fired(b.finish(), "factor-common-div");
}

TEST(RulesDistributive, FactorCommonDivNumericSub) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{3, 1});
  auto x = b.input("x", DType::F32, Shape{3, 5});
  auto c = b.input("c", DType::F32, Shape{5});
  auto den = b.node("Add", {b.node("Exp", {a}), b.scalar("one", 1.0f)});
  b.output(b.node("Sub", {b.node("Div", {x, den}), b.node("Div", {c, den})}));
  expect_fires(b.finish(), "factor-common-div");
}

TEST(RulesDistributive, FactorSelfFiresWithConstantB) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{4, 8});
  b.output(b.node("Add", {b.node("Mul", {a, b.constant("c", values({8}, 0.1, 0.1))}), a}));
  auto r = expect_fires(b.finish(), "factor-self");
  EXPECT_EQ(arithmetic_ops(r.after.graph), 1u);  // B+1 folded
}

TEST(RulesDistributive, FactorSelfNeedsTheSameA) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{4, 8});
  auto x = b.input("x", DType::F32, Shape{4, 8});
  auto c = b.input("c", DType::F32, Shape{4, 8});
  b.output(b.node("Add", {b.node("Mul", {x, c}), a}));
  expect_not_fired(b.finish(), "factor-self");
}

TEST(RulesDistributive, FactorSelfNumericSubForms) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{4, 8});
  auto x = b.input("x", DType::F32, Shape{8});
  auto y = b.input("y", DType::F32, Shape{4, 1});
  b.output(b.node("Sub", {a, b.node("Mul", {a, x})}));   // A*(1-B)
  b.output(b.node("Sub", {b.node("Mul", {y, a}), a}));   // A*(B-1)
  auto r = expect_fires(b.finish(), "factor-self");
  EXPECT_LT(flops(r.after), flops(r.before));
}

TEST(RulesDistributive, FactorSquareMinusFiresOnPow) {
  // Square(A+B) - (A+B)*C -> (A+B)*((A+B)-C)
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{4, 8});
  auto x = b.input("b", DType::F32, Shape{4, 8});
  auto c = b.input("c", DType::F32, Shape{4, 8});
  auto s = b.node("Add", {a, x});
  b.output(b.node("Sub", {b.node("Pow", {s, b.scalar("two", 2.0f)}), b.node("Mul", {s, c})}));
  auto r = expect_fires(b.finish(), "factor-square-minus");
  EXPECT_EQ(count_ops(r.after.graph, "Pow"), 0u);
  EXPECT_EQ(count_ops(r.after.graph, "Mul"), 1u);
}

TEST(RulesDistributive, FactorSquareMinusNeedsASquare) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{4, 8});
  auto c = b.input("c", DType::F32, Shape{4, 8});
  b.output(b.node("Sub", {b.node("Pow", {x, b.scalar("three", 3.0f)}), b.node("Mul", {x, c})}));
  expect_not_fired(b.finish(), "factor-square-minus");
}

TEST(RulesDistributive, FactorSquareMinusNumericMulForms) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{4, 8});
  auto c = b.input("c", DType::F32, Shape{8});
  auto y = b.input("y", DType::F32, Shape{4, 8});
  b.output(b.node("Sub", {b.node("Mul", {c, x}), b.node("Mul", {x, x})}));   // X*(C-X)
  b.output(b.node("Add", {b.node("Mul", {y, y}), b.node("Mul", {y, c})}));   // Y*(Y+C)
  auto r = expect_fires(b.finish(), "factor-square-minus");
  EXPECT_EQ(r.summary.rewrites.at("factor-square-minus"), 2);
}

TEST(RulesDistributive, ReduceScalarMulFires) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{8, 32});
  auto m = b.node("Mul", {b.scalar("c", 0.125f), a});
  b.output(b.node("ReduceSum", {m, b.constant("axes", Tensor::vector_i64({1}))}, {{"keepdims", one_int(0)}}));
  auto r = expect_fires(b.finish(), "reduce-scalar-mul");
  EXPECT_LT(flops(r.after), flops(r.before));
  EXPECT_EQ(r.after.graph.nodes.front().op_type, "ReduceSum");
}

TEST(RulesDistributive, ReduceScalarMulNeedsAScalar) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{8, 32});
  auto m = b.node("Mul", {a, b.constant("c", values({32}, 0.5, 0.1))});
  b.output(b.node("ReduceSum", {m, b.constant("axes", Tensor::vector_i64({1}))}));
  expect_not_fired(b.finish(), "reduce-scalar-mul");
  // A one-element constant of higher rank would broadcast A: left alone.
  GraphBuilder h;
  auto ha = h.input("a", DType::F32, Shape{8});
  auto hm = h.node("Mul", {ha, h.constant("c", values({1, 1}, 2, 0))});
  h.output(h.node("ReduceSum", {hm, h.constant("axes", Tensor::vector_i64({1}))}));
  expect_not_fired(h.finish(), "reduce-scalar-mul");
}

TEST(RulesDistributive, ReduceScalarMulNumericMeanDivOpset18) {
  GraphBuilder b(18);
  auto a = b.input("a", DType::F32, Shape{2, 6, 10});
  auto d = b.node("Div", {a, b.constant("c", values({1}, 3.0, 0))});
  b.output(b.node("ReduceMean", {d, b.constant("axes", Tensor::vector_i64({-1, 0}))}, {{"keepdims", one_int(1)}}));
  expect_fires(b.finish(), "reduce-scalar-mul");
}

TEST(RulesDistributive, AffineChainFires) {
  // ((x + c1) * c2) + c3 -> x*c2 + (c1*c2 + c3)
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{4, 8});
  auto y = b.node("Add", {b.node("Mul", {b.node("Add", {x, b.constant("c1", values({8}, 0.1, 0.1))}),
                                         b.constant("c2", values({8}, 1.0, -0.05))}),
                          b.constant("c3", values({8}, -0.3, 0.02))});
  b.output(y);
  auto r = expect_fires(b.finish(), "affine-chain");
  EXPECT_EQ(arithmetic_ops(r.after.graph), 2u);
}

TEST(RulesDistributive, AffineChainNeedsAGain) {
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{4, 8});
  b.output(b.node("Mul", {b.node("Add", {x, b.scalar("c1", 1.0f)}), b.scalar("c2", 2.0f)}));  // 2 ops either way
  expect_not_fired(b.finish(), "affine-chain");
  GraphBuilder p;  // a pure Mul chain is mul-constant-chain's business
  auto px = p.input("x", DType::F32, Shape{4, 8});
  p.output(p.node("Mul", {p.node("Div", {p.node("Mul", {px, p.scalar("a", 2.f)}), p.scalar("b", 3.f)}),
                          p.scalar("c", 4.f)}));
  expect_not_fired(p.finish(), "affine-chain");
}

TEST(RulesDistributive, AffineChainNumericWithBaseSumAndReversedSub) {
  // c4 - (((x + c0 + y) * c1) / c2 - c3): the sum's constant joins the shift.
  GraphBuilder b;
  auto x = b.input("x", DType::F32, Shape{3, 4});
  auto y = b.input("y", DType::F32, Shape{3, 4});
  auto s = b.node("Add", {b.node("Add", {b.constant("c0", values({4}, 0.2, 0.3)), x}), y});
  auto v = b.node("Mul", {s, b.constant("c1", values({3, 1}, 1.5, -0.25))});
  v = b.node("Div", {v, b.scalar("c2", 4.0f)});
  v = b.node("Sub", {v, b.scalar("c3", 0.5f)});
  v = b.node("Sub", {b.constant("c4", values({1, 4}, 1, 1)), v});
  b.output(v);
  auto r = expect_fires(b.finish(), "affine-chain");
  EXPECT_EQ(arithmetic_ops(r.after.graph), 3u);  // x + y, * k, + b
}

// ---- commutative ---------------------------------------------------------------------------------

TEST(RulesCommutative, ReduceProdExpFiresOpset17) {
  // ReduceProd takes axes as an attribute at opset 17, ReduceSum as an input.
  GraphBuilder b(17);
  auto a = b.input("a", DType::F32, Shape{4, 16});
  b.output(b.node("ReduceProd", {b.node("Exp", {a})}, {{"axes", ints({1})}, {"keepdims", one_int(0)}}));
  auto r = expect_fires(b.finish(), "reduceprod-exp");
  ASSERT_EQ(r.after.graph.nodes.size(), 2u);
  EXPECT_EQ(r.after.graph.nodes[0].op_type, "ReduceSum");
  EXPECT_EQ(r.after.graph.nodes[0].inputs.size(), 2u);
  EXPECT_EQ(r.after.graph.nodes[1].op_type, "Exp");
  EXPECT_LT(flops(r.after), flops(r.before));
}

TEST(RulesCommutative, ReduceProdExpNotFiredOtherwise) {
  GraphBuilder b(18);
  auto a = b.input("a", DType::F32, Shape{4, 16});
  b.output(b.node("ReduceProd", {b.node("Log", {a})}));
  // noop_with_empty_axes and no axes: the ReduceProd is the identity.
  b.output(b.node("ReduceProd", {b.node("Exp", {a})}, {{"noop_with_empty_axes", one_int(1)}}));
  expect_not_fired(b.finish(), "reduceprod-exp");
}

TEST(RulesCommutative, ReduceProdExpNumericOpsets) {
  for (int64_t opset : {11, 13, 18}) {
    GraphBuilder b(opset);
    auto a = b.input("a", DType::F32, Shape{2, 3, 5});
    auto e = b.node("Exp", {a});
    std::string p;
    if (opset >= 18) p = b.node("ReduceProd", {e, b.constant("axes", Tensor::vector_i64({0, -1}))});
    else p = b.node("ReduceProd", {e}, {{"axes", ints({0, -1})}});
    b.output(p);
    b.output(b.node("ReduceProd", {b.node("Exp", {b.node("Neg", {a})})}, {{"keepdims", one_int(0)}}));  // all axes
    auto r = expect_fires(b.finish(), "reduceprod-exp");
    EXPECT_EQ(r.summary.rewrites.at("reduceprod-exp"), 2) << opset;
  }
}

TEST(RulesCommutative, ReduceSumBitShiftFires) {
  GraphBuilder b;
  auto a = b.input("a", DType::U32, Shape{4, 16});
  Tensor s(DType::U32, {});
  s.set_i64(0, 3);
  auto sh = b.node("BitShift", {a, b.constant("s", s)}, {{"direction", Attribute::from_string("LEFT")}});
  b.output(b.node("ReduceSum", {sh, b.constant("axes", Tensor::vector_i64({1}))}));
  auto r = expect_fires(b.finish(), "reducesum-bitshift");
  ASSERT_EQ(r.after.graph.nodes.size(), 2u);
  EXPECT_EQ(r.after.graph.nodes[1].op_type, "BitShift");
}

TEST(RulesCommutative, ReduceSumBitShiftNotForRightShiftsOrPerElementAmounts) {
  GraphBuilder b;
  auto a = b.input("a", DType::U32, Shape{4, 16});
  Tensor s(DType::U32, {});
  s.set_i64(0, 1);
  auto right = b.node("BitShift", {a, b.constant("s", s)}, {{"direction", Attribute::from_string("RIGHT")}});
  b.output(b.node("ReduceSum", {right, b.constant("axes", Tensor::vector_i64({1}))}));
  Tensor per(DType::U32, {16});
  for (int64_t i = 0; i < 16; ++i) per.set_i64(i, i % 3);
  auto left = b.node("BitShift", {a, b.constant("per", per)}, {{"direction", Attribute::from_string("LEFT")}});
  b.output(b.node("ReduceSum", {left, b.constant("axes2", Tensor::vector_i64({1}))}));
  expect_not_fired(b.finish(), "reducesum-bitshift");
}

TEST(RulesCommutative, ReduceSumBitShiftNumericKeepdims) {
  GraphBuilder b;
  auto a = b.input("a", DType::U64, Shape{3, 4, 5});
  Tensor s(DType::U64, {1});
  s.set_i64(0, 5);
  auto sh = b.node("BitShift", {a, b.constant("s", s)}, {{"direction", Attribute::from_string("LEFT")}});
  b.output(b.node("ReduceSum", {sh, b.constant("axes", Tensor::vector_i64({0, 2}))}, {{"keepdims", one_int(1)}}));
  expect_fires(b.finish(), "reducesum-bitshift");
}

TEST(RulesCommutative, ReduceScalarCommuteFires) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{8, 32});
  auto m = b.node("Mul", {a, b.scalar("neg", -2.0f)});
  b.output(b.node("ReduceMax", {m}, {{"axes", ints({1})}}));  // opset 17: axes attribute
  auto r = expect_fires(b.finish(), "reduce-scalar-commute");
  EXPECT_EQ(count_ops(r.after.graph, "ReduceMin"), 1u);  // max(-2a) = -2 min(a)
  EXPECT_LT(flops(r.after), flops(r.before));
}

TEST(RulesCommutative, ReduceScalarCommuteNotFiredOtherwise) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{8, 32});
  // LogSumExp(c - a) is not c - LogSumExp(a).
  b.output(b.node("ReduceLogSumExp", {b.node("Sub", {b.scalar("c", 1.0f), a})}, {{"axes", ints({1})}}));
  // A sum of a + c over an unknown number of elements.
  auto d = b.input("d", DType::F32, std::vector<Dim>{Dim::sym("N"), Dim(4)});
  b.output(b.node("ReduceSum", {b.node("Add", {d, b.scalar("c2", 1.0f)})}));
  // A non-scalar addend.
  b.output(b.node("ReduceMean", {b.node("Add", {a, b.constant("v", values({32}, 0, 1))})}, {{"axes", ints({1})}}));
  expect_not_fired(b.finish(), "reduce-scalar-commute");
}

TEST(RulesCommutative, ReduceScalarCommuteNumericForms) {
  GraphBuilder b;
  auto a = b.input("a", DType::F32, Shape{4, 6, 8});
  auto axes = [&](const std::string& n) { return b.constant(n, Tensor::vector_i64({1, 2})); };
  b.output(b.node("ReduceSum", {b.node("Add", {b.scalar("c0", 0.5f), a}), axes("ax0")}));
  b.output(b.node("ReduceSum", {b.node("Sub", {b.scalar("c1", 0.25f), a}), axes("ax1")}));
  b.output(b.node("ReduceMean", {b.node("Sub", {a, b.scalar("c2", 0.75f)})}, {{"axes", ints({2})}}));
  b.output(b.node("ReduceMin", {b.node("Sub", {b.scalar("c3", 1.5f), a})}, {{"axes", ints({0})}}));
  b.output(b.node("ReduceMax", {b.node("Div", {a, b.scalar("c4", 4.0f)})}, {{"axes", ints({1})}}));
  b.output(b.node("ReduceLogSumExp", {b.node("Add", {a, b.scalar("c5", 2.0f)})}, {{"keepdims", one_int(0)}}));
  b.output(b.node("ReduceL2", {b.node("Mul", {a, b.scalar("c6", -3.0f)})}, {{"axes", ints({2})}}));
  b.output(b.node("ReduceL1", {b.node("Div", {a, b.scalar("c7", -0.5f)})}, {{"axes", ints({2})}}));
  b.output(b.node("ReduceSumSquare", {b.node("Mul", {a, b.scalar("c8", 1.5f)})}, {{"axes", ints({1})}}));
  b.output(b.node("ReduceMax", {b.node("Neg", {a})}, {{"axes", ints({2})}}));
  b.output(b.node("ReduceSum", {b.node("Neg", {a}), axes("ax2")}));
  b.output(b.node("ReduceL2", {b.node("Neg", {a})}, {{"axes", ints({0})}}));
  auto r = expect_fires(b.finish(), "reduce-scalar-commute");
  EXPECT_EQ(r.summary.rewrites.at("reduce-scalar-commute"), 12);
  EXPECT_LT(flops(r.after), flops(r.before));
}

// ---- families together: the rule set on a small graph keeps the numbers ---------------------------

TEST(RulesAlgebraTogether, AllRulesOnMixedGraph) {
  GraphBuilder b(13);
  auto a = b.input("a", DType::F32, Shape{4, 8});
  auto x = b.input("x", DType::F32, Shape{4, 8});
  auto r1 = b.node("ReduceSum", {x, b.constant("axes", Tensor::vector_i64({1}))});
  auto p = b.node("Mul", {b.node("Mul", {a, r1}), b.node("Mul", {r1, x})});
  auto q = b.node("Add", {b.node("Mul", {p, b.scalar("two", 2.0f)}), b.node("Mul", {p, x})});
  auto e = b.node("ReduceProd", {b.node("Exp", {q})}, {{"axes", ints({1})}});
  b.output(b.node("Mul", {b.node("Mul", {e, b.scalar("three", 3.0f)}), b.scalar("half", 0.5f)}));
  const Model m = b.finish();
  test::RuleRun r = test::run_all_rules(m);
  EXPECT_TRUE(r.fired);
  EXPECT_LT(flops(r.after), flops(m));
  EXPECT_TRUE(outputs_agree(r.before, r.after));
}

// ---- real models: the algebra and layout families alone keep every model's outputs ----------------

namespace {

std::vector<std::string> algebra_model_files() {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(fs::path(test::test_data_dir()) / "models" / "zoo_small"))
    if (e.path().extension() == ".onnx") files.push_back(e.path().string());
  const std::string shared = test::shared_models_dir();
  if (!shared.empty())
    for (const char* sub : {"detect", "transformer"})
      if (fs::is_directory(fs::path(shared) / sub))
        for (const auto& e : fs::directory_iterator(fs::path(shared) / sub))
          if (e.path().extension() == ".onnx") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::string model_test_name(const testing::TestParamInfo<std::string>& info) {
  std::string s = std::filesystem::path(info.param).stem().string();
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

class RulesAlgebraModels : public testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(RulesAlgebraModels, OutputsUnchanged) {
  Model m = onnx_io::load_model(GetParam());
  infer_shapes(m.graph);
  rewrite::RewriteOptions options;
  for (const auto& rule : rewrite::all_rules()) {
    const std::string& f = rule->family();
    if (f == "associative" || f == "distributive" || f == "commutative" || f == "layout") options.only.push_back(rule->name());
  }
  options.only.push_back("dead-code");
  Model after = m;
  const rewrite::RewriteSummary s = rewrite::run_rewrites(after.graph, nullptr, options);
  EXPECT_LE(s.nodes_after, s.nodes_before);
  EXPECT_LE(s.flops_after, s.flops_before * (1 + 1e-9));
  EXPECT_TRUE(outputs_agree(m, after, 1e-4, 1e-5, 7));
}

INSTANTIATE_TEST_SUITE_P(Zoo, RulesAlgebraModels, testing::ValuesIn(algebra_model_files()), model_test_name);
