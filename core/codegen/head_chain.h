// Multi-head attention fed by its projections: MatMul(x, W) (+ bias) -> Reshape [S, H, D]
// -> Transpose -> Attention, for the queries and the values. Head h of the Attention reads columns
// h*D .. h*D + D - 1 of each projection and nothing else, so the C++ kernels run the
// Attention one head at a time: for each head the projection GEMMs compute that head's
// columns into head buffers ([S, D] each), then the Attention's tasks for that head read
// them. The projections (BERT-base: three 128 x 768 tensors, 0.39 MB each) are never in
// memory whole.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/ir/graph.h"

namespace dnnf::codegen {

// How input `input` (0 = Q, 1 = K transposed, 2 = V) of an Attention comes from a
// projection: the MatMul, the head count and size, and the values on the way (the
// MatMul's output first, the Attention's input last).
struct HeadSource {
  const Node* matmul = nullptr;
  int64_t heads = 0, head_size = 0;
  std::vector<std::string> path;
};

// The projection behind `input` of `attention` (dnnf Attention over one batch, float):
// a MatMul of one matrix by constant weights (matmul_chain.h), then element-wise ops
// with constant operands broadcast over rows (a bias), then Reshape to [1, S, H, D] and
// Transpose by [0, 2, 1, 3] (Q, V) or [0, 2, 3, 1] (K). nullopt otherwise.
std::optional<HeadSource> head_source(const Graph& graph, const Node& attention, size_t input);

// The keys are not chained: the score loop reads them across rows (element (d, j) for
// key positions j side by side), which a head buffer in the projection's layout could
// only serve by gathers (read so from the whole projection, BERT-base's attention blocks
// took about 4x as long). Their own block stores them transposed, contiguous along key
// positions.
constexpr size_t kKeys = 1;

// Whether `attention` can run per head of `matmul` (the source of its queries or values),
// and
// whether that holds less at once: the MatMul's input (free when read later anyway), one
// head, the Attention's other operands and its output, against the larger of input +
// projection and projection + other operands + output.
bool chains_heads(const Graph& graph, const Node& matmul, const Node& attention);

// The heads merged back: MatMul(Reshape(Transpose(attn, [0, 2, 1, 3]), [1, S, H*D]), W),
// a transformer's output projection over the Attention's [1, H, S, D] result. Columns
// h*D .. h*D + D - 1 of the left operand are attn[0, h] (S x D), so the C++ kernels run one
// GEMM that reads the result in place as column blocks (dnnf_gemm_desc.a_k_block), and
// the transposed copy is never made.
struct MergedHeads {
  std::string source, transposed, merged;  // attn, its Transpose, the Reshape (the MatMul's operand)
  int64_t heads = 0, head_size = 0;
};
std::optional<MergedHeads> merged_heads_operand(const Graph& graph, const Node& matmul);

}  // namespace dnnf::codegen
