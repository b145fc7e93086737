// Pieces of the convolution shared between conv2d.cpp and its helpers.
#pragma once

#include <cstdint>

#include "kernels/abi/dnnf_abi.h"

namespace dnnf_kernels {

// The implicit column matrix of group `group`: row k = (c * KH + kh) * KW + kw of the
// group's input channels, column = output position oh * OW + ow.
struct Im2colSource {
  const dnnf_conv2d_desc* d;
  int64_t group;
};

// PackBFn over an Im2colSource: writes columns [n0, n0 + nc) x rows [k0, k0 + kc) of
// image `image` into GEMM B panels of width nr, zeros where the window hits padding.
void pack_im2col_panels(const void* ctx, int64_t image, int64_t k0, int64_t kc, int64_t n0,
                        int64_t nc, int nr, float* dst);

// Direct loop for group == C == OC; `weights` is OIHW (C x KH x KW). One task per
// (image, channel) plane; the epilogue sees each finished plane as a 1 x OH*OW tile.
void depthwise_conv2d(const dnnf_conv2d_desc* d, const float* weights, const dnnf_api* api);

}  // namespace dnnf_kernels
