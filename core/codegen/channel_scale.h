// A pointwise convolution whose input is a feature map times a per-channel factor:
// Conv(Mul(x, s)) with s broadcast as [N or 1, C, 1, ...]. That is the squeeze-excitation
// gate in front of EfficientNet's (and MobileNetV3's) projection convolution. Scaling
// input channel k by s[k] is scaling the weights' column k, so a convolution that reads
// its weights with the factor never needs the product x * s in memory: the fused block
// reads x once instead of writing and reading the product.
#pragma once

#include <optional>
#include <string>

#include "core/ir/graph.h"

namespace dnnf::codegen {

struct ChannelScale {
  std::string product;  // the Mul's output: the Conv's input
  std::string x;        // the feature map (the product's shape)
  std::string scale;    // the factor, one per image (if per_image) and input channel
  bool per_image = false;
};

// The Mul in front of `conv` when `conv` is float, 1x1, stride 1, unpadded, one group and
// its input is such a product; nullopt otherwise.
std::optional<ChannelScale> channel_scaled_input(const Graph& graph, const Node& conv);

}  // namespace dnnf::codegen
