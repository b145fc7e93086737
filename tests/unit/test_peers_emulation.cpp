// Each row of the peers' fusion tables on a hand-built graph: the pattern fuses when it
// is there, and not when the intermediate value is read twice or the operand is not
// constant.
#include <gtest/gtest.h>

#include "core/peers/peer_emulator.h"
#include "core/peers/peer_rules.h"
#include "tests/support/peer_test_util.h"
#include "tests/support/rule_test_util.h"

namespace dnnf::peers {
namespace {

using test::GraphBuilder;

Tensor filled(const Shape& shape, float v) { return test::filled_tensor(shape, v, 7); }

Model conv_then(const std::string& act, bool second_reader = false) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1, 2, 6, 6});
  const std::string c = b.node("Conv", {x, b.constant("w", filled({4, 2, 3, 3}, 0.1f)), b.constant("bias", filled({4}, 0.f))});
  const std::string a = b.node(act, {c});
  b.output(a);
  if (second_reader) b.output(b.node("Sigmoid", {c}));
  return b.finish();
}

Model matmul_add(bool constant_bias) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{4, 8});
  const std::string m = b.node("MatMul", {x, b.constant("w", filled({8, 16}, 0.2f))});
  const std::string bias = constant_bias ? b.constant("b", filled({16}, 0.5f)) : b.input("y", DType::F32, Shape{4, 16});
  b.output(b.node("Add", {m, bias}));
  return b.finish();
}

TEST(PeersEmulation, ConvReluIsOneLayerForEveryPeer) {
  const Model m = conv_then("Relu");
  for (const std::string peer : {"onnxruntime", "mnn", "tflite", "tvm"}) {
    const Emulation e = test::emulate_peer(m, peer);
    // MNN adds a ConvertTensor (NCHW -> NC4HW4) after the graph input (nc4hw4-input).
    EXPECT_EQ(e.layers, peer == "mnn" ? 2 : 1) << peer;
    EXPECT_EQ(e.fused_groups, 1) << peer;
  }
  EXPECT_EQ(test::rule_hits(test::emulate_peer(m, "mnn"), "conv-relu"), 1);
  EXPECT_EQ(test::rule_hits(test::emulate_peer(m, "onnxruntime"), "conv-activation"), 1);
  EXPECT_EQ(test::rule_hits(test::emulate_peer(m, "tflite"), "conv-bias-activation"), 1);
  EXPECT_EQ(test::rule_hits(test::emulate_peer(m, "tvm"), "out-ewise-fusable"), 1);
}

TEST(PeersEmulation, ConvActivationNotFusedWhenIntermediateIsReadTwice) {
  const Emulation e = test::emulate_peer(conv_then("Relu", true), "mnn");
  EXPECT_EQ(e.layers, 3 + 1);  // + the input's ConvertTensor
  EXPECT_EQ(e.fused_groups, 0);
}

TEST(PeersEmulation, ActivationSetsDifferPerPeer) {
  const Model m = conv_then("Sigmoid");
  EXPECT_EQ(test::emulate_peer(m, "onnxruntime").layers, 1);  // FusedConv takes Sigmoid
  EXPECT_EQ(test::emulate_peer(m, "mnn").layers, 3);          // only relu / relu6 flags (+ input ConvertTensor)
  EXPECT_EQ(test::emulate_peer(m, "tflite").layers, 2);       // fused_activation_function has no LOGISTIC
  EXPECT_EQ(test::emulate_peer(m, "tvm").layers, 1);          // any elementwise op after an anchor
}

TEST(PeersEmulation, MatMulBiasNeedsAConstantBias) {
  // MNN: the MatMul becomes a Convolution plus 11 layout/reshape operators (fc-as-conv).
  EXPECT_EQ(test::emulate_peer(matmul_add(true), "mnn").layers, 12);
  EXPECT_EQ(test::rule_hits(test::emulate_peer(matmul_add(true), "mnn"), "matmul-bias"), 1);
  EXPECT_EQ(test::emulate_peer(matmul_add(false), "mnn").layers, 13);
  EXPECT_EQ(test::emulate_peer(matmul_add(true), "tflite").layers, 1);
  EXPECT_EQ(test::emulate_peer(matmul_add(false), "tflite").layers, 2);
  EXPECT_EQ(test::rule_hits(test::emulate_peer(matmul_add(true), "onnxruntime"), "matmul-add"), 1);
  EXPECT_EQ(test::rule_hits(test::emulate_peer(matmul_add(true), "tflite"), "fc-bias-activation"), 1);
}

TEST(PeersEmulation, TfliteBinaryPoolAndConcatTakeAFusedActivation) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1, 2, 4, 4});
  const std::string y = b.input("y", DType::F32, Shape{1, 2, 4, 4});
  const std::string a = b.node("Relu", {b.node("Add", {x, y})});
  const std::string p = b.node("Relu", {b.node("MaxPool", {a}, {{"kernel_shape", Attribute::from_ints({2, 2})}})});
  const std::string c = b.node("Tanh", {b.node("Concat", {p, p}, {{"axis", Attribute::from_int(1)}})});
  b.output(c);
  const Emulation e = test::emulate_peer(b.finish(), "tflite");
  EXPECT_EQ(e.layers, 3);
  EXPECT_EQ(test::rule_hits(e, "binary-activation"), 1);
  EXPECT_EQ(test::rule_hits(e, "pool-activation"), 1);
  EXPECT_EQ(test::rule_hits(e, "concat-activation"), 1);
}

TEST(PeersEmulation, OrtSkipLayerNormAndMatMulScale) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{2, 8});
  const std::string y = b.input("y", DType::F32, Shape{2, 8});
  const std::string s = b.node("Add", {x, y});
  const std::string ln = b.node("LayerNormalization", {s, b.constant("g", filled({8}, 1.f)), b.constant("be", filled({8}, 0.f))});
  const std::string mm = b.node("MatMul", {ln, b.constant("w", filled({8, 8}, 0.3f))});
  b.output(b.node("Mul", {mm, b.scalar("k", 0.125f)}));
  const Emulation e = test::emulate_peer(b.finish(), "onnxruntime");
  EXPECT_EQ(test::rule_hits(e, "skip-layernorm"), 1);
  EXPECT_EQ(test::rule_hits(e, "matmul-scale"), 1);
  EXPECT_EQ(e.layers, 2);
}

TEST(PeersEmulation, TransposeIntoMatMulForOrt) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{8, 4});
  const std::string t = b.node("Transpose", {x}, {{"perm", Attribute::from_ints({1, 0})}});
  b.output(b.node("MatMul", {t, b.input("y", DType::F32, Shape{8, 3})}));
  EXPECT_EQ(test::rule_hits(test::emulate_peer(b.finish(), "onnxruntime"), "transpose-matmul"), 1);
}

TEST(PeersEmulation, GeluSubgraphIsOneOpForOrtAndMnn) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{2, 8});
  const std::string e = b.node("Erf", {b.node("Div", {x, b.scalar("r2", 1.4142135f)})});
  const std::string y = b.node("Mul", {b.node("Mul", {x, b.node("Add", {e, b.scalar("one", 1.f)})}), b.scalar("h", 0.5f)});
  b.output(y);
  const Model m = b.finish();
  EXPECT_EQ(test::emulate_peer(m, "onnxruntime").layers, 1);
  EXPECT_GE(test::rule_hits(test::emulate_peer(m, "onnxruntime"), "gelu"), 1);
  EXPECT_EQ(test::emulate_peer(m, "mnn").layers, 1);
  EXPECT_EQ(test::emulate_peer(m, "tflite").layers, 5);  // no GELU fusion in the TFLite table
  const Emulation tvm = test::emulate_peer(m, "tvm");
  EXPECT_EQ(tvm.layers, 1) << (tvm.groups.empty() ? std::string("no groups") : tvm.groups[0].rule);  // one injective chain
}

TEST(PeersEmulation, LayerNormSubgraphRecognised) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{2, 8});
  const std::string mean = b.node("ReduceMean", {x}, {{"axes", Attribute::from_ints({-1})}});
  const std::string d = b.node("Sub", {x, mean});
  const std::string var = b.node("ReduceMean", {b.node("Pow", {d, b.scalar("two", 2.f)})}, {{"axes", Attribute::from_ints({-1})}});
  const std::string n = b.node("Div", {d, b.node("Sqrt", {b.node("Add", {var, b.scalar("eps", 1e-5f)})})});
  b.output(b.node("Add", {b.node("Mul", {n, b.constant("g", filled({8}, 1.f))}), b.constant("be", filled({8}, 0.1f))}));
  const Model m = b.finish();
  EXPECT_EQ(test::emulate_peer(m, "mnn").layers, 1);
  EXPECT_EQ(test::emulate_peer(m, "onnxruntime").layers, 1);
  EXPECT_GE(test::emulate_peer(m, "tflite").layers, 7);
}

TEST(PeersEmulation, BatchNormFoldedIntoConv) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1, 2, 6, 6});
  const std::string c = b.node("Conv", {x, b.constant("w", filled({4, 2, 3, 3}, 0.1f))});
  const std::string bn = b.node("BatchNormalization", {c, b.constant("s", filled({4}, 1.f)), b.constant("o", filled({4}, 0.f)),
                                                       b.constant("mu", filled({4}, 0.f)), b.constant("v", filled({4}, 1.f))});
  b.output(b.node("Relu", {bn}));
  for (const std::string peer : {"onnxruntime", "mnn", "tflite", "tvm"})
    EXPECT_EQ(test::emulate_peer(b.finish(), peer).layers, peer == "mnn" ? 2 : 1) << peer;  // MNN: + input ConvertTensor
}

TEST(PeersEmulation, ShapeComputationsOnStaticShapesAreFolded) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{2, 3, 4});
  const std::string shape = b.node("Shape", {x});
  const std::string r = b.node("Reshape", {x, shape});
  b.output(b.node("Relu", {r}));
  const Model m = b.finish();
  EXPECT_EQ(test::emulate_peer(m, "tflite").layers, 1);  // onnxsim: Shape folded, same-shape Reshape removed
  EXPECT_EQ(test::emulate_peer(m, "mnn").layers, 3);     // MNN computes shapes at run time: Shape, Reshape, Relu
}

TEST(PeersEmulation, TvmFusesInjectiveChainsAndReductions) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{2, 3, 4});
  const std::string t = b.node("Transpose", {x}, {{"perm", Attribute::from_ints({0, 2, 1})}});
  const std::string e = b.node("Exp", {t});
  const std::string r = b.node("ReduceSum", {e, b.constant("ax", Tensor::vector_i64({-1}))});
  b.output(b.node("Sqrt", {r}));
  const Emulation em = test::emulate_peer(b.finish(), "tvm");
  EXPECT_EQ(em.layers, 1);
  EXPECT_EQ(test::rule_hits(em, "injective-reduce"), 1);
}

TEST(PeersEmulation, EveryTableIsPrintableAndCitesItsSources) {
  for (const PeerTable& t : peer_tables()) {
    const std::string text = format_table(t);
    EXPECT_NE(text.find(t.sources), std::string::npos);
    for (const PeerRule& r : t.rules) {
      EXPECT_FALSE(r.source.empty()) << t.id << " " << r.name;
      EXPECT_NE(text.find(r.name), std::string::npos);
    }
  }
  EXPECT_EQ(find_peer_table("ort"), find_peer_table("onnxruntime"));
  EXPECT_EQ(find_peer_table("caffe"), nullptr);
}

}  // namespace
}  // namespace dnnf::peers
