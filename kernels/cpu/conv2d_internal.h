// Pieces of the convolution shared between conv2d.cpp and its helpers.
#pragma once

#include <cstdint>

#include "kernels/abi/dnnf_abi.h"

namespace dnnf_kernels {

// The GEMM epilogue of a convolution computed in pieces (a channel group, a band of
// rows): adds the bias of the tile's channels, then hands the tile to the user's
// epilogue with its rows and columns moved by row0 and col0 (piece-local to global).
struct ShiftedEpilogue {
  const float* bias;  // indexed by global channel; may be null
  int64_t row0, col0;
  dnnf_epilogue_fn user;  // may be null
  void* user_ctx;
};
void shifted_epilogue(void* ctx, float* tile, int64_t ldt, int64_t batch, int64_t row0, int64_t col0, int64_t rows,
                      int64_t cols);

// Throws std::invalid_argument naming what is wrong with d's sizes, groups or strides.
void check_geometry(const dnnf_conv2d_desc* d);
// One input and one output channel per group.
bool is_depthwise(const dnnf_conv2d_desc* d);
// 1x1, stride 1, unpadded, the output the input's size.
bool is_pointwise(const dnnf_conv2d_desc* d);
// d's weights: d->weight, or the data of d->packed_weight after checking that it was
// packed for d's geometry (GEMM panels of all groups, OIHW for a depthwise one, Winograd
// transforms, or the transposed pointwise product's B panels).
const float* conv_weights(const dnnf_conv2d_desc* d);

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

// Every channel of one image of a depthwise convolution, on the calling thread, with
// planes strided: input channel c at d.input + c * in_stride (d.H x d.W), output channel
// c at d.output + c * out_stride (d.OH x d.OW). d.N is ignored. A band of output rows of
// a larger output is one such call, its d.H, d.pad_top and d.OH the band's: the epilogue
// then sees channel c as a 1 x OH*OW tile at (image, c, col0) with ldt = out_stride.
void depthwise_rows(const dnnf_conv2d_desc& d, const float* weights, int64_t image, int64_t in_stride,
                    int64_t out_stride, int64_t col0);

// dnnf_conv2d_pack; with allow_alternatives false always the GEMM panels (or OIHW for a
// depthwise convolution), so that benchmarks can hold Winograd and the transposed
// pointwise product against the im2col GEMM.
void* pack_conv_weights(const dnnf_conv2d_desc* d, bool allow_alternatives);

// Pointwise convolutions on small planes as the transposed product (conv2d_pointwise_small.cpp).
// transposed_pointwise_pays: d is pointwise with one group, on a plane small enough that
// its positions waste more of the GEMM's column panels than its output channels would;
// dnnf_conv2d_pack then packs weight^T as GEMM B panels (transposed_pointwise_floats of
// them, written by pack_transposed_pointwise_weights) and dnnf_conv2d_f32 runs
// transposed_pointwise_conv2d on them.
bool transposed_pointwise_pays(const dnnf_conv2d_desc* d);
int64_t transposed_pointwise_floats(const dnnf_conv2d_desc* d);
void pack_transposed_pointwise_weights(const dnnf_conv2d_desc* d, float* dst);
void transposed_pointwise_conv2d(const dnnf_conv2d_desc* d, const float* packed_weights, const dnnf_api* api);
// The OIHW weights (OC x C) back from the B panels, for a caller that needs them as they
// were (a band chain on such a plane).
void unpack_transposed_pointwise_weights(const dnnf_conv2d_desc* d, const float* packed, float* weight);

// Winograd F(4x4, 3x3) (conv2d_winograd.cpp). winograd_pays: d is a 3x3 stride-1
// undilated convolution with one group, with enough channels and tiles for the
// transforms to pay;
// dnnf_conv2d_pack then packs the transformed weights (winograd_packed_floats of them,
// written by pack_winograd_weights from d->weight) and dnnf_conv2d_f32 runs
// winograd_conv2d on them.
bool winograd_pays(const dnnf_conv2d_desc* d);
int64_t winograd_packed_floats(const dnnf_conv2d_desc* d);
void pack_winograd_weights(const dnnf_conv2d_desc* d, float* dst);
void winograd_conv2d(const dnnf_conv2d_desc* d, const float* transformed_weights, const dnnf_api* api);

}  // namespace dnnf_kernels
