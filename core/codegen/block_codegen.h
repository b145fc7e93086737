// Code generation for one fused block: decides which values live in memory, orders
// the block's stages, merges pointwise consumers into their anchor's epilogue and
// assembles the C++ source of one kernel. Identical blocks yield identical sources
// (buffers are numbered, not named), so the kernel cache shares them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/codegen/emit_context.h"
#include "core/fusion/fusion_plan.h"

namespace dnnf::codegen {

struct BlockKernel {
  std::string symbol;                  // "dnnf_k<hash>", from the source itself
  std::string code;                    // the full C++ translation unit text
  std::vector<KernelBuffer> buffers;   // kernel-argument order
  int stages = 0;
  int merged_epilogues = 0;
};

// Whether one operator can be part of a generated kernel (static shapes, supported
// dtypes, an entry in the pull table or an anchor emitter). `why` says why not.
bool node_supported(const Graph& graph, const Node& node, std::string* why);

// Whether the generated kernel reads `operand` of `consumer` from memory (GEMM and
// convolution operands are packed from memory; everything else is read lazily).
bool operand_in_memory(const Graph& graph, const Node& consumer, const std::string& operand);

// Generates the kernel of `block`; nullopt (with `why`) when some operator is unsupported.
std::optional<BlockKernel> generate_block(const Graph& graph, const fusion::FusedBlock& block, std::string* why);

// The common prelude every kernel source starts with (exposed for tests and export).
const std::string& kernel_prelude();

}  // namespace dnnf::codegen
