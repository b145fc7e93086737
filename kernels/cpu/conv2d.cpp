// Convolution as GEMM per (image, group): output[OCg x positions] = weight[OCg x K] *
// columns[K x positions], K = Cg * KH * KW. 1x1 stride-1 unpadded convolutions use the
// input itself as B; the general case packs im2col columns straight into GEMM panels
// (conv2d_im2col.cpp), so no column matrix is ever materialised. Depthwise convolutions
// (one input and one output channel per group) run a direct loop (conv2d_depthwise.cpp).
// Large enough 3x3 stride-1 convolutions whose weights were packed run as Winograd
// F(4x4, 3x3) (conv2d_winograd.cpp), and pointwise ones on small planes as the
// transposed product (conv2d_pointwise_small.cpp): dnnf_conv2d_pack makes those choices
// from the geometry.
#include "kernels/cpu/conv2d.h"

#include <stdexcept>
#include <string>

#include "kernels/cpu/conv2d_internal.h"
#include "kernels/cpu/gemm_driver.h"
#include "kernels/cpu/gemm_microkernel.h"
#include "kernels/cpu/gemm_packing.h"
#include "kernels/cpu/packed_buffer.h"

using namespace dnnf_kernels;

namespace {

enum { kDimOC, kDimC, kDimKH, kDimKW, kDimGroup, kDimMr };  // of a packed weight block (kDimMr: panel width)

void conv_as_gemm(const dnnf_conv2d_desc* d, const float* packed, const dnnf_api* api) {
  const int64_t cg = d->C / d->group, ocg = d->OC / d->group;
  const int64_t k = cg * d->KH * d->KW, positions = d->OH * d->OW;
  const int mr = micro_kernel().mr;
  const bool pointwise = is_pointwise(d);
  for (int64_t g = 0; g < d->group; ++g) {
    ShiftedEpilogue epilogue{d->bias, g * ocg, 0, d->epilogue, d->epilogue_ctx};
    Im2colSource columns{d, g};
    GemmProblem p;
    p.batch = d->N;
    p.M = ocg;
    p.N = positions;
    p.K = k;
    if (packed)
      p.packed_a = packed + g * panel_floats(ocg, k, mr);
    else
      p.a = {d->weight + g * ocg * k, k, 0, nullptr, false};
    if (pointwise) {
      p.b = {d->input + g * cg * positions, positions, d->C * positions, nullptr, false};
    } else {
      p.pack_b = pack_im2col_panels;
      p.pack_b_ctx = &columns;
    }
    p.c = d->output + g * ocg * positions;
    p.ldc = positions;
    p.c_batch_stride = d->OC * positions;
    p.epilogue = (d->bias || d->epilogue) ? shifted_epilogue : nullptr;
    p.epilogue_ctx = &epilogue;
    run_gemm(p, api);
  }
}

}  // namespace

namespace dnnf_kernels {

void shifted_epilogue(void* ctx, float* tile, int64_t ldt, int64_t batch, int64_t row0, int64_t col0, int64_t rows,
                      int64_t cols) {
  const auto& e = *static_cast<const ShiftedEpilogue*>(ctx);
  if (e.bias)
    for (int64_t i = 0; i < rows; ++i) {
      const float b = e.bias[e.row0 + row0 + i];
      float* row = tile + i * ldt;
      for (int64_t j = 0; j < cols; ++j) row[j] += b;
    }
  if (e.user) e.user(e.user_ctx, tile, ldt, batch, e.row0 + row0, e.col0 + col0, rows, cols);
}

void check_geometry(const dnnf_conv2d_desc* d) {
  auto fail = [](const char* what) { throw std::invalid_argument(std::string("conv2d: ") + what); };
  if (d->N < 0 || d->C <= 0 || d->H <= 0 || d->W <= 0 || d->OC <= 0 || d->KH <= 0 || d->KW <= 0 ||
      d->OH < 0 || d->OW < 0)
    fail("sizes must be positive");
  if (d->group <= 0 || d->C % d->group || d->OC % d->group)
    fail("group must divide both channel counts");
  if (d->stride_h <= 0 || d->stride_w <= 0 || d->dil_h <= 0 || d->dil_w <= 0)
    fail("strides and dilations must be positive");
}

bool is_depthwise(const dnnf_conv2d_desc* d) { return d->group == d->C && d->group == d->OC; }

bool is_pointwise(const dnnf_conv2d_desc* d) {
  return d->KH == 1 && d->KW == 1 && d->stride_h == 1 && d->stride_w == 1 && d->pad_top == 0 &&
         d->pad_left == 0 && d->OH == d->H && d->OW == d->W;
}

const float* conv_weights(const dnnf_conv2d_desc* d) {
  if (!d->packed_weight) {
    if (!d->weight) throw std::invalid_argument("conv2d: no weights");
    return d->weight;
  }
  const bool winograd = packed_is(d->packed_weight, PackedKind::conv_winograd);
  const bool transposed = packed_is(d->packed_weight, PackedKind::conv_pointwise_t);
  const PackedHeader* h = packed_header(d->packed_weight, winograd     ? PackedKind::conv_winograd
                                                          : transposed ? PackedKind::conv_pointwise_t
                                                                       : PackedKind::conv_weight);
  const int64_t width = is_depthwise(d) ? 0 : transposed ? micro_kernel().nr : micro_kernel().mr;
  if (winograd && !winograd_pays(d))
    throw std::invalid_argument("conv2d: Winograd weights were packed for another geometry");
  if (transposed && (!is_pointwise(d) || d->group != 1))
    throw std::invalid_argument("conv2d: pointwise weights were packed for another geometry");
  if (h->dims[kDimOC] != d->OC || h->dims[kDimC] != d->C || h->dims[kDimKH] != d->KH ||
      h->dims[kDimKW] != d->KW || h->dims[kDimGroup] != d->group || h->dims[kDimMr] != width)
    throw std::invalid_argument("conv2d: packed weights were packed for another geometry");
  return h->data();
}

}  // namespace dnnf_kernels

extern "C" void dnnf_conv2d_f32(const dnnf_conv2d_desc* d, const dnnf_api* api) {
  check_geometry(d);
  if (d->N == 0 || d->OH == 0 || d->OW == 0) return;
  const float* weights = conv_weights(d);
  if (!d->input || !d->output) throw std::invalid_argument("conv2d: null input or output");
  if (is_depthwise(d))
    depthwise_conv2d(d, weights, api);
  else if (packed_is(d->packed_weight, PackedKind::conv_winograd))
    winograd_conv2d(d, weights, api);
  else if (packed_is(d->packed_weight, PackedKind::conv_pointwise_t))
    transposed_pointwise_conv2d(d, weights, api);
  else
    conv_as_gemm(d, d->packed_weight ? weights : nullptr, api);
}

namespace dnnf_kernels {

void* pack_conv_weights(const dnnf_conv2d_desc* d, bool allow_alternatives) {
  check_geometry(d);
  if (!d->weight) throw std::invalid_argument("conv2d: no weights to pack");
  const int64_t cg = d->C / d->group, ocg = d->OC / d->group, k = cg * d->KH * d->KW;
  PackedHeader* h;
  if (allow_alternatives && winograd_pays(d)) {  // transformed weights: the convolution then runs as Winograd
    h = allocate_packed(PackedKind::conv_winograd, winograd_packed_floats(d));
    pack_winograd_weights(d, h->data());
    h->dims[kDimMr] = micro_kernel().mr;
  } else if (allow_alternatives && transposed_pointwise_pays(d)) {  // weight^T: the transposed product
    h = allocate_packed(PackedKind::conv_pointwise_t, transposed_pointwise_floats(d));
    pack_transposed_pointwise_weights(d, h->data());
    h->dims[kDimMr] = micro_kernel().nr;
  } else if (is_depthwise(d)) {  // the direct loop reads OIHW as it is
    h = allocate_packed(PackedKind::conv_weight, d->OC * k);
    for (int64_t i = 0; i < d->OC * k; ++i) h->data()[i] = d->weight[i];
    h->dims[kDimMr] = 0;
  } else {
    const int mr = micro_kernel().mr;
    const int64_t per_group = panel_floats(ocg, k, mr);
    h = allocate_packed(PackedKind::conv_weight, per_group * d->group);
    for (int64_t g = 0; g < d->group; ++g)
      pack_a_block(d->weight + g * ocg * k, k, false, 0, ocg, 0, k, mr, h->data() + g * per_group);
    h->dims[kDimMr] = mr;
  }
  h->dims[kDimOC] = d->OC;
  h->dims[kDimC] = d->C;
  h->dims[kDimKH] = d->KH;
  h->dims[kDimKW] = d->KW;
  h->dims[kDimGroup] = d->group;
  return h;
}

}  // namespace dnnf_kernels

extern "C" void* dnnf_conv2d_pack(const dnnf_conv2d_desc* d) { return pack_conv_weights(d, true); }
