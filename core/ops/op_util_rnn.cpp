// Subgraph input typing for Loop and Scan bodies (declared in op_util.h).
#include <algorithm>

#include "core/ops/op_util.h"

namespace dnnf::ops {

void bind_subgraph_input_types(Node& node, const std::vector<TensorType>& inputs, int64_t opset) {
  if (!node.domain.empty() && node.domain != "ai.onnx") return;
  const bool is_loop = node.op_type == "Loop";
  const bool is_scan = node.op_type == "Scan";
  if (!is_loop && !is_scan) return;
  auto it = node.attrs.find("body");
  if (it == node.attrs.end() || !it->second.g) return;
  Graph& body = *it->second.g;
  auto bind = [&](size_t i, const TensorType& t) {
    if (i >= body.inputs.size() || t.dtype == DType::Undefined) return;
    TensorType& dst = body.inputs[i].type;
    if (dst.dtype == DType::Undefined) dst = t;
  };
  auto in = [&](size_t i) { return i < inputs.size() ? inputs[i] : TensorType(); };

  if (is_loop) {
    bind(0, TensorType(DType::I64, Shape{}));
    bind(1, TensorType(DType::Bool, Shape{}));
    // Loop-carried values may change shape between iterations: keep only the dtype.
    for (size_t j = 2; j < inputs.size(); ++j) bind(j, TensorType::unknown_shape(in(j).dtype));
    return;
  }
  // Scan: opset 8 has sequence_lens first and a leading batch axis on every input.
  const int64_t m = node.attr_int("num_scan_inputs", 0);
  const size_t first = opset < 9 ? 1 : 0;
  if (m < 1 || size_t(m) + first > inputs.size()) return;
  const size_t states = inputs.size() - first - size_t(m);
  const std::vector<int64_t> axes = node.attr_ints("scan_input_axes");
  auto drop_dims = [](const TensorType& t, int64_t axis, int64_t count) {
    if (!t.has_shape) return TensorType::unknown_shape(t.dtype);
    if (axis < 0) axis += t.rank();
    if (axis < 0 || axis + count > t.rank()) return TensorType::unknown_shape(t.dtype);
    std::vector<Dim> dims = t.dims;
    dims.erase(dims.begin() + axis, dims.begin() + axis + count);
    return TensorType(t.dtype, dims);
  };
  for (size_t j = 0; j < states; ++j) {
    const TensorType t = in(first + j);
    bind(j, opset < 9 ? drop_dims(t, 0, 1) : t);
  }
  for (size_t i = 0; i < size_t(m); ++i) {
    const TensorType t = in(first + states + i);
    if (opset < 9) bind(states + i, drop_dims(t, 0, 2));
    else bind(states + i, drop_dims(t, i < axes.size() ? axes[i] : 0, 1));
  }
}

}  // namespace dnnf::ops
