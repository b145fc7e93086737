// Small helpers the GLSL stage emitters share: integer arithmetic on extents, decoding
// loop variables from a linear invocation index, and storing a stage's merged epilogue.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/codegen/emit_context.h"
#include "core/codegen/stages.h"
#include "core/ops/conv_geometry.h"

namespace dnnf::codegen::glsl::stage_util {

using Idx = std::vector<Ix>;

int64_t product(const std::vector<int64_t>& v);
inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline std::string str(int64_t v) { return std::to_string(v); }

// Declares the loop variables `names` (outermost first) decoded from the linear `from`.
std::string decode(const std::vector<std::string>& names, const std::vector<int64_t>& extents,
                   const std::string& from, int indent = 2);

// A convolution node's input, weight and output shapes and its window (kernel, strides,
// dilations, pads with auto_pad resolved).
struct ConvShapes {
  std::vector<int64_t> xs, ws, ys;
  ops::convgeo::Window w;
};
ConvShapes conv_shapes(const EmitContext& cx, const Node& n);

// Stores the merged epilogue values (and the anchor value itself when kept) at idx.
void store_epilogue(EmitContext& cx, Body& body, const Stage& s, const Idx& idx, const std::string& anchor_expr,
                    bool store_anchor);

// Four floats of buffer `slot` at vec4 index `index` (the slot must be in the stage's
// vec4_views): ld<slot>v(), defined with the buffer declarations.
inline std::string read4(int slot, const std::string& index) {
  return "ld" + std::to_string(slot) + "v(" + index + ")";
}

// A linear invocation index over `total` elements: one per invocation.
std::string element_guard(const std::string& var, int64_t total, int local_size);

}  // namespace dnnf::codegen::glsl::stage_util
