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

PeerRule expand(std::string name, std::string description, std::string source, std::vector<std::string> ops, When when,
                int64_t extra, int64_t extra_per_input = 0, int64_t extra_per_depth = 0) {
  PeerRule r{std::move(name), RuleKind::Expand, std::move(description), std::move(source), {}, {}, std::move(ops)};
  r.when = when;
  r.extra = extra;
  r.extra_per_input = extra_per_input;
  r.extra_per_depth = extra_per_depth;
  return r;
}

ChainStep ops(std::vector<std::string> o, When when = When::Always) {
  return ChainStep{std::move(o), false, false, Operand::Any, when};
}
ChainStep optional(std::vector<std::string> o, Operand operand = Operand::Any) {
  return ChainStep{std::move(o), true, false, operand, When::Always};
}
ChainStep constant_operand(std::vector<std::string> o) {
  return ChainStep{std::move(o), false, false, Operand::Constant, When::Always};
}
ChainStep repeated(std::vector<std::string> o, bool is_optional = false) {
  return ChainStep{std::move(o), is_optional, true, Operand::Any, When::Always};
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
// FuseLayerNorm, GELU fusion, ConvertMatMulToConv2D.cpp), onnx/ (GatherOnnx, Conv3D
// through Im2Col), and the op lists of MNN 3.6.1's own output on the zoo models
// (tools/peers/peer_mnn.py), which show the expansions below operator by operator.
// MNN does not fold Shape: its runtime computes shapes with operators (Shape, Rank,
// SliceTf, Concat), so only operators of constants are folded.
PeerTable mnn_table() {
  return {"mnn",
          "MNN",
          "alibaba/MNN tools/converter/source/optimizer (merge/, postconvert/, onnxextra/)",
          {
              rewrite("constant-folding", "fold constant subgraphs; drop Identity/Dropout and dead nodes (Shape is kept)",
                      "onnxextra + RemoveUnusefulOp: constant subgraphs, Identity, Dropout",
                      {"constant-to-initializer", "remove-identity", "dead-code"}),
              rewrite("conv-bn", "BatchNorm and per-channel scale folded into Convolution",
                      "merge: ConvBNReluFuse / MergeBNToConvolution, MergeScaleToConvolution",
                      {"fold-batchnorm", "fold-scale-bias-into-conv"}),
              rewrite("layernorm", "decomposed LayerNorm -> LayerNorm", "merge: FuseLayerNorm",
                      {"layernorm-from-primitives"}),
              // The tanh approximation (GPT-2, ALBERT) stays Pow/Mul/Tanh in MNN 3.6.1's output.
              rewrite("gelu", "Erf GELU subgraph -> GELU unary", "merge: FuseGeLU", {"gelu-from-erf"}),
              rewrite("silu", "x * Sigmoid(x) -> SILU unary", "merge: FuseSiLU (UnaryOpOperation_SILU)",
                      {"silu-from-sigmoid"}),
              // A MatMul/Gemm with a constant weight becomes a 1x1 Convolution on NC4HW4 data:
              // Reshape + ConvertTensor in front (shared by the nodes reading one value, as are
              // the Shape, Rank and Sub that recover its leading dims), ConvertTensor,
              // Unsqueeze, 2 SliceTf, Concat and Reshape behind.
              expand("fc-as-conv", "MatMul/Gemm with a constant weight -> Convolution with layout and reshape operators",
                     "merge: ConvertMatMulToConv2D", {"MatMul", "Gemm"}, When::FullyConnected, 6, 5),
              // MNN convolutions work on NC4HW4 data; the converter inserts a ConvertTensor where
              // NCHW data meets them: a graph input read by a Conv, a graph output written by a
              // Conv or a Concat of conv outputs, a Softmax reading such a Concat. A Flatten's output needs none in front of the
              // converted MatMul (one shared operator fewer).
              expand("nc4hw4-input", "ConvertTensor NCHW -> NC4HW4 after a graph input read by a Convolution",
                     "postconvert: AddTensorFormatConverter (MNN 3.6.1 output: input___tr4...)", {"Conv"},
                     When::ReadsGraphInput, 1),
              expand("nc4hw4-output", "ConvertTensor NC4HW4 -> NCHW before a graph output",
                     "postconvert: AddTensorFormatConverter (MNN 3.6.1 output: ...__before_tr)",
                     {"Conv", "ConvTranspose", "Concat"}, When::WritesGraphOutput, 1),
              expand("nc4hw4-softmax", "ConvertTensor NC4HW4 -> NCHW between a Concat and a Softmax",
                     "postconvert: AddTensorFormatConverter (MNN 3.6.1 output: ..._Concat_output___tr4scores)",
                     {"Softmax"}, When::ReadsConcat, 1),
              expand("fc-after-flatten", "a converted MatMul reading a Flatten needs no ConvertTensor in front",
                     "merge: ConvertMatMulToConv2D (MNN 3.6.1 output after Flatten)", {"MatMul", "Gemm"},
                     When::FullyConnectedOnFlatten, 0, -1),
              // A 5-D Conv is unrolled over the kernel depth (MNN 3.6.1 output, operator by
              // operator): per Conv, Concat/Reshape (4 each), Transpose (2), Im2Col, Unpack, and
              // Shape/2 SliceTf/Concat/Reshape/Transpose back to 5-D; per kernel depth slice a
              // ConvertTensor and a 2-D Convolution; an Eltwise sum of the slices when the depth
              // is over 1. The Shape, 5 SliceTf and 3 Mul that compute the folded input shape are
              // identical for Convs reading one value, and postconvert/FuseDupOp merges them.
              expand("conv3d-unrolled", "Conv3D -> Im2Col, one 2-D Convolution per kernel depth slice, reshapes",
                     "onnx: Conv3D converted through Im2Col + Convolution; postconvert: FuseDupOp (MNN 3.6.1 output)",
                     {"Conv"}, When::Volumetric, 14, 9, 2),
              expand("conv3d-depth-sum", "Eltwise sum of the per-slice Convolutions (kernel depth over 1)",
                     "onnx: Conv3D through Im2Col (MNN 3.6.1 output: Eltwise after the slices)", {"Conv"},
                     When::DeepKernel, 1),
              expand("conv3d-nc4hw4-input", "ConvertTensor to NC4HW4 in front of Im2Col (not needed on a graph input)",
                     "onnx: Conv3D through Im2Col (MNN 3.6.1 output)", {"Conv"}, When::VolumetricComputed, 1),
              expand("nc4hw4-reduce", "ConvertTensor NC4HW4 -> NCHW between a Convolution and a reduction",
                     "postconvert: AddTensorFormatConverter (MNN 3.6.1 output: ..._Conv_output_0___tr4logits)",
                     {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd"}, When::ReadsConv, 1),
              // Gather normalises its indices for negative values: (i + n) mod n, then GatherV2.
              expand("gather-index-normalised", "Gather with computed indices -> Add, Mod, GatherV2",
                     "onnx: GatherOnnx (negative index handling)", {"Gather"}, When::DynamicIndices, 2),
              // A Gather at one constant index of a computed tensor reads the axis size at run
              // time: Shape, Rank, Add/Mod, Unsqueeze, Add, Unsqueeze, StridedSlice, Squeeze, Mod.
              expand("gather-scalar-index", "Gather at a scalar constant index -> run-time index arithmetic + GatherV2",
                     "onnx: GatherOnnx (scalar index, shape taken at run time)", {"Gather"},
                     When::ScalarConstantIndex, 10),
              // MNN keeps int64 data as int32, so a Cast between the two is a no-op as well.
              expand("cast-no-op", "Cast to the type the value already has (int32 and int64 count as one) -> removed",
                     "postconvert: RemoveUnusefulOp (CastParam srcT == dstT, INT64 <-> INT32)", {"Cast"},
                     When::CastNoOp, -1),
              // Softplus has no MNN kernel: log(exp(x) + 1) as UnaryOp EXP, BinaryOp ADD, UnaryOp LOG.
              expand("softplus-decomposed", "Softplus -> EXP, ADD, LOG",
                     "onnx: SoftplusOnnx (MNN 3.6.1 output: EXP, ADD, LOG per Softplus)", {"Softplus"}, When::Always, 2),
              chain("conv-relu", "Convolution/Deconvolution (also a converted MatMul or a depth-1 Conv3D) + Relu or Relu6 -> relu/relu6 flag",
                    "postconvert: MergeReluToConvolution, MergeRelu6ToConvolution",
                    {ops({"Conv", "ConvTranspose"}, When::OneConvKernel), ops({"Relu", "Clip"})}),
              chain("matmul-bias", "MatMul with constant weight + bias Add (+ Relu) -> one Convolution",
                    "merge: ConvertMatMulToConv2D (bias), MergeReluToConvolution",
                    {ops({"MatMul", "Gemm"}, When::FullyConnected), constant_operand({"Add"}), optional({"Relu", "Clip"})}),
              chain("fc-relu", "converted MatMul/Gemm + Relu -> relu flag", "postconvert: MergeReluToConvolution",
                    {ops({"MatMul", "Gemm"}, When::FullyConnected), ops({"Relu", "Clip"})}),
          },
          /*folds_large_constants=*/true};
}

// TensorFlow Lite through onnx2tf (ONNX -> TF -> TFLite converter with its MLIR passes).
// Sources: TFLite schema (fused_activation_function of CONV_2D, DEPTHWISE_CONV_2D,
// FULLY_CONNECTED, TRANSPOSE_CONV, ADD, SUB, MUL, DIV, CONCATENATION, pools: NONE, RELU,
// RELU_N1_TO_1, RELU6, TANH), tensorflow/compiler/mlir/lite/transforms/optimize_patterns.td
// (FuseFullyConnectedAndAdd, FuseFullyConnectedAndRelu, fused binary ops into conv),
// the onnx2tf README (constant folding through onnxsim, NCHW -> NHWC layout, so the
// Transposes to channels-last vanish), and the operator lists of onnx2tf 1.28.8 /
// TensorFlow 2.21's output on the zoo models (tools/peers/peer_tflite.py).
PeerTable tflite_table() {
  const std::vector<std::string> act = {"Relu", "Clip", "Tanh"};
  return {"tflite",
          "TFLite",
          "TFLite schema fused_activation_function; tensorflow/compiler/mlir/lite/transforms/optimize_patterns.td; onnx2tf README",
          {
              constant_folding("onnx2tf runs onnxsim: constant folding, identities removed"),
              rewrite("conv-bn", "BatchNorm and constant scale/bias folded into conv weights",
                      "optimize_patterns.td: FuseBinaryOpToPrecedingAffine", {"fold-batchnorm", "fold-scale-bias-into-conv"}),
              // tf.nn.conv3d has no bias: the bias is an ADD, which carries the fused activation.
              expand("conv3d-bias-add", "CONV_3D + ADD (bias, with the fused activation)",
                     "onnx2tf Conv (3-D: tf.nn.conv3d then bias add); schema: AddOptions.fused_activation_function",
                     {"Conv"}, When::VolumetricWithBias, 1),
              // TF padding is SAME or VALID; other ONNX pads become an explicit PAD in front.
              expand("conv-explicit-pad", "PAD + CONV_2D/CONV_3D when the ONNX pads are not SAME/VALID",
                     "onnx2tf Conv: explicit tf.pad for asymmetric/strided padding", {"Conv"}, When::PadsNotSame, 1),
              expand("pool-explicit-pad", "PADV2 (-inf) + pool when the pool's pads are not SAME/VALID",
                     "onnx2tf MaxPool/AveragePool: explicit pad for padded pools", {"MaxPool", "AveragePool"},
                     When::PadsNotSame, 1),
              expand("flatten-nchw", "Flatten of an NHWC feature map -> TRANSPOSE back to NCHW + RESHAPE",
                     "onnx2tf Flatten (keeps ONNX element order)", {"Flatten"}, When::FlattenSpatial, 1),
              expand("flatten-unit", "Flatten of a 1x1 feature map: folded into the FULLY_CONNECTED input",
                     "optimize_patterns.td: RemoveReshapeBeforeFullyConnected", {"Flatten"}, When::FlattenUnitSpatial, -1),
              expand("transpose-to-nhwc", "Transpose NCHW -> NHWC: the tensor already is NHWC", "onnx2tf README (NHWC layout)",
                     {"Transpose"}, When::ToChannelsLast, -1),
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
    } else if (r.kind == RuleKind::Expand) {
      os << "expand";
      for (const std::string& n : r.drop_ops) os << " " << n;
      os << (r.extra < 0 ? " -> no kernel" : " -> 1+" + std::to_string(r.extra) + " kernels");
      if (r.extra_per_depth) os << " +" << r.extra_per_depth << " per kernel depth";
      if (r.extra_per_input) os << " +" << r.extra_per_input << " per distinct input";
    } else {
      os << "drop";
      for (const std::string& n : r.drop_ops) os << " " << n;
    }
    os << "\n    from: " << r.source << "\n";
  }
  return os.str();
}

}  // namespace dnnf::peers
