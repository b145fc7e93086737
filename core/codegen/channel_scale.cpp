#include "core/codegen/channel_scale.h"

#include <vector>

namespace dnnf::codegen {

namespace {

bool float_static(const TensorType* t) { return t && t->is_static() && t->dtype == DType::F32; }

// Whether every attribute leaves a 1x1 kernel a plain per-pixel product.
bool pointwise_conv(const Graph& g, const Node& n) {
  if (n.op_type != "Conv" || n.inputs.size() < 2 || n.attr_int("group", 1) != 1) return false;
  const TensorType *x = g.type_of(n.inputs[0]), *w = g.type_of(n.inputs[1]), *y = g.type_of(n.outputs[0]);
  if (!float_static(x) || !float_static(w) || !float_static(y)) return false;
  const std::vector<int64_t> xs = *x->static_shape(), ws = *w->static_shape(), ys = *y->static_shape();
  if (xs.size() < 3 || ws.size() != xs.size() || ys.size() != xs.size()) return false;
  for (size_t d = 2; d < xs.size(); ++d)
    if (ws[d] != 1 || ys[d] != xs[d]) return false;  // 1x1 and the output the input's size: no stride, no pad
  for (const char* a : {"strides", "pads", "dilations"})
    for (int64_t v : n.attr_ints(a, {}))
      if (v != (std::string(a) == "pads" ? 0 : 1)) return false;
  return n.attr_string("auto_pad", "NOTSET") == "NOTSET" || n.attr_string("auto_pad", "NOTSET") == "VALID";
}

}  // namespace

std::optional<ChannelScale> channel_scaled_input(const Graph& g, const Node& conv) {
  if (!pointwise_conv(g, conv)) return std::nullopt;
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
