// dnnf.Attention (softmax(Q Kt * scale [+ mask] [+ bias]) V) as one GLSL stage: one work
// group per R query rows (R up to 8 on CPU drivers, 1 on GPUs). The rows' scores stay in
// shared memory, so the [.., Sq, Sk] score tensor the split form writes and reads three
// times is never in a buffer.
#pragma once

#include <string>

#include "core/codegen/glsl/glsl_stages.h"

namespace dnnf::codegen::glsl {

ShaderStage emit_attention(EmitContext& cx, const Stage& s, const std::string& fn, const Target& t);

}  // namespace dnnf::codegen::glsl
