// Expand rows of the peers' tables (peer_tables.cpp) on hand-built graphs, one test per
// row: the operator becomes the number of peer operators its converter emits when the
// row's condition holds, and stays one kernel when it does not.
#include <gtest/gtest.h>

#include "core/peers/peer_emulator.h"
#include "core/peers/peer_rules.h"
#include "tests/support/peer_test_util.h"
#include "tests/support/rule_test_util.h"

namespace dnnf::peers {
namespace {

using test::GraphBuilder;

Tensor filled(const Shape& shape, float v) { return test::filled_tensor(shape, v, 1); }

Attribute ints(std::vector<int64_t> v) { return Attribute::from_ints(std::move(v)); }

// Conv (3x3 or 3x3x3) + Relu; `rank` 4 or 5.
Model conv_relu(int rank, bool bias, std::vector<int64_t> strides, std::vector<int64_t> pads) {
  GraphBuilder b;
  Shape xs = rank == 5 ? Shape{1, 2, 4, 6, 6} : Shape{1, 2, 6, 6};
  Shape ws = rank == 5 ? Shape{4, 2, 3, 3, 3} : Shape{4, 2, 3, 3};
  const std::string x = b.input("x", DType::F32, xs);
  std::vector<std::string> in = {x, b.constant("w", filled(ws, 0.1f))};
  if (bias) in.push_back(b.constant("bias", filled({4}, 0.f)));
  const std::vector<int64_t> k(size_t(rank - 2), 3);
  const std::string c = b.node("Conv", in, {{"kernel_shape", ints(k)}, {"strides", ints(strides)}, {"pads", ints(pads)}});
  b.output(b.node("Relu", {c}));
  return b.finish();
}

TEST(PeersExpansion, TfliteConv3dBiasIsAnAddCarryingTheActivation) {
  const Emulation e = test::emulate_peer(conv_relu(5, true, {1, 1, 1}, {1, 1, 1, 1, 1, 1}), "tflite");
  EXPECT_EQ(e.layers, 2);  // CONV_3D, ADD+RELU
  EXPECT_EQ(test::rule_hits(e, "conv3d-bias-add"), 1);
  EXPECT_EQ(test::emulate_peer(conv_relu(5, false, {1, 1, 1}, {1, 1, 1, 1, 1, 1}), "tflite").layers, 1);
  EXPECT_EQ(test::emulate_peer(conv_relu(4, true, {1, 1}, {1, 1, 1, 1}), "tflite").layers, 1);  // CONV_2D+RELU
}

TEST(PeersExpansion, TfliteStridedPaddedConvGetsAPad) {
  const Emulation e = test::emulate_peer(conv_relu(4, true, {2, 2}, {1, 1, 1, 1}), "tflite");
  EXPECT_EQ(e.layers, 2);  // PAD, CONV_2D+RELU
  EXPECT_EQ(test::rule_hits(e, "conv-explicit-pad"), 1);
  EXPECT_EQ(test::emulate_peer(conv_relu(4, true, {1, 1}, {1, 1, 1, 1}), "tflite").layers, 1);  // SAME
  EXPECT_EQ(test::emulate_peer(conv_relu(4, true, {2, 2}, {0, 0, 0, 0}), "tflite").layers, 1);  // VALID
  EXPECT_EQ(test::emulate_peer(conv_relu(4, true, {1, 1}, {0, 0, 1, 1}), "tflite").layers, 2);  // asymmetric
}

TEST(PeersExpansion, TfliteStridedConvOnOddInputIsSame) {
  // 7 wide, stride 2, k 3: TF SAME pads 1 before and 1 after, as the ONNX pads say.
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1, 2, 7, 7});
  b.output(b.node("Conv", {x, b.constant("w", filled({4, 2, 3, 3}, 0.1f))},
                  {{"kernel_shape", ints({3, 3})}, {"strides", ints({2, 2})}, {"pads", ints({1, 1, 1, 1})}}));
  const Emulation e = test::emulate_peer(b.finish(), "tflite");
  EXPECT_EQ(e.layers, 1);
  EXPECT_EQ(test::rule_hits(e, "conv-explicit-pad"), 0);
}

TEST(PeersExpansion, TflitePaddedPoolGetsAPad) {
  for (bool padded : {false, true}) {
    GraphBuilder b;
    const std::string x = b.input("x", DType::F32, Shape{1, 2, 6, 6});
    const std::vector<int64_t> pads = padded ? std::vector<int64_t>{1, 1, 1, 1} : std::vector<int64_t>{0, 0, 0, 0};
    b.output(b.node("MaxPool", {x}, {{"kernel_shape", ints({3, 3})}, {"strides", ints({2, 2})}, {"pads", ints(pads)}}));
    const Emulation e = test::emulate_peer(b.finish(), "tflite");
    EXPECT_EQ(e.layers, padded ? 2 : 1);
    EXPECT_EQ(test::rule_hits(e, "pool-explicit-pad"), padded ? 1 : 0);
  }
}

Model flatten_gemm(int64_t spatial) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1, 4, spatial, spatial});
  const std::string f = b.node("Flatten", {x}, {{"axis", Attribute::from_int(1)}});
  b.output(b.node("Gemm", {f, b.constant("w", filled({4 * spatial * spatial, 3}, 0.1f)), b.constant("c", filled({3}, 0.f))}));
  return b.finish();
}

TEST(PeersExpansion, TfliteFlattenIsTransposeReshapeUnlessSpatialIsOne) {
  const Emulation big = test::emulate_peer(flatten_gemm(2), "tflite");
  EXPECT_EQ(big.layers, 3);  // TRANSPOSE, RESHAPE, FULLY_CONNECTED
  EXPECT_EQ(test::rule_hits(big, "flatten-nchw"), 1);
  const Emulation unit = test::emulate_peer(flatten_gemm(1), "tflite");
  EXPECT_EQ(unit.layers, 1);  // FULLY_CONNECTED reads the 1x1 map directly
  EXPECT_EQ(test::rule_hits(unit, "flatten-unit"), 1);
}

TEST(PeersExpansion, TfliteTransposeToChannelsLastVanishes) {
  for (bool nhwc : {true, false}) {
    GraphBuilder b;
    const std::string x = b.input("x", DType::F32, Shape{1, 2, 3, 4});
    const std::vector<int64_t> perm = nhwc ? std::vector<int64_t>{0, 2, 3, 1} : std::vector<int64_t>{0, 1, 3, 2};
    b.output(b.node("Relu", {b.node("Transpose", {x}, {{"perm", ints(perm)}})}));
    const Emulation e = test::emulate_peer(b.finish(), "tflite");
    EXPECT_EQ(e.layers, nhwc ? 1 : 2);
    EXPECT_EQ(test::rule_hits(e, "transpose-to-nhwc"), nhwc ? 1 : 0);
  }
}

TEST(PeersExpansion, MnnFullyConnectedSharesItsInputOperators) {
  // Two FCs reading one value (Q and K projections): 2 x (1 + 6) + 5 shared.
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{2, 8});
  const std::string q = b.node("MatMul", {x, b.constant("wq", filled({8, 8}, 0.1f))});
  const std::string k = b.node("MatMul", {x, b.constant("wk", filled({8, 8}, 0.2f))});
  b.output(q);
  b.output(k);
  const Emulation e = test::emulate_peer(b.finish(), "mnn");
  EXPECT_EQ(e.layers, 2 * 7 + 5);
  EXPECT_EQ(test::rule_hits(e, "fc-as-conv"), 2);
  // Both operands computed: MNN's MatMul, one kernel.
  GraphBuilder c;
  const std::string y = c.input("y", DType::F32, Shape{2, 8});
  c.output(c.node("MatMul", {y, c.node("Transpose", {y}, {{"perm", ints({1, 0})}})}));
  EXPECT_EQ(test::emulate_peer(c.finish(), "mnn").layers, 2);
}

TEST(PeersExpansion, MnnConv3dIsUnrolledOverKernelDepth) {
  // On the graph input: 1 + 24 + 2 x depth 3 = 31 kernels, the Relu apart (after an Eltwise).
  const Emulation e = test::emulate_peer(conv_relu(5, true, {1, 1, 1}, {1, 1, 1, 1, 1, 1}), "mnn");
  EXPECT_EQ(e.layers, 31 + 1);
  EXPECT_EQ(test::rule_hits(e, "conv3d-unrolled"), 1);
  EXPECT_EQ(test::rule_hits(e, "conv3d-nc4hw4-input"), 0);
  EXPECT_EQ(test::rule_hits(e, "conv-relu"), 0);
  // On a computed value one more ConvertTensor.
  GraphBuilder b;
  const std::string x = b.node("Relu", {b.input("x", DType::F32, Shape{1, 2, 4, 6, 6})});
  b.output(b.node("Conv", {x, b.constant("w", filled({4, 2, 3, 3, 3}, 0.1f))},
                  {{"kernel_shape", ints({3, 3, 3})}, {"pads", ints({1, 1, 1, 1, 1, 1})}}));
  const Emulation f = test::emulate_peer(b.finish(), "mnn");
  EXPECT_EQ(f.layers, 1 + 32 + 1);  // Relu, the unrolled Conv, ConvertTensor before the graph output
  EXPECT_EQ(test::rule_hits(f, "conv3d-nc4hw4-input"), 1);
}

TEST(PeersExpansion, MnnGatherIndexArithmetic) {
  GraphBuilder b;
  const std::string ids = b.input("ids", DType::I64, Shape{1, 4});
  const std::string emb = b.node("Gather", {b.constant("table", filled({10, 8}, 0.5f)), ids});  // computed indices
  const std::string first = b.node("Gather", {emb, b.constant("i0", Tensor::scalar_i64(0))}, {{"axis", Attribute::from_int(1)}});
  b.output(first);
  const Emulation e = test::emulate_peer(b.finish(), "mnn");
  EXPECT_EQ(test::rule_hits(e, "gather-index-normalised"), 1);
  EXPECT_EQ(test::rule_hits(e, "gather-scalar-index"), 1);
  EXPECT_EQ(e.layers, 3 + 11);
  EXPECT_EQ(test::emulate_peer(b.finish(), "tflite").layers, 2);
}

TEST(PeersExpansion, MnnConvertsLayoutAtGraphInputAndOutput) {
  // Conv reading the graph input and writing the graph output: ConvertTensor on each side.
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1, 2, 6, 6});
  b.output(b.node("Conv", {x, b.constant("w", filled({4, 2, 3, 3}, 0.1f))}, {{"kernel_shape", ints({3, 3})}}));
  const Emulation e = test::emulate_peer(b.finish(), "mnn");
  EXPECT_EQ(e.layers, 3);
  EXPECT_EQ(test::rule_hits(e, "nc4hw4-input"), 1);
  EXPECT_EQ(test::rule_hits(e, "nc4hw4-output"), 1);
  // The Conv + Relu of conv_relu writes the output through the Relu: only the input side.
  EXPECT_EQ(test::emulate_peer(conv_relu(4, true, {1, 1}, {1, 1, 1, 1}), "mnn").layers, 2);
}

TEST(PeersExpansion, MnnConvertsLayoutBetweenConcatAndSoftmax) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1, 4});
  const std::string c = b.node("Concat", {b.node("Relu", {x}), b.node("Tanh", {x})}, {{"axis", Attribute::from_int(1)}});
  b.output(b.node("Softmax", {c}));
  const Emulation e = test::emulate_peer(b.finish(), "mnn");
  EXPECT_EQ(test::rule_hits(e, "nc4hw4-softmax"), 1);
  EXPECT_EQ(e.layers, 5);
  EXPECT_EQ(test::emulate_peer(b.finish(), "tflite").layers, 4);
}

TEST(PeersExpansion, MnnFullyConnectedAfterFlattenSharesOneOperatorLess) {
  // Flatten (1) + converted Gemm (1 + 6 + 5 - 1).
  const Emulation e = test::emulate_peer(flatten_gemm(2), "mnn");
  EXPECT_EQ(test::rule_hits(e, "fc-after-flatten"), 1);
  EXPECT_EQ(e.layers, 1 + 11);
}

TEST(PeersExpansion, MnnSoftplusIsExpAddLog) {
  GraphBuilder b;
  b.output(b.node("Softplus", {b.input("x", DType::F32, Shape{1, 8})}));
  const Model m = b.finish();
  EXPECT_EQ(test::emulate_peer(m, "mnn").layers, 3);
  EXPECT_EQ(test::rule_hits(test::emulate_peer(m, "mnn"), "softplus-decomposed"), 1);
  EXPECT_EQ(test::emulate_peer(m, "tflite").layers, 1);
}

TEST(PeersExpansion, MnnSiluIsOneUnary) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1, 8});
  b.output(b.node("Mul", {x, b.node("Sigmoid", {x})}));
  const Model m = b.finish();
  EXPECT_EQ(test::emulate_peer(m, "mnn").layers, 1);
  EXPECT_GE(test::rule_hits(test::emulate_peer(m, "mnn"), "silu"), 1);
  EXPECT_EQ(test::emulate_peer(m, "tflite").layers, 2);  // LOGISTIC, MUL
}

TEST(PeersExpansion, MnnDepthOneConv3dIsOneConvolutionCarryingItsRelu) {
  // A (1,3,3) kernel unrolls into one 2-D Convolution: 1 + 14 + 9 + 2 x 1 kernels, no
  // Eltwise sum, and the Relu becomes the Convolution's relu flag.
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1, 2, 4, 6, 6});
  const std::string c = b.node("Conv", {x, b.constant("w", filled({4, 2, 1, 3, 3}, 0.1f))},
                               {{"kernel_shape", ints({1, 3, 3})}, {"pads", ints({0, 1, 1, 0, 1, 1})}});
  b.output(b.node("Relu", {c}));
  const Emulation e = test::emulate_peer(b.finish(), "mnn");
  EXPECT_EQ(e.layers, 1 + 14 + 9 + 2);
  EXPECT_EQ(test::rule_hits(e, "conv3d-depth-sum"), 0);
  EXPECT_EQ(test::rule_hits(e, "conv-relu"), 1);
}

TEST(PeersExpansion, MnnConv3dsReadingOneValueShareTheirShapeOperators) {
  // Two 1x1x1 Conv3Ds of one computed value: each 1 + 14 + 2 kernels, a ConvertTensor in
  // front and one before its graph output; the 9 shape operators once (FuseDupOp).
  GraphBuilder b;
  const std::string x = b.node("Relu", {b.input("x", DType::F32, Shape{1, 2, 4, 6, 6})});
  for (const char* w : {"w1", "w2"})
    b.output(b.node("Conv", {x, b.constant(w, filled({4, 2, 1, 1, 1}, 0.1f))}, {{"kernel_shape", ints({1, 1, 1})}}));
  const Emulation e = test::emulate_peer(b.finish(), "mnn");
  EXPECT_EQ(e.layers, 1 + 2 * (1 + 14 + 2 + 1 + 1) + 9);
  EXPECT_EQ(test::rule_hits(e, "conv3d-unrolled"), 2);
}

TEST(PeersExpansion, MnnRemovesCastsToTheTypeAValueHas) {
  auto cast_layers = [](DType from, DType to) {
    GraphBuilder b;
    const std::string x = b.node("Neg", {b.input("x", from, Shape{1, 8})});
    b.output(b.node("Cast", {x}, {{"to", Attribute::from_int(dtype_to_onnx(to))}}));
    return test::emulate_peer(b.finish(), "mnn").layers;
  };
  EXPECT_EQ(cast_layers(DType::F32, DType::F32), 1);  // Neg only
  EXPECT_EQ(cast_layers(DType::I64, DType::I32), 1);  // MNN keeps int64 as int32
  EXPECT_EQ(cast_layers(DType::F32, DType::I32), 2);
  GraphBuilder b;  // a comparison's bool cast to bool: MNN's Cast targets int32 and stays
  const std::string x = b.input("x", DType::F32, Shape{1, 8});
  const std::string eq = b.node("Equal", {x, b.constant("z", filled({1}, 0.f))});
  b.output(b.node("Cast", {eq}, {{"to", Attribute::from_int(dtype_to_onnx(DType::Bool))}}));
  EXPECT_EQ(test::emulate_peer(b.finish(), "mnn").layers, 2);
}

TEST(PeersExpansion, MnnConvertsLayoutBetweenAConvolutionAndAReduction) {
  GraphBuilder b;
  const std::string x = b.node("Relu", {b.input("x", DType::F32, Shape{1, 2, 6, 6})});
  const std::string c = b.node("Conv", {x, b.constant("w", filled({4, 2, 1, 1}, 0.1f))}, {{"kernel_shape", ints({1, 1})}});
  b.output(b.node("ReduceMean", {c}, {{"axes", ints({2, 3})}}));
  const Emulation e = test::emulate_peer(b.finish(), "mnn");
  EXPECT_EQ(test::rule_hits(e, "nc4hw4-reduce"), 1);
  EXPECT_EQ(e.layers, 4);  // Relu, Convolution, ConvertTensor, Reduction
}

TEST(PeersExpansion, MnnFullyConnectedAfterAFlatteningReshape) {
  // Older exports flatten with Reshape(x, [1, -1]): no ConvertTensor in front either.
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1, 4, 2, 2});
  const std::string f = b.node("Reshape", {x, b.constant("s", Tensor::vector_i64({1, -1}))});
  b.output(b.node("Gemm", {f, b.constant("w", filled({16, 3}, 0.1f)), b.constant("c", filled({3}, 0.f))}));
  const Emulation e = test::emulate_peer(b.finish(), "mnn");
  EXPECT_EQ(test::rule_hits(e, "fc-after-flatten"), 1);
  EXPECT_EQ(e.layers, 1 + 11);
}

TEST(PeersExpansion, MnnTakesWeightsRebuiltByConstantOfShapeAsConstants) {
  // Files stripped of their weights rebuild them with ConstantOfShape; MNN computes them
  // at conversion, so the Gemm is a fully connected layer (1 + 6 + 5 kernels).
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{2, 8});
  const std::string w = b.node("ConstantOfShape", {b.constant("ws", Tensor::vector_i64({8, 4}))});
  b.output(b.node("Gemm", {x, w}));
  const Emulation e = test::emulate_peer(b.finish(), "mnn");
  EXPECT_EQ(test::rule_hits(e, "fc-as-conv"), 1);
  EXPECT_EQ(e.layers, 1 + 6 + 5);
}

}  // namespace
}  // namespace dnnf::peers
