// One fused block as one GLSL compute shader: the block is planned exactly as for the
// CPU kernels (codegen::plan_block: which values live in memory, the anchor, merged
// epilogues), then each stage becomes a function of the shader and one dispatch; a
// specialization constant (constant_id 0) selects the stage, or the push constant when
// the pipeline leaves it unset. Identical blocks give identical sources (buffers are
// numbered, not named), so they share one SPIR-V module and one pipeline.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/codegen/emit_context.h"
#include "core/codegen/glsl/glsl_stages.h"
#include "core/fusion/fusion_plan.h"

namespace dnnf::codegen::glsl {

struct Dispatch {
  int64_t groups = 0;   // work groups (1-D; the runtime folds them into x and y)
  std::string what;     // stage kind, for profiles
};

// A buffer also bound as a uniform texel buffer (Target::texel_reads): format R32_SFLOAT
// (components 1) or R32G32B32A32_SFLOAT (4), at binding buffers.size() + its index in
// ShaderKernel::texel_views.
struct TexelView {
  int buffer = 0;
  int components = 1;
};

struct ShaderKernel {
  std::string source;                  // GLSL 450
  std::vector<KernelBuffer> buffers;   // binding order (inputs, outputs, scratch)
  std::vector<TexelView> texel_views;  // bound after the storage buffers
  std::vector<Dispatch> dispatches;    // one per stage, in order
  int merged_epilogues = 0;
};

// nullopt (with `why`) when some operator or stage has no shader.
std::optional<ShaderKernel> generate_shader(const Graph& graph, const fusion::FusedBlock& block, const Target& target,
                                            std::string* why);

}  // namespace dnnf::codegen::glsl
