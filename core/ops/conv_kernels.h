// Hot loops of the reference Conv / ConvTranspose (direct, no im2col): one output
// plane (or input plane for the transpose) at a time, contiguous inner loops over
// the last spatial dim with bounds hoisted out of them. Instantiated for float,
// double and int32_t (ConvInteger / QLinearConv accumulate in int32).
#pragma once

#include <cstdint>

#include "core/ops/conv_geometry.h"

namespace dnnf::ops::convk {

// y[n, m] (+)= sum_c sum_k w[m, c, k] * x[n, g*cpg + c, s*o - pb + d*k] for every n, m.
// x: [N, C, in...], w: [M, C/G, k...], y: [N, M, out...] (must be pre-filled, e.g. with
// bias or zeros).
template <class T>
void conv_forward(const T* x, const T* w, T* y, int64_t N, int64_t C, int64_t M, int64_t G,
                  const convgeo::Geom3& g);

// Transposed conv (scatter form): y[n, g*mpg + m, s*i - pb + d*k] += x[n, c, i] * w[c, m, k].
// x: [N, C, in...], w: [C, M/G, k...], y: [N, M, out...] (pre-filled).
template <class T>
void conv_transpose(const T* x, const T* w, T* y, int64_t N, int64_t C, int64_t M, int64_t G,
                    const convgeo::Geom3& g);

}  // namespace dnnf::ops::convk
