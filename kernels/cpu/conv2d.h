// Host convolution entry points of the dnnf_api table (semantics in kernels/abi/dnnf_abi.h).
#pragma once

#include "kernels/abi/dnnf_abi.h"

extern "C" {

// NCHW convolution with groups, strides, dilations and pads; bias, then the epilogue per
// finished (image, channel block, position block) tile.
void dnnf_conv2d_f32(const dnnf_conv2d_desc* d, const dnnf_api* api);

// Packs d->weight for the geometry of d; free with dnnf_release_packed.
void* dnnf_conv2d_pack(const dnnf_conv2d_desc* d);
}
