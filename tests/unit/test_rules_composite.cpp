// Composite-recognition rules (core/rewrite/rules/composite_*.cpp) and the "dnnf"
// operator rows they emit (core/ops/composite_ops.cpp). Each rule: a graph where it
// fires, one where its condition fails, and a numeric before/after comparison; then
// the shared real models and the small zoo transformers end to end.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>

#include "core/ir/op_registry.h"
#include "core/ir/shape_inference.h"
#include "core/onnx_io/onnx_import.h"
#include "core/runtime/reference_executor.h"
#include "tests/support/rule_test_util.h"
#include "tests/support/test_util.h"

namespace fs = std::filesystem;
using namespace dnnf;
using test::count_ops;
using test::GraphBuilder;
using test::outputs_agree;
using test::run_rule;

namespace {

Attribute ints(std::vector<int64_t> v) { return Attribute::from_ints(std::move(v)); }
Attribute flt(float v) { return Attribute::from_float(v); }

Tensor values(const Shape& shape, double start, double step) {
  Tensor t(DType::F32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.set_f64(i, start + step * double(i));
  return t;
}

size_t dnnf_ops(const Graph& g, const std::string& op) { return count_ops(g, op, "dnnf"); }

// Fired, the composite is one dnnf node, and the result matches the original.
void expect_rewritten(const Model& m, const std::string& rule, const std::string& op, size_t count = 1) {
  const test::RuleRun r = run_rule(m, rule);
  EXPECT_TRUE(r.fired) << rule;
  EXPECT_EQ(dnnf_ops(r.after.graph, op), count) << rule;
  EXPECT_TRUE(outputs_agree(r.before, r.after)) << rule;
}

void expect_not_fired(const Model& m, const std::string& rule) {
  const test::RuleRun r = run_rule(m, rule);
  EXPECT_FALSE(r.fired) << rule;
  EXPECT_EQ(r.after.graph.nodes.size(), r.before.graph.nodes.size());
}

// ---- LayerNorm (PyTorch form) -----------------------------------------------------------------

struct LnOptions {
  Shape shape = {2, 3, 8};
  std::vector<int64_t> axes = {-1};
  bool mul_square = false;     // Mul(d, d) instead of Pow(d, 2)
  bool reciprocal = false;     // d * Reciprocal(Sqrt(.)) instead of Div
  bool duplicate_sub = true;   // PyTorch 1.x computes x - mean twice
  bool affine = true;          // * gamma + beta
  bool gamma_first = true;     // Mul(gamma, norm)
  bool mean_is_output = false;
  int64_t opset = 12;
};

Model layernorm_model(const LnOptions& o) {
  GraphBuilder g(o.opset);
  const std::string x = g.input("x", DType::F32, o.shape);
  auto reduce_mean = [&](const std::string& v) {
    if (o.opset >= 18) return g.node("ReduceMean", {v, g.constant("axes" + v, Tensor::vector_i64(o.axes))});
    return g.node("ReduceMean", {v}, {{"axes", ints(o.axes)}, {"keepdims", Attribute::from_int(1)}});
  };
  const std::string mean = reduce_mean(x);
  const std::string d = g.node("Sub", {x, mean});
  const std::string sq = o.mul_square ? g.node("Mul", {d, d}) : g.node("Pow", {d, g.scalar("two", 2.0f)});
  const std::string var = reduce_mean(sq);
  const std::string ve = g.node("Add", {var, g.scalar("eps", 1e-5f)});
  const std::string sd = g.node("Sqrt", {ve});
  const std::string num = o.duplicate_sub ? g.node("Sub", {x, mean}) : d;
  std::string y = o.reciprocal ? g.node("Mul", {num, g.node("Reciprocal", {sd})}) : g.node("Div", {num, sd});
  if (o.affine) {
    Shape ps(o.shape.end() - int64_t(o.axes.size()), o.shape.end());
    const std::string gamma = g.constant("gamma", values(ps, 0.5, 0.01));
    y = o.gamma_first ? g.node("Mul", {gamma, y}) : g.node("Mul", {y, gamma});
    y = g.node("Add", {y, g.constant("beta", values(ps, -0.2, 0.02))});
  }
  g.output(y);
  if (o.mean_is_output) g.output(mean);
  return g.finish();
}

TEST(RulesCompositeLayerNorm, FiresOnPyTorchForm) {
  const test::RuleRun r = run_rule(layernorm_model({}), "layernorm-from-primitives");
  ASSERT_TRUE(r.fired);
  EXPECT_EQ(dnnf_ops(r.after.graph, "LayerNormalization"), 1u);
  EXPECT_EQ(r.after.graph.nodes.size(), 1u);
  const Node& ln = r.after.graph.nodes[0];
  EXPECT_EQ(ln.inputs.size(), 3u);
  EXPECT_EQ(ln.attr_int("axis", 0), -1);
  EXPECT_FLOAT_EQ(ln.attr_float("epsilon", 0), 1e-5f);
  EXPECT_EQ(r.after.graph.opset("dnnf"), 1);
}

TEST(RulesCompositeLayerNorm, FiresOnVariants) {
  LnOptions a;
  a.mul_square = true;
  a.reciprocal = true;
  a.duplicate_sub = false;
  a.gamma_first = false;
  expect_rewritten(layernorm_model(a), "layernorm-from-primitives", "LayerNormalization");
  LnOptions b;
  b.affine = false;
  expect_rewritten(layernorm_model(b), "layernorm-from-primitives", "LayerNormalization");
  LnOptions c;  // two trailing axes, axes as an input (opset 18)
  c.axes = {-2, -1};
  c.opset = 18;
  expect_rewritten(layernorm_model(c), "layernorm-from-primitives", "LayerNormalization");
  LnOptions d;  // positive axes on a known rank
  d.axes = {2};
  expect_rewritten(layernorm_model(d), "layernorm-from-primitives", "LayerNormalization");
}

TEST(RulesCompositeLayerNorm, DoesNotFireWhenConditionsFail) {
  LnOptions a;  // over a middle axis
  a.axes = {1};
  expect_not_fired(layernorm_model(a), "layernorm-from-primitives");
  LnOptions b;  // the mean is read outside the pattern
  b.mean_is_output = true;
  expect_not_fired(layernorm_model(b), "layernorm-from-primitives");
  // Variance of another value: (x - mean) / sqrt(mean(y^2) + eps).
  GraphBuilder g(12);
  const std::string x = g.input("x", DType::F32, Shape{2, 8});
  const std::string y = g.input("y", DType::F32, Shape{2, 8});
  const std::string m = g.node("ReduceMean", {x}, {{"axes", ints({-1})}});
  const std::string d = g.node("Sub", {x, m});
  const std::string dy = g.node("Sub", {y, g.node("ReduceMean", {y}, {{"axes", ints({-1})}})});
  const std::string v = g.node("ReduceMean", {g.node("Mul", {dy, dy})}, {{"axes", ints({-1})}});
  g.output(g.node("Div", {d, g.node("Sqrt", {v})}));
  expect_not_fired(g.finish(), "layernorm-from-primitives");
}

TEST(RulesCompositeLayerNorm, NumericMatchesOriginal) {
  for (bool affine : {true, false})
    for (bool mul_square : {true, false}) {
      LnOptions o;
      o.affine = affine;
      o.mul_square = mul_square;
      const test::RuleRun r = run_rule(layernorm_model(o), "layernorm-from-primitives");
      ASSERT_TRUE(r.fired);
      EXPECT_TRUE(outputs_agree(r.before, r.after));
    }
}

// ---- LayerNorm (keras2onnx / tf2onnx form) --------------------------------------------------------

Model tf_layernorm_model(bool gamma, bool beta, bool mismatched_k = false) {
  GraphBuilder g(11);
  const std::string x = g.input("x", DType::F32, Shape{2, 4, 8});
  const std::string mean = g.node("ReduceMean", {x}, {{"axes", ints({2})}, {"keepdims", Attribute::from_int(1)}});
  const std::string d = g.node("Sub", {x, mean});
  const std::string var = g.node("ReduceMean", {g.node("Mul", {d, d})}, {{"axes", ints({2})}});
  const std::string r = g.node("Reciprocal", {g.node("Sqrt", {g.node("Add", {var, g.scalar("eps", 1e-12f)})})});
  const std::string k = gamma ? g.node("Mul", {r, g.constant("gamma", values({8}, 0.9, 0.02))}) : r;
  const std::string xk = g.node("Mul", {x, k});
  const std::string mk = g.node("Mul", {mean, mismatched_k ? g.node("Mul", {k, g.scalar("two", 2.0f)}) : k});
  if (beta) g.output(g.node("Add", {xk, g.node("Sub", {g.constant("beta", values({8}, 0.1, -0.03)), mk})}));
  else g.output(g.node("Sub", {xk, mk}));
  return g.finish();
}

TEST(RulesCompositeLayerNormTf, FiresOnKerasForm) {
  const test::RuleRun r = run_rule(tf_layernorm_model(true, true), "layernorm-tf-form");
  ASSERT_TRUE(r.fired);
  EXPECT_EQ(r.after.graph.nodes.size(), 1u);
  EXPECT_EQ(dnnf_ops(r.after.graph, "LayerNormalization"), 1u);
  expect_rewritten(tf_layernorm_model(false, false), "layernorm-tf-form", "LayerNormalization");
}

TEST(RulesCompositeLayerNormTf, DoesNotFireWhenScalesDiffer) {
  expect_not_fired(tf_layernorm_model(true, true, true), "layernorm-tf-form");
}

TEST(RulesCompositeLayerNormTf, NumericMatchesOriginal) {
  for (bool gamma : {true, false})
    for (bool beta : {true, false}) {
      const test::RuleRun r = run_rule(tf_layernorm_model(gamma, beta), "layernorm-tf-form");
      ASSERT_TRUE(r.fired) << gamma << beta;
      EXPECT_TRUE(outputs_agree(r.before, r.after));
    }
}

// ---- RMSNorm ---------------------------------------------------------------------------------

Model rmsnorm_model(bool div_form, bool gamma, std::vector<int64_t> axes = {-1}, bool other_square = false) {
  GraphBuilder g(17);
  const std::string x = g.input("x", DType::F32, Shape{3, 2, 16});
  const std::string s = other_square ? g.input("s", DType::F32, Shape{3, 2, 16}) : x;
  const std::string ms = g.node("ReduceMean", {g.node("Pow", {s, g.scalar("two", 2.0f)})}, {{"axes", ints(axes)}});
  const std::string sd = g.node("Sqrt", {g.node("Add", {g.scalar("eps", 1e-6f), ms})});
  std::string y = div_form ? g.node("Div", {x, sd}) : g.node("Mul", {x, g.node("Reciprocal", {sd})});
  if (gamma) y = g.node("Mul", {g.constant("gamma", values({16}, 1.0, 0.05)), y});
  g.output(y);
  return g.finish();
}

TEST(RulesCompositeRmsNorm, FiresOnBothForms) {
  const test::RuleRun r = run_rule(rmsnorm_model(false, true), "rmsnorm-from-primitives");
  ASSERT_TRUE(r.fired);
  ASSERT_EQ(r.after.graph.nodes.size(), 1u);
  EXPECT_EQ(r.after.graph.nodes[0].op_type, "RMSNormalization");
  EXPECT_EQ(r.after.graph.nodes[0].inputs.size(), 2u);
  expect_rewritten(rmsnorm_model(true, false), "rmsnorm-from-primitives", "RMSNormalization");
}

TEST(RulesCompositeRmsNorm, DoesNotFireWhenConditionsFail) {
  expect_not_fired(rmsnorm_model(false, true, {0}), "rmsnorm-from-primitives");
  expect_not_fired(rmsnorm_model(false, true, {-1}, true), "rmsnorm-from-primitives");
  // A LayerNorm is not taken for an RMSNorm of the centred value.
  expect_not_fired(layernorm_model({}), "rmsnorm-from-primitives");
}

TEST(RulesCompositeRmsNorm, NumericMatchesOriginal) {
  for (bool div_form : {true, false})
    for (bool gamma : {true, false}) {
      const test::RuleRun r = run_rule(rmsnorm_model(div_form, gamma), "rmsnorm-from-primitives");
      ASSERT_TRUE(r.fired);
      EXPECT_TRUE(outputs_agree(r.before, r.after));
    }
}

// ---- absorbing a later scale / shift into a recognised norm --------------------------------------

Model norm_then_affine(const std::string& norm, bool with_scale, const Shape& gamma_shape, bool cast_between) {
  GraphBuilder g(13);
  const std::string x = g.input("x", DType::F32, Shape{3, 4, 8});
  std::vector<std::string> ins = {x};
  if (with_scale) ins.push_back(g.constant("s0", values({8}, 0.5, 0.1)));
  std::string y = g.node(norm, ins, {{"axis", Attribute::from_int(-1)}, {"epsilon", flt(1e-5f)}}, 1, "dnnf");
  if (cast_between) y = g.node("Cast", {y}, {{"to", Attribute::from_int(1)}});
  y = g.node("Mul", {y, g.constant("gamma", values(gamma_shape, 0.7, 0.01))});
  if (norm == "LayerNormalization") y = g.node("Add", {g.constant("beta", values({8}, 0.3, -0.05)), y});
  g.output(y);
  return g.finish();
}

TEST(RulesCompositeNormAbsorb, FoldsScaleAndShift) {
  const test::RuleRun r = run_rule(norm_then_affine("LayerNormalization", true, {8}, true), "norm-absorb-affine");
  ASSERT_TRUE(r.fired);
  ASSERT_EQ(r.after.graph.nodes.size(), 1u);
  EXPECT_EQ(r.after.graph.nodes[0].inputs.size(), 3u);
  EXPECT_TRUE(outputs_agree(r.before, r.after));
  expect_rewritten(norm_then_affine("RMSNormalization", false, {1, 8}, false), "norm-absorb-affine",
                   "RMSNormalization");
}

TEST(RulesCompositeNormAbsorb, DoesNotFireOnPerRowParameters) {
  // A [4, 1] factor varies along an outer axis: not a per-feature scale.
  const Model m = norm_then_affine("RMSNormalization", false, {4, 1}, false);
  expect_not_fired(m, "norm-absorb-affine");
}

TEST(RulesCompositeNormAbsorb, NumericMatchesOriginal) {
  for (bool with_scale : {true, false}) {
    const test::RuleRun r =
        run_rule(norm_then_affine("LayerNormalization", with_scale, {1, 1, 8}, false), "norm-absorb-affine");
    ASSERT_TRUE(r.fired);
    EXPECT_EQ(r.after.graph.nodes.size(), 1u);
    EXPECT_TRUE(outputs_agree(r.before, r.after));
  }
}

// ---- point-wise activations ---------------------------------------------------------------

// Builds y = f(x) from a function of the builder and x.
Model activation_model(const std::function<std::string(GraphBuilder&, const std::string&)>& f, int64_t opset = 13,
                       const Shape& shape = {2, 3, 5}) {
  GraphBuilder g(opset);
  const std::string x = g.input("x", DType::F32, shape);
  g.output(f(g, x));
  return g.finish();
}

std::string gelu_pytorch(GraphBuilder& g, const std::string& x) {
  const std::string e = g.node("Erf", {g.node("Div", {x, g.scalar("sqrt2", 1.4142135f)})});
  return g.node("Mul", {g.node("Mul", {x, g.node("Add", {e, g.scalar("one", 1.0f)})}), g.scalar("half", 0.5f)});
}

std::string gelu_tf(GraphBuilder& g, const std::string& x) {
  const std::string s2 = g.node("Sqrt", {g.scalar("two", 2.0f)});
  const std::string e = g.node("Erf", {g.node("Div", {x, s2})});
  return g.node("Mul", {x, g.node("Mul", {g.scalar("half", 0.5f), g.node("Add", {g.scalar("one", 1.0f), e})})});
}

std::string gelu_expanded(GraphBuilder& g, const std::string& x) {  // 0.5x + 0.5x*erf(x*0.7071)
  const std::string hx = g.node("Mul", {g.scalar("half", 0.5f), x});
  const std::string e = g.node("Erf", {g.node("Mul", {x, g.scalar("r", 0.70710677f)})});
  return g.node("Add", {hx, g.node("Mul", {hx, e})});
}

std::string gelu_wrong(GraphBuilder& g, const std::string& x) {
  const std::string e = g.node("Erf", {g.node("Div", {x, g.scalar("c", 1.5f)})});
  return g.node("Mul", {g.node("Mul", {x, g.node("Add", {e, g.scalar("one", 1.0f)})}), g.scalar("half", 0.5f)});
}

TEST(RulesCompositeGeluErf, FiresOnExportedForms) {
  for (auto f : {gelu_pytorch, gelu_tf, gelu_expanded}) {
    const test::RuleRun r = run_rule(activation_model(f), "gelu-from-erf");
    ASSERT_TRUE(r.fired);
    ASSERT_EQ(r.after.graph.nodes.size(), 1u);
    EXPECT_EQ(r.after.graph.nodes[0].attr_string("approximate", ""), "none");
  }
}

TEST(RulesCompositeGeluErf, DoesNotFireOnOtherConstants) {
  expect_not_fired(activation_model(gelu_wrong), "gelu-from-erf");
  // GELU of x whose x*0.5 is also read elsewhere stays.
  expect_not_fired(activation_model([](GraphBuilder& g, const std::string& x) {
                     const std::string hx = g.node("Mul", {x, g.scalar("half", 0.5f)});
                     g.output(hx);
                     const std::string e = g.node("Erf", {g.node("Div", {x, g.scalar("sqrt2", 1.4142135f)})});
                     return g.node("Mul", {hx, g.node("Add", {e, g.scalar("one", 1.0f)})});
                   }),
                   "gelu-from-erf");
}

TEST(RulesCompositeGeluErf, NumericMatchesOriginal) {
  for (auto f : {gelu_pytorch, gelu_tf, gelu_expanded}) {
    const test::RuleRun r = run_rule(activation_model(f), "gelu-from-erf");
    ASSERT_TRUE(r.fired);
    EXPECT_TRUE(outputs_agree(r.before, r.after));
  }
}

std::string gelu_tanh_gpt2(GraphBuilder& g, const std::string& x) {
  const std::string cube = g.node("Pow", {x, g.scalar("three", 3.0f)});
  const std::string inner = g.node("Add", {x, g.node("Mul", {cube, g.scalar("c", 0.044715f)})});
  const std::string t = g.node("Tanh", {g.node("Mul", {inner, g.scalar("k", 0.7978846f)})});
  return g.node("Mul", {g.node("Mul", {x, g.scalar("half", 0.5f)}), g.node("Add", {t, g.scalar("one", 1.0f)})});
}

std::string gelu_tanh_megatron(GraphBuilder& g, const std::string& x) {  // k*x*(1 + 0.044715*x*x)
  const std::string kx = g.node("Mul", {x, g.scalar("k", 0.7978846f)});
  const std::string cx = g.node("Mul", {g.node("Mul", {x, g.scalar("c", 0.044715f)}), x});
  const std::string t = g.node("Tanh", {g.node("Mul", {kx, g.node("Add", {cx, g.scalar("one", 1.0f)})})});
  return g.node("Mul", {g.node("Mul", {x, g.scalar("half", 0.5f)}), g.node("Add", {t, g.scalar("one2", 1.0f)})});
}

std::string gelu_tanh_cubed_mul(GraphBuilder& g, const std::string& x) {  // x*x*x, 0.5 outside
  const std::string cube = g.node("Mul", {g.node("Mul", {x, x}), x});
  const std::string inner = g.node("Add", {g.node("Mul", {g.scalar("c", 0.044715f), cube}), x});
  const std::string t = g.node("Tanh", {g.node("Mul", {g.scalar("k", 0.7978846f), inner})});
  return g.node("Mul", {g.scalar("half", 0.5f), g.node("Mul", {x, g.node("Add", {g.scalar("one", 1.0f), t})})});
}

TEST(RulesCompositeGeluTanh, FiresOnExportedForms) {
  for (auto f : {gelu_tanh_gpt2, gelu_tanh_megatron, gelu_tanh_cubed_mul}) {
    const test::RuleRun r = run_rule(activation_model(f), "gelu-from-tanh");
    ASSERT_TRUE(r.fired);
    ASSERT_EQ(r.after.graph.nodes.size(), 1u);
    EXPECT_EQ(r.after.graph.nodes[0].attr_string("approximate", ""), "tanh");
  }
}

TEST(RulesCompositeGeluTanh, DoesNotFireOnOtherCubicCoefficient) {
  expect_not_fired(activation_model([](GraphBuilder& g, const std::string& x) {
                     const std::string cube = g.node("Pow", {x, g.scalar("three", 3.0f)});
                     const std::string inner = g.node("Add", {x, g.node("Mul", {cube, g.scalar("c", 0.05f)})});
                     const std::string t = g.node("Tanh", {g.node("Mul", {inner, g.scalar("k", 0.7978846f)})});
                     return g.node("Mul", {g.node("Mul", {x, g.scalar("half", 0.5f)}),
                                           g.node("Add", {t, g.scalar("one", 1.0f)})});
                   }),
                   "gelu-from-tanh");
}

TEST(RulesCompositeGeluTanh, NumericMatchesOriginal) {
  for (auto f : {gelu_tanh_gpt2, gelu_tanh_megatron, gelu_tanh_cubed_mul}) {
    const test::RuleRun r = run_rule(activation_model(f), "gelu-from-tanh");
    ASSERT_TRUE(r.fired);
    EXPECT_TRUE(outputs_agree(r.before, r.after));
  }
}

TEST(RulesCompositeSilu, FiresInEitherOrder) {
  for (bool sig_first : {false, true}) {
    const Model m = activation_model([sig_first](GraphBuilder& g, const std::string& x) {
      const std::string s = g.node("Sigmoid", {x});
      return sig_first ? g.node("Mul", {s, x}) : g.node("Mul", {x, s});
    });
    expect_rewritten(m, "silu-from-sigmoid", "Silu");
  }
}

TEST(RulesCompositeSilu, DoesNotFireWhenConditionsFail) {
  GraphBuilder g(11);
  const std::string x = g.input("x", DType::F32, Shape{4, 4});
  const std::string y = g.input("y", DType::F32, Shape{4, 4});
  g.output(g.node("Mul", {y, g.node("Sigmoid", {x})}));  // gated by another value
  expect_not_fired(g.finish(), "silu-from-sigmoid");
  expect_not_fired(activation_model([](GraphBuilder& gb, const std::string& x) {
                     const std::string s = gb.node("Sigmoid", {x});
                     gb.output(s);  // the gate is needed on its own
                     return gb.node("Mul", {x, s});
                   }),
                   "silu-from-sigmoid");
}

TEST(RulesCompositeSilu, NumericMatchesOriginal) {
  const test::RuleRun r = run_rule(activation_model([](GraphBuilder& g, const std::string& x) {
                                     return g.node("Mul", {x, g.node("Sigmoid", {x})});
                                   }, 11, {1, 8, 6, 6}),
                                   "silu-from-sigmoid");
  ASSERT_TRUE(r.fired);
  EXPECT_TRUE(outputs_agree(r.before, r.after));
}

std::string hardswish_hardsigmoid(GraphBuilder& g, const std::string& x) {
  return g.node("Mul", {x, g.node("HardSigmoid", {x}, {{"alpha", flt(1.0f / 6.0f)}, {"beta", flt(0.5f)}})});
}

std::string hardswish_relu6(GraphBuilder& g, const std::string& x) {  // opset 11+: Clip bounds as inputs
  const std::string c = g.node("Clip", {g.node("Add", {x, g.scalar("three", 3.0f)}), g.scalar("lo", 0.0f),
                                        g.scalar("hi", 6.0f)});
  return g.node("Div", {g.node("Mul", {x, c}), g.scalar("six", 6.0f)});
}

TEST(RulesCompositeHardSwish, FiresOnHardSigmoidAndRelu6Forms) {
  expect_rewritten(activation_model(hardswish_hardsigmoid), "hardswish-from-primitives", "HardSwish");
  expect_rewritten(activation_model(hardswish_relu6), "hardswish-from-primitives", "HardSwish");
  // Opset 6 Clip with min/max attributes.
  expect_rewritten(activation_model(
                       [](GraphBuilder& g, const std::string& x) {
                         const std::string c = g.node("Clip", {g.node("Add", {g.scalar("three", 3.0f), x})},
                                                      {{"min", flt(0.0f)}, {"max", flt(6.0f)}});
                         return g.node("Mul", {g.node("Mul", {c, g.scalar("inv6", 1.0f / 6.0f)}), x});
                       },
                       9),
                   "hardswish-from-primitives", "HardSwish");
}

TEST(RulesCompositeHardSwish, DoesNotFireOnOtherSlopes) {
  expect_not_fired(activation_model([](GraphBuilder& g, const std::string& x) {
                     return g.node("Mul", {x, g.node("HardSigmoid", {x})});  // alpha 0.2
                   }),
                   "hardswish-from-primitives");
  expect_not_fired(activation_model([](GraphBuilder& g, const std::string& x) {
                     const std::string c = g.node("Clip", {g.node("Add", {x, g.scalar("three", 3.0f)}),
                                                           g.scalar("lo", 0.0f), g.scalar("hi", 5.0f)});
                     return g.node("Div", {g.node("Mul", {x, c}), g.scalar("six", 6.0f)});
                   }),
                   "hardswish-from-primitives");
}

TEST(RulesCompositeHardSwish, NumericMatchesOriginal) {
  for (auto f : {hardswish_hardsigmoid, hardswish_relu6}) {
    // Inputs in [-1, 1) would not reach the clamps: scale them to [-8, 8).
    const test::RuleRun r = run_rule(activation_model([f](GraphBuilder& g, const std::string& x) {
                                       return f(g, g.node("Mul", {x, g.scalar("spread", 8.0f)}));
                                     }),
                                     "hardswish-from-primitives");
    ASSERT_TRUE(r.fired);
    EXPECT_TRUE(outputs_agree(r.before, r.after));
  }
}

std::string mish(GraphBuilder& g, const std::string& x) {
  return g.node("Mul", {g.node("Tanh", {g.node("Softplus", {x})}), x});
}

TEST(RulesCompositeMish, Fires) { expect_rewritten(activation_model(mish), "mish-from-primitives", "Mish"); }

TEST(RulesCompositeMish, DoesNotFireOnOtherArgument) {
  GraphBuilder g(13);
  const std::string x = g.input("x", DType::F32, Shape{4});
  const std::string y = g.input("y", DType::F32, Shape{4});
  g.output(g.node("Mul", {g.node("Tanh", {g.node("Softplus", {y})}), x}));
  expect_not_fired(g.finish(), "mish-from-primitives");
}

TEST(RulesCompositeMish, NumericMatchesOriginal) {
  const test::RuleRun r = run_rule(activation_model(mish), "mish-from-primitives");
  ASSERT_TRUE(r.fired);
  EXPECT_TRUE(outputs_agree(r.before, r.after));
}

// ---- Softmax written out ------------------------------------------------------------------

Model softmax_model(bool with_max, int64_t axis, int64_t opset, int64_t sum_axis, bool reciprocal = false) {
  GraphBuilder g(opset);
  const std::string x = g.input("x", DType::F32, Shape{2, 3, 4});
  auto reduce = [&](const char* op, const std::string& v, int64_t a) {
    const bool axes_input = std::string(op) == "ReduceSum" ? opset >= 13 : opset >= 18;
    if (axes_input) return g.node(op, {v, g.constant(std::string(op) + "_axes", Tensor::vector_i64({a}))});
    return g.node(op, {v}, {{"axes", ints({a})}});
  };
  std::string z = x;
  if (with_max) z = g.node("Sub", {x, reduce("ReduceMax", x, axis)});
  const std::string e = g.node("Exp", {z});
  const std::string s = reduce("ReduceSum", e, sum_axis);
  g.output(reciprocal ? g.node("Mul", {e, g.node("Reciprocal", {s})}) : g.node("Div", {e, s}));
  return g.finish();
}

TEST(RulesCompositeSoftmax, FiresWithAndWithoutMax) {
  const test::RuleRun r = run_rule(softmax_model(true, -1, 13, -1), "softmax-from-primitives");
  ASSERT_TRUE(r.fired);
  ASSERT_EQ(r.after.graph.nodes.size(), 1u);
  EXPECT_EQ(r.after.graph.nodes[0].attr_int("axis", 0), 2);
  expect_rewritten(softmax_model(false, 1, 11, 1), "softmax-from-primitives", "Softmax");
  expect_rewritten(softmax_model(true, 0, 18, 0, true), "softmax-from-primitives", "Softmax");
}

TEST(RulesCompositeSoftmax, DoesNotFireWhenAxesDiffer) {
  expect_not_fired(softmax_model(true, -1, 13, 1), "softmax-from-primitives");
  GraphBuilder g(13);  // a sum over two axes is not one softmax
  const std::string x = g.input("x", DType::F32, Shape{2, 3, 4});
  const std::string e = g.node("Exp", {x});
  g.output(g.node("Div", {e, g.node("ReduceSum", {e, g.constant("ax", Tensor::vector_i64({1, 2}))})}));
  expect_not_fired(g.finish(), "softmax-from-primitives");
}

TEST(RulesCompositeSoftmax, NumericMatchesOriginalAtOldOpsets) {
  // axis 1 of a rank-3 input at opset 11: dnnf.Softmax must stay single-axis (ONNX
  // Softmax before opset 13 would coerce to 2-D).
  for (int64_t axis : {0, 1, 2}) {
    const test::RuleRun r = run_rule(softmax_model(true, axis, 11, axis), "softmax-from-primitives");
    ASSERT_TRUE(r.fired);
    EXPECT_TRUE(outputs_agree(r.before, r.after)) << axis;
  }
  const test::RuleRun r = run_rule(softmax_model(false, -1, 13, -1, true), "softmax-from-primitives");
  ASSERT_TRUE(r.fired);
  EXPECT_TRUE(outputs_agree(r.before, r.after));
}

// ---- attention ---------------------------------------------------------------------------

enum class Mask { None, Additive, Bool, InvertedBool, BoolThenAdditive, AdditiveThenBool };

struct AttnOptions {
  Mask mask = Mask::Additive;
  bool scale_q = false;          // Div(Q, c) before the product (DistilBERT)
  int64_t softmax_axis = -1;
  bool probs_are_output = false;
  int64_t opset = 13;
};

Model attention_model(const AttnOptions& o) {
  GraphBuilder g(o.opset);
  const std::string q = g.input("q", DType::F32, Shape{1, 2, 5, 4});
  const std::string kt = g.input("kt", DType::F32, Shape{1, 2, 4, 6});
  const std::string v = g.input("v", DType::F32, Shape{1, 2, 6, 3});
  std::string s;
  if (o.scale_q) s = g.node("MatMul", {g.node("Div", {q, g.scalar("c", 2.0f)}), kt});
  else s = g.node("Div", {g.node("MatMul", {q, kt}), g.scalar("c", 2.0f)});
  if (o.mask == Mask::Additive) {
    Tensor m = values({1, 1, 1, 6}, 0.0, 0.0);
    m.set_f64(5, -10000.0);
    s = g.node("Add", {s, g.constant("mask", m)});
  } else if (o.mask != Mask::None) {
    const std::string keep = g.input("keep", DType::Bool, Shape{1, 1, 5, 6});
    const std::string fill = g.scalar("fill", -10000.0f);
    const std::string bias = g.input("bias", DType::F32, Shape{1, 1, 1, 6});
    if (o.mask == Mask::AdditiveThenBool) s = g.node("Add", {s, bias});
    s = o.mask == Mask::InvertedBool ? g.node("Where", {keep, fill, s}) : g.node("Where", {keep, s, fill});
    if (o.mask == Mask::BoolThenAdditive) s = g.node("Add", {bias, s});  // GPT-2: causal Where, then padding
  }
  const std::string p = g.node("Softmax", {s}, {{"axis", Attribute::from_int(o.softmax_axis)}});
  if (o.probs_are_output) g.output(p);
  g.output(g.node("MatMul", {p, v}));
  return g.finish();
}

TEST(RulesCompositeAttention, FiresOnExportedForms) {
  const test::RuleRun r = run_rule(attention_model({}), "attention-from-primitives");
  ASSERT_TRUE(r.fired);
  ASSERT_EQ(r.after.graph.nodes.size(), 1u);
  EXPECT_FLOAT_EQ(r.after.graph.nodes[0].attr_float("scale", 0), 0.5f);
  for (Mask mask : {Mask::None, Mask::Bool, Mask::InvertedBool, Mask::BoolThenAdditive}) {
    AttnOptions o;
    o.mask = mask;
    o.scale_q = mask == Mask::InvertedBool;
    o.opset = mask == Mask::None ? 12 : 13;
    o.softmax_axis = mask == Mask::None ? 3 : -1;
    expect_rewritten(attention_model(o), "attention-from-primitives", "Attention");
  }
}

TEST(RulesCompositeAttention, DoesNotFireWhenConditionsFail) {
  AttnOptions a;
  a.softmax_axis = 2;  // not over the keys
  expect_not_fired(attention_model(a), "attention-from-primitives");
  AttnOptions b;
  b.probs_are_output = true;  // the probabilities are needed
  expect_not_fired(attention_model(b), "attention-from-primitives");
  AttnOptions c;  // opset 12 Softmax with the default axis 1 coerces [1,2,5,6] to 2-D
  c.opset = 12;
  c.softmax_axis = 1;
  expect_not_fired(attention_model(c), "attention-from-primitives");
  AttnOptions d;  // an additive mask under the Where is not the (mask, bias) order
  d.mask = Mask::AdditiveThenBool;
  expect_not_fired(attention_model(d), "attention-from-primitives");
}

TEST(RulesCompositeAttention, NumericMatchesOriginal) {
  for (Mask mask : {Mask::None, Mask::Additive, Mask::Bool, Mask::InvertedBool, Mask::BoolThenAdditive})
    for (bool scale_q : {false, true}) {
      AttnOptions o;
      o.mask = mask;
      o.scale_q = scale_q;
      const test::RuleRun r = run_rule(attention_model(o), "attention-from-primitives");
      ASSERT_TRUE(r.fired);
      EXPECT_TRUE(outputs_agree(r.before, r.after)) << int(mask) << scale_q;
    }
}

// ---- the dnnf operator rows -------------------------------------------------------------

TEST(RulesCompositeOps, RowsAreRegisteredInTheDnnfDomain) {
  const OpRegistry& reg = OpRegistry::instance();
  const std::vector<std::pair<const char*, MappingType>> rows = {
      {"LayerNormalization", MappingType::ManyToMany}, {"RMSNormalization", MappingType::ManyToMany},
      {"Softmax", MappingType::ManyToMany},            {"Attention", MappingType::ManyToMany},
      {"Gelu", MappingType::OneToOne},                 {"Silu", MappingType::OneToOne},
      {"HardSwish", MappingType::OneToOne},            {"Mish", MappingType::OneToOne}};
  for (const auto& [name, mapping] : rows) {
    const OpInfo* row = reg.find("dnnf", name, 1);
    ASSERT_NE(row, nullptr) << name;
    EXPECT_EQ(row->family, "composite");
    EXPECT_EQ(row->mapping, mapping) << name;
    EXPECT_TRUE(row->cost) << name;
  }
}

TEST(RulesCompositeOps, KernelsIgnoreTheModelOpset) {
  // dnnf.Softmax(axis=1) at ai.onnx opset 11: softmax over axis 1 only.
  GraphBuilder g(11);
  const std::string x = g.input("x", DType::F32, Shape{2, 3, 2});
  g.output(g.node("Softmax", {x}, {{"axis", Attribute::from_int(1)}}, 1, "dnnf"));
  g.output(g.node("Silu", {x}, {}, 1, "dnnf"));
  const Model m = g.finish();
  TensorMap in;
  in["x"] = values({2, 3, 2}, -1.0, 0.2);
  const TensorMap out = ReferenceExecutor(m.graph).run(in);
  const Tensor& y = out.at(m.graph.outputs[0].name);
  for (int64_t o = 0; o < 2; ++o)
    for (int64_t i = 0; i < 2; ++i) {
      double sum = 0;
      for (int64_t l = 0; l < 3; ++l) sum += y.get_f64((o * 3 + l) * 2 + i);
      EXPECT_NEAR(sum, 1.0, 1e-6);
    }
  const Tensor& s = out.at(m.graph.outputs[1].name);
  for (int64_t i = 0; i < s.numel(); ++i) {
    const double v = in["x"].get_f64(i);
    EXPECT_NEAR(s.get_f64(i), v / (1 + std::exp(-v)), 1e-6);
  }
}

TEST(RulesCompositeOps, BadNodesFailCleanly) {
  GraphBuilder g(13);
  const std::string x = g.input("x", DType::I64, Shape{2, 3});
  g.output(g.node("Gelu", {x}, {}, 1, "dnnf"));
  EXPECT_THROW(g.finish(), Error);
  GraphBuilder h(13);
  const std::string q = h.input("q", DType::F32, Shape{2, 3});
  h.output(h.node("Attention", {q, q}, {}, 1, "dnnf"));
  EXPECT_THROW(h.finish(), Error);
}

// ---- real models ---------------------------------------------------------------------------

Model load(const std::string& path) {
  Model m = onnx_io::load_model(path);
  infer_shapes(m.graph);
  return m;
}

size_t norm_nodes(const Graph& g) {
  return count_ops(g, "LayerNormalization") + count_ops(g, "RMSNormalization");
}

struct Expect {
  size_t layernorm = 0, gelu = 0, silu = 0;
};

void check_model(const std::string& path, const Expect& e) {
  const Model m = load(path);
  const test::RuleRun r = test::run_all_rules(m);
  const Graph& g = r.after.graph;
  // LayerNorm-class nodes of the original (ai.onnx ones of opset-17 exports) stay counted.
  EXPECT_EQ(norm_nodes(g), e.layernorm + norm_nodes(m.graph)) << path;
  EXPECT_EQ(count_ops(g, "Gelu"), e.gelu + count_ops(m.graph, "Gelu")) << path;
  EXPECT_EQ(count_ops(g, "Silu"), e.silu) << path;
  EXPECT_EQ(count_ops(g, "ReduceMean"), 0u) << path;
  EXPECT_TRUE(outputs_agree(r.before, r.after)) << path;
  // The journal replays onto the original: the rules match deterministically.
  Model replayed = m;
  rewrite::replay_rewrites(replayed.graph, r.journal);
  EXPECT_EQ(replayed.graph.nodes.size(), g.nodes.size()) << path;
  EXPECT_EQ(count_ops(replayed.graph, "LayerNormalization", "dnnf"), count_ops(g, "LayerNormalization", "dnnf"));
}

std::string shared(const std::string& rel) {
  const std::string dir = test::shared_models_dir();
  if (dir.empty() || !fs::exists(fs::path(dir) / rel)) return "";
  return (fs::path(dir) / rel).string();
}

TEST(RulesCompositeModels, BertToyUnfused) {
  const std::string p = shared("transformer/bert_toy_unfused.onnx");
  if (p.empty()) GTEST_SKIP() << "shared models absent";
  // Counted in the ONNX file: 12 ReduceMean(Pow(x - mean, 2)) variances, 6 Erf GELUs.
  check_model(p, {12, 6, 0});
}

TEST(RulesCompositeModels, Gpt2Megatron) {
  const std::string p = shared("transformer/gpt2_megatron.onnx");
  if (p.empty()) GTEST_SKIP() << "shared models absent";
  check_model(p, {3, 1, 0});  // 3 LayerNorms, one tanh GELU written k*x*(1 + c*x*x)
}

TEST(RulesCompositeModels, Gpt2Past) {
  const std::string p = shared("transformer/gpt2_past.onnx");
  if (p.empty()) GTEST_SKIP() << "shared models absent";
  check_model(p, {25, 12, 0});
}

TEST(RulesCompositeModels, YoloxNano) {
  const std::string p = shared("detect/yolox_nano.onnx");
  if (p.empty()) GTEST_SKIP() << "shared models absent";
  check_model(p, {0, 0, 104});
}

TEST(RulesCompositeModels, ZooSmallTransformers) {
  // (model, GELUs written out): the opset-17 exports already carry LayerNormalization.
  const std::vector<std::pair<std::string, size_t>> models = {
      {"bert_base_small", 2}, {"distilbert_small", 2}, {"gpt2_small", 2},
      {"mobilebert_small", 0}, {"tinybert_small", 2}, {"albert_base_small", 2}};
  for (const auto& [name, gelus] : models) {
    const fs::path p = fs::path(test::test_data_dir()) / "models" / "zoo_small" / (name + ".onnx");
    if (!fs::exists(p)) continue;
    const Model m = load(p.string());
    const test::RuleRun r = test::run_all_rules(m);
    const Graph& g = r.after.graph;
    EXPECT_EQ(count_ops(g, "Gelu"), gelus) << name;
    EXPECT_EQ(count_ops(g, "Erf") + count_ops(g, "Pow"), 0u) << name;
    EXPECT_EQ(count_ops(g, "Attention", "dnnf"), 2u) << name;
    EXPECT_EQ(count_ops(g, "Softmax"), 0u) << name;
    EXPECT_TRUE(outputs_agree(r.before, r.after)) << name;
  }
}

}  // namespace
