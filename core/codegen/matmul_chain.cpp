#include "core/codegen/matmul_chain.h"

#include <algorithm>
#include <vector>

#include "core/codegen/chains.h"

namespace dnnf::codegen {

namespace {

const TensorType* float_static(const Graph& g, const std::string& v) {
  const TensorType* t = g.type_of(v);
  return t && t->is_static() && t->dtype == DType::F32 ? t : nullptr;
}

}  // namespace

bool is_matrix_by_weights(const Graph& g, const Node& n) {
  if (n.op_type != "MatMul" || n.inputs.size() != 2 || n.outputs.empty() || !g.is_constant(n.inputs[1]))
    return false;
  const TensorType *a = float_static(g, n.inputs[0]), *b = float_static(g, n.inputs[1]),
                   *y = float_static(g, n.outputs[0]);
  if (!a || !b || !y || b->rank() != 2 || a->rank() < 2) return false;
  for (const TensorType* t : {a, y}) {
    const std::vector<int64_t> s = *t->static_shape();
    for (size_t d = 0; d + 2 < s.size(); ++d)
      if (s[d] != 1) return false;
  }
  return true;
}

bool chains_matmuls(const Graph& g, const Node& first, const Node& second) {
  if (!is_matrix_by_weights(g, first) || !is_matrix_by_weights(g, second)) return false;
  const std::vector<int64_t> wide = *g.type_of(first.outputs[0])->static_shape();
  if (*g.type_of(second.inputs[0])->static_shape() != wide) return false;
  const int64_t rows = wide[wide.size() - 2], columns = wide.back();
  // Chained, the block holds the first input, one column block and the second output at
  // once; apart, the first block holds its input and the wide tensor, the second that
  // tensor and its output.
  const int64_t in = g.type_of(first.inputs[0])->numel_or(0), out = g.type_of(second.outputs[0])->numel_or(0);
  const int64_t group = chain_group_columns(columns, rows) * rows, whole = rows * columns;
  return in + group + out < std::max(in + whole, whole + out);
}

int64_t chain_group_columns(int64_t columns, int64_t rows) {
  return balanced_group(columns, rows, kChainColumnBytes, kChainMinColumns);
}

}  // namespace dnnf::codegen
