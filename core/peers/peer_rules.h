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
};

struct PeerRule {
  std::string name;         // short, unique within the table
  RuleKind kind = RuleKind::Chain;
  std::string description;  // what the peer does, in its own terms
  std::string source;       // the peer's pass or doc naming this fusion
  std::vector<std::string> rewrites;  // Rewrite: dnnf rewrite rules performing it
  std::vector<ChainStep> steps;       // Chain
  std::vector<std::string> drop_ops;  // Drop
};

struct PeerTable {
  std::string id;       // "onnxruntime", "mnn", "tflite", "tvm"
  std::string system;   // display name
  std::string sources;  // where the rows come from
  std::vector<PeerRule> rules;
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
