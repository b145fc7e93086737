// Depthwise convolution, one (image, channel) plane per task.
//
// Each plane is first copied into a zero-bordered scratch plane wide enough that every
// output column, rounded up to whole vectors, reads inside it. The compute loop then has
// no bounds checks and no scalar border columns, which matters most on the small planes
// of late layers (7x7 and 14x14 with 5x5 taps), where borders are most of the row. The
// common 3x3 and 5x5 windows at stride 1 and 2 are compiled with constant trip counts so
// the taps unroll and the weight broadcasts stay in registers.
// Instantiated per instruction set like the GEMM micro-kernel.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/cpu/conv2d_internal.h"
#include "kernels/cpu/gemm_microkernel.h"

namespace dnnf_kernels {
namespace {

// The zero-bordered copy of an input plane: padded row r is input row r - pad_top and
// padded column q is input column q - pad_left. Sized for output columns rounded up to a
// multiple of `lanes`, plus the one extra column a stride-2 load reads.
struct PaddedPlane {
  int64_t rows = 0, cols = 0;

  PaddedPlane(const dnnf_conv2d_desc& d, int lanes) {
    const int64_t ow_rounded = (d.OW + lanes - 1) / lanes * lanes;
    rows = (d.OH - 1) * d.stride_h + (d.KH - 1) * d.dil_h + 1;
    cols = (ow_rounded - 1) * d.stride_w + (d.KW - 1) * d.dil_w + 1 + (d.stride_w == 2 ? 1 : 0);
  }

  // Copies the plane's interior. The border is never written, so it stays zero from
  // clear() for every plane of the same geometry.
  void clear(float* dst) const { std::fill(dst, dst + rows * cols, 0.0f); }
  void fill(const dnnf_conv2d_desc& d, const float* in, float* dst) const {
    const int64_t lo = std::min<int64_t>(d.pad_left, cols);
    const int64_t copied = std::clamp<int64_t>(cols - d.pad_left, 0, d.W);
    const int64_t ih_end = std::min<int64_t>(d.H, rows - d.pad_top);
    for (int64_t ih = std::max<int64_t>(0, -d.pad_top); ih < ih_end; ++ih) {
      const float* src = in + ih * d.W;
      float* row = dst + (ih + d.pad_top) * cols + lo;
      if (copied >= 32) {
        std::memcpy(row, src, size_t(copied) * sizeof(float));
      } else {  // short rows of late layers: a call per row would cost more than the copy
        for (int64_t i = 0; i < copied; ++i) row[i] = src[i];
      }
    }
  }
};

using PlaneFn = void (*)(const dnnf_conv2d_desc&, const float* pad, int64_t pad_cols,
                         const float* weights, float bias, float* out);

// The plane functions of one vector width.
struct PlaneSet {
  int lanes;
  PlaneFn k3s1, k3s2, k5s1, k5s2, any;

  PlaneFn pick(const dnnf_conv2d_desc& d) const {
    // Only the window, the stride along the row and the row dilation 1 are compiled in.
    if (d.dil_w != 1) return any;
    if (d.KH == 3 && d.KW == 3) {
      if (d.stride_w == 1) return k3s1;
      if (d.stride_w == 2) return k3s2;
    }
    if (d.KH == 5 && d.KW == 5) {
      if (d.stride_w == 1) return k5s1;
      if (d.stride_w == 2) return k5s2;
    }
    return any;
  }
};

#if defined(__x86_64__) || defined(__i386__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,fma")
namespace avx512 {
#define DNNF_DW_LANES 16
#include "kernels/cpu/conv2d_depthwise_planes.inc"
}  // namespace avx512
#undef DNNF_DW_LANES
namespace avx512_narrow {  // rows of 8 or fewer outputs
#define DNNF_DW_LANES 8
#include "kernels/cpu/conv2d_depthwise_planes.inc"
}  // namespace avx512_narrow
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
#include "kernels/cpu/conv2d_depthwise_planes.inc"
}  // namespace avx2
#pragma GCC pop_options
#undef DNNF_DW_LANES
#endif
namespace base {  // SSE2 on x86, NEON on aarch64
#define DNNF_DW_LANES 4
#include "kernels/cpu/conv2d_depthwise_planes.inc"
#undef DNNF_DW_LANES
}  // namespace base

// The plane set for this geometry on the instruction set the GEMM kernel uses (which
// honours DNNF_KERNEL_ISA): the widest vectors that are not mostly padding.
const PlaneSet& choose_planes(const dnnf_conv2d_desc& d) {
  static const std::string isa = micro_kernel().isa;
#if defined(__x86_64__) || defined(__i386__)
  if (isa == "avx512") return d.OW <= 8 ? avx512_narrow::kPlanes : avx512::kPlanes;
  if (isa == "avx2") return avx2::kPlanes;
#endif
  (void)d;
  return base::kPlanes;
}

struct DepthwiseTask {
  const dnnf_conv2d_desc* d;
  const float* weights;
  PlaneFn plane;
  PaddedPlane padded;
};

// The thread's zero-bordered plane for `padded`, cleared.
float* cleared_scratch(const PaddedPlane& padded) {
  thread_local std::vector<float> scratch;
  const size_t need = size_t(padded.rows * padded.cols);
  if (scratch.size() < need) scratch.resize(need);
  padded.clear(scratch.data());
  return scratch.data();
}

// Channel c of one image: input plane `in` through the padded copy `pad`, output plane
// `out`, then the epilogue on it as a 1 x OH*OW tile at (image, c, col0).
void one_plane(const DepthwiseTask& t, float* pad, int64_t image, int64_t c, const float* in, float* out,
               int64_t col0, int64_t ldt) {
  const dnnf_conv2d_desc& d = *t.d;
  t.padded.fill(d, in, pad);
  t.plane(d, pad, t.padded.cols, t.weights + c * d.KH * d.KW, d.bias ? d.bias[c] : 0.0f, out);
  if (d.epilogue) d.epilogue(d.epilogue_ctx, out, ldt, image, c, col0, 1, d.OH * d.OW);
}

void run_planes(void* ctx, int64_t begin, int64_t end) {
  const auto& t = *static_cast<const DepthwiseTask*>(ctx);
  const dnnf_conv2d_desc& d = *t.d;
  const int64_t positions = d.OH * d.OW;
  float* pad = cleared_scratch(t.padded);
  for (int64_t task = begin; task < end; ++task)
    one_plane(t, pad, task / d.C, task % d.C, d.input + task * d.H * d.W, d.output + task * positions, 0,
              positions);
}

}  // namespace

void depthwise_conv2d(const dnnf_conv2d_desc* d, const float* weights, const dnnf_api* api) {
  if (d->OH <= 0 || d->OW <= 0) return;
  const PlaneSet& set = choose_planes(*d);
  DepthwiseTask t{d, weights, set.pick(*d), PaddedPlane(*d, set.lanes)};
  const int64_t planes = d->N * d->C;
  const double macs = double(planes) * double(d->OH * d->OW) * double(d->KH * d->KW);
  if (api && api->parallel_for && api->num_threads > 1 && planes > 1 && macs >= (1 << 16))
    api->parallel_for(api->pool, planes, run_planes, &t);
  else
    run_planes(&t, 0, planes);
}

void depthwise_rows(const dnnf_conv2d_desc& d, const float* weights, int64_t image, int64_t in_stride,
                    int64_t out_stride, int64_t col0) {
  if (d.OH <= 0 || d.OW <= 0) return;
  const PlaneSet& set = choose_planes(d);
  const DepthwiseTask t{&d, weights, set.pick(d), PaddedPlane(d, set.lanes)};
  float* pad = cleared_scratch(t.padded);
  for (int64_t c = 0; c < d.C; ++c)
    one_plane(t, pad, image, c, d.input + c * in_stride, d.output + c * out_stride, col0, out_stride);
}

}  // namespace dnnf_kernels
