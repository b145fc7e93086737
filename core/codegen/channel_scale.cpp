#include "core/codegen/channel_scale.h"

#include <vector>

#include "core/codegen/channel_chain.h"

namespace dnnf::codegen {

namespace {

bool float_static(const TensorType* t) { return t && t->is_static() && t->dtype == DType::F32; }

}  // namespace

std::optional<ChannelScale> channel_scaled_input(const Graph& g, const Node& conv) {
  if (!is_pointwise_conv(g, conv)) return std::nullopt;
  const int64_t pi = g.producer_index(conv.inputs[0]);
  if (pi < 0) return std::nullopt;
  const Node& mul = g.nodes[size_t(pi)];
  if (mul.op_type != "Mul" || mul.inputs.size() != 2) return std::nullopt;
  const std::vector<int64_t> ps = *g.type_of(conv.inputs[0])->static_shape();
  for (int side = 0; side < 2; ++side) {
    const std::string &x = mul.inputs[size_t(side)], &s = mul.inputs[size_t(1 - side)];
    const TensorType *xt = g.type_of(x), *st = g.type_of(s);
    if (!float_static(xt) || !float_static(st) || *xt->static_shape() != ps) continue;
    std::vector<int64_t> ss = *st->static_shape();
    if (ss.size() > ps.size()) continue;
    ss.insert(ss.begin(), ps.size() - ss.size(), 1);  // numpy broadcast: align on the right
    bool channel_only = ss[1] == ps[1] && (ss[0] == 1 || ss[0] == ps[0]);
    for (size_t d = 2; d < ss.size(); ++d) channel_only = channel_only && ss[d] == 1;
    if (channel_only) return ChannelScale{conv.inputs[0], x, s, ss[0] != 1};
  }
  return std::nullopt;
}

}  // namespace dnnf::codegen
