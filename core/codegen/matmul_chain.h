// A MatMul fed by a MatMul: MatMul -> element-wise ops -> MatMul, a transformer's
// feed-forward network (up-projection + bias + GELU, then the down-projection). Column j
// of the wide tensor between them is column j of the first product (its weights' column
// j), and the second product is the sum over j of that column times row j of its
// weights. So the C++ kernels run the pair one block of the wide tensor's columns at a
// time: the first GEMM computes the block's columns (and their element-wise epilogue)
// into a column buffer, the second GEMM multiplies the buffer by the matching rows of
// its weights and adds that into its output. The wide tensor (BERT-base: 128 x 3072
// floats, 1.5 MB) is never in memory whole, and every weight is still read once, by all
// rows together. (Blocks of rows instead read both weight matrices once per row block:
// BERT-base's FFN blocks measured about 1.3x slower than the operators unfused.)
#pragma once

#include <cstdint>

#include "core/ir/graph.h"

namespace dnnf::codegen {

// Whether `second` (a float MatMul with constant 2-D weights whose left operand has the
// shape of `first`'s output) can run per column block of `first` (a float MatMul with
// constant 2-D weights, one matrix: every dim before the last two is 1), and whether that
// holds less memory at once than the two apart (first's input + one column block +
// second's output against the larger of input + wide tensor and wide tensor + output).
// The element-wise ops between them are the planner's and the block generator's to check.
bool chains_matmuls(const Graph& graph, const Node& first, const Node& second);

// A float MatMul of one matrix (rank >= 2, every dim before the last two 1) by constant
// 2-D weights.
bool is_matrix_by_weights(const Graph& graph, const Node& matmul);

// Columns per block of a wide tensor of `rows` x `columns` floats: as many as keep the
// column buffer within kChainColumnBytes (the first GEMM writes it and the second reads it
// back while it is in a core's L2), at least kChainMinColumns; balanced and rounded up to
// a multiple of 8.
constexpr int64_t kChainColumnBytes = 384 * 1024, kChainMinColumns = 64;
int64_t chain_group_columns(int64_t columns, int64_t rows);

}  // namespace dnnf::codegen
