// Scalar GLSL (450) for the Vulkan shaders: T is float, indices are 32-bit ints, every
// buffer is an array of floats (integer and bool tensors are converted on upload).
#pragma once

#include "core/codegen/dialect.h"

namespace dnnf::codegen::glsl {

const Dialect& glsl_dialect();

}  // namespace dnnf::codegen::glsl
