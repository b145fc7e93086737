// The resolved geometry of a ConvTranspose node for static shapes: the one the
// reference kernel uses (output extents from strides, dilations, output_padding,
// output_shape and auto_pad; pads resolved), so the generated CPU kernels and GLSL
// shaders index exactly as the reference does.
#pragma once

#include "core/ops/conv_geometry.h"

namespace dnnf::ops {

struct ConvTransposeGeometry {
  int64_t N = 0, C = 0, M = 0, G = 1;  // batch, input channels, output channels, groups
  convgeo::Geom3 geom;                 // spatial dims padded to 3 (leading unit dims)
};

// Throws dnnf::Error (naming the node) when the attributes do not fit the shapes.
// W is [C, M/G, k...].
ConvTransposeGeometry conv_transpose_geometry(const Node& node, const Shape& x, const Shape& w);

}  // namespace dnnf::ops
