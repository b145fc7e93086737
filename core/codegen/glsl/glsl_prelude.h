// The functions every dnnf compute shader starts with: the element functions the pull
// table names (vmax, vwhere, verf, ...) written for scalar floats, with the same
// semantics as kernels/simd/simd.h (NaN propagation, round-half-even, mask values 1/0),
// and the index helpers of the integer index algebra (ix_fdiv, ix_clamp, ...).
#pragma once

#include <string>

namespace dnnf::codegen::glsl {

const std::string& prelude();

}  // namespace dnnf::codegen::glsl
