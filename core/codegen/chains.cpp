#include "core/codegen/chains.h"

#include <algorithm>

#include "core/codegen/channel_chain.h"
#include "core/codegen/head_chain.h"
#include "core/codegen/matmul_chain.h"

namespace dnnf::codegen {

std::string chain_reason(const Graph& g, const Node& producer, const Node& consumer) {
  if (chains_in_bands(g, producer, consumer))
    return "target runs the depthwise Conv in bands of output rows, the pointwise Conv before it computing the rows each band reads";
  if (chains_channels(g, producer, consumer))
    return "target runs the depthwise Conv per channel group of the pointwise Conv before it";
  if (chains_matmuls(g, producer, consumer))
    return "target runs the MatMul per column block of the MatMul before it, adding up the products";
  if (chains_heads(g, producer, consumer))
    return "target runs the Attention one head at a time, the projection computing that head's columns";
  return "";
}

int64_t balanced_group(int64_t count, int64_t unit_floats, int64_t budget_bytes, int64_t minimum) {
  const int64_t fit = budget_bytes / std::max<int64_t>(unit_floats * int64_t(sizeof(float)), 1);
  const int64_t most = std::max(minimum, fit / 8 * 8);
  if (most >= count) return count;
  const int64_t groups = (count + most - 1) / most;
  const int64_t balanced = (count + groups - 1) / groups;
  return std::min(count, (balanced + 7) / 8 * 8);
}

}  // namespace dnnf::codegen
