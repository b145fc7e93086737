// Every row of every peer table (peer_tables.cpp) fires on a hand-built graph made for
// it: one small graph per pattern, and a table row that no graph exercises fails the
// test, so a new row comes with its graph. Layer counts of the patterns are checked in
// test_peers_emulation.cpp and test_peers_expansion.cpp; here each graph also states the
// count its own peers give.
#include <gtest/gtest.h>

#include <functional>

#include "core/peers/peer_emulator.h"
#include "core/peers/peer_rules.h"
#include "tests/support/peer_test_util.h"
#include "tests/support/rule_test_util.h"

namespace dnnf::peers {
namespace {

using test::GraphBuilder;

Tensor filled(const Shape& shape, float v) { return test::filled_tensor(shape, v, 5); }

Attribute ints(std::vector<int64_t> v) { return Attribute::from_ints(std::move(v)); }

// x * 0.5 * (1 + Erf(x / sqrt(2))), the exported form of GELU.
std::string erf_gelu(GraphBuilder& b, const std::string& x) {
  const std::string e = b.node("Erf", {b.node("Div", {x, b.scalar("r2", 1.4142135f)})});
  return b.node("Mul", {b.node("Mul", {x, b.node("Add", {e, b.scalar("one", 1.f)})}), b.scalar("half", 0.5f)});
}

struct Pattern {
  std::string name;
  std::function<Model()> build;
  // Expected layers per peer id; peers absent are not checked.
  std::map<std::string, int64_t> layers;
};

std::vector<Pattern> patterns() {
  std::vector<Pattern> p;
  p.push_back({"identity and Shape of a static shape", [] {
                 GraphBuilder b;
                 const std::string x = b.input("x", DType::F32, Shape{2, 3, 4});
                 const std::string r = b.node("Reshape", {b.node("Identity", {x}), b.node("Shape", {x})});
                 b.output(b.node("Relu", {r}));
                 return b.finish();
               },
               {{"onnxruntime", 1}, {"tflite", 1}, {"tvm", 1}, {"mnn", 3}}});
  p.push_back({"two identical Relus", [] {
                 GraphBuilder b;
                 const std::string x = b.input("x", DType::F32, Shape{2, 8});
                 b.output(b.node("Add", {b.node("Relu", {x}), b.node("Relu", {x})}));
                 return b.finish();
               },
               {{"onnxruntime", 2}}});
  p.push_back({"Conv + BatchNorm + Relu", [] {
                 GraphBuilder b;
                 const std::string x = b.input("x", DType::F32, Shape{1, 2, 6, 6});
                 const std::string c = b.node("Conv", {x, b.constant("w", filled({4, 2, 3, 3}, 0.1f))});
                 const std::string bn =
                     b.node("BatchNormalization", {c, b.constant("s", filled({4}, 1.f)), b.constant("o", filled({4}, 0.f)),
                                                   b.constant("mu", filled({4}, 0.f)), b.constant("v", filled({4}, 1.f))});
                 b.output(b.node("Relu", {bn}));
                 return b.finish();
               },
               {{"onnxruntime", 1}, {"tflite", 1}, {"tvm", 1}, {"mnn", 2}}});
  p.push_back({"decomposed LayerNorm", [] {
                 GraphBuilder b;
                 const std::string x = b.input("x", DType::F32, Shape{2, 8});
                 const std::string mean = b.node("ReduceMean", {x}, {{"axes", ints({-1})}});
                 const std::string d = b.node("Sub", {x, mean});
                 const std::string var = b.node("ReduceMean", {b.node("Pow", {d, b.scalar("two", 2.f)})}, {{"axes", ints({-1})}});
                 const std::string n = b.node("Div", {d, b.node("Sqrt", {b.node("Add", {var, b.scalar("eps", 1e-5f)})})});
                 b.output(b.node("Add", {b.node("Mul", {n, b.constant("g", filled({8}, 1.f))}), b.constant("be", filled({8}, 0.1f))}));
                 return b.finish();
               },
               {{"onnxruntime", 1}, {"mnn", 1}}});
  p.push_back({"bias Add + erf GELU", [] {
                 GraphBuilder b;
                 const std::string x = b.input("x", DType::F32, Shape{2, 8});
                 b.output(erf_gelu(b, b.node("Add", {x, b.constant("bias", filled({8}, 0.1f))})));
                 return b.finish();
               },
               {{"onnxruntime", 1}, {"mnn", 2}}});
  p.push_back({"x * Sigmoid(x)", [] {
                 GraphBuilder b;
                 const std::string x = b.input("x", DType::F32, Shape{1, 8});
                 b.output(b.node("Mul", {x, b.node("Sigmoid", {x})}));
                 return b.finish();
               },
               {{"onnxruntime", 1}, {"mnn", 1}, {"tflite", 2}}});
  p.push_back({"Conv + Relu", [] {
                 GraphBuilder b;
                 const std::string x = b.input("x", DType::F32, Shape{1, 2, 6, 6});
                 const std::string c = b.node("Conv", {x, b.constant("w", filled({4, 2, 3, 3}, 0.1f)), b.constant("c", filled({4}, 0.f))},
                                              {{"kernel_shape", ints({3, 3})}, {"pads", ints({1, 1, 1, 1})}});
                 b.output(b.node("Relu", {c}));
                 return b.finish();
               },
               {{"onnxruntime", 1}, {"tflite", 1}, {"tvm", 1}, {"mnn", 2}}});
  p.push_back({"Gemm + Relu", [] {
                 GraphBuilder b;
                 const std::string x = b.input("x", DType::F32, Shape{2, 8});
                 const std::string g = b.node("Gemm", {x, b.constant("w", filled({8, 4}, 0.1f)), b.constant("c", filled({4}, 0.f))});
                 b.output(b.node("Relu", {g}));
                 return b.finish();
               },
               // MNN: the Convolution with its relu flag and its 6 + 5 layout/shape operators.
               {{"onnxruntime", 1}, {"tflite", 1}, {"tvm", 1}, {"mnn", 12}}});
  p.push_back({"MatMul + bias Add", [] {
                 GraphBuilder b;
                 const std::string x = b.input("x", DType::F32, Shape{4, 8});
                 const std::string m = b.node("MatMul", {x, b.constant("w", filled({8, 16}, 0.2f))});
                 b.output(b.node("Add", {m, b.constant("b", filled({16}, 0.5f))}));
                 return b.finish();
               },
               {{"onnxruntime", 1}, {"tflite", 1}, {"tvm", 1}, {"mnn", 12}}});
  p.push_back({"MatMul + scalar Mul", [] {
                 GraphBuilder b;
                 const std::string x = b.input("x", DType::F32, Shape{2, 8});
                 const std::string mm = b.node("MatMul", {x, b.input("y", DType::F32, Shape{8, 8})});
                 b.output(b.node("Mul", {mm, b.scalar("k", 0.125f)}));
                 return b.finish();
               },
               {{"onnxruntime", 1}, {"tvm", 1}}});
  p.push_back({"Transpose + MatMul", [] {
                 GraphBuilder b;
                 const std::string x = b.input("x", DType::F32, Shape{8, 4});
                 const std::string t = b.node("Transpose", {x}, {{"perm", ints({1, 0})}});
                 b.output(b.node("MatMul", {t, b.input("y", DType::F32, Shape{8, 3})}));
                 return b.finish();
               },
               {{"onnxruntime", 1}}});
  p.push_back({"Add + LayerNormalization", [] {
                 GraphBuilder b;
                 const std::string s = b.node("Add", {b.input("x", DType::F32, Shape{2, 8}), b.input("y", DType::F32, Shape{2, 8})});
                 b.output(b.node("LayerNormalization", {s, b.constant("g", filled({8}, 1.f)), b.constant("be", filled({8}, 0.f))}));
                 return b.finish();
               },
               {{"onnxruntime", 1}}});
  p.push_back({"Conv3D 3x3x3 + bias + Relu", [] {
                 GraphBuilder b;
                 const std::string x = b.node("Relu", {b.input("x", DType::F32, Shape{1, 2, 4, 6, 6})});
                 const std::string c =
                     b.node("Conv", {x, b.constant("w", filled({4, 2, 3, 3, 3}, 0.1f)), b.constant("c", filled({4}, 0.f))},
                            {{"kernel_shape", ints({3, 3, 3})}, {"pads", ints({1, 1, 1, 1, 1, 1})}});
                 b.output(b.node("Relu", {c}));
                 return b.finish();
               },
               // TFLite: RELU, CONV_3D, ADD+RELU. MNN: Relu, 1 + 14 + 9 + 2 x 3 unrolled,
               // Eltwise, ConvertTensor in front, Relu.
               {{"tflite", 3}, {"mnn", 1 + 30 + 1 + 1 + 1}}});
  p.push_back({"Conv reading the input, writing the output", [] {
                 GraphBuilder b;
                 const std::string x = b.input("x", DType::F32, Shape{1, 2, 6, 6});
                 b.output(b.node("Conv", {x, b.constant("w", filled({4, 2, 3, 3}, 0.1f))}, {{"kernel_shape", ints({3, 3})}}));
                 return b.finish();
               },
               {{"mnn", 3}, {"tflite", 1}}});
  p.push_back({"Concat + Softmax", [] {
                 GraphBuilder b;
                 const std::string x = b.input("x", DType::F32, Shape{1, 4});
                 const std::string c = b.node("Concat", {b.node("Relu", {x}), b.node("Tanh", {x})}, {{"axis", Attribute::from_int(1)}});
                 b.output(b.node("Softmax", {c}));
                 return b.finish();
               },
               {{"mnn", 5}, {"tflite", 4}}});
  p.push_back({"Conv + ReduceMean", [] {
                 GraphBuilder b;
                 const std::string x = b.node("Relu", {b.input("x", DType::F32, Shape{1, 2, 6, 6})});
                 const std::string c = b.node("Conv", {x, b.constant("w", filled({4, 2, 1, 1}, 0.1f))}, {{"kernel_shape", ints({1, 1})}});
                 b.output(b.node("ReduceMean", {c}, {{"axes", ints({2, 3})}}));
                 return b.finish();
               },
               {{"mnn", 4}}});
  for (int64_t spatial : {1, 2})
    p.push_back({"Flatten " + std::to_string(spatial) + "x" + std::to_string(spatial) + " + Gemm",
                 [spatial] {
                   GraphBuilder b;
                   const std::string x = b.input("x", DType::F32, Shape{1, 4, spatial, spatial});
                   const std::string f = b.node("Flatten", {x}, {{"axis", Attribute::from_int(1)}});
                   b.output(b.node("Gemm", {f, b.constant("w", filled({4 * spatial * spatial, 3}, 0.1f)),
                                            b.constant("c", filled({3}, 0.f))}));
                   return b.finish();
                 },
                 {{"tflite", spatial == 1 ? 1 : 3}, {"mnn", 1 + 11}}});
  p.push_back({"embedding Gather + Gather at index 0", [] {
                 GraphBuilder b;
                 const std::string ids = b.input("ids", DType::I64, Shape{1, 4});
                 const std::string emb = b.node("Gather", {b.constant("table", filled({10, 8}, 0.5f)), ids});
                 b.output(b.node("Gather", {emb, b.constant("i0", Tensor::scalar_i64(0))}, {{"axis", Attribute::from_int(1)}}));
                 return b.finish();
               },
               {{"mnn", 3 + 11}, {"tflite", 2}}});
  p.push_back({"Cast int64 -> int32", [] {
                 GraphBuilder b;
                 const std::string x = b.node("Neg", {b.input("x", DType::I64, Shape{1, 8})});
                 b.output(b.node("Cast", {x}, {{"to", Attribute::from_int(dtype_to_onnx(DType::I32))}}));
                 return b.finish();
               },
               {{"mnn", 1}}});
  p.push_back({"Softplus", [] {
                 GraphBuilder b;
                 b.output(b.node("Softplus", {b.input("x", DType::F32, Shape{1, 8})}));
                 return b.finish();
               },
               {{"mnn", 3}, {"tflite", 1}}});
  p.push_back({"strided padded Conv3D", [] {
                 GraphBuilder b;
                 const std::string x = b.input("x", DType::F32, Shape{1, 2, 4, 6, 6});
                 b.output(b.node("Conv", {x, b.constant("w", filled({4, 2, 3, 3, 3}, 0.1f))},
                                 {{"kernel_shape", ints({3, 3, 3})}, {"strides", ints({2, 2, 2})}, {"pads", ints({1, 1, 1, 1, 1, 1})}}));
                 return b.finish();
               },
               {{"tflite", 2}}});
  p.push_back({"padded MaxPool + Relu", [] {
                 GraphBuilder b;
                 const std::string x = b.input("x", DType::F32, Shape{1, 2, 6, 6});
                 const std::string m =
                     b.node("MaxPool", {x}, {{"kernel_shape", ints({3, 3})}, {"strides", ints({2, 2})}, {"pads", ints({1, 1, 1, 1})}});
                 b.output(b.node("Relu", {m}));
                 return b.finish();
               },
               {{"tflite", 2}}});
  p.push_back({"Transpose to NHWC + Relu", [] {
                 GraphBuilder b;
                 const std::string x = b.input("x", DType::F32, Shape{1, 2, 3, 4});
                 b.output(b.node("Relu", {b.node("Transpose", {x}, {{"perm", ints({0, 2, 3, 1})}})}));
                 return b.finish();
               },
               {{"tflite", 1}, {"tvm", 1}}});
  p.push_back({"Add + Relu, Concat + Tanh", [] {
                 GraphBuilder b;
                 const std::string x = b.input("x", DType::F32, Shape{1, 2, 4, 4});
                 const std::string a = b.node("Relu", {b.node("Add", {x, b.input("y", DType::F32, Shape{1, 2, 4, 4})})});
                 b.output(b.node("Tanh", {b.node("Concat", {a, a}, {{"axis", Attribute::from_int(1)}})}));
                 return b.finish();
               },
               {{"tflite", 2}}});
  p.push_back({"Exp + ReduceSum + Sqrt", [] {
                 GraphBuilder b;
                 const std::string e = b.node("Exp", {b.input("x", DType::F32, Shape{2, 3, 4})});
                 const std::string r = b.node("ReduceSum", {e, b.constant("ax", Tensor::vector_i64({-1}))});
                 b.output(b.node("Sqrt", {r}));
                 return b.finish();
               },
               {{"tvm", 1}}});
  return p;
}

TEST(PeersRows, EveryRowFiresOnAHandBuiltGraph) {
  const std::vector<Pattern> all = patterns();
  for (const PeerTable& table : peer_tables()) {
    std::map<std::string, std::vector<std::string>> fired;  // row -> patterns it fired on
    for (const Pattern& pat : all) {
      const Emulation e = emulate(pat.build(), table);
      for (const auto& [row, n] : e.rule_hits)
        if (n > 0) fired[row].push_back(pat.name);
      if (auto it = pat.layers.find(table.id); it != pat.layers.end())
        EXPECT_EQ(e.layers, it->second) << table.id << " on " << pat.name;
    }
    for (const PeerRule& r : table.rules)
      EXPECT_TRUE(fired.count(r.name)) << table.id << " row '" << r.name << "' fires on no hand-built graph";
  }
}

}  // namespace
}  // namespace dnnf::peers
