// The counting parsers of the peers' operator lists, on small committed outputs
// (tests/data/peers/, cut from real runs of tools/peers/peer_*.py).
#include <gtest/gtest.h>

#include <sstream>

#include "core/peers/peer_output_parsers.h"
#include "core/util/error.h"

namespace dnnf::peers {
namespace {

std::string sample(const std::string& name) { return std::string(DNNF_TEST_DATA_DIR) + "/data/peers/" + name; }

TEST(PeersParsers, OnnxRuntimeCountsNodesAndContribFusions) {
  const PeerCounts c = parse_peer_output("onnxruntime", sample("onnxruntime_ops.txt"));
  EXPECT_EQ(c.layers, 11);
  EXPECT_EQ(c.fused_groups, 4);  // 3 QuickGelu + 1 FusedConv
  EXPECT_EQ(c.ops.at("Conv"), 4);
}

TEST(PeersParsers, MnnJsonDumpSkipsInputsAndCountsReluFlags) {
  // tiny.onnx: Conv -> Relu -> Conv -> Sigmoid -> MaxPool, converted by mnnconvert 3.6.1.
  const PeerCounts c = parse_peer_output("mnn", sample("mnn_dump.json"));
  EXPECT_EQ(c.layers, 6);  // 2 ConvertTensor, 2 Convolution, UnaryOp, Pooling; Input is no kernel
  EXPECT_EQ(c.fused_groups, 1);  // the Convolution that absorbed the Relu
  EXPECT_EQ(c.ops.at("Convolution"), 2);
  EXPECT_EQ(c.ops.count("Input"), 0u);
  EXPECT_EQ(c.ops.count("MAXPOOL"), 0u);  // Pooling's own "type" field is not an op
}

TEST(PeersParsers, TfliteCountsFusedActivations) {
  const PeerCounts c = parse_peer_output("tflite", sample("tflite_ops.txt"));
  EXPECT_EQ(c.layers, 7);
  EXPECT_EQ(c.fused_groups, 2);
  EXPECT_EQ(c.ops.at("CONV_2D"), 2);
}

TEST(PeersParsers, TvmCountsFunctionsWithSeveralPrimitives) {
  const PeerCounts c = parse_peer_output("tvm", sample("tvm_ops.txt"));
  EXPECT_EQ(c.layers, 9);
  EXPECT_EQ(c.fused_groups, 7);
}

TEST(PeersParsers, TvmRejectsMalformedLine) {
  std::istringstream in("fused_conv2d_add\n");
  EXPECT_THROW(parse_tvm_ops(in), Error);
}

TEST(PeersParsers, UnknownPeerAndMissingFileThrow) {
  EXPECT_THROW(parse_peer_output("caffe", sample("tflite_ops.txt")), Error);
  EXPECT_THROW(parse_peer_output("tflite", sample("missing.txt")), Error);
}

}  // namespace
}  // namespace dnnf::peers
