// Hot loops of the reference Conv / ConvTranspose (see conv_kernels.h). This file is
// compiled with loop vectorisation enabled so the contiguous inner loops over the
// last spatial dim run at SIMD width; every loop here is plain, bounds-hoisted C++.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

#include "core/ops/conv_kernels.h"

#include <algorithm>
#include <vector>

namespace dnnf::ops::convk {

using convgeo::ceil_div;
using convgeo::floor_div;
using convgeo::Geom3;

namespace {

// Valid [lo, hi) ranges of the "outer" index j for each kernel tap kw such that
// j * s + kw * d - pb lies in [0, limit), with j in [0, count).
void tap_ranges(int64_t k, int64_t s, int64_t d, int64_t pb, int64_t limit, int64_t count,
                std::vector<int64_t>& lo, std::vector<int64_t>& hi) {
  lo.assign(size_t(k), 0);
  hi.assign(size_t(k), 0);
  for (int64_t kw = 0; kw < k; ++kw) {
    const int64_t off = kw * d - pb;
    const int64_t a = std::max<int64_t>(0, ceil_div(-off, s));
    const int64_t b = std::min<int64_t>(count, floor_div(limit - 1 - off, s) + 1);
    lo[size_t(kw)] = a;
    hi[size_t(kw)] = std::max(a, b);
  }
}

template <class T>
void conv_plane(const T* __restrict xp, const T* __restrict wp, T* __restrict yp, const Geom3& g,
                const int64_t* lo, const int64_t* hi) {
  const int64_t s2 = g.s[2], d2 = g.d[2], pb2 = g.pb[2];
  for (int64_t od = 0; od < g.out[0]; ++od) {
    for (int64_t kd = 0; kd < g.k[0]; ++kd) {
      const int64_t id = od * g.s[0] - g.pb[0] + kd * g.d[0];
      if (id < 0 || id >= g.in[0]) continue;
      for (int64_t oh = 0; oh < g.out[1]; ++oh) {
        T* __restrict yrow = yp + (od * g.out[1] + oh) * g.out[2];
        for (int64_t kh = 0; kh < g.k[1]; ++kh) {
          const int64_t ih = oh * g.s[1] - g.pb[1] + kh * g.d[1];
          if (ih < 0 || ih >= g.in[1]) continue;
          const T* __restrict xrow = xp + (id * g.in[1] + ih) * g.in[2];
          const T* wk = wp + (kd * g.k[1] + kh) * g.k[2];
          for (int64_t kw = 0; kw < g.k[2]; ++kw) {
            const T wv = wk[kw];
            const int64_t off = kw * d2 - pb2;
            const int64_t a = lo[kw], b = hi[kw];
            if (s2 == 1) {
              const T* __restrict xs = xrow + (a + off);
              T* __restrict ys = yrow + a;
              for (int64_t j = 0; j < b - a; ++j) ys[j] += wv * xs[j];
            } else {
              for (int64_t ow = a; ow < b; ++ow) yrow[ow] += wv * xrow[ow * s2 + off];
            }
          }
        }
      }
    }
  }
}

template <class T>
void convt_plane(const T* __restrict xp, const T* __restrict wp, T* __restrict yp, const Geom3& g,
                 const int64_t* lo, const int64_t* hi) {
  const int64_t s2 = g.s[2], d2 = g.d[2], pb2 = g.pb[2];
  for (int64_t id = 0; id < g.in[0]; ++id) {
    for (int64_t kd = 0; kd < g.k[0]; ++kd) {
      const int64_t od = id * g.s[0] - g.pb[0] + kd * g.d[0];
      if (od < 0 || od >= g.out[0]) continue;
      for (int64_t ih = 0; ih < g.in[1]; ++ih) {
        const T* __restrict xrow = xp + (id * g.in[1] + ih) * g.in[2];
        for (int64_t kh = 0; kh < g.k[1]; ++kh) {
          const int64_t oh = ih * g.s[1] - g.pb[1] + kh * g.d[1];
          if (oh < 0 || oh >= g.out[1]) continue;
          T* __restrict yrow = yp + (od * g.out[1] + oh) * g.out[2];
          const T* wk = wp + (kd * g.k[1] + kh) * g.k[2];
          for (int64_t kw = 0; kw < g.k[2]; ++kw) {
            const T wv = wk[kw];
            const int64_t off = kw * d2 - pb2;
            const int64_t a = lo[kw], b = hi[kw];
            if (s2 == 1) {
              T* __restrict ys = yrow + (a + off);
              const T* __restrict xs = xrow + a;
              for (int64_t j = 0; j < b - a; ++j) ys[j] += wv * xs[j];
            } else {
              for (int64_t iw = a; iw < b; ++iw) yrow[iw * s2 + off] += wv * xrow[iw];
            }
          }
        }
      }
    }
  }
}

}  // namespace

template <class T>
void conv_forward(const T* x, const T* w, T* y, int64_t N, int64_t C, int64_t M, int64_t G,
                  const Geom3& g) {
  const int64_t cpg = C / G, mpg = M / G;
  const int64_t in_sz = g.in_size(), out_sz = g.out_size(), ksz = g.k_size();
  std::vector<int64_t> lo, hi;
  tap_ranges(g.k[2], g.s[2], g.d[2], g.pb[2], g.in[2], g.out[2], lo, hi);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t gi = 0; gi < G; ++gi)
      for (int64_t mi = 0; mi < mpg; ++mi) {
        const int64_t m = gi * mpg + mi;
        T* yp = y + (n * M + m) * out_sz;
        for (int64_t ci = 0; ci < cpg; ++ci) {
          const T* xp = x + (n * C + gi * cpg + ci) * in_sz;
          const T* wp = w + (m * cpg + ci) * ksz;
          conv_plane(xp, wp, yp, g, lo.data(), hi.data());
        }
      }
}

template <class T>
void conv_transpose(const T* x, const T* w, T* y, int64_t N, int64_t C, int64_t M, int64_t G,
                    const Geom3& g) {
  const int64_t cpg = C / G, mpg = M / G;
  const int64_t in_sz = g.in_size(), out_sz = g.out_size(), ksz = g.k_size();
  std::vector<int64_t> lo, hi;
  tap_ranges(g.k[2], g.s[2], g.d[2], g.pb[2], g.out[2], g.in[2], lo, hi);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t gi = 0; gi < G; ++gi)
      for (int64_t mi = 0; mi < mpg; ++mi) {
        T* yp = y + (n * M + gi * mpg + mi) * out_sz;
        for (int64_t ci = 0; ci < cpg; ++ci) {
          const int64_t c = gi * cpg + ci;
          const T* xp = x + (n * C + c) * in_sz;
          const T* wp = w + (c * mpg + mi) * ksz;
          convt_plane(xp, wp, yp, g, lo.data(), hi.data());
        }
      }
}

template void conv_forward<float>(const float*, const float*, float*, int64_t, int64_t, int64_t,
                                  int64_t, const Geom3&);
template void conv_forward<double>(const double*, const double*, double*, int64_t, int64_t,
                                   int64_t, int64_t, const Geom3&);
template void conv_forward<int32_t>(const int32_t*, const int32_t*, int32_t*, int64_t, int64_t,
                                    int64_t, int64_t, const Geom3&);
template void conv_transpose<float>(const float*, const float*, float*, int64_t, int64_t, int64_t,
                                    int64_t, const Geom3&);
template void conv_transpose<double>(const double*, const double*, double*, int64_t, int64_t,
                                     int64_t, int64_t, const Geom3&);

}  // namespace dnnf::ops::convk
