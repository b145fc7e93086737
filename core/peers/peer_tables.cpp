// The peers' fusion tables. Each row restates a fusion the peer documents; the
// sources are read as facts (no code taken). Rows are applied in order, first match wins.
#include <sstream>

#include "core/peers/peer_rules.h"

namespace dnnf::peers {

namespace {

// What every peer does before fusing: constants (and shape computations on static
// shapes) folded, identities and dead code removed.
PeerRule constant_folding(const std::string& source) {
  return {"constant-folding", RuleKind::Rewrite,
          "fold operators on constants and Shape of static shapes; drop Identity/Dropout and dead nodes",
          source,
          {"constant-to-initializer", "constant-folding", "remove-identity", "remove-no-op", "dead-code"},
          {},
          {}};
}

PeerRule rewrite(std::string name, std::string description, std::string source, std::vector<std::string> rules) {
  return {std::move(name), RuleKind::Rewrite, std::move(description), std::move(source), std::move(rules), {}, {}};
}

PeerRule chain(std::string name, std::string description, std::string source, std::vector<ChainStep> steps) {
  return {std::move(name), RuleKind::Chain, std::move(description), std::move(source), {}, std::move(steps), {}};
}

ChainStep ops(std::vector<std::string> o) { return ChainStep{std::move(o), false, false, Operand::Any}; }
ChainStep optional(std::vector<std::string> o, Operand operand = Operand::Any) {
  return ChainStep{std::move(o), true, false, operand};
}
ChainStep constant_operand(std::vector<std::string> o) { return ChainStep{std::move(o), false, false, Operand::Constant}; }
ChainStep repeated(std::vector<std::string> o, bool is_optional = false) {
  return ChainStep{std::move(o), is_optional, true, Operand::Any};
}

// ONNX Runtime, graph optimisation level "extended" on the CPU execution provider.
// Sources: docs "Graph Optimizations in ONNX Runtime" (basic / extended levels) and
// onnxruntime/core/optimizer/graph_transformer_utils.cc (GenerateTransformers), with the
// per-fusion files conv_activation_fusion.cc, gemm_activation_fusion.cc,
// matmul_add_fusion.cc, layer_norm_fusion.cc, skip_layer_norm_fusion.cc, gelu_fusion.cc,
// bias_gelu_fusion.cc, fast_gelu_fusion.cc, quick_gelu_fusion.cc, attention_fusion.cc,
// matmul_scale_fusion.cc, matmul_transpose_fusion.cc.
PeerTable ort_table() {
  const std::vector<std::string> act = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "HardSigmoid"};
  return {"onnxruntime",
          "ONNX Runtime (extended)",
          "onnxruntime docs: Graph Optimizations; core/optimizer/graph_transformer_utils.cc",
          {
              constant_folding("basic level: ConstantFolding, EliminateIdentity, EliminateDropout, NoopElimination"),
              rewrite("cse", "common subexpression elimination", "basic level: CommonSubexpressionElimination",
                      {"common-subexpression"}),
              rewrite("conv-bn-mul-add", "BatchNorm, constant Mul and Add folded into Conv weights",
                      "basic level: ConvBNFusion, ConvMulFusion, ConvAddFusion",
                      {"fold-batchnorm", "fold-scale-bias-into-conv"}),
              rewrite("layernorm", "decomposed LayerNorm subgraph -> LayerNormalization",
                      "extended: LayerNormFusion", {"layernorm-from-primitives"}),
              rewrite("gelu", "Erf GELU subgraph -> Gelu; tanh GELU -> FastGelu", "extended: GeluFusion, FastGeluFusion",
                      {"gelu-from-erf", "gelu-from-tanh"}),
              rewrite("quick-gelu", "x * Sigmoid(x) -> QuickGelu", "extended: QuickGeluFusion", {"silu-from-sigmoid"}),
              chain("conv-activation", "Conv + activation -> FusedConv", "extended: ConvActivationFusion",
                    {ops({"Conv"}), ops(act)}),
              chain("gemm-activation", "Gemm + activation -> FusedGemm", "extended: GemmActivationFusion",
                    {ops({"Gemm"}), ops(act)}),
              chain("matmul-add", "MatMul + bias Add -> Gemm (2-D)", "basic: MatMulAddFusion",
                    {ops({"MatMul"}), constant_operand({"Add"})}),
              chain("matmul-scale", "MatMul + scalar Mul/Div -> FusedMatMul", "extended: MatMulScaleFusion",
                    {ops({"MatMul"}), constant_operand({"Mul", "Div"})}),
              chain("transpose-matmul", "Transpose + MatMul -> FusedMatMul", "extended: MatmulTransposeFusion",
                    {ops({"Transpose"}), ops({"MatMul"})}),
              chain("skip-layernorm", "Add + LayerNormalization -> SkipLayerNormalization",
                    "extended: SkipLayerNormFusion", {ops({"Add"}), ops({"LayerNormalization"})}),
              chain("bias-gelu", "bias Add + Gelu -> BiasGelu", "extended: BiasGeluFusion",
                    {constant_operand({"Add"}), ops({"Gelu"})}),
          }};
}

// MNN's ONNX converter (MNNConvert / PyPI MNN `mnnconvert`), which optimises while converting.
// Sources: alibaba/MNN tools/converter/source/optimizer: postconvert/MergeToConvolution.hpp
// with MergeReluToConvolution.cpp and MergeRelu6ToConvolution.cpp, merge/ (ConvBN folding,
// FuseLayerNorm, GELU fusion, MatMul + bias), onnxextra/ (constant folding of ONNX shape
// subgraphs) and docs "Model conversion / optimisation" of the MNN documentation.
PeerTable mnn_table() {
  return {"mnn",
          "MNN",
          "alibaba/MNN tools/converter/source/optimizer (merge/, postconvert/, onnxextra/)",
          {
              constant_folding("onnxextra + RemoveUnusefulOp: constant subgraphs, Identity, Dropout"),
              rewrite("conv-bn", "BatchNorm and per-channel scale folded into Convolution",
                      "merge: ConvBNReluFuse / MergeBNToConvolution, MergeScaleToConvolution",
                      {"fold-batchnorm", "fold-scale-bias-into-conv"}),
              rewrite("layernorm", "decomposed LayerNorm -> LayerNorm", "merge: FuseLayerNorm",
                      {"layernorm-from-primitives"}),
              rewrite("gelu", "Erf / tanh GELU subgraph -> GELU unary", "merge: FuseGeLU",
                      {"gelu-from-erf", "gelu-from-tanh"}),
              chain("conv-relu", "Convolution/Deconvolution + Relu or Relu6 -> relu/relu6 flag",
                    "postconvert: MergeReluToConvolution, MergeRelu6ToConvolution",
                    {ops({"Conv", "ConvTranspose"}), ops({"Relu", "Clip"})}),
              chain("matmul-bias", "MatMul with constant weight + bias Add -> one MatMul/Convolution",
                    "merge: FuseMatMulBias (MatMul + BiasAdd)", {ops({"MatMul", "Gemm"}), constant_operand({"Add"})}),
          }};
}

// TensorFlow Lite through onnx2tf (ONNX -> TF -> TFLite converter with its MLIR passes).
// Sources: TFLite schema (fused_activation_function of CONV_2D, DEPTHWISE_CONV_2D,
// FULLY_CONNECTED, TRANSPOSE_CONV, ADD, SUB, MUL, DIV, CONCATENATION, pools: NONE, RELU,
// RELU_N1_TO_1, RELU6, TANH), tensorflow/compiler/mlir/lite/transforms/optimize_patterns.td
// (FuseFullyConnectedAndAdd, FuseFullyConnectedAndRelu, fused binary ops into conv),
// and the onnx2tf README (constant folding through onnxsim, NCHW -> NHWC layout).
PeerTable tflite_table() {
  const std::vector<std::string> act = {"Relu", "Clip", "Tanh"};
  return {"tflite",
          "TFLite",
          "TFLite schema fused_activation_function; tensorflow/compiler/mlir/lite/transforms/optimize_patterns.td; onnx2tf README",
          {
              constant_folding("onnx2tf runs onnxsim: constant folding, identities removed"),
              rewrite("conv-bn", "BatchNorm and constant scale/bias folded into conv weights",
                      "optimize_patterns.td: FuseBinaryOpToPrecedingAffine", {"fold-batchnorm", "fold-scale-bias-into-conv"}),
              chain("conv-bias-activation", "CONV_2D/DEPTHWISE/TRANSPOSE_CONV with bias and fused activation",
                    "schema: Conv2DOptions.fused_activation_function",
                    {ops({"Conv", "ConvTranspose"}), optional({"Add"}, Operand::Constant), ops(act)}),
              chain("fc-bias-activation", "FULLY_CONNECTED with bias and optional fused activation",
                    "optimize_patterns.td: FuseFullyConnectedAndAdd, FuseFullyConnectedAndRelu",
                    {ops({"MatMul", "Gemm"}), constant_operand({"Add"}), optional(act)}),
              chain("fc-activation", "FULLY_CONNECTED + fused activation", "optimize_patterns.td: FuseFullyConnectedAndRelu",
                    {ops({"MatMul", "Gemm"}), ops(act)}),
              chain("binary-activation", "ADD/SUB/MUL/DIV with fused activation",
                    "schema: AddOptions/MulOptions.fused_activation_function",
                    {ops({"Add", "Sub", "Mul", "Div"}), ops(act)}),
              chain("pool-activation", "pooling with fused activation", "schema: Pool2DOptions.fused_activation_function",
                    {ops({"MaxPool", "AveragePool"}), ops(act)}),
              chain("concat-activation", "CONCATENATION with fused activation",
                    "schema: ConcatenationOptions.fused_activation_function", {ops({"Concat"}), ops(act)}),
          }};
}

// Apache TVM (Relay FuseOps at opt_level 3 with the default op patterns).
// Sources: apache/tvm src/relay/transforms/fuse_ops.cc (OpPatternKind: kElemWise,
// kBroadcast, kInjective, kCommReduce, kOutEWiseFusable, kOpaque; dominator-tree fusion
// rules) and docs "Operator fusion" in the TVM tutorials.
PeerTable tvm_table() {
  const std::vector<std::string> anchors = {"Conv", "ConvTranspose", "MatMul", "Gemm"};
  return {"tvm",
          "TVM",
          "apache/tvm src/relay/transforms/fuse_ops.cc (op pattern kinds, fusion rules)",
          {
              constant_folding("relay FoldConstant, SimplifyExpr, EliminateCommonSubexpr"),
              rewrite("cse", "common subexpression elimination", "relay EliminateCommonSubexpr",
                      {"common-subexpression"}),
              rewrite("fold-scale", "BatchNorm and scale folded into conv", "relay SimplifyInference, FoldScaleAxis",
                      {"fold-batchnorm", "fold-scale-bias-into-conv"}),
              chain("out-ewise-fusable", "conv2d/dense/batch_matmul + any chain of elementwise/broadcast ops",
                    "fuse_ops.cc: kOutEWiseFusable followed by kElemWise/kBroadcast",
                    {ops(anchors), repeated({"@elementwise"})}),
              chain("injective-reduce", "injective ops feeding a reduction fuse into it, elementwise after it too",
                    "fuse_ops.cc: kInjective into kCommReduce",
                    {repeated({"@injective"}), ops({"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "Softmax"}),
                     repeated({"@elementwise"}, true)}),
              chain("injective", "chains of elementwise/broadcast/injective ops -> one fused function",
                    "fuse_ops.cc: kInjective with kInjective", {ops({"@injective"}), repeated({"@injective"})}),
          }};
}

}  // namespace

const std::vector<PeerTable>& peer_tables() {
  static const std::vector<PeerTable> tables = {ort_table(), mnn_table(), tflite_table(), tvm_table()};
  return tables;
}

const PeerTable* find_peer_table(const std::string& id) {
  const std::string key = id == "ort" ? "onnxruntime" : id;
  for (const PeerTable& t : peer_tables())
    if (t.id == key) return &t;
  return nullptr;
}

std::string peer_ids() {
  std::string s;
  for (const PeerTable& t : peer_tables()) s += (s.empty() ? "" : ",") + t.id;
  return s;
}

namespace {
std::string step_text(const ChainStep& s) {
  std::string t;
  for (const std::string& o : s.ops) t += (t.empty() ? "" : "|") + o;
  if (s.ops.size() > 1) t = "(" + t + ")";
  if (s.operand == Operand::Constant) t += "[const]";
  if (s.repeat) t += "+";
  if (s.optional) t += "?";
  return t;
}
}  // namespace

std::string format_table(const PeerTable& table) {
  std::ostringstream os;
  os << table.system << " (" << table.id << ")\n  source: " << table.sources << "\n";
  for (const PeerRule& r : table.rules) {
    os << "  " << r.name << ": " << r.description << "\n    ";
    if (r.kind == RuleKind::Rewrite) {
      os << "rewrite with";
      for (const std::string& n : r.rewrites) os << " " << n;
    } else if (r.kind == RuleKind::Chain) {
      os << "chain";
      for (size_t i = 0; i < r.steps.size(); ++i) os << (i ? " -> " : " ") << step_text(r.steps[i]);
    } else {
      os << "drop";
      for (const std::string& n : r.drop_ops) os << " " << n;
    }
    os << "\n    from: " << r.source << "\n";
  }
  return os.str();
}

}  // namespace dnnf::peers
