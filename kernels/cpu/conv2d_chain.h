// A pointwise convolution feeding a depthwise one (MobileNet's pw -> dw pairs, the expand
// half of an inverted residual block), run in bands of output rows: per band, the
// pointwise GEMM computes every channel of the input rows the band's depthwise windows
// read into a band buffer that stays in the core's L2, its epilogue rewrites them there,
// and the depthwise convolution turns the band into its output rows. Rows two bands share
// (the window's overlap) are kept, not recomputed. Neither the input nor the expanded
// tensor goes through memory more than once; the pointwise weights are read once per band.
#pragma once

#include <cstdint>

#include "kernels/abi/dnnf_abi.h"

namespace dnnf_kernels {

// The band buffer (channels x band input rows x width floats) is kept within this, most
// of a core's 512 KB L2 here. MobileNetV1-SSD's five chains on one thread, sum of their
// block minima over two runs: 9.50 ms with 256 KB, 8.85 with 448 KB, 8.86 with 768 KB
// (8.75 in channel groups).
constexpr int64_t kChainBandBytes = 448 * 1024;

// Input rows a band of `rows` output rows reads: (rows - 1) x stride + the window's extent.
int64_t chain_band_input_rows(int64_t rows, int64_t kernel_h, int64_t stride_h, int64_t dil_h);

// Output rows per band: as many as keep the band buffer of `channels` rows of `width`
// floats within kChainBandBytes, at least one, at most `out_rows`.
int64_t chain_band_rows(int64_t channels, int64_t width, int64_t out_rows, int64_t kernel_h, int64_t stride_h,
                        int64_t dil_h);

}  // namespace dnnf_kernels

extern "C" {

// `pointwise`: a 1x1, stride-1, unpadded, one-group convolution (input, weight or
// packed_weight, bias, epilogue). Its output, when non-null, is the band buffer of the
// first thread (channels x chain_band_input_rows x W floats); the other threads, or all
// when it is null, use their own. `depthwise`: group == C == OC == pointwise->OC on the
// pointwise output's N, H and W (weight, bias, output, epilogue; its input is ignored).
//
// The band buffer holds channel c's rows at c x ldt, ldt = chain_band_input_rows x W,
// one band's input rows from its first. The pointwise epilogue sees tiles of it at
// (image, global channel, position in the band), so the band's start is always tile -
// row0 x ldt - col0: it may rewrite the tile and read nothing by position. The depthwise
// epilogue sees each channel's band of output rows at global indices with ldt = OH x OW,
// as dnnf_conv2d_f32's would.
void dnnf_conv2d_chain_f32(const dnnf_conv2d_desc* pointwise, const dnnf_conv2d_desc* depthwise, const dnnf_api* api);
}
