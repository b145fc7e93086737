// dnnf_conv2d_chain_f32 (pointwise -> depthwise in bands of output rows) against a naive
// double-precision pair of convolutions. The pointwise epilogue rewrites the band in place
// and counts what it is handed: on one thread every expanded element exactly once (rows
// two bands share are kept, not recomputed), on three at most the rows at the seams of
// the threads' runs again. The depthwise epilogue must see every output element exactly
// once, at its global channel and position.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/conv2d_chain.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/kernel_api.h"
#include "tests/unit/kernel_test_pool.h"

namespace {

struct ChainCase {
  const char* name;
  int64_t N, K, C, H, W, KH, stride, pt, pb, pl, pr, dil;
};

struct Counts {
  std::vector<std::atomic<int>> hits;
  int64_t channels, positions;
  Counts(int64_t n, int64_t channels, int64_t positions) : hits(size_t(n)), channels(channels), positions(positions) {}
  void add(int64_t batch, int64_t row, int64_t col) { hits[size_t((batch * channels + row) * positions + col)]++; }
};

struct BandCounts {
  int64_t channels, band_ld, images;
  std::atomic<int64_t> elements{0};
  std::atomic<int> misplaced{0};
};

// Leaky ReLU in place (a rewrite the reference can repeat); the tile must lie inside one
// band of the buffer (channel stride band_ld).
void leaky_epilogue(void* ctx, float* tile, int64_t ldt, int64_t batch, int64_t row0, int64_t col0, int64_t rows,
                    int64_t cols) {
  auto* counts = static_cast<BandCounts*>(ctx);
  if (ldt != counts->band_ld || row0 < 0 || row0 + rows > counts->channels || col0 < 0 || col0 + cols > ldt ||
      batch < 0 || batch >= counts->images)
    counts->misplaced++;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      float& v = tile[i * ldt + j];
      v = v > 0 ? v : 0.125f * v;
    }
  counts->elements += rows * cols;
}

void double_epilogue(void* ctx, float* tile, int64_t ldt, int64_t batch, int64_t row0, int64_t col0, int64_t rows,
                     int64_t cols) {
  auto* counts = static_cast<Counts*>(ctx);
  EXPECT_EQ(ldt, counts->positions);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      tile[i * ldt + j] *= 2.0f;
      counts->add(batch, row0 + i, col0 + j);
    }
}

void run_case(const ChainCase& cc, const dnnf_api& api, bool packed) {
  SCOPED_TRACE(::testing::Message() << cc.name << ", packed " << packed << ", threads " << api.num_threads);
  const int64_t OH = (cc.H + cc.pt + cc.pb - cc.dil * (cc.KH - 1) - 1) / cc.stride + 1;
  const int64_t OW = (cc.W + cc.pl + cc.pr - cc.dil * (cc.KH - 1) - 1) / cc.stride + 1;
  const int64_t plane = cc.H * cc.W, taps = cc.KH * cc.KH;
  std::mt19937 rng(unsigned(cc.C * 131 + cc.H));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> x(size_t(cc.N * cc.K * plane)), pw_w(size_t(cc.C * cc.K)), pw_b(size_t(cc.C)),
      dw_w(size_t(cc.C * taps)), dw_b(size_t(cc.C));
  for (auto* v : {&x, &pw_w, &pw_b, &dw_w, &dw_b})
    for (float& f : *v) f = dist(rng);
  std::vector<float> out(size_t(cc.N * cc.C * OH * OW + 1), 777.0f);
  const int64_t rows = dnnf_kernels::chain_band_rows(cc.C, cc.W, OH, cc.KH, cc.stride, cc.dil);
  const int64_t band_ld = dnnf_kernels::chain_band_input_rows(rows, cc.KH, cc.stride, cc.dil) * cc.W;
  BandCounts pw_counts{cc.C, band_ld, cc.N};
  Counts dw_counts(cc.N * cc.C * OH * OW, cc.C, OH * OW);
  std::vector<float> band(size_t(cc.C * band_ld));  // the first thread's band buffer

  dnnf_conv2d_desc p{};
  p.N = cc.N, p.C = cc.K, p.H = cc.H, p.W = cc.W, p.OC = cc.C, p.KH = 1, p.KW = 1, p.OH = cc.H, p.OW = cc.W;
  p.stride_h = p.stride_w = p.dil_h = p.dil_w = p.group = 1;
  p.input = x.data();
  p.output = band.data();
  p.weight = pw_w.data();
  p.bias = pw_b.data();
  p.epilogue = leaky_epilogue;
  p.epilogue_ctx = &pw_counts;
  dnnf_conv2d_desc d{};
  d.N = cc.N, d.C = cc.C, d.H = cc.H, d.W = cc.W, d.OC = cc.C, d.KH = cc.KH, d.KW = cc.KH, d.OH = OH, d.OW = OW;
  d.stride_h = d.stride_w = cc.stride, d.pad_top = cc.pt, d.pad_left = cc.pl, d.dil_h = d.dil_w = cc.dil;
  d.group = cc.C;
  d.weight = dw_w.data();
  d.bias = dw_b.data();
  d.output = out.data();
  d.epilogue = double_epilogue;
  d.epilogue_ctx = &dw_counts;
  void* packed_w = packed ? api.conv2d_pack(&p) : nullptr;
  if (packed) p.weight = nullptr, p.packed_weight = packed_w;  // the raw weights must not be read
  api.conv2d_chain(&p, &d, &api);
  api.release(packed_w);

  std::vector<double> e(size_t(cc.N * cc.C * plane));
  for (int64_t n = 0; n < cc.N; ++n)
    for (int64_t c = 0; c < cc.C; ++c)
      for (int64_t i = 0; i < plane; ++i) {
        double v = pw_b[size_t(c)];
        for (int64_t k = 0; k < cc.K; ++k) v += double(pw_w[size_t(c * cc.K + k)]) * x[size_t((n * cc.K + k) * plane + i)];
        e[size_t((n * cc.C + c) * plane + i)] = v > 0 ? v : 0.125 * v;
      }
  EXPECT_EQ(pw_counts.misplaced.load(), 0) << "pointwise epilogue tiles outside the band buffer";
  const int64_t expanded = cc.N * cc.C * plane, overlap = (cc.KH - 1) * cc.dil + 1 - cc.stride;
  EXPECT_GE(pw_counts.elements.load(), expanded);
  EXPECT_LE(pw_counts.elements.load(), expanded + (api.num_threads - 1) * cc.C * std::max<int64_t>(overlap, 0) * cc.W)
      << "expanded rows computed again";
  int failures = 0;
  for (int64_t n = 0; n < cc.N; ++n)
    for (int64_t c = 0; c < cc.C; ++c)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double ref = dw_b[size_t(c)], mag = std::fabs(ref);
          for (int64_t kh = 0; kh < cc.KH; ++kh)
            for (int64_t kw = 0; kw < cc.KH; ++kw) {
              const int64_t ih = oh * cc.stride - cc.pt + kh * cc.dil, iw = ow * cc.stride - cc.pl + kw * cc.dil;
              if (ih < 0 || ih >= cc.H || iw < 0 || iw >= cc.W) continue;
              const double t = e[size_t((n * cc.C + c) * plane + ih * cc.W + iw)] * dw_w[size_t(c * taps + kh * cc.KH + kw)];
              ref += t, mag += std::fabs(t);
            }
          const size_t i = size_t(((n * cc.C + c) * OH + oh) * OW + ow);
          const bool ok = std::fabs(out[i] - 2 * ref) <= 1e-4 * (2 * mag + 1) && dw_counts.hits[i].load() == 1;
          if (!ok && failures++ < 5)
            ADD_FAILURE() << "out[" << n << "][" << c << "][" << oh << "][" << ow << "] = " << out[i] << " want "
                          << 2 * ref << ", epilogue saw it " << dw_counts.hits[i].load() << " times";
        }
  EXPECT_EQ(out.back(), 777.0f);
}

// Channels x width sized so that most cases cut the output into several bands
// (kChainBandBytes over channels x width x 4 bytes input rows per band).
std::vector<ChainCase> cases() {
  return {
      // name                                    N  K  C    H   W  KH s pt pb pl pr dil
      {"3x3 stride 1, two images", 2, 5, 96, 37, 61, 3, 1, 1, 1, 1, 1, 1},
      {"3x3 stride 2, odd height", 1, 7, 130, 41, 45, 3, 2, 1, 1, 1, 1, 1},
      {"5x5 stride 2", 1, 3, 72, 33, 77, 5, 2, 2, 2, 2, 2, 1},
      {"3x3 unpadded", 2, 4, 80, 20, 90, 3, 1, 0, 0, 0, 0, 1},
      {"asymmetric pads", 1, 3, 64, 29, 100, 3, 2, 0, 1, 1, 0, 1},
      {"dilated", 1, 6, 70, 26, 73, 3, 1, 2, 2, 2, 2, 2},
      {"padding wider than the window reaches", 1, 2, 40, 9, 170, 5, 1, 4, 4, 4, 4, 1},
      {"one output row per band", 1, 3, 600, 9, 120, 3, 1, 1, 1, 1, 1, 1},
      {"one band, one column", 2, 3, 17, 11, 1, 3, 1, 1, 1, 1, 1, 1},
  };
}

TEST(KernelsConvChain, BandsAreSmallerThanTheOutputInMostCases) {
  int several = 0;
  for (const ChainCase& c : cases()) {
    const int64_t OH = (c.H + c.pt + c.pb - c.dil * (c.KH - 1) - 1) / c.stride + 1;
    const int64_t rows = dnnf_kernels::chain_band_rows(c.C, c.W, OH, c.KH, c.stride, c.dil);
    EXPECT_LE(dnnf_kernels::chain_band_input_rows(rows, c.KH, c.stride, c.dil) * c.C * c.W * 4,
              std::max<int64_t>(dnnf_kernels::kChainBandBytes, dnnf_kernels::chain_band_input_rows(1, c.KH, c.stride, c.dil) * c.C * c.W * 4))
        << c.name;
    several += rows < OH;
  }
  EXPECT_GE(several, 7);
}

TEST(KernelsConvChain, SerialMatchesNaive) {
  const dnnf_api api = dnnf_make_api(nullptr, nullptr, 1);
  int i = 0;
  for (const ChainCase& c : cases()) run_case(c, api, i++ % 2 == 0);
}

TEST(KernelsConvChain, ThreeThreadsMatchNaive) {
  dnnf_test::TaskPool pool(3);
  const dnnf_api api = dnnf_make_api(&pool, dnnf_test::TaskPool::parallel_for, 3);
  int i = 0;
  for (const ChainCase& c : cases()) run_case(c, api, i++ % 2 == 1);
  EXPECT_GT(pool.calls(), 0);
}

TEST(KernelsConvChain, RejectsPairsThatAreNotPointwiseThenDepthwise) {
  const dnnf_api api = dnnf_make_api(nullptr, nullptr, 1);
  std::vector<float> x(2 * 4 * 4, 1.0f), w(8 * 9, 1.0f), y(8 * 16);
  dnnf_conv2d_desc p{};
  p.N = 1, p.C = 2, p.H = 4, p.W = 4, p.OC = 8, p.KH = 1, p.KW = 1, p.OH = 4, p.OW = 4;
  p.stride_h = p.stride_w = p.dil_h = p.dil_w = p.group = 1;
  p.input = x.data(), p.weight = w.data();
  dnnf_conv2d_desc d = p;
  d.C = 8, d.group = 8, d.KH = d.KW = 3, d.pad_top = d.pad_left = 1, d.output = y.data(), d.input = nullptr;
  api.conv2d_chain(&p, &d, &api);  // a valid pair
  dnnf_conv2d_desc bad = d;
  bad.group = 1;
  EXPECT_THROW(api.conv2d_chain(&p, &bad, &api), std::invalid_argument);
  bad = d, bad.C = bad.OC = bad.group = 4;
  EXPECT_THROW(api.conv2d_chain(&p, &bad, &api), std::invalid_argument);
  bad = d, bad.H = 5, bad.OH = 5;
  EXPECT_THROW(api.conv2d_chain(&p, &bad, &api), std::invalid_argument);
  dnnf_conv2d_desc strided = p;
  strided.stride_h = 2, strided.OH = 2;
  EXPECT_THROW(api.conv2d_chain(&strided, &d, &api), std::invalid_argument);
}

}  // namespace
