// Counting parsers for what the peer scripts (tools/peers/peer_*.py) leave behind: the
// operator list of the peer's converted/optimised model, each in the peer's own
// vocabulary. Layers = kernels the peer launches; fused groups = those kernels that
// stand for several ONNX operators (a fused activation flag, a contrib fused op, a TVM
// function with several primitive ops).
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <string>

namespace dnnf::peers {

struct PeerCounts {
  int64_t layers = 0;
  int64_t fused_groups = 0;
  std::map<std::string, int64_t> ops;  // operator histogram as the peer names them
};

// ONNX Runtime: `domain:op_type` per line (the saved optimised model's nodes).
// Fused: the com.microsoft contrib ops its fusions produce (FusedConv, Gelu, ...).
PeerCounts parse_onnxruntime_ops(std::istream& in);
// MNN: the JSON dump of a .mnn model (mnnconvert --JsonFile), read as a stream so the
// weights are skipped, not loaded. Input/Const ops are not kernels. Fused: convolutions
// with the relu/relu6 flag, LayerNorm, GELU/SiLU unary ops, fused attention.
PeerCounts parse_mnn_json(std::istream& in);
// TFLite: a builtin operator per line, `+ACTIVATION` when one is fused (`CONV_2D+RELU`).
PeerCounts parse_tflite_ops(std::istream& in);
// TVM: `function N` per line, N primitive ops in the function (N > 1: fused).
PeerCounts parse_tvm_ops(std::istream& in);

// Dispatches on the peer id ("onnxruntime", "mnn", "tflite", "tvm"). Throws dnnf::Error
// for an unknown peer or an unreadable file.
PeerCounts parse_peer_output(const std::string& peer, const std::string& path);

}  // namespace dnnf::peers
