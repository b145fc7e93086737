// Tests of the recurrent (LSTM, GRU, RNN) and control-flow (If, Loop, Scan) rows.
// Expected RNN numbers were computed by hand from the ONNX equations (checked with numpy).
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/ir/op_registry.h"
#include "core/ir/shape_inference.h"
#include "core/ops/op_util.h"
#include "core/runtime/reference_executor.h"
#include "core/util/error.h"

namespace {

using namespace dnnf;

Tensor f32(Shape s, const std::vector<float>& v) { return Tensor::from_vector(DType::F32, std::move(s), v); }
Tensor i64(Shape s, const std::vector<int64_t>& v) { return Tensor::from_vector(DType::I64, std::move(s), v); }
Tensor i32(Shape s, const std::vector<int32_t>& v) { return Tensor::from_vector(DType::I32, std::move(s), v); }
Tensor boolean(bool v) {
  Tensor t(DType::Bool, Shape{});
  *t.data<bool>() = v;
  return t;
}

Attribute strings_attr(std::vector<std::string> v) {
  Attribute a;
  a.kind = Attribute::Kind::Strings;
  a.strings = std::move(v);
  return a;
}

Node make_node(std::string op, std::vector<std::string> in, std::vector<std::string> out) {
  Node n;
  n.op_type = std::move(op);
  n.name = n.op_type + "_test";
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  return n;
}

// A graph with one node whose inputs are constants; outputs are the node's non-empty outputs.
Graph single_node_graph(const Node& node, const std::map<std::string, Tensor>& consts, int64_t opset) {
  Graph g;
  g.name = "single";
  g.opsets[""] = opset;
  g.initializers = consts;
  g.add_node(node);
  for (const auto& o : node.outputs)
    if (!o.empty()) g.outputs.push_back({o, TensorType()});
  return g;
}

TensorMap run(Graph& g, const TensorMap& inputs = {}) {
  infer_shapes(g);
  return ReferenceExecutor(g).run(inputs);
}

void expect_near(const Tensor& t, const Shape& shape, const std::vector<float>& want, double tol = 1e-5) {
  ASSERT_EQ(t.shape(), shape);
  const std::vector<float> got = t.to_f32_vector();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

// ---- shared RNN fixtures ---------------------------------------------------------------------
// Two steps, batch 1, input 2: X[0] = [1, 2], X[1] = [-1, 0.5].
const std::vector<float> kX = {1.f, 2.f, -1.f, 0.5f};

std::map<std::string, Tensor> simple_rnn_consts(int64_t dirs) {
  std::vector<float> w = {0.1f, 0.2f, 0.3f, -0.4f}, r = {0.5f, -0.1f, 0.2f, 0.3f},
                     b = {0.01f, 0.02f, 0.03f, -0.04f};
  std::vector<float> W, R, B;
  for (int64_t d = 0; d < dirs; ++d) {
    W.insert(W.end(), w.begin(), w.end());
    R.insert(R.end(), r.begin(), r.end());
    B.insert(B.end(), b.begin(), b.end());
  }
  return {{"X", f32({2, 1, 2}, kX)},
          {"W", f32({dirs, 2, 2}, W)},
          {"R", f32({dirs, 2, 2}, R)},
          {"B", f32({dirs, 4}, B)}};
}

TEST(OpsRnnSimple, OneStepForward) {
  Node n = make_node("RNN", {"X", "W", "R", "B"}, {"Y", "Y_h"});
  n.attrs["hidden_size"] = Attribute::from_int(2);
  auto c = simple_rnn_consts(1);
  c["X"] = f32({1, 1, 2}, {1.f, 2.f});
  Graph g = single_node_graph(n, c, 14);
  TensorMap out = run(g);
  // tanh(0.5 + 0.04) and tanh(-0.5 - 0.02)
  expect_near(out["Y"], {1, 1, 1, 2}, {std::tanh(0.54f), std::tanh(-0.52f)});
  expect_near(out["Y_h"], {1, 1, 2}, {0.492988f, -0.4777f});
  const TensorType* yt = g.type_of("Y");
  ASSERT_NE(yt, nullptr);
  EXPECT_EQ(yt->str(), TensorType(DType::F32, Shape{1, 1, 1, 2}).str());
}

TEST(OpsRnnSimple, TwoStepsForwardAndReverse) {
  Node n = make_node("RNN", {"X", "W", "R", "B"}, {"Y", "Y_h"});
  n.attrs["hidden_size"] = Attribute::from_int(2);
  Graph g = single_node_graph(n, simple_rnn_consts(1), 14);
  TensorMap out = run(g);
  expect_near(out["Y"], {2, 1, 1, 2}, {0.492988f, -0.4777f, 0.3223469f, -0.5114655f});
  expect_near(out["Y_h"], {1, 1, 2}, {0.3223469f, -0.5114655f});

  n.attrs["direction"] = Attribute::from_string("reverse");
  Graph gr = single_node_graph(n, simple_rnn_consts(1), 14);
  TensorMap outr = run(gr);
  expect_near(outr["Y"], {2, 1, 1, 2}, {0.5425479f, -0.5752366f, 0.0399787f, -0.4777f});
  expect_near(outr["Y_h"], {1, 1, 2}, {0.5425479f, -0.5752366f});
}

TEST(OpsRnnSimple, Bidirectional) {
  Node n = make_node("RNN", {"X", "W", "R", "B"}, {"Y", "Y_h"});
  n.attrs["hidden_size"] = Attribute::from_int(2);
  n.attrs["direction"] = Attribute::from_string("bidirectional");
  Graph g = single_node_graph(n, simple_rnn_consts(2), 14);
  TensorMap out = run(g);
  // Y [seq, dirs, batch, hidden]: forward then reverse per step.
  expect_near(out["Y"], {2, 2, 1, 2},
              {0.492988f, -0.4777f, 0.5425479f, -0.5752366f, 0.3223469f, -0.5114655f, 0.0399787f, -0.4777f});
  expect_near(out["Y_h"], {2, 1, 2}, {0.3223469f, -0.5114655f, 0.5425479f, -0.5752366f});
}

TEST(OpsRnnSimple, SequenceLensAndLayout) {
  // Batch 2 with the same data; batch 1 only has one valid step.
  std::vector<float> x2 = {1.f, 2.f, 1.f, 2.f, -1.f, 0.5f, -1.f, 0.5f};  // [seq, batch, in]
  Node n = make_node("RNN", {"X", "W", "R", "B", "L"}, {"Y", "Y_h"});
  n.attrs["hidden_size"] = Attribute::from_int(2);
  auto c = simple_rnn_consts(1);
  c["X"] = f32({2, 2, 2}, x2);
  c["L"] = i32({2}, {2, 1});
  Graph g = single_node_graph(n, c, 14);
  TensorMap out = run(g);
  expect_near(out["Y"], {2, 1, 2, 2},
              {0.492988f, -0.4777f, 0.492988f, -0.4777f, 0.3223469f, -0.5114655f, 0.f, 0.f});
  expect_near(out["Y_h"], {1, 2, 2}, {0.3223469f, -0.5114655f, 0.492988f, -0.4777f});

  // layout = 1: X [batch, seq, in], Y [batch, seq, dirs, hidden], Y_h [batch, dirs, hidden].
  std::vector<float> xb = {1.f, 2.f, -1.f, 0.5f, 1.f, 2.f, -1.f, 0.5f};
  n.attrs["layout"] = Attribute::from_int(1);
  c["X"] = f32({2, 2, 2}, xb);
  Graph g1 = single_node_graph(n, c, 14);
  TensorMap out1 = run(g1);
  expect_near(out1["Y"], {2, 2, 1, 2},
              {0.492988f, -0.4777f, 0.3223469f, -0.5114655f, 0.492988f, -0.4777f, 0.f, 0.f});
  expect_near(out1["Y_h"], {2, 1, 2}, {0.3223469f, -0.5114655f, 0.492988f, -0.4777f});
  EXPECT_EQ(g1.type_of("Y")->str(), TensorType(DType::F32, Shape{2, 2, 1, 2}).str());
}

TEST(OpsRnnSimple, ActivationWithAlpha) {
  Node n = make_node("RNN", {"X", "W", "R", "B"}, {"", "Y_h"});
  n.attrs["hidden_size"] = Attribute::from_int(2);
  n.attrs["activations"] = strings_attr({"LeakyRelu"});
  n.attrs["activation_alpha"] = Attribute::from_floats({0.1f});
  auto c = simple_rnn_consts(1);
  c["X"] = f32({1, 1, 2}, {1.f, 2.f});
  Graph g = single_node_graph(n, c, 14);
  TensorMap out = run(g);
  expect_near(out["Y_h"], {1, 1, 2}, {0.54f, -0.052f});
}

TEST(OpsRnnSimple, ClipBoundsPreActivation) {
  Node n = make_node("RNN", {"X", "W", "R", "B"}, {"", "Y_h"});
  n.attrs["hidden_size"] = Attribute::from_int(2);
  n.attrs["activations"] = strings_attr({"Relu"});
  n.attrs["clip"] = Attribute::from_float(0.25f);
  auto c = simple_rnn_consts(1);
  c["X"] = f32({1, 1, 2}, {1.f, 2.f});
  Graph g = single_node_graph(n, c, 14);
  TensorMap out = run(g);
  expect_near(out["Y_h"], {1, 1, 2}, {0.25f, 0.f});
}

TEST(OpsRnnSimple, BadInputsThrow) {
  auto c = simple_rnn_consts(1);
  {
    Node n = make_node("RNN", {"X", "W", "R"}, {"Y"});
    n.attrs["hidden_size"] = Attribute::from_int(3);  // W says 2
    Graph g = single_node_graph(n, c, 14);
    EXPECT_THROW(run(g), Error);
  }
  {
    Node n = make_node("RNN", {"X", "W", "R"}, {"Y"});
    n.attrs["direction"] = Attribute::from_string("sideways");
    Graph g = single_node_graph(n, c, 14);
    EXPECT_THROW(run(g), Error);
  }
  {
    Node n = make_node("RNN", {"X", "W", "R"}, {"Y"});
    n.attrs["activations"] = strings_attr({"Swish"});
    Graph g = single_node_graph(n, c, 14);
    EXPECT_THROW(run(g), Error);
  }
  {
    Node n = make_node("RNN", {"X", "W", "R"}, {"Y"});
    auto bad = c;
    bad["W"] = f32({1, 2, 3}, {0, 0, 0, 0, 0, 0});  // input size 3 vs X's 2
    Graph g = single_node_graph(n, bad, 14);
    EXPECT_THROW(run(g), Error);
  }
  {
    Node n = make_node("RNN", {"X", "W", "R", "", "L"}, {"Y"});
    auto bad = c;
    bad["L"] = i32({1}, {5});  // longer than the sequence
    Graph g = single_node_graph(n, bad, 14);
    EXPECT_THROW(ReferenceExecutor(g).run({}), Error);
  }
}

// ---- GRU -------------------------------------------------------------------------------------
std::map<std::string, Tensor> gru_consts() {
  return {{"X", f32({2, 1, 2}, kX)},
          {"W", f32({1, 3, 2}, {0.1f, 0.2f, 0.3f, -0.4f, 0.5f, 0.6f})},
          {"R", f32({1, 3, 1}, {0.7f, -0.8f, 0.9f})},
          {"B", f32({1, 6}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f})},
          {"H0", f32({1, 1, 1}, {0.5f})}};
}

TEST(OpsRnnGru, TwoStepsBothResetModes) {
  Node n = make_node("GRU", {"X", "W", "R", "B", "", "H0"}, {"Y", "Y_h"});
  n.attrs["hidden_size"] = Attribute::from_int(1);
  Graph g = single_node_graph(n, gru_consts(), 14);
  TensorMap out = run(g);
  expect_near(out["Y"], {2, 1, 1, 1}, {0.601426f, 0.6385842f});
  expect_near(out["Y_h"], {1, 1, 1}, {0.6385842f});

  n.attrs["linear_before_reset"] = Attribute::from_int(1);
  Graph g1 = single_node_graph(n, gru_consts(), 14);
  TensorMap out1 = run(g1);
  expect_near(out1["Y"], {2, 1, 1, 1}, {0.6000258f, 0.5801897f});
}

TEST(OpsRnnGru, OneStepMatchesHandComputation) {
  // z = sig(0.5 + 0.35 + 0.1 + 0.4), r = sig(-0.5 - 0.4 + 0.2 + 0.5),
  // h~ = tanh(1.7 + r * 0.5 * 0.9 + 0.6 + 0.3), H = (1 - z) h~ + z * 0.5
  Node n = make_node("GRU", {"X", "W", "R", "B", "", "H0"}, {"", "Y_h"});
  n.attrs["hidden_size"] = Attribute::from_int(1);
  auto c = gru_consts();
  c["X"] = f32({1, 1, 2}, {1.f, 2.f});
  Graph g = single_node_graph(n, c, 14);
  TensorMap out = run(g);
  const double z = 1 / (1 + std::exp(-1.35)), r = 1 / (1 + std::exp(0.2));
  const double hh = std::tanh(1.7 + r * 0.45 + 0.9);
  expect_near(out["Y_h"], {1, 1, 1}, {float((1 - z) * hh + z * 0.5)});
  expect_near(out["Y_h"], {1, 1, 1}, {0.601426f});
}

TEST(OpsRnnGru, Float16ComputesThroughFloat) {
  Node n = make_node("GRU", {"X", "W", "R", "B", "", "H0"}, {"Y", "Y_h"});
  n.attrs["hidden_size"] = Attribute::from_int(1);
  auto c = gru_consts();
  for (auto& [k, v] : c) v = v.cast(DType::F16);
  Graph g = single_node_graph(n, c, 14);
  TensorMap out = run(g);
  ASSERT_EQ(out["Y"].dtype(), DType::F16);
  expect_near(out["Y"], {2, 1, 1, 1}, {0.601426f, 0.6385842f}, 2e-3);
  EXPECT_EQ(g.type_of("Y_h")->dtype, DType::F16);
}

// ---- LSTM ------------------------------------------------------------------------------------
std::map<std::string, Tensor> lstm_consts(int64_t dirs) {
  std::vector<float> w = {0.1f, 0.2f, 0.3f, -0.4f, 0.5f, 0.6f, -0.7f, 0.8f}, r = {0.1f, 0.2f, 0.3f, 0.4f},
                     b = {0.1f, 0.2f, 0.3f, 0.4f, 0.0f, 0.1f, -0.1f, 0.2f}, p = {0.5f, -0.5f, 0.25f},
                     h = {0.1f}, c = {0.2f};
  std::vector<float> W, R, B, P, H, C;
  for (int64_t d = 0; d < dirs; ++d) {
    W.insert(W.end(), w.begin(), w.end());
    R.insert(R.end(), r.begin(), r.end());
    B.insert(B.end(), b.begin(), b.end());
    P.insert(P.end(), p.begin(), p.end());
    H.insert(H.end(), h.begin(), h.end());
    C.insert(C.end(), c.begin(), c.end());
  }
  return {{"X", f32({2, 1, 2}, kX)},       {"W", f32({dirs, 4, 2}, W)}, {"R", f32({dirs, 4, 1}, R)},
          {"B", f32({dirs, 8}, B)},        {"H0", f32({dirs, 1, 1}, H)}, {"C0", f32({dirs, 1, 1}, C)},
          {"P", f32({dirs, 3}, P)}};
}

TEST(OpsRnnLstm, OneStepWithPeepholes) {
  Node n = make_node("LSTM", {"X", "W", "R", "B", "", "H0", "C0", "P"}, {"Y", "Y_h", "Y_c"});
  n.attrs["hidden_size"] = Attribute::from_int(1);
  auto c = lstm_consts(1);
  c["X"] = f32({1, 1, 2}, {1.f, 2.f});
  Graph g = single_node_graph(n, c, 14);
  TensorMap out = run(g);
  // i = sig(0.5 + 0.01 + 0.1 + 0.5*0.2), f = sig(1.7 + 0.03 + 0.2 + 0.25*0.2), c~ = tanh(0.9 + 0.04 + 0.6)
  const auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  const double i = sig(0.71), f = sig(1.98), cc = std::tanh(1.54);
  const double cn = f * 0.2 + i * cc;
  const double o = sig(-0.5 + 0.02 + 0.3 - 0.5 * cn);
  expect_near(out["Y_c"], {1, 1, 1}, {float(cn)});
  expect_near(out["Y_h"], {1, 1, 1}, {float(o * std::tanh(cn))});
  expect_near(out["Y_h"], {1, 1, 1}, {0.2367252f});
  expect_near(out["Y"], {1, 1, 1, 1}, {0.2367252f});
}

TEST(OpsRnnLstm, TwoStepsBidirectional) {
  Node n = make_node("LSTM", {"X", "W", "R", "B", "", "H0", "C0", "P"}, {"Y", "Y_h", "Y_c"});
  n.attrs["hidden_size"] = Attribute::from_int(1);
  n.attrs["direction"] = Attribute::from_string("bidirectional");
  Graph g = single_node_graph(n, lstm_consts(2), 14);
  TensorMap out = run(g);
  expect_near(out["Y"], {2, 2, 1, 1}, {0.2367252f, 0.2660855f, 0.2627967f, 0.2100247f});
  expect_near(out["Y_h"], {2, 1, 1}, {0.2627967f, 0.2660855f});
  expect_near(out["Y_c"], {2, 1, 1}, {1.0388472f, 1.2160734f});
  EXPECT_EQ(g.type_of("Y_c")->str(), TensorType(DType::F32, Shape{2, 1, 1}).str());
}

TEST(OpsRnnLstm, InputForgetCouplesGates) {
  // With input_forget, f = 1 - i, so with zero weights i = f = 0.5 and c = 0.5*c0 + 0.5*tanh(0).
  Node n = make_node("LSTM", {"X", "W", "R", "", "", "", "C0"}, {"", "", "Y_c"});
  n.attrs["hidden_size"] = Attribute::from_int(1);
  n.attrs["input_forget"] = Attribute::from_int(1);
  std::map<std::string, Tensor> c = {{"X", f32({1, 1, 1}, {1.f})},
                                     {"W", f32({1, 4, 1}, {0.f, 0.f, 5.f, 0.f})},
                                     {"R", f32({1, 4, 1}, {0.f, 0.f, 0.f, 0.f})},
                                     {"C0", f32({1, 1, 1}, {0.8f})}};
  Graph g = single_node_graph(n, c, 14);
  TensorMap out = run(g);
  expect_near(out["Y_c"], {1, 1, 1}, {0.4f});
}

TEST(OpsRnnLstm, Float64Supported) {
  Node n = make_node("LSTM", {"X", "W", "R"}, {"", "Y_h"});
  n.attrs["hidden_size"] = Attribute::from_int(1);
  std::map<std::string, Tensor> c = {{"X", Tensor::from_vector(DType::F64, {1, 1, 1}, std::vector<double>{1.0})},
                                     {"W", Tensor::from_vector(DType::F64, {1, 4, 1}, std::vector<double>{0, 0, 0, 1})},
                                     {"R", Tensor::from_vector(DType::F64, {1, 4, 1}, std::vector<double>{0, 0, 0, 0})}};
  Graph g = single_node_graph(n, c, 14);
  TensorMap out = run(g);
  ASSERT_EQ(out["Y_h"].dtype(), DType::F64);
  // i = o = 0.5, c = 0.5 * tanh(1), h = 0.5 * tanh(c)
  EXPECT_NEAR(out["Y_h"].get_f64(0), 0.5 * std::tanh(0.5 * std::tanh(1.0)), 1e-6);
}

TEST(OpsRnnLstm, RegistryRowIsManyToManyWithCost) {
  const OpInfo* row = OpRegistry::instance().find("", "LSTM", 14);
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->mapping, MappingType::ManyToMany);
  ASSERT_TRUE(static_cast<bool>(row->cost));
  Node n = make_node("LSTM", {"X", "W", "R"}, {"Y"});
  const std::vector<TensorType> in = {TensorType(DType::F32, Shape{5, 2, 3}),
                                      TensorType(DType::F32, Shape{1, 16, 3}),
                                      TensorType(DType::F32, Shape{1, 16, 4})};
  const OpCost c = row->cost(n, in, {TensorType(DType::F32, Shape{5, 1, 2, 4})});
  EXPECT_GE(c.flops, 5.0 * 2 * 2 * 16 * (3 + 4));  // the two matrix products alone
  EXPECT_GT(c.bytes, 0);
}

// ---- If --------------------------------------------------------------------------------------
std::shared_ptr<Graph> branch(const std::string& op, const std::string& out, const Tensor& k) {
  auto g = std::make_shared<Graph>();
  g->name = op + "_branch";
  g->opsets[""] = 13;
  g->initializers["k_" + out] = k;
  g->add_node(make_node(op, {"a", "k_" + out}, {out}));  // `a` is an outer-scope value
  g->outputs.push_back({out, TensorType()});
  return g;
}

Graph if_graph() {
  Graph g;
  g.name = "if";
  g.opsets[""] = 13;
  g.inputs.push_back({"cond", TensorType(DType::Bool, Shape{})});
  g.inputs.push_back({"a", TensorType(DType::F32, Shape{2})});
  Node n = make_node("If", {"cond"}, {"res"});
  n.attrs["then_branch"] = Attribute::from_graph(branch("Add", "t_out", f32({2}, {10.f, 20.f})));
  n.attrs["else_branch"] = Attribute::from_graph(branch("Mul", "e_out", f32({2}, {-1.f, 3.f})));
  g.add_node(n);
  g.outputs.push_back({"res", TensorType()});
  return g;
}

TEST(OpsRnnIf, SelectsBranchWithOuterScopeValues) {
  Graph g = if_graph();
  const Tensor a = f32({2}, {1.f, 2.f});
  TensorMap t = run(g, {{"cond", boolean(true)}, {"a", a}});
  expect_near(t["res"], {2}, {11.f, 22.f});
  TensorMap e = run(g, {{"cond", boolean(false)}, {"a", a}});
  expect_near(e["res"], {2}, {-1.f, 6.f});
  EXPECT_EQ(g.type_of("res")->str(), TensorType(DType::F32, Shape{2}).str());
}

TEST(OpsRnnIf, BranchShapesMergeToUnknownDims) {
  Graph g;
  g.opsets[""] = 13;
  g.inputs.push_back({"cond", TensorType(DType::Bool, Shape{})});
  auto then_g = std::make_shared<Graph>();
  then_g->initializers["x"] = f32({2}, {1.f, 2.f});
  then_g->outputs.push_back({"x", TensorType()});
  auto else_g = std::make_shared<Graph>();
  else_g->initializers["y"] = f32({3}, {4.f, 5.f, 6.f});
  else_g->outputs.push_back({"y", TensorType()});
  Node n = make_node("If", {"cond"}, {"res"});
  n.attrs["then_branch"] = Attribute::from_graph(then_g);
  n.attrs["else_branch"] = Attribute::from_graph(else_g);
  g.add_node(n);
  g.outputs.push_back({"res", TensorType()});
  infer_shapes(g);
  const TensorType* t = g.type_of("res");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->dtype, DType::F32);
  ASSERT_TRUE(t->has_shape);
  ASSERT_EQ(t->rank(), 1);
  EXPECT_FALSE(t->dims[0].known());
  TensorMap e = ReferenceExecutor(g).run({{"cond", boolean(false)}});
  expect_near(e["res"], {3}, {4.f, 5.f, 6.f});
}

TEST(OpsRnnIf, MissingBranchThrows) {
  Graph g;
  g.opsets[""] = 13;
  g.inputs.push_back({"cond", TensorType(DType::Bool, Shape{})});
  Node n = make_node("If", {"cond"}, {"res"});
  n.attrs["then_branch"] = Attribute::from_graph(std::make_shared<Graph>());
  g.add_node(n);
  g.outputs.push_back({"res", TensorType()});
  EXPECT_THROW(run(g, {{"cond", boolean(true)}}), Error);
}

// ---- Loop ------------------------------------------------------------------------------------
// Body: x_out = x_in + y (outer), cond_out = (x_out < limit) or cond_in, scans: x_out, iter.
std::shared_ptr<Graph> loop_body(bool cond_from_limit) {
  auto b = std::make_shared<Graph>();
  b->name = "body";
  b->opsets[""] = 13;
  b->inputs.push_back({"iter", TensorType(DType::I64, Shape{})});
  b->inputs.push_back({"cond_in", TensorType(DType::Bool, Shape{})});
  b->inputs.push_back({"x_in", TensorType(DType::F32, Shape{1})});
  b->add_node(make_node("Add", {"x_in", "y"}, {"x_out"}));
  if (cond_from_limit) {
    b->initializers["limit"] = f32({1}, {6.5f});
    b->add_node(make_node("Less", {"x_out", "limit"}, {"cond_out"}));
  } else {
    b->add_node(make_node("Identity", {"cond_in"}, {"cond_out"}));
  }
  b->add_node(make_node("Identity", {"x_out"}, {"scan_x"}));
  b->add_node(make_node("Identity", {"iter"}, {"scan_i"}));
  for (const char* o : {"cond_out", "x_out", "scan_x", "scan_i"}) b->outputs.push_back({o, TensorType()});
  return b;
}

Graph loop_graph(bool with_m, bool with_cond, bool cond_from_limit) {
  Graph g;
  g.name = "loop";
  g.opsets[""] = 13;
  if (with_m) g.inputs.push_back({"M", TensorType(DType::I64, Shape{})});
  if (with_cond) g.inputs.push_back({"cond", TensorType(DType::Bool, Shape{})});
  g.inputs.push_back({"x", TensorType(DType::F32, Shape{1})});
  g.inputs.push_back({"y", TensorType(DType::F32, Shape{1})});
  Node n = make_node("Loop", {with_m ? "M" : "", with_cond ? "cond" : "", "x"}, {"x_final", "xs", "is"});
  n.attrs["body"] = Attribute::from_graph(loop_body(cond_from_limit));
  g.add_node(n);
  for (const char* o : {"x_final", "xs", "is"}) g.outputs.push_back({o, TensorType()});
  return g;
}

TEST(OpsRnnLoop, TripCountWithScanOutputs) {
  Graph g = loop_graph(true, true, false);
  TensorMap out = run(g, {{"M", Tensor::scalar_i64(3)}, {"cond", boolean(true)},
                          {"x", f32({1}, {1.f})}, {"y", f32({1}, {2.f})}});
  expect_near(out["x_final"], {1}, {7.f});
  expect_near(out["xs"], {3, 1}, {3.f, 5.f, 7.f});
  ASSERT_EQ(out["is"].dtype(), DType::I64);
  EXPECT_EQ(out["is"].shape(), (Shape{3}));
  EXPECT_EQ(out["is"].to_i64_vector(), (std::vector<int64_t>{0, 1, 2}));
  const TensorType* xs = g.type_of("xs");
  ASSERT_NE(xs, nullptr);
  ASSERT_EQ(xs->rank(), 2);
  EXPECT_FALSE(xs->dims[0].known());
  EXPECT_EQ(xs->dims[1].value, 1);
}

TEST(OpsRnnLoop, ConditionStopsTheLoop) {
  Graph g = loop_graph(false, true, true);
  TensorMap out = run(g, {{"cond", boolean(true)}, {"x", f32({1}, {1.f})}, {"y", f32({1}, {2.f})}});
  // 1 -> 3 (3 < 6.5) -> 5 (5 < 6.5) -> 7 (stop)
  expect_near(out["x_final"], {1}, {7.f});
  expect_near(out["xs"], {3, 1}, {3.f, 5.f, 7.f});

  // Trip count limits a loop whose condition would continue.
  Graph g2 = loop_graph(true, true, true);
  TensorMap out2 = run(g2, {{"M", Tensor::scalar_i64(2)}, {"cond", boolean(true)},
                            {"x", f32({1}, {-10.f})}, {"y", f32({1}, {2.f})}});
  expect_near(out2["x_final"], {1}, {-6.f});
  expect_near(out2["xs"], {2, 1}, {-8.f, -6.f});

  // A false initial condition runs nothing.
  TensorMap out3 = run(g, {{"cond", boolean(false)}, {"x", f32({1}, {1.f})}, {"y", f32({1}, {2.f})}});
  expect_near(out3["x_final"], {1}, {1.f});
  EXPECT_EQ(out3["xs"].numel(), 0);
}

TEST(OpsRnnLoop, ZeroIterationsGiveTypedEmptyScans) {
  Graph g = loop_graph(true, false, false);
  TensorMap out = run(g, {{"M", Tensor::scalar_i64(0)}, {"x", f32({1}, {4.f})}, {"y", f32({1}, {2.f})}});
  expect_near(out["x_final"], {1}, {4.f});
  EXPECT_EQ(out["xs"].dtype(), DType::F32);
  EXPECT_EQ(out["xs"].shape(), (Shape{0, 1}));
  EXPECT_EQ(out["is"].dtype(), DType::I64);
  EXPECT_EQ(out["is"].shape(), (Shape{0}));
}

TEST(OpsRnnLoop, BadLoopsThrow) {
  Graph g = loop_graph(false, false, false);
  EXPECT_THROW(run(g, {{"x", f32({1}, {1.f})}, {"y", f32({1}, {2.f})}}), Error);

  // A body with the wrong number of inputs.
  Graph g2 = loop_graph(true, false, false);
  g2.nodes[0].attrs["body"].g->inputs.push_back({"extra", TensorType(DType::F32, Shape{1})});
  EXPECT_THROW(run(g2, {{"M", Tensor::scalar_i64(1)}, {"x", f32({1}, {1.f})}, {"y", f32({1}, {2.f})}}), Error);

  // Sequence-typed state is refused by name (kernel called directly: inference would
  // already stop at the unknown sequence op).
  Graph g3 = loop_graph(true, false, false);
  g3.nodes[0].attrs["body"].g->add_node(make_node("SequenceEmpty", {}, {"seq"}));
  const OpInfo* row = OpRegistry::instance().find("", "Loop", 13);
  ASSERT_NE(row, nullptr);
  const Tensor m = Tensor::scalar_i64(1), x = f32({1}, {1.f});
  KernelContext ctx{g3.nodes[0], 13, {&m, nullptr, &x}, nullptr};
  ctx.run_subgraph = [](const Graph&, const std::vector<Tensor>&) -> std::vector<Tensor> {
    ADD_FAILURE() << "the body must not run";
    return {};
  };
  try {
    row->kernel(ctx);
    FAIL() << "expected a dnnf::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sequence"), std::string::npos) << e.what();
  }
}

// ---- Scan ------------------------------------------------------------------------------------
std::shared_ptr<Graph> sum_body(Shape elem) {
  auto b = std::make_shared<Graph>();
  b->name = "scan_body";
  b->opsets[""] = 11;
  b->inputs.push_back({"sum_in", TensorType(DType::F32, elem)});
  b->inputs.push_back({"next", TensorType(DType::F32, elem)});
  b->add_node(make_node("Add", {"sum_in", "next"}, {"sum_out"}));
  b->add_node(make_node("Identity", {"sum_out"}, {"scan_out"}));
  b->outputs.push_back({"sum_out", TensorType()});
  b->outputs.push_back({"scan_out", TensorType()});
  return b;
}

Graph scan_graph(int64_t opset, const Shape& init, const Shape& x, const std::vector<std::string>& inputs) {
  Graph g;
  g.name = "scan";
  g.opsets[""] = opset;
  g.inputs.push_back({"initial", TensorType(DType::F32, init)});
  g.inputs.push_back({"x", TensorType(DType::F32, x)});
  Node n = make_node("Scan", inputs, {"y", "z"});
  n.attrs["body"] = Attribute::from_graph(sum_body({2}));
  n.attrs["num_scan_inputs"] = Attribute::from_int(1);
  g.add_node(n);
  g.outputs.push_back({"y", TensorType()});
  g.outputs.push_back({"z", TensorType()});
  return g;
}

const std::vector<float> kScanX = {1.f, 2.f, 3.f, 4.f, 5.f, 6.f};  // [3, 2]

TEST(OpsRnnScan, SumsForward) {
  Graph g = scan_graph(11, {2}, {3, 2}, {"initial", "x"});
  TensorMap out = run(g, {{"initial", f32({2}, {0.f, 0.f})}, {"x", f32({3, 2}, kScanX)}});
  expect_near(out["y"], {2}, {9.f, 12.f});
  expect_near(out["z"], {3, 2}, {1.f, 2.f, 4.f, 6.f, 9.f, 12.f});
  EXPECT_EQ(g.type_of("z")->str(), TensorType(DType::F32, Shape{3, 2}).str());
}

TEST(OpsRnnScan, DirectionsAndAxes) {
  Graph g = scan_graph(11, {2}, {3, 2}, {"initial", "x"});
  g.nodes[0].attrs["scan_input_directions"] = Attribute::from_ints({1});
  g.nodes[0].attrs["scan_output_axes"] = Attribute::from_ints({1});
  TensorMap out = run(g, {{"initial", f32({2}, {0.f, 0.f})}, {"x", f32({3, 2}, kScanX)}});
  // Reverse input: partial sums [5,6], [8,10], [9,12]; stacked on axis 1 -> [2, 3].
  expect_near(out["z"], {2, 3}, {5.f, 8.f, 9.f, 6.f, 10.f, 12.f});
  EXPECT_EQ(g.type_of("z")->str(), TensorType(DType::F32, Shape{2, 3}).str());

  // Scan the transposed input along axis 1 and write outputs in reverse order.
  Graph g2 = scan_graph(11, {2}, {2, 3}, {"initial", "x"});
  g2.nodes[0].attrs["scan_input_axes"] = Attribute::from_ints({-1});
  g2.nodes[0].attrs["scan_output_directions"] = Attribute::from_ints({1});
  TensorMap out2 = run(g2, {{"initial", f32({2}, {0.f, 0.f})}, {"x", f32({2, 3}, {1.f, 3.f, 5.f, 2.f, 4.f, 6.f})}});
  expect_near(out2["y"], {2}, {9.f, 12.f});
  expect_near(out2["z"], {3, 2}, {9.f, 12.f, 4.f, 6.f, 1.f, 2.f});
}

TEST(OpsRnnScan, Opset8BatchedWithSequenceLens) {
  Graph g = scan_graph(8, {2, 2}, {2, 3, 2}, {"lens", "initial", "x"});
  g.inputs.push_back({"lens", TensorType(DType::I64, Shape{2})});
  std::vector<float> x = kScanX;
  x.insert(x.end(), kScanX.begin(), kScanX.end());
  TensorMap out = run(g, {{"lens", i64({2}, {3, 2})},
                          {"initial", f32({2, 2}, {0.f, 0.f, 100.f, 100.f})},
                          {"x", f32({2, 3, 2}, x)}});
  expect_near(out["y"], {2, 2}, {9.f, 12.f, 104.f, 106.f});
  expect_near(out["z"], {2, 3, 2}, {1.f, 2.f, 4.f, 6.f, 9.f, 12.f, 101.f, 102.f, 104.f, 106.f, 0.f, 0.f});
}

TEST(OpsRnnScan, BadScansThrow) {
  Graph g = scan_graph(11, {2}, {3, 2}, {"initial", "x"});
  g.nodes[0].attrs.erase("num_scan_inputs");
  EXPECT_THROW(run(g, {{"initial", f32({2}, {0.f, 0.f})}, {"x", f32({3, 2}, kScanX)}}), Error);

  Graph g2 = scan_graph(11, {2}, {3, 2}, {"initial", "x"});
  g2.nodes[0].attrs["scan_input_directions"] = Attribute::from_ints({2});
  EXPECT_THROW(run(g2, {{"initial", f32({2}, {0.f, 0.f})}, {"x", f32({3, 2}, kScanX)}}), Error);

  Graph g3 = scan_graph(11, {2}, {3, 2}, {"initial", "x"});
  g3.nodes[0].attrs["scan_input_axes"] = Attribute::from_ints({5});
  EXPECT_THROW(run(g3, {{"initial", f32({2}, {0.f, 0.f})}, {"x", f32({3, 2}, kScanX)}}), Error);
}

// ---- untyped bodies (ONNX function expansions such as Range's) ------------------------
TEST(OpsRnnLoop, BindsUntypedBodyInputsFromTheNode) {
  Graph g;
  g.name = "range";
  g.opsets[""] = 11;
  g.inputs.push_back({"start", TensorType(DType::F32, Shape{})});
  g.inputs.push_back({"delta", TensorType(DType::F32, Shape{})});
  g.initializers["n"] = Tensor::scalar_i64(3);
  auto b = std::make_shared<Graph>();
  b->opsets[""] = 11;
  b->inputs = {{"i", TensorType()}, {"c", TensorType()}, {"prev", TensorType()}};
  b->add_node(make_node("Identity", {"c"}, {"c_out"}));
  b->add_node(make_node("Add", {"prev", "delta"}, {"cur"}));
  b->add_node(make_node("Identity", {"prev"}, {"range"}));
  for (const char* o : {"c_out", "cur", "range"}) b->outputs.push_back({o, TensorType()});
  Node n = make_node("Loop", {"n", "", "start"}, {"last", "out"});
  n.attrs["body"] = Attribute::from_graph(b);
  g.add_node(n);
  g.outputs.push_back({"out", TensorType()});

  ops::bind_subgraph_input_types(g.nodes[0], {TensorType(DType::I64, Shape{}), TensorType(),
                                              TensorType(DType::F32, Shape{})}, 11);
  EXPECT_EQ(b->inputs[0].type.dtype, DType::I64);
  EXPECT_EQ(b->inputs[1].type.dtype, DType::Bool);
  EXPECT_EQ(b->inputs[2].type.dtype, DType::F32);
  EXPECT_FALSE(b->inputs[2].type.has_shape);
  TensorMap out = run(g, {{"start", Tensor::scalar_f32(1.f)}, {"delta", Tensor::scalar_f32(2.f)}});
  expect_near(out["out"], {3}, {1.f, 3.f, 5.f});
  EXPECT_EQ(g.type_of("out")->dtype, DType::F32);
}

TEST(OpsRnnScan, BindsUntypedBodyInputsWithoutTheScanAxis) {
  Graph g = scan_graph(11, {2}, {2, 3}, {"initial", "x"});
  Node& n = g.nodes[0];
  n.attrs["scan_input_axes"] = Attribute::from_ints({1});
  Graph& body = *n.attrs["body"].g;
  body.inputs[0].type = TensorType();
  body.inputs[1].type = TensorType();
  ops::bind_subgraph_input_types(n, {TensorType(DType::F32, Shape{2}), TensorType(DType::F32, Shape{2, 3})}, 11);
  EXPECT_EQ(body.inputs[0].type.str(), TensorType(DType::F32, Shape{2}).str());
  EXPECT_EQ(body.inputs[1].type.str(), TensorType(DType::F32, Shape{2}).str());
  // Opset 8: [batch, seq, ...] scan inputs and [batch, ...] states lose their leading axes.
  Graph g8 = scan_graph(8, {1, 2}, {1, 3, 2}, {"", "initial", "x"});
  Graph& body8 = *g8.nodes[0].attrs["body"].g;
  body8.inputs[0].type = TensorType();
  body8.inputs[1].type = TensorType();
  ops::bind_subgraph_input_types(g8.nodes[0], {TensorType(), TensorType(DType::F32, Shape{1, 2}),
                                               TensorType(DType::F32, Shape{1, 3, 2})}, 8);
  EXPECT_EQ(body8.inputs[0].type.str(), TensorType(DType::F32, Shape{2}).str());
  EXPECT_EQ(body8.inputs[1].type.str(), TensorType(DType::F32, Shape{2}).str());
}

}  // namespace
