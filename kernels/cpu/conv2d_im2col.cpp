#include <algorithm>
#include <cstring>

#include "kernels/cpu/conv2d_internal.h"

namespace dnnf_kernels {
namespace {

// Copies n floats in fixed-size chunks the compiler inlines as vector moves: pieces are
// at most a panel wide (16 to 48 floats), where a memmove call costs more than the copy.
inline void copy_short(const float* src, int64_t n, float* dst) {
  for (; n >= 16; n -= 16, src += 16, dst += 16) std::memcpy(dst, src, 16 * sizeof(float));
  for (; n >= 4; n -= 4, src += 4, dst += 4) std::memcpy(dst, src, 4 * sizeof(float));
  for (; n > 0; --n) *dst++ = *src++;
}

// Writes one row (of kc) across consecutive GEMM B panels of width nr: column j goes to
// panel j / nr, slot j % nr. Contiguous pieces are copied a panel's remainder at a time.
class PanelRowWriter {
 public:
  PanelRowWriter(float* first, int nr, int64_t panel_stride)
      : out_(first), nr_(nr), panel_stride_(panel_stride) {}

  void copy(const float* src, int64_t n) {
    while (n > 0) {
      const int64_t piece = std::min<int64_t>(n, nr_ - jj_);
      copy_short(src, piece, out_ + jj_);
      advance(piece);
      src += piece;
      n -= piece;
    }
  }
  void copy_strided(const float* src, int64_t stride, int64_t n) {
    while (n > 0) {
      const int64_t piece = std::min<int64_t>(n, nr_ - jj_);
      float* dst = out_ + jj_;
      if (stride == 2)  // a constant stride the compiler vectorises (loads and shuffles)
        for (int64_t i = 0; i < piece; ++i) dst[i] = src[i * 2];
      else
        for (int64_t i = 0; i < piece; ++i) dst[i] = src[i * stride];
      advance(piece);
      src += piece * stride;
      n -= piece;
    }
  }
  void zeros(int64_t n) {
    while (n > 0) {
      const int64_t piece = std::min<int64_t>(n, nr_ - jj_);
      std::fill(out_ + jj_, out_ + jj_ + piece, 0.0f);
      advance(piece);
      n -= piece;
    }
  }
  void finish() {
    if (jj_ != 0) zeros(nr_ - jj_);
  }

 private:
  void advance(int64_t n) {
    jj_ += int(n);
    if (jj_ == nr_) next_panel();
  }
  void next_panel() {
    jj_ = 0;
    out_ += panel_stride_;
  }

  float* out_;
  int nr_;
  int64_t panel_stride_;
  int jj_ = 0;
};

// Stride 1 in both dims with rows as wide as the input's (a "same" convolution): row k of
// the column matrix is the input plane shifted by one offset, so the columns of a block
// are one contiguous run of the plane, copied a panel at a time. Only the output rows
// whose input row is missing and the one or two columns per row that fall in the
// side padding are zeros, written afterwards. The general path copies a run per output
// row: on 10x10 and 19x19 maps (SSD heads) it spent as long packing as multiplying.
bool packs_as_shifted_plane(const dnnf_conv2d_desc& d) {
  return d.stride_h == 1 && d.stride_w == 1 && d.OW == d.W;
}

void pack_shifted_plane_row(const dnnf_conv2d_desc& d, const float* plane, int64_t kh, int64_t kw, int64_t n0,
                            int64_t nc, int nr, int64_t panel_stride, float* row_dst) {
  const int64_t row_shift = kh * d.dil_h - d.pad_top, col_shift = kw * d.dil_w - d.pad_left;
  const int64_t shift = row_shift * d.W + col_shift, plane_size = d.H * d.W;
  // Output rows whose input row exists: 0 <= oh + row_shift < H.
  const int64_t first = std::clamp<int64_t>(std::max<int64_t>(-row_shift, 0) * d.OW, n0, n0 + nc);
  const int64_t last = std::clamp<int64_t>(std::min<int64_t>(d.H - row_shift, d.OH) * d.OW, first, n0 + nc);
  // Inside them, the reads stay inside the plane (the first and last can fall outside
  // only in a padding column, which is zeroed below anyway).
  const int64_t lo = std::clamp<int64_t>(-shift, first, last), hi = std::clamp<int64_t>(plane_size - shift, lo, last);
  PanelRowWriter out{row_dst, nr, panel_stride};
  out.zeros(lo - n0);
  out.copy(plane + lo + shift, hi - lo);
  out.zeros(n0 + nc - hi);
  out.finish();
  // Columns in the side padding: ow + col_shift < 0 or >= W.
  const int64_t left = std::min<int64_t>(std::max<int64_t>(-col_shift, 0), d.OW);
  const int64_t right = std::clamp<int64_t>(d.W - col_shift, left, d.OW);
  if (left == 0 && right == d.OW) return;
  const auto zero_at = [&](int64_t j) {
    if (j >= lo && j < hi) row_dst[((j - n0) / nr) * panel_stride + (j - n0) % nr] = 0.0f;
  };
  for (int64_t oh = lo / d.OW; oh * d.OW < hi; ++oh) {
    for (int64_t ow = 0; ow < left; ++ow) zero_at(oh * d.OW + ow);
    for (int64_t ow = right; ow < d.OW; ++ow) zero_at(oh * d.OW + ow);
  }
}

}  // namespace

void pack_im2col_panels(const void* ctx, int64_t image, int64_t k0, int64_t kc, int64_t n0,
                        int64_t nc, int nr, float* dst) {
  const auto& src = *static_cast<const Im2colSource*>(ctx);
  const dnnf_conv2d_desc& d = *src.d;
  const int64_t cg = d.C / d.group, khw = d.KH * d.KW, plane_size = d.H * d.W;
  const float* first_plane = d.input + (image * d.C + src.group * cg) * plane_size;
  const int64_t panel_stride = kc * nr;
  const bool shifted_plane = packs_as_shifted_plane(d);
  for (int64_t kk = 0; kk < kc; ++kk) {
    const int64_t k = k0 + kk, c = k / khw, kh = (k % khw) / d.KW, kw = k % d.KW;
    const float* plane = first_plane + c * plane_size;
    if (shifted_plane) {
      pack_shifted_plane_row(d, plane, kh, kw, n0, nc, nr, panel_stride, dst + kk * nr);
      continue;
    }
    const int64_t ih_base = kh * d.dil_h - d.pad_top, iw_base = kw * d.dil_w - d.pad_left;
    PanelRowWriter out{dst + kk * nr, nr, panel_stride};  // row kk of the current panel
    int64_t oh = n0 / d.OW, ow = n0 % d.OW;
    for (int64_t j = 0; j < nc; ++oh, ow = 0) {  // one run per output row
      const int64_t run = d.OW - ow < nc - j ? d.OW - ow : nc - j;
      const int64_t ih = oh * d.stride_h + ih_base;
      if (ih < 0 || ih >= d.H) {
        out.zeros(run);
      } else {
        const float* row = plane + ih * d.W;
        const int64_t iw0 = ow * d.stride_w + iw_base;
        // Positions t with 0 <= iw0 + t * stride < W form one range [lo, hi): zeros around a
        // slice of the row (contiguous for stride 1, every stride-th value otherwise).
        const int64_t sw = d.stride_w;
        const int64_t lo = std::clamp<int64_t>(iw0 >= 0 ? 0 : (-iw0 + sw - 1) / sw, 0, run);
        const int64_t hi = std::clamp<int64_t>(d.W - iw0 <= 0 ? 0 : (d.W - iw0 + sw - 1) / sw, lo, run);
        out.zeros(lo);
        if (sw == 1)
          out.copy(row + iw0 + lo, hi - lo);
        else
          out.copy_strided(row + iw0 + lo * sw, sw, hi - lo);
        out.zeros(run - hi);
      }
      j += run;
    }
    out.finish();  // pad the last panel
  }
}

}  // namespace dnnf_kernels
