// A depthwise convolution fed by a pointwise one: Conv 1x1 -> element-wise ops ->
// depthwise Conv, the expand half of MobileNetV2/EfficientNet's inverted residual block
// and every pw -> dw seam of MobileNetV1. The C++ kernels run the pair so that the
// expanded tensor, the largest of such a network, is never in memory whole, in one of
// two ways:
//   - channel groups: channel c of the depthwise output reads channel c of its input and
//     nothing else, so the pointwise convolution computes G output channels (and their
//     element-wise epilogue) into a group buffer and the depthwise convolution turns that
//     buffer into its G output channels. Each group reads the whole input again.
//   - row bands (kernels/cpu/conv2d_chain.h): the pointwise convolution computes every
//     channel of the rows a band of output rows reads, the depthwise one turns them into
//     the band. Each band reads the pointwise weights again.
// Whichever reads fewer floats again is taken: bands on large planes with few channels
// (MobileNetV1-SSD's pairs from 150x150 down to 38x38), groups on small planes with many
// channels (5 -> 1000 channels on 14x14) and on planes that fit one band.
#pragma once

#include <cstdint>
#include <vector>

#include "core/ir/graph.h"
#include "kernels/cpu/conv2d_chain.h"

namespace dnnf::codegen {

// Float 2-D convolution with a 1x1 kernel, stride 1, no padding, one group.
bool is_pointwise_conv(const Graph& graph, const Node& conv);

// Whether `depthwise` (a float 2-D Conv with one input and one output channel per group)
// can run per channel group of `pointwise` (a pointwise Conv whose output has the
// depthwise input's shape), and whether that holds less memory at once than the two apart
// (input + one group + output against the larger of input + expanded tensor and expanded
// tensor + output). The element-wise ops between them are the planner's and the block
// generator's to check.
bool chains_channels(const Graph& graph, const Node& pointwise, const Node& depthwise);

// Whether such a pair runs in row bands rather than channel groups (see above): the
// pointwise weights read once more per band cost fewer floats than the input read once
// more per group. False for pairs chains_channels rejects.
bool chains_in_bands(const Graph& graph, const Node& pointwise, const Node& depthwise);

// The band buffer of a pair in bands, [1, channels, input rows of a band, width]: the
// layout the pointwise epilogue stores in (kernels/cpu/conv2d_chain.h).
std::vector<int64_t> chain_band_shape(const Graph& graph, const Node& pointwise, const Node& depthwise);

// Channels per group for a chain over `channels` planes of `plane` floats: as many as
// keep the group buffer within kChainGroupBytes (where the pointwise GEMM writes it and
// the depthwise Conv reads it back, it should stay in a core's L2), at least 8. Groups
// are balanced (144 channels at 56 x 56: six of 24, not 120 and 24) and rounded up to a
// multiple of 8.
constexpr int64_t kChainGroupBytes = 384 * 1024, kChainMinGroup = 8;
int64_t chain_group_channels(int64_t channels, int64_t plane);

// On T threads a chain's group buffer is cut into T parts and each thread runs groups of
// G / T channels of its own share, GEMM and depthwise Conv on that thread alone: one
// group at a time split over the threads paid two thread-pool rounds per group, and
// MobileNetV1-SSD's chains ran no faster on two threads than on one. Below this many
// channels per thread group the GEMM's row tiles run mostly empty, and the chain keeps
// its one group loop with each GEMM and Conv split over the threads.
constexpr int64_t kMinThreadGroup = 4;

}  // namespace dnnf::codegen
