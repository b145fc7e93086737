// GEMM-shaped stages as GLSL: MatMul and Gemm anchors, and on CPU drivers 1x1
// convolutions (a GEMM of the weights and the image's channels x pixels). Two shapes,
// chosen by Target::gemm: shared-memory tiles with a register tile per invocation
// (GPUs), or rows broadcast across a subgroup with no shared memory (CPU drivers; see
// glsl_gemm.cpp for why and what it measured).
#pragma once

#include <optional>
#include <string>

#include "core/codegen/glsl/glsl_stages.h"

namespace dnnf::codegen::glsl {

ShaderStage emit_gemm(EmitContext& cx, const Stage& s, const std::string& fn, const Target& t);

// A convolution stage as a GEMM when the target runs GEMMs as rows and the convolution
// is pointwise (1x1 kernel, stride 1, no padding, one group); nullopt otherwise.
std::optional<ShaderStage> emit_conv_as_gemm(EmitContext& cx, const Stage& s, const std::string& fn, const Target& t);

}  // namespace dnnf::codegen::glsl
