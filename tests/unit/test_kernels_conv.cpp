// dnnf_conv2d_f32 (pointwise, depthwise and im2col paths, with and without packed
// weights) against a naive 7-loop convolution in double precision; an epilogue checks
// that every output element is handed over exactly once, with the right channel.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/conv2d_internal.h"
#include "kernels/cpu/packed_buffer.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/kernel_api.h"
#include "tests/unit/kernel_test_pool.h"

namespace {

struct ConvCase {
  int64_t N, C, H, W, OC, KH, KW;
  int64_t sh, sw, pt, pl, pb, pr, dh, dw, group;
  bool bias = true;
};

struct Coverage {
  std::vector<std::atomic<int>> hits;
  int64_t OC, positions;
  Coverage(size_t n, int64_t oc, int64_t positions) : hits(n), OC(oc), positions(positions) {}
};

// Doubles every element and counts the visit.
void double_epilogue(void* ctx, float* tile, int64_t ldt, int64_t batch, int64_t row0, int64_t col0,
                     int64_t rows, int64_t cols) {
  auto* cov = static_cast<Coverage*>(ctx);
  EXPECT_EQ(ldt, cov->positions);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      tile[i * ldt + j] *= 2.0f;
      cov->hits[(batch * cov->OC + row0 + i) * cov->positions + col0 + j]++;
    }
}

// cc's sizes, strides, pads, dilations and groups, with the output size they give; no
// tensors bound.
dnnf_conv2d_desc geometry_of(const ConvCase& cc) {
  dnnf_conv2d_desc d{};
  d.N = cc.N;
  d.C = cc.C;
  d.H = cc.H;
  d.W = cc.W;
  d.OC = cc.OC;
  d.KH = cc.KH;
  d.KW = cc.KW;
  d.OH = (cc.H + cc.pt + cc.pb - cc.dh * (cc.KH - 1) - 1) / cc.sh + 1;
  d.OW = (cc.W + cc.pl + cc.pr - cc.dw * (cc.KW - 1) - 1) / cc.sw + 1;
  d.stride_h = cc.sh;
  d.stride_w = cc.sw;
  d.pad_top = cc.pt;
  d.pad_left = cc.pl;
  d.dil_h = cc.dh;
  d.dil_w = cc.dw;
  d.group = cc.group;
  return d;
}

void run_case(const ConvCase& cc, const dnnf_api& api, bool packed) {
  SCOPED_TRACE(::testing::Message() << "C " << cc.C << " OC " << cc.OC << " k " << cc.KH << "x" << cc.KW
                                    << " s " << cc.sh << "," << cc.sw << " group " << cc.group
                                    << " packed " << packed << " threads " << api.num_threads);
  dnnf_conv2d_desc d = geometry_of(cc);
  const int64_t OH = d.OH, OW = d.OW;
  const int64_t cg = cc.C / cc.group, ocg = cc.OC / cc.group;
  std::mt19937 rng(unsigned(cc.C * 1000 + cc.OC * 10 + cc.KH));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> in(cc.N * cc.C * cc.H * cc.W), w(cc.OC * cg * cc.KH * cc.KW), bias(cc.OC);
  for (auto& x : in) x = dist(rng);
  for (auto& x : w) x = dist(rng);
  for (auto& x : bias) x = dist(rng);
  std::vector<float> out(cc.N * cc.OC * OH * OW + 1, 777.0f);
  Coverage cov(out.size(), cc.OC, OH * OW);

  d.input = in.data();
  d.weight = w.data();
  d.bias = cc.bias ? bias.data() : nullptr;
  d.output = out.data();
  d.epilogue = double_epilogue;
  d.epilogue_ctx = &cov;
  void* pw = packed ? api.conv2d_pack(&d) : nullptr;
  if (packed) d.weight = nullptr;  // must not be read
  d.packed_weight = pw;
  api.conv2d(&d, &api);
  api.release(pw);

  int failures = 0;
  for (int64_t n = 0; n < cc.N; ++n)
    for (int64_t oc = 0; oc < cc.OC; ++oc)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t g = oc / ocg;
          double ref = cc.bias ? bias[oc] : 0.0, mag = std::fabs(ref);
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t kh = 0; kh < cc.KH; ++kh)
              for (int64_t kw = 0; kw < cc.KW; ++kw) {
                const int64_t ih = oh * cc.sh - cc.pt + kh * cc.dh, iw = ow * cc.sw - cc.pl + kw * cc.dw;
                if (ih < 0 || ih >= cc.H || iw < 0 || iw >= cc.W) continue;
                const double x = in[((n * cc.C + g * cg + c) * cc.H + ih) * cc.W + iw];
                const double wv = w[((oc * cg + c) * cc.KH + kh) * cc.KW + kw];
                ref += x * wv;
                mag += std::fabs(x * wv);
              }
          ref *= 2.0;
          const int64_t i = ((n * cc.OC + oc) * OH + oh) * OW + ow;
          const bool ok = std::fabs(out[i] - ref) <= 1e-4 * (2 * mag + 1) && cov.hits[i].load() == 1;
          if (!ok && failures++ < 5)
            ADD_FAILURE() << "out[" << n << "][" << oc << "][" << oh << "][" << ow << "] = " << out[i]
                          << " want " << ref << ", epilogue saw it " << cov.hits[i].load() << " times";
        }
  EXPECT_EQ(out.back(), 777.0f);
}

std::vector<ConvCase> cases() {
  return {
      // N  C  H  W  OC KH KW sh sw pt pl pb pr dh dw group
      {2, 3, 9, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},       // 3x3 same
      {1, 4, 11, 13, 6, 3, 2, 2, 3, 1, 2, 0, 1, 2, 1, 2},     // strides, dilation, asymmetric pads, groups
      {2, 16, 7, 7, 24, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},     // pointwise
      {1, 16, 7, 5, 24, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 4, false},  // grouped pointwise
      {1, 8, 9, 9, 8, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1},       // strided 1x1: im2col path
      {2, 8, 10, 37, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8},     // depthwise 3x3
      {1, 6, 15, 14, 6, 3, 3, 2, 2, 0, 1, 1, 0, 1, 1, 6},     // depthwise strided, asymmetric
      {1, 5, 12, 40, 5, 5, 5, 1, 1, 4, 3, 2, 5, 2, 2, 5, false},  // depthwise dilated, big pads
      {1, 4, 9, 70, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 4},      // depthwise stride 2, wide rows
      {1, 3, 8, 64, 3, 3, 3, 1, 3, 1, 1, 1, 1, 1, 1, 3},      // depthwise stride 3
      {1, 7, 14, 14, 7, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 7},     // depthwise 5x5, small plane
      {2, 9, 7, 7, 9, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 9},       // 7x7 plane: narrow vectors
      {1, 6, 17, 17, 6, 5, 5, 2, 2, 1, 2, 2, 1, 1, 1, 6},     // depthwise 5x5 stride 2, asymmetric
      {1, 5, 6, 1, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5},       // one column: no store past the plane
      {1, 3, 5, 17, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3},      // 17 columns: partial vectors
      {1, 4, 6, 33, 4, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1, 4},      // stride 1 down, 2 across
      {1, 4, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4},       // depth multiplier 2: im2col path
      {1, 3, 4, 4, 2, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1},       // kernel larger than input: 0x0 output
      {1, 40, 30, 30, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // several GEMM blocks
      {1, 3, 64, 64, 20, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1},    // stem-like
      // Stride 1, output rows as wide as the input's: columns packed as a shifted plane.
      {1, 64, 10, 10, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // SSD head on a 10x10 map
      {1, 240, 10, 10, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // K = 2160: split over K on 4 threads
      {1, 2100, 4, 5, 30, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},   // pointwise, K = 2100: the same
      {1, 33, 19, 19, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // 19x19: blocks end mid-row
      {2, 6, 9, 11, 5, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1},      // dilated, same
      {1, 5, 7, 12, 4, 3, 3, 1, 1, 0, 2, 2, 0, 1, 1, 1},      // all padding on one side
      {1, 4, 6, 9, 6, 1, 3, 1, 1, 0, 1, 0, 1, 1, 1, 2},       // 1x3, grouped
      {1, 6, 5, 7, 6, 5, 5, 1, 1, 3, 2, 1, 2, 1, 1, 1},       // taller than padded: rows cut on both sides
  };
}

TEST(KernelsConv, SerialMatchesNaive) {
  const dnnf_api api = dnnf_make_api(nullptr, nullptr, 1);
  for (const ConvCase& cc : cases())
    for (bool packed : {false, true}) run_case(cc, api, packed);
}

TEST(KernelsConv, FourThreadsMatchNaive) {
  dnnf_test::TaskPool pool(4);
  const dnnf_api api = dnnf_make_api(&pool, dnnf_test::TaskPool::parallel_for, 4);
  for (const ConvCase& cc : cases())
    for (bool packed : {false, true}) run_case(cc, api, packed);
  EXPECT_GT(pool.calls(), 0);
}

// 3x3 stride-1 convolutions large enough for Winograd F(4x4, 3x3): with packed weights
// they take it (conv2d_winograd.cpp), without they run as im2col GEMM. On 4 threads the
// last one runs as tasks of tile rows, the others with the input transform over input
// channels, then the GEMMs over output channels.
std::vector<ConvCase> winograd_cases() {
  return {
      // N  C  H  W  OC KH KW sh sw pt pl pb pr dh dw group
      {1, 16, 24, 24, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},         // 6x6 tiles exactly
      {1, 19, 13, 14, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},         // 4x4 tiles, the fewest
      {2, 17, 25, 27, 35, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},         // partial tiles on both edges
      {1, 32, 30, 41, 33, 3, 3, 1, 1, 0, 2, 1, 0, 1, 1, 1, false},  // asymmetric pads, no bias
      {1, 20, 26, 26, 40, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1},         // unpadded
      {1, 24, 90, 7, 36, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},          // two tiles a row
      {1, 16, 6, 203, 34, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},         // rows wider than a GEMM panel
      {1, 50, 28, 28, 61, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},         // several channel blocks
      {1, 16, 130, 129, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},       // row blocks over threads
  };
}

TEST(KernelsConv, WinogradIsChosenWhereItPays) {
  for (const ConvCase& cc : winograd_cases()) {
    dnnf_conv2d_desc d = geometry_of(cc);
    EXPECT_TRUE(dnnf_kernels::winograd_pays(&d)) << "C " << cc.C << " " << cc.H << "x" << cc.W;
    std::vector<float> w(size_t(cc.OC * cc.C * 9), 0.5f);
    d.weight = w.data();
    void* packed = dnnf_conv2d_pack(&d);
    EXPECT_TRUE(dnnf_kernels::packed_is(packed, dnnf_kernels::PackedKind::conv_winograd));
    // Packed for this geometry only: another one is refused, not misread.
    d.OC -= 1;
    d.packed_weight = packed;
    std::vector<float> io(size_t(cc.N * (cc.C + cc.OC) * (cc.H + 4) * (cc.W + 4)));
    d.input = d.output = io.data();
    EXPECT_THROW(dnnf_conv2d_f32(&d, nullptr), std::invalid_argument);
    dnnf_release_packed(packed);
  }
  // Not where the transforms cost more than they save, nor where the algorithm does not apply.
  ConvCase small_cases[] = {
      {1, 15, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // 15 input channels
      {1, 32, 32, 32, 31, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // 31 output channels
      {1, 32, 12, 20, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // 3x5 tiles
      {1, 32, 32, 32, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},  // stride 2
      {1, 32, 32, 32, 32, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1},  // dilated
      {1, 32, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},  // groups
      {1, 32, 32, 32, 32, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1},  // 5x5
      {1, 1024, 32, 32, 2048, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // transformed weights over 256 MB
  };
  for (const ConvCase& cc : small_cases) {
    const dnnf_conv2d_desc d = geometry_of(cc);
    EXPECT_FALSE(dnnf_kernels::winograd_pays(&d)) << "C " << cc.C << " OC " << cc.OC << " " << cc.H << "x" << cc.W;
  }
}

// Every case with packed weights, serially and on 4 threads (which the pool must see).
void run_packed_serial_and_threaded(const std::vector<ConvCase>& cases) {
  const dnnf_api serial = dnnf_make_api(nullptr, nullptr, 1);
  dnnf_test::TaskPool pool(4);
  const dnnf_api threaded = dnnf_make_api(&pool, dnnf_test::TaskPool::parallel_for, 4);
  for (const ConvCase& cc : cases) {
    run_case(cc, serial, true);
    run_case(cc, threaded, true);
  }
  EXPECT_GT(pool.calls(), 0);
}

TEST(KernelsConv, WinogradMatchesNaive) {
  run_packed_serial_and_threaded(winograd_cases());
  run_case(winograd_cases()[1], dnnf_make_api(nullptr, nullptr, 1), false);  // raw weights: the im2col GEMM
}

// Pointwise convolutions on planes of at most 96 positions for which the GEMM as
// weight * input would compute at least 1.2 times as many columns per position as the
// transposed product computes per channel: with packed weights they run as the
// transposed product (conv2d_pointwise_small.cpp). Planes
// that do so with every micro-kernel (AVX-512, AVX2, SSE2, NEON: panels of 32, 16, 8,
// 12 columns and narrower kernels for the rest): 3x3, 1x2, 3x1, 1x1; several images, no
// bias, a long K (weights of 1.7 MB).
std::vector<ConvCase> small_plane_pointwise_cases() {
  return {
      // N  C  H  W  OC KH KW sh sw pt pl pb pr dh dw group
      {2, 37, 3, 3, 96, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
      {1, 20, 1, 2, 96, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, false},
      {1, 300, 3, 1, 192, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
      {3, 16, 1, 1, 96, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
      {1, 1152, 3, 3, 384, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
  };
}

TEST(KernelsConv, SmallPlanePointwiseIsChosenWhereItPays) {
  for (const ConvCase& cc : small_plane_pointwise_cases()) {
    dnnf_conv2d_desc d = geometry_of(cc);
    EXPECT_TRUE(dnnf_kernels::transposed_pointwise_pays(&d)) << "OC " << cc.OC << " " << cc.H << "x" << cc.W;
    std::vector<float> w(size_t(cc.OC * cc.C), 0.5f);
    d.weight = w.data();
    void* packed = dnnf_conv2d_pack(&d);
    EXPECT_TRUE(dnnf_kernels::packed_is(packed, dnnf_kernels::PackedKind::conv_pointwise_t));
    // Packed for this geometry only: other channel counts or a 3x3 window are refused.
    std::vector<float> io(size_t(cc.N * (cc.C + cc.OC) * (cc.H + 2) * (cc.W + 2)));
    d.input = d.output = io.data();
    d.packed_weight = packed;
    d.OC -= 1;
    EXPECT_THROW(dnnf_conv2d_f32(&d, nullptr), std::invalid_argument);
    d.OC += 1;
    d.KH = d.KW = 3;
    d.pad_top = d.pad_left = 1;
    EXPECT_THROW(dnnf_conv2d_f32(&d, nullptr), std::invalid_argument);
    dnnf_release_packed(packed);
  }
  ConvCase others[] = {
      {1, 32, 14, 14, 64, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},  // 196 positions
      {1, 32, 8, 8, 33, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},    // 33 channels waste more than 64 positions
      {1, 32, 7, 7, 64, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2},    // groups
      {1, 32, 13, 13, 64, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1},  // stride 2
      {1, 32, 7, 7, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    // 3x3
  };
  for (const ConvCase& cc : others) {
    const dnnf_conv2d_desc d = geometry_of(cc);
    EXPECT_FALSE(dnnf_kernels::transposed_pointwise_pays(&d)) << "OC " << cc.OC << " " << cc.H << "x" << cc.W;
  }
}

TEST(KernelsConv, SmallPlanePointwiseMatchesNaive) { run_packed_serial_and_threaded(small_plane_pointwise_cases()); }

TEST(KernelsConv, RejectsBadGeometry) {
  std::vector<float> buf(1000);
  dnnf_conv2d_desc d{};
  d.N = 1;
  d.C = 3;
  d.H = d.W = 4;
  d.OC = 4;
  d.KH = d.KW = 1;
  d.OH = d.OW = 4;
  d.stride_h = d.stride_w = d.dil_h = d.dil_w = 1;
  d.group = 2;  // does not divide C
  d.input = d.weight = buf.data();
  d.output = buf.data();
  EXPECT_THROW(dnnf_conv2d_f32(&d, nullptr), std::invalid_argument);
  EXPECT_THROW(dnnf_conv2d_pack(&d), std::invalid_argument);
  d.group = 1;
  d.stride_h = 0;
  EXPECT_THROW(dnnf_conv2d_f32(&d, nullptr), std::invalid_argument);
  d.stride_h = 1;
  void* gemm_packed = dnnf_gemm_pack_b(buf.data(), 2, 2, 2, 0);
  d.packed_weight = gemm_packed;  // a handle of the wrong kind
  EXPECT_THROW(dnnf_conv2d_f32(&d, nullptr), std::invalid_argument);
  dnnf_release_packed(gemm_packed);
}

}  // namespace
