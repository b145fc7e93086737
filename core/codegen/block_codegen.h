// Code generation for one fused block: decides which values live in memory, orders
// the block's stages, merges pointwise consumers into their anchor's epilogue and
// assembles the C++ source of one kernel. Identical blocks yield identical sources
// (buffers are numbered, not named), so the kernel cache shares them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/codegen/emit_context.h"
#include "core/codegen/stages.h"
#include "core/fusion/fusion_plan.h"

namespace dnnf::codegen {

struct BlockKernel {
  std::string symbol;                  // "dnnf_k<hash>", from the source itself
  std::string code;                    // the full C++ translation unit text
  std::vector<KernelBuffer> buffers;   // kernel-argument order
  int stages = 0;
  int merged_epilogues = 0;
  // (output, input) pairs the kernel may run with the output on the input's bytes: the
  // only stage writing the output reads every element of the input before writing the
  // output element at the same index and reads no other element of it, and no later
  // stage reads the input. Whether the input's bytes are free is the memory plan's call.
  std::vector<std::pair<std::string, std::string>> in_place;
};

// Whether one operator can be part of a generated kernel (static shapes, supported
// dtypes, an entry in the pull table or an anchor emitter). `why` says why not.
bool node_supported(const Graph& graph, const Node& node, std::string* why);

// Whether the generated kernel reads `operand` of `consumer` from memory (GEMM and
// convolution operands are packed from memory; everything else is read lazily).
bool operand_in_memory(const Graph& graph, const Node& consumer, const std::string& operand);

// The language-independent plan of a block's code: its stages (anchors with merged
// epilogues, pointwise stages), buffers in kernel-argument order, and the operands that
// are reshaped views of other values' memory. The C++ kernels and the GLSL shaders are
// both written from it.
struct BlockLayout {
  std::vector<const Node*> nodes;               // the block's nodes, graph order
  std::vector<Stage> stages;
  std::vector<KernelBuffer> buffers;
  std::map<std::string, std::string> aliases;   // value -> the value whose memory it views
  // value -> (host value, element offset): scratch values the C++ kernel places inside
  // another of its buffers. They are the last buffers and not kernel arguments, so
  // whoever runs the kernel allocates nothing for them (see ConcatView).
  std::map<std::string, std::pair<std::string, int64_t>> views;
};

// nullopt (with `why`) when some operator is unsupported. `scaled_inputs`: pointwise
// convolutions read a per-channel Mul in front of them as Stage::channel_scale (the
// GLSL shaders); otherwise the product is materialised like any other operand.
std::optional<BlockLayout> plan_block(const Graph& graph, const fusion::FusedBlock& block, std::string* why,
                                      bool scaled_inputs = false);

// Adds the layout's buffers and aliases to `cx` and marks the block inputs readable.
void bind_layout(EmitContext& cx, const BlockLayout& layout);

// Generates the kernel of `block`; nullopt (with `why`) when some operator is unsupported.
std::optional<BlockKernel> generate_block(const Graph& graph, const fusion::FusedBlock& block, std::string* why);

// The common prelude every kernel source starts with (exposed for tests and export).
const std::string& kernel_prelude();

}  // namespace dnnf::codegen
