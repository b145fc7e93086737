// Depthwise convolution, one output row at a time: interior columns are vectorised with
// every tap accumulated in registers, border columns run scalar with bounds checks.
// Instantiated per instruction set like the GEMM micro-kernel.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "kernels/cpu/conv2d_internal.h"
#include "kernels/cpu/gemm_microkernel.h"

namespace dnnf_kernels {
namespace {

template <int W> struct Vec {
  typedef float type __attribute__((vector_size(W * 4)));
};
template <int W> struct IntVec {
  typedef int32_t type __attribute__((vector_size(W * 4)));
};

// x[l] = src[l * stride] for the W lanes: one load for stride 1, two loads and an
// even-lane shuffle for stride 2, single lanes otherwise.
template <int W>
__attribute__((always_inline)) inline void load_strided(const float* src, int64_t stride,
                                                       typename Vec<W>::type* x) {
  typedef typename Vec<W>::type V;
  typedef typename IntVec<W>::type I;
  if (stride == 1) {
    std::memcpy(x, src, sizeof(V));
  } else if (stride == 2) {
    V lo, hi;
    std::memcpy(&lo, src, sizeof(V));
    std::memcpy(&hi, src + W, sizeof(V));  // reads src[2W - 1]: row_body keeps it in the row
    if constexpr (W == 4) {
      *x = __builtin_shuffle(lo, hi, I{0, 2, 4, 6});
    } else if constexpr (W == 8) {
      *x = __builtin_shuffle(lo, hi, I{0, 2, 4, 6, 8, 10, 12, 14});
    } else {
      *x = __builtin_shuffle(lo, hi, I{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30});
    }
  } else {
    for (int l = 0; l < W; ++l) (*x)[l] = src[l * stride];
  }
}

// One output row. Columns whose every tap is inside the image ("interior") accumulate all
// taps in registers, W (then 4) columns at a time; the few border columns go scalar.
template <int W>
__attribute__((always_inline)) inline void row_body(const dnnf_conv2d_desc& d, const float* in,
                                                   const float* w, float bias, int64_t oh,
                                                   float* orow) {
  typedef typename Vec<W>::type V;
  typedef typename Vec<4>::type V4;
  const int64_t sw = d.stride_w, dw = d.dil_w, pl = d.pad_left;
  // Taps rows inside the image.
  int64_t kh_lo = 0, kh_hi = d.KH;
  const int64_t ih0 = oh * d.stride_h - d.pad_top;
  while (kh_lo < kh_hi && ih0 + kh_lo * d.dil_h < 0) ++kh_lo;
  while (kh_hi > kh_lo && ih0 + (kh_hi - 1) * d.dil_h >= d.H) --kh_hi;
  // Interior columns: ow * sw - pl >= 0 and ow * sw - pl + (KW - 1) * dw < W.
  const int64_t first = (pl + sw - 1) / sw;
  // The stride-2 loads read one float past their last lane: keep that one in the row too.
  const int64_t span = d.W - (d.KW - 1) * dw + pl - (sw == 2 ? 1 : 0);  // ow * sw < span
  const int64_t last = span <= 0 ? 0 : std::min(d.OW, (span - 1) / sw + 1);
  const int64_t in_lo = std::min(first, d.OW), in_hi = std::max(in_lo, last);

  auto scalar_column = [&](int64_t ow) {
    float acc = bias;
    for (int64_t kh = kh_lo; kh < kh_hi; ++kh) {
      const float* irow = in + (ih0 + kh * d.dil_h) * d.W;
      for (int64_t kw = 0; kw < d.KW; ++kw) {
        const int64_t iw = ow * sw - pl + kw * dw;
        if (iw >= 0 && iw < d.W) acc += w[kh * d.KW + kw] * irow[iw];
      }
    }
    orow[ow] = acc;
  };
  for (int64_t ow = 0; ow < in_lo; ++ow) scalar_column(ow);
  int64_t ow = in_lo;
  for (; ow + W <= in_hi; ow += W) {
    V acc = bias - V{};
    for (int64_t kh = kh_lo; kh < kh_hi; ++kh) {
      const float* src = in + (ih0 + kh * d.dil_h) * d.W + ow * sw - pl;
      const float* wk = w + kh * d.KW;
      for (int64_t kw = 0; kw < d.KW; ++kw) {
        V x;
        load_strided<W>(src + kw * dw, sw, &x);
        acc += (wk[kw] - V{}) * x;
      }
    }
    std::memcpy(orow + ow, &acc, sizeof(V));
  }
  if (W > 4)
    for (; ow + 4 <= in_hi; ow += 4) {
      V4 acc = bias - V4{};
      for (int64_t kh = kh_lo; kh < kh_hi; ++kh) {
        const float* src = in + (ih0 + kh * d.dil_h) * d.W + ow * sw - pl;
        const float* wk = w + kh * d.KW;
        for (int64_t kw = 0; kw < d.KW; ++kw) {
          V4 x;
          load_strided<4>(src + kw * dw, sw, &x);
          acc += (wk[kw] - V4{}) * x;
        }
      }
      std::memcpy(orow + ow, &acc, sizeof(V4));
    }
  for (; ow < d.OW; ++ow) scalar_column(ow);
}

template <int W>
__attribute__((always_inline)) inline void plane_body(const dnnf_conv2d_desc& d, const float* in,
                                                     const float* w, float bias, float* out) {
  for (int64_t oh = 0; oh < d.OH; ++oh) row_body<W>(d, in, w, bias, oh, out + oh * d.OW);
}

using PlaneFn = void (*)(const dnnf_conv2d_desc&, const float*, const float*, float, float*);

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f,fma"))) void plane_avx512(const dnnf_conv2d_desc& d, const float* in,
                                                         const float* w, float bias, float* out) {
  plane_body<16>(d, in, w, bias, out);
}
__attribute__((target("avx2,fma"))) void plane_avx2(const dnnf_conv2d_desc& d, const float* in,
                                                    const float* w, float bias, float* out) {
  plane_body<8>(d, in, w, bias, out);
}
#endif
void plane_base(const dnnf_conv2d_desc& d, const float* in, const float* w, float bias, float* out) {
  plane_body<4>(d, in, w, bias, out);
}

// Same instruction set as the GEMM kernel (which honours DNNF_KERNEL_ISA).
PlaneFn choose_plane_fn() {
  const std::string isa = micro_kernel().isa;
#if defined(__x86_64__) || defined(__i386__)
  if (isa == "avx512") return plane_avx512;
  if (isa == "avx2") return plane_avx2;
#endif
  return plane_base;
}

struct DepthwiseTask {
  const dnnf_conv2d_desc* d;
  const float* weights;
  PlaneFn plane;
};

void run_planes(void* ctx, int64_t begin, int64_t end) {
  const auto& t = *static_cast<const DepthwiseTask*>(ctx);
  const dnnf_conv2d_desc& d = *t.d;
  const int64_t positions = d.OH * d.OW, khw = d.KH * d.KW;
  for (int64_t task = begin; task < end; ++task) {
    const int64_t n = task / d.C, c = task % d.C;
    float* out = d.output + task * positions;
    t.plane(d, d.input + task * d.H * d.W, t.weights + c * khw, d.bias ? d.bias[c] : 0.0f, out);
    if (d.epilogue) d.epilogue(d.epilogue_ctx, out, positions, n, c, 0, 1, positions);
  }
}

}  // namespace

void depthwise_conv2d(const dnnf_conv2d_desc* d, const float* weights, const dnnf_api* api) {
  static const PlaneFn plane = choose_plane_fn();
  DepthwiseTask t{d, weights, plane};
  const int64_t planes = d->N * d->C;
  const double macs = double(planes) * double(d->OH * d->OW) * double(d->KH * d->KW);
  if (api && api->parallel_for && api->num_threads > 1 && planes > 1 && macs >= (1 << 16))
    api->parallel_for(api->pool, planes, run_planes, &t);
  else
    run_planes(&t, 0, planes);
}

}  // namespace dnnf_kernels
