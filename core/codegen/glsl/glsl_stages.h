// The stages of a block as GLSL compute functions. Each stage is one dispatch of the
// block's shader (a specialization or push constant selects it) and has the same shape
// as its CPU counterpart in core/codegen/stages.cpp: a pointwise stage (one invocation
// per element), a GEMM (glsl_gemm.h: shared-memory tiles on GPUs, rows broadcast across
// a subgroup on CPU drivers, where 1x1 convolutions run as GEMMs too), a reduction /
// softmax / normalisation (one work group per row with a shared-memory tree, or one
// invocation per row when rows are short), a pooling window or a direct (transposed)
// convolution (one invocation per output element), or attention (glsl_attention.h: one
// work group per few query rows). Values are pulled through the same
// data-flow walk (EmitContext::value_at) as the C++ kernels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/codegen/stages.h"

namespace dnnf::codegen::glsl {

// How a GEMM stage is shaped: tiles staged in shared memory (GPUs), or every invocation
// of a group on the same rows with no shared memory (CPU drivers, where each lane's load
// is a scalar load), the rows' A values loaded once per subgroup and broadcast when the
// device has subgroupBroadcast.
enum class GemmShape { Tiles, Rows, RowsBroadcast };

// Device limits a shader must respect, and the shapes chosen for the device.
struct Target {
  int local_size = 256;            // invocations per work group (a power of two)
  int64_t shared_bytes = 16384;    // maxComputeSharedMemorySize
  GemmShape gemm = GemmShape::Tiles;
  int subgroup_size = 0;           // lanes per subgroup (RowsBroadcast needs it)
  // dnnf.Attention as a shader (glsl_attention.h); else blocks holding one fail with a
  // reason and the runtime runs the Attention on the host.
  bool attention = true;
  // Inputs, and values earlier stages of the shader wrote, read through uniform texel
  // buffers (texelFetch) instead of storage buffers where they fit max_texel_elements
  // (glsl_block.cpp says which reads). On CPU drivers a storage-buffer load is
  // a loop over the lanes with a branch and a store-forwarding stall per float, a texel
  // fetch a straight-line gather (llvmpipe: see target_for in vk_program.cpp).
  bool texel_reads = false;
  int64_t max_texel_elements = 0;  // maxTexelBufferElements
};

struct ShaderStage {
  std::string function;      // "void <name>() { ... }"
  int64_t groups = 0;        // work groups of the dispatch (1-D, split by the runtime)
  int64_t shared_floats = 0; // floats of the shared array the stage uses
  std::string what;          // "pointwise", "gemm", ... (profiles)
  std::vector<int> vec4_views;  // buffer slots also read as vec4 (b<slot>v[])
};

ShaderStage emit_shader_stage(EmitContext& cx, const Stage& s, const std::string& name, const Target& target);

}  // namespace dnnf::codegen::glsl
