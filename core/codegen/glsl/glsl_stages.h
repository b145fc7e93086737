// The stages of a block as GLSL compute functions. Each stage is one dispatch of the
// block's shader (the push constant selects it) and has the same shape as its CPU
// counterpart in core/codegen/stages.cpp: a pointwise stage (one invocation per
// element), a GEMM (shared-memory tiles, per-invocation register tile, epilogue), a
// reduction / softmax / normalisation (one work group per row with a shared-memory tree,
// or one invocation per row when rows are short), a pooling window or a direct
// (transposed) convolution (one invocation per output element). Values are pulled through the same
// data-flow walk (EmitContext::value_at) as the C++ kernels.
#pragma once

#include <cstdint>
#include <string>

#include "core/codegen/stages.h"

namespace dnnf::codegen::glsl {

// Device limits a shader must respect.
struct Target {
  int local_size = 256;            // invocations per work group (a power of two)
  int64_t shared_bytes = 16384;    // maxComputeSharedMemorySize
};

struct ShaderStage {
  std::string function;      // "void <name>() { ... }"
  int64_t groups = 0;        // work groups of the dispatch (1-D, split by the runtime)
  int64_t shared_floats = 0; // floats of the shared array the stage uses
  std::string what;          // "pointwise", "gemm", ... (profiles)
};

// Whether the GLSL stages cover `kind` (Attention has no shader yet).
bool stage_supported(StageKind kind, std::string* why);

ShaderStage emit_shader_stage(EmitContext& cx, const Stage& s, const std::string& name, const Target& target);

}  // namespace dnnf::codegen::glsl
