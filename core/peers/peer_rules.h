// Fusion rule tables of the frameworks dnnf is compared with (ONNX Runtime, MNN, TFLite,
// TVM), kept as data: one table per peer, one row per fusion the peer documents in its
// docs or optimiser sources (cited per table in peer_tables.cpp). The emulator
// (peer_emulator.h) applies a table to an ONNX graph when the peer itself is not
// installed, so `dnnf compare` can still show an estimate and say it is one.
#pragma once

#include <string>
#include <vector>

namespace dnnf::peers {

enum class RuleKind {
  // Graph-level rewrites the peer performs before fusing (constant folding, BatchNorm
  // folded into Conv, decomposed LayerNorm/GELU recognised as one op). Carried out with
  // the dnnf rewrite rules of the same meaning, listed in `rewrites`.
  Rewrite,
  // A producer followed by single-consumer followers fused into one kernel, e.g.
  // Conv -> Relu. `steps[0]` is the anchor.
  Chain,
  // Operators the peer removes or folds into its tensor layout (no kernel launched).
  Drop,
  // An ONNX operator the peer's converter turns into several operators of its own (MNN:
  // a fully connected MatMul becomes a 1x1 Convolution wrapped in layout and reshape
  // operators), or into none (onnx2tf: a Transpose to channels-last is absorbed by its
  // NHWC layout). Applied per node when `when` holds; first matching row wins.
  Expand,
};

// When an Expand row or a chain step applies to a node, beyond its operator type.
enum class When {
  Always,
  Volumetric,           // Conv/pool on a 5-D (N,C,D,H,W) input
  VolumetricComputed,   // the same, on a computed value (not a graph input)
  Planar,               // Conv/pool on an input of rank 4 or less
  OneConvKernel,        // a Conv that is one 2-D convolution kernel: planar, or 5-D with kernel depth 1
  DeepKernel,           // a 5-D Conv whose kernel depth is over 1
  ReadsConv,            // the node's first input is a Conv's output
  VolumetricWithBias,   // 5-D Conv with a bias input
  PadsNotSame,          // Conv/pool with pads a TF SAME or VALID padding cannot express
  Padded,               // pool with a non-zero pad
  FullyConnected,       // MatMul/Gemm whose B is a constant 2-D matrix
  FullyConnectedOnFlatten,  // the same, reading a Flatten's output (or a 4-D -> 2-D Reshape's)
  ReadsGraphInput,      // a planar Conv reading a graph input
  WritesGraphOutput,    // the node's first output is a graph output
  ReadsConcat,          // the node's first input is a Concat's output
  FlattenSpatial,       // Flatten of a 4-D/5-D tensor with spatial extent > 1
  FlattenUnitSpatial,   // Flatten of a 4-D/5-D tensor whose spatial dims are all 1
  DynamicIndices,       // Gather with non-constant indices
  ScalarConstantIndex,  // Gather of a computed tensor at one constant scalar index
  ToChannelsLast,       // Transpose (0,2,3,1) of a 4-D tensor
  CastNoOp,             // Cast to the input's own type, or between int32 and int64 (not to bool)
};

// Which other operand a chain step may have besides the chain's value.
enum class Operand {
  Any,       // anything (a residual Add, ...)
  Constant,  // constants only (a bias Add, a scale Mul)
};

struct ChainStep {
  // Operator types (domain ignored). Classes: "@elementwise" = DNNFusion One-to-One
  // operators, "@injective" = One-to-One, Reorganize or Shuffle operators.
  std::vector<std::string> ops;
  bool optional = false;
  bool repeat = false;  // matches one or more times
  Operand operand = Operand::Any;
  When when = When::Always;
};

struct PeerRule {
  std::string name;         // short, unique within the table
  RuleKind kind = RuleKind::Chain;
  std::string description;  // what the peer does, in its own terms
  std::string source;       // the peer's pass or doc naming this fusion
  std::vector<std::string> rewrites;  // Rewrite: dnnf rewrite rules performing it
  std::vector<ChainStep> steps;       // Chain
  std::vector<std::string> drop_ops;  // Drop; Expand: the operator types it applies to
  // Expand: the node becomes 1 + extra kernels (extra = -1: none, and it joins no chain),
  // plus extra_per_depth per kernel depth of a 5-D Conv, plus extra_per_input once per
  // distinct input value (operators the peer shares between nodes reading one value).
  When when = When::Always;
  int64_t extra = 0;
  int64_t extra_per_depth = 0;
  int64_t extra_per_input = 0;
};

struct PeerTable {
  std::string id;       // "onnxruntime", "mnn", "tflite", "tvm"
  std::string system;   // display name
  std::string sources;  // where the rows come from
  std::vector<PeerRule> rules;
  // The converter computes every value that depends on constants only, however large
  // (dnnf's folding stops at a size limit; files stripped of their weights rebuild them
  // with ConstantOfShape, and the peer sees constant weights).
  bool folds_large_constants = false;
};

// Every table, in the order `dnnf compare` lists peers.
const std::vector<PeerTable>& peer_tables();
// The table of a peer id (also accepts "ort"); nullptr if unknown.
const PeerTable* find_peer_table(const std::string& id);
// Peer ids, comma separated, for messages.
std::string peer_ids();
// A table as text (`dnnf peers --rules`).
std::string format_table(const PeerTable& table);

}  // namespace dnnf::peers
