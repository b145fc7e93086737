#include "core/codegen/channel_chain.h"

#include <algorithm>
#include <optional>
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

namespace {

// The sizes that choose between channel groups and row bands.
struct PairSizes {
  int64_t in = 0, expanded = 0, out = 0;  // floats, all images
  int64_t K = 0, C = 0, H = 0, W = 0, OH = 0, KH = 0, sh = 1, dh = 1;
};

// The pair's sizes when `d` can run per channel group or row band of `p` (see
// chains_channels), else nothing.
std::optional<PairSizes> pair_sizes(const Graph& g, const Node& p, const Node& d) {
  if (!is_pointwise_conv(g, p) || d.op_type != "Conv" || d.inputs.size() < 2 || d.outputs.empty()) return std::nullopt;
  const TensorType *px = g.type_of(p.inputs[0]), *py = g.type_of(p.outputs[0]);
  const TensorType *x = g.type_of(d.inputs[0]), *w = g.type_of(d.inputs[1]), *y = g.type_of(d.outputs[0]);
  if (px->rank() != 4 || !float_static(x) || !float_static(w) || !float_static(y)) return std::nullopt;
  const std::vector<int64_t> xs = *x->static_shape(), ws = *w->static_shape();
  if (xs != *py->static_shape() || ws.size() != 4 || y->rank() != 4) return std::nullopt;
  const int64_t channels = xs[1];
  // One input and one output channel per group: output channel c reads input channel c.
  if (d.attr_int("group", 1) != channels || ws[0] != channels || ws[1] != 1 || y->static_shape()->at(1) != channels)
    return std::nullopt;
  PairSizes s;
  s.in = px->numel_or(0), s.expanded = x->numel_or(0), s.out = y->numel_or(0);
  s.K = px->static_shape()->at(1), s.C = channels, s.H = xs[2], s.W = xs[3], s.OH = y->static_shape()->at(2);
  s.KH = ws[2];
  const std::vector<int64_t> strides = d.attr_ints("strides", {}), dilations = d.attr_ints("dilations", {});
  s.sh = strides.empty() ? 1 : strides[0];
  s.dh = dilations.empty() ? 1 : dilations[0];
  return s;
}

int64_t band_count(const PairSizes& s) {
  const int64_t rows = dnnf_kernels::chain_band_rows(s.C, s.W, s.OH, s.KH, s.sh, s.dh);
  return (s.OH + rows - 1) / rows;
}

bool bands_pay(const PairSizes& s) {
  const int64_t bands = band_count(s), group = chain_group_channels(s.C, s.H * s.W);
  const int64_t groups = (s.C + group - 1) / group;
  if (bands < 2) return false;  // one band is the whole expanded tensor
  // Floats read again per image: the weights per extra band against the input per extra group.
  return (bands - 1) * s.K * s.C < (groups - 1) * s.K * s.H * s.W;
}

}  // namespace

bool chains_channels(const Graph& g, const Node& p, const Node& d) {
  const std::optional<PairSizes> s = pair_sizes(g, p, d);
  if (!s) return false;
  if (bands_pay(*s)) return true;
  // Chained, the block holds its input, one group and its output at once; apart, the
  // pointwise block holds its input and the expanded tensor, the depthwise block that
  // tensor and its output. One group of 7x7 planes is the whole tensor: no gain.
  const int64_t group = chain_group_channels(s->C, s->H * s->W) * s->H * s->W;
  return s->in + group + s->out < std::max(s->in + s->expanded, s->expanded + s->out);
}

bool chains_in_bands(const Graph& g, const Node& p, const Node& d) {
  const std::optional<PairSizes> s = pair_sizes(g, p, d);
  return s && bands_pay(*s);
}

std::vector<int64_t> chain_band_shape(const Graph& g, const Node& p, const Node& d) {
  const PairSizes s = *pair_sizes(g, p, d);
  const int64_t rows = dnnf_kernels::chain_band_rows(s.C, s.W, s.OH, s.KH, s.sh, s.dh);
  return {1, s.C, dnnf_kernels::chain_band_input_rows(rows, s.KH, s.sh, s.dh), s.W};
}

int64_t chain_group_channels(int64_t channels, int64_t plane) {
  return balanced_group(channels, plane, kChainGroupBytes, kChainMinGroup);
}

}  // namespace dnnf::codegen
