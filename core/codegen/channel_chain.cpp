#include "core/codegen/channel_chain.h"

#include <algorithm>
#include <vector>

#include "core/codegen/chains.h"

namespace dnnf::codegen {

namespace {

bool float_static(const TensorType* t) { return t && t->is_static() && t->dtype == DType::F32; }

bool default_window(const Node& n) {
  for (const char* a : {"strides", "dilations"})
    for (int64_t v : n.attr_ints(a, {}))
      if (v != 1) return false;
  return true;
}

}  // namespace

bool is_pointwise_conv(const Graph& g, const Node& n) {
  if (n.op_type != "Conv" || n.inputs.size() < 2 || n.outputs.empty() || n.attr_int("group", 1) != 1) return false;
  const TensorType *x = g.type_of(n.inputs[0]), *w = g.type_of(n.inputs[1]), *y = g.type_of(n.outputs[0]);
  if (!float_static(x) || !float_static(w) || !float_static(y)) return false;
  const std::vector<int64_t> xs = *x->static_shape(), ws = *w->static_shape(), ys = *y->static_shape();
  if (xs.size() < 3 || ws.size() != xs.size() || ys.size() != xs.size()) return false;
  for (size_t d = 2; d < xs.size(); ++d)
    if (ws[d] != 1 || ys[d] != xs[d]) return false;  // 1x1 and the output the input's size: no stride, no pad
  if (!default_window(n)) return false;
  for (int64_t v : n.attr_ints("pads", {}))
    if (v != 0) return false;
  return n.attr_string("auto_pad", "NOTSET") == "NOTSET" || n.attr_string("auto_pad", "NOTSET") == "VALID";
}

bool chains_channels(const Graph& g, const Node& p, const Node& d) {
  if (!is_pointwise_conv(g, p) || d.op_type != "Conv" || d.inputs.size() < 2 || d.outputs.empty()) return false;
  const TensorType *px = g.type_of(p.inputs[0]), *py = g.type_of(p.outputs[0]);
  const TensorType *x = g.type_of(d.inputs[0]), *w = g.type_of(d.inputs[1]), *y = g.type_of(d.outputs[0]);
  if (px->rank() != 4 || !float_static(x) || !float_static(w) || !float_static(y)) return false;
  const std::vector<int64_t> xs = *x->static_shape(), ws = *w->static_shape();
  if (xs != *py->static_shape() || ws.size() != 4 || y->rank() != 4) return false;
  const int64_t channels = xs[1];
  // One input and one output channel per group: output channel c reads input channel c.
  if (d.attr_int("group", 1) != channels || ws[0] != channels || ws[1] != 1 || y->static_shape()->at(1) != channels)
    return false;
  // Chained, the block holds its input, one group and its output at once; apart, the
  // pointwise block holds its input and the expanded tensor, the depthwise block that
  // tensor and its output. One group of 7x7 planes is the whole tensor: no gain.
  const int64_t in = px->numel_or(0), expanded = x->numel_or(0), out = y->numel_or(0);
  const int64_t group = chain_group_channels(channels, xs[2] * xs[3]) * xs[2] * xs[3];
  return in + group + out < std::max(in + expanded, expanded + out);
}

int64_t chain_group_channels(int64_t channels, int64_t plane) {
  return balanced_group(channels, plane, kChainGroupBytes, kChainMinGroup);
}

}  // namespace dnnf::codegen
