// How the C++ target runs a pointwise Conv -> depthwise Conv pair (codegen/channel_chain.h):
// in row bands, in channel groups, or not chained, on MobileNetV1-SSD's own shapes.
#include <gtest/gtest.h>

#include "core/codegen/chains.h"
#include "core/codegen/channel_chain.h"
#include "tests/support/rule_test_util.h"

namespace dnnf {
namespace {

using test::GraphBuilder;

struct Pair {
  int64_t images, in_channels, channels, size, stride;
};

// x -> Conv 1x1 (in -> channels) -> Relu -> depthwise Conv 3x3 (pad 1, stride) -> y.
Model pointwise_then_depthwise(const Pair& p) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{p.images, p.in_channels, p.size, p.size});
  const std::string e = b.node("Relu", {b.node("Conv", {x, b.constant("w", Tensor(DType::F32, {p.channels, p.in_channels, 1, 1}))})});
  b.output(b.node("Conv", {e, b.constant("dw", Tensor(DType::F32, {p.channels, 1, 3, 3}))},
                  {{"group", Attribute::from_int(p.channels)},
                   {"strides", Attribute::from_ints({p.stride, p.stride})},
                   {"pads", Attribute::from_ints({1, 1, 1, 1})}}));
  return b.finish();
}

const Node& op(const Graph& g, int index) { return g.nodes[size_t(index)]; }  // Conv, Relu, Conv

enum class Expect { Bands, Groups, Apart };

struct ChainCase {
  const char* why;
  Pair pair;
  Expect expect;
};

TEST(CodegenChannelChain, PairsRunInBandsInChannelGroupsOrApart) {
  const ChainCase cases[] = {
      {"MobileNetV1-SSD's first pair, 32 -> 64 channels on 150x150 at stride 2: groups of 8 "
       "would read the 2.9 MB input eight times, bands read the 8 KB of weights once more per band",
       {1, 32, 64, 150, 2}, Expect::Bands},
      {"5 -> 1000 channels on 14x14, two images: three bands per image would read the weights "
       "(5000 floats) twice more, three groups of 336 channels the input (980 floats) twice more",
       {2, 5, 1000, 14, 1}, Expect::Groups},
      {"EfficientNet-B0's 14x14 expansion, 80 -> 480 channels, two images: one band holds all 14 "
       "rows, one group of all channels of one image holds less than the two blocks apart",
       {2, 80, 480, 14, 1}, Expect::Groups},
      {"40 channels of 7x7, one image: a band of all rows and a group of all channels are both "
       "the whole expanded tensor",
       {1, 8, 40, 7, 1}, Expect::Apart},
  };
  for (const ChainCase& c : cases) {
    SCOPED_TRACE(c.why);
    const Model m = pointwise_then_depthwise(c.pair);
    const Graph& g = m.graph;
    EXPECT_EQ(codegen::chains_channels(g, op(g, 0), op(g, 2)), c.expect != Expect::Apart);
    EXPECT_EQ(codegen::chains_in_bands(g, op(g, 0), op(g, 2)), c.expect == Expect::Bands);
    const std::string reason = codegen::chain_reason(g, op(g, 0), op(g, 2));
    const char* start = c.expect == Expect::Bands    ? "target runs the depthwise Conv in bands"
                        : c.expect == Expect::Groups ? "target runs the depthwise Conv per channel group"
                                                     : "";
    EXPECT_EQ(reason.substr(0, std::string(start).size()), start);
    EXPECT_EQ(reason.empty(), c.expect == Expect::Apart);
  }
}

TEST(CodegenChannelChain, TheBandBufferHoldsTheInputRowsOfOneBand) {
  // 64 x 150 floats a row: 11 input rows (5 output rows at stride 2) within the budget.
  const Model m = pointwise_then_depthwise({1, 32, 64, 150, 2});
  const Graph& g = m.graph;
  const std::vector<int64_t> shape = codegen::chain_band_shape(g, op(g, 0), op(g, 2));
  EXPECT_EQ(shape, (std::vector<int64_t>{1, 64, 11, 150}));
  EXPECT_LE(shape[1] * shape[2] * shape[3] * 4, dnnf_kernels::kChainBandBytes);
  EXPECT_GT((shape[2] + 2) * shape[1] * shape[3] * 4, dnnf_kernels::kChainBandBytes);  // one more output row would not fit
}

}  // namespace
}  // namespace dnnf
