#include "kernels/cpu/conv2d_internal.h"

namespace dnnf_kernels {

void pack_im2col_panels(const void* ctx, int64_t image, int64_t k0, int64_t kc, int64_t n0,
                        int64_t nc, int nr, float* dst) {
  const auto& src = *static_cast<const Im2colSource*>(ctx);
  const dnnf_conv2d_desc& d = *src.d;
  const int64_t cg = d.C / d.group, khw = d.KH * d.KW, plane_size = d.H * d.W;
  const float* first_plane = d.input + (image * d.C + src.group * cg) * plane_size;
  const int64_t panel_stride = kc * nr;
  for (int64_t kk = 0; kk < kc; ++kk) {
    const int64_t k = k0 + kk, c = k / khw, kh = (k % khw) / d.KW, kw = k % d.KW;
    const float* plane = first_plane + c * plane_size;
    const int64_t ih_base = kh * d.dil_h - d.pad_top, iw_base = kw * d.dil_w - d.pad_left;
    float* out = dst + kk * nr;  // row kk of the current panel
    int jj = 0;                  // column within the current panel
    auto put = [&](float v) {
      out[jj] = v;
      if (++jj == nr) {
        jj = 0;
        out += panel_stride;
      }
    };
    int64_t oh = n0 / d.OW, ow = n0 % d.OW;
    for (int64_t j = 0; j < nc; ++oh, ow = 0) {  // one run per output row
      const int64_t run = d.OW - ow < nc - j ? d.OW - ow : nc - j;
      const int64_t ih = oh * d.stride_h + ih_base;
      if (ih < 0 || ih >= d.H) {
        for (int64_t t = 0; t < run; ++t) put(0.0f);
      } else {
        const float* row = plane + ih * d.W;
        int64_t iw = ow * d.stride_w + iw_base;
        for (int64_t t = 0; t < run; ++t, iw += d.stride_w) put(iw >= 0 && iw < d.W ? row[iw] : 0.0f);
      }
      j += run;
    }
    while (jj != 0) put(0.0f);  // pad the last panel
  }
}

}  // namespace dnnf_kernels
