// Stages of one block kernel. A block has at most one Many-to-Many operator (the
// table breaks Many-to-Many + Many-to-Many), so its kernel is: pointwise stages that
// materialise what the anchor needs in memory, the anchor (GEMM, convolution, transposed
// convolution, a reduction-shaped operator or a pooling window) with the pointwise
// consumers merged into its epilogue, and pointwise stages for the remaining block outputs.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/codegen/channel_scale.h"
#include "core/codegen/emit_context.h"
#include "core/codegen/head_chain.h"

namespace dnnf::codegen {

enum class StageKind { Pointwise, Gemm, Conv, ConvTranspose, Reduce, Pool, Attention };

// Anchors that read their operands from memory through pointers (GEMM, convolutions)
// rather than pulling them element by element through the data-flow walk.
inline bool reads_operands_from_memory(StageKind k) {
  return k == StageKind::Gemm || k == StageKind::Conv || k == StageKind::ConvTranspose;
}

struct Stage {
  StageKind kind = StageKind::Pointwise;
  const Node* anchor = nullptr;       // the Many-to-Many node of an anchor stage
  std::string value;                  // the value the stage computes
  std::vector<std::string> epilogue;  // pointwise values merged into an anchor stage
  // Epilogue values that are Transposes keeping the last axis, or reshapes of such a
  // Transpose, of the anchor's value or of a value computed at the anchor's index (an
  // epilogue value before them, or one no stage keeps in memory): each element is stored
  // at its transposed address, so the untransposed tensor need not be in memory (an
  // Attention's [1, H, S, D] result stored as the [1, S, H, D] its output projection
  // reads). Attention anchors only.
  std::vector<std::string> transposed;
  bool store_value = true;            // whether `value` itself is written to memory
  std::string result_buffer;          // Gemm/Conv: where the product is written
  // Conv (GLSL only): the input is channel_scale->x times a per-channel factor, read as x
  // with the factor applied to the weights; the product itself is never in memory.
  std::optional<ChannelScale> channel_scale;
  // Pointwise (C++ only): ranges [lo, hi) of dim `skip_axis` of `value` that earlier
  // stages already wrote in place (a Concat part computed inside its output).
  int skip_axis = -1;
  std::vector<std::pair<int64_t, int64_t>> skip;
  // C++ only: the stage that feeds this one, run with it one group at a time (chains.h):
  // for a depthwise Conv the pointwise Conv, chain_group channels of one image at a time
  // (channel_chain.h); for a MatMul the MatMul before it, chain_group columns of the
  // tensor between them at a time (matmul_chain.h). Its result buffer is the group
  // buffer, which holds one group.
  std::vector<Stage> chained;
  int64_t chain_group = 0;
  // A depthwise Conv chained in bands of output rows instead (channel_chain.h): the group
  // buffer is one band of all channels, [1, C, input rows of a band, W].
  bool chain_bands = false;
  // Gemm (C++ only): the left operand is an Attention's result with its heads merged
  // (head_chain.h), read in place by one accumulating GEMM per head.
  std::optional<MergedHeads> merged_heads;
};

// The Transpose behind `value`: its producer, or the producer at the end of a chain of
// ops that keep row-major addresses (Reshape, Flatten, Squeeze, Unsqueeze) back from
// it; nullptr if there is none. `producer` gives a value's in-block producer or nullptr.
const Node* transpose_behind(const std::function<const Node*(const std::string&)>& producer, const std::string& value);

// Where epilogue value `e` of `s` stores the element computed at the anchor's index
// `idx`: for a Stage::transposed value, the address of the transposed index in the
// Transpose's output (which the reshapes after it keep), with the value the Transpose
// reads in `source`; nullopt for the other values (stored at `idx`).
std::optional<Ix> transposed_store_address(const EmitContext& cx, const Stage& s, const std::string& e,
                                           const std::vector<Ix>& idx, std::string* source);

// What a stage contributes to the kernel source.
struct StageCode {
  std::string functions;  // static helper functions (parallel tasks, epilogues)
  std::string run;        // statements in the kernel's entry point
  std::string prepare;    // statements in _prepare (weight packing)
  std::string release;    // statements in _release
  int packs = 0;          // packed-weight slots used
};

// A reduction-shaped anchor: what it computes and over which input dims.
enum class Red { Sum, Mean, Max, Min, Prod, SumSquare, L1, L2, LogSum, LogSumExp, Softmax, LogSoftmax,
                 LayerNorm, RMSNorm, InstanceNorm };

struct ReduceSpec {
  Red op = Red::Sum;
  std::vector<bool> reduced;  // per input dim
  bool keepdims = true;
  float eps = 1e-5f;
};

// nullopt (with `why`) when `n` is not a reduction the generators cover.
std::optional<ReduceSpec> reduce_spec(const Graph& g, const Node& n, std::string* why);

// Anchor kind of a node, or Pointwise if it is not a supported Many-to-Many operator.
StageKind anchor_kind(const Graph& g, const Node& n, std::string* why);

// The product a MatMul or Gemm anchor computes, from its operand shapes as and bs:
// M x K times K x N over batch_shape (MatMul's broadcast batch dims; a rank-1 operand is
// a 1 x K row or a K x 1 column), with Gemm's transposes and scales. a_batch and b_batch
// are each operand's own batch dims, padded with leading 1s to batch_shape's rank.
struct MatMulShape {
  int64_t M = 1, N = 1, K = 1;
  std::vector<int64_t> batch_shape, a_batch, b_batch;
  bool a_rank1 = false, b_rank1 = false, trans_a = false, trans_b = false;
  float alpha = 1, beta = 1;
};
MatMulShape matmul_shape(const Node& n, const std::vector<int64_t>& as, const std::vector<int64_t>& bs);

// Index of a batched matrix operand of shape `s` (its own rank, batch dims broadcast
// against the result's) for the result's batch vars and the operand's trailing indices.
std::vector<Ix> batched_operand_index(const std::vector<int64_t>& s, const std::vector<Ix>& batch,
                                      const std::vector<Ix>& tail);

StageCode emit_stage(EmitContext& cx, const Stage& s, int index, int first_pack);

}  // namespace dnnf::codegen
