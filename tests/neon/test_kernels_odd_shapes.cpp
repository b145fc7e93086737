// Every micro-kernel path on odd sizes (1, 3, 17, 255: below, at and across the register
// tile and vector widths) against a double-precision reference, serial and on 3 threads:
// GEMM (all transposes, packed B, batches, epilogue), 2-D convolution (1x1, 3x3, strided,
// padded, grouped, depthwise; packed and unpacked weights) and the SIMD layer's vector
// body against its scalar tail. Built for the host with the unit tests' GoogleTest and
// for aarch64 with tests/neon/gtest (run under qemu by tests/neon/run_kernel_tests.sh).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/kernel_api.h"
#include "kernels/simd/simd.h"
#include "tests/unit/kernel_test_pool.h"

namespace {

const int64_t kOdd[] = {1, 3, 17, 255};

// |got - want| <= 1e-4 * (1 + sum of |terms|): float accumulation of K terms.
bool close(double got, double want, double magnitude) { return std::fabs(got - want) <= 1e-4 * (1.0 + magnitude); }

// With `accumulate`, C (all -7 before) is added to: C += 0.5 A B.
void gemm_case(int64_t M, int64_t N, int64_t K, bool ta, bool tb, bool packed, bool accumulate, int64_t batch,
               const dnnf_api& api) {
  std::mt19937 rng(unsigned(M * 1000003 + N * 1009 + K * 7 + ta * 2 + tb));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  std::vector<float> A(static_cast<size_t>(batch * M * K)), B(static_cast<size_t>(K * N));
  std::vector<float> C(static_cast<size_t>(batch * M * N), -7.0f);
  for (float& x : A) x = dist(rng);
  for (float& x : B) x = dist(rng);
  void* pb = packed ? dnnf_gemm_pack_b(B.data(), K, N, ldb, tb) : nullptr;
  // With packed B, A is packed too when there is one matrix.
  void* pa = packed && batch == 1 ? dnnf_gemm_pack_a(A.data(), M, K, lda, ta) : nullptr;
  dnnf_gemm_desc d{};
  d.batch = batch;
  d.M = M;
  d.N = N;
  d.K = K;
  d.A = A.data();
  d.lda = lda;
  d.a_batch_stride = M * K;
  d.trans_a = ta;
  d.B = B.data();
  d.ldb = ldb;
  d.b_batch_stride = 0;  // one B for every batch
  d.trans_b = tb;
  d.packed_b = pb;
  d.packed_a = pa;
  d.C = C.data();
  d.ldc = N;
  d.c_batch_stride = M * N;
  d.alpha = 0.5f;
  d.accumulate = accumulate;
  dnnf_gemm_f32(&d, &api);
  dnnf_release_packed(pb);
  dnnf_release_packed(pa);
  int bad = 0;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double want = 0, mag = 0;
        for (int64_t k = 0; k < K; ++k) {
          const double a = A[size_t(b * M * K + (ta ? k * lda + m : m * lda + k))];
          const double bv = B[size_t(tb ? n * ldb + k : k * ldb + n)];
          want += a * bv;
          mag += std::fabs(a * bv);
        }
        want = want * 0.5 + (accumulate ? -7.0 : 0.0);
        const float got = C[size_t(b * M * N + m * N + n)];
        if (!close(got, want, mag) && bad++ < 3)
          ADD_FAILURE() << "gemm M " << M << " N " << N << " K " << K << " ta " << ta << " tb " << tb << " packed "
                        << packed << " accumulate " << accumulate << " threads " << api.num_threads << ": C[" << b << "][" << m << "][" << n
                        << "] = " << got << " want " << want;
      }
}

TEST(OddShapes, GemmEveryTransposeAndPacking) {
  for (int threads : {1, 3}) {
    dnnf_test::TaskPool pool(threads);
    const dnnf_api api = dnnf_make_api(&pool, dnnf_test::TaskPool::parallel_for, threads);
    for (int64_t M : kOdd)
      for (int64_t N : kOdd)
        for (int64_t K : kOdd) {
          // The full transpose/packing/accumulate matrix where it is cheap; the 255^3
          // products once.
          const bool big = M * N * K > 255 * 255 * 17;
          for (int variant = 0; variant < (big ? 1 : 16); ++variant)
            gemm_case(M, N, K, variant & 1, variant & 2, variant & 4, variant & 8, M * N * K > 17 * 17 * 17 ? 1 : 2,
                      api);
        }
  }
}

void conv_case(int64_t C, int64_t OC, int64_t H, int64_t W, int64_t KH, int64_t stride, int64_t pad, int64_t group,
               bool packed, const dnnf_api& api) {
  const int64_t KW = KH, OH = (H + 2 * pad - KH) / stride + 1, OW = (W + 2 * pad - KW) / stride + 1;
  if (OH < 1 || OW < 1) return;
  const int64_t cg = C / group, ocg = OC / group;
  std::mt19937 rng(unsigned(C * 7919 + OC * 104729 + H * 31 + KH * 3 + stride + group));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> in(static_cast<size_t>(C * H * W)), w(static_cast<size_t>(OC * cg * KH * KW));
  std::vector<float> bias(static_cast<size_t>(OC)), out(static_cast<size_t>(OC * OH * OW));
  for (float& x : in) x = dist(rng);
  for (float& x : w) x = dist(rng);
  for (float& x : bias) x = dist(rng);
  dnnf_conv2d_desc d{};
  d.N = 1;
  d.C = C;
  d.H = H;
  d.W = W;
  d.OC = OC;
  d.KH = KH;
  d.KW = KW;
  d.OH = OH;
  d.OW = OW;
  d.stride_h = d.stride_w = stride;
  d.pad_top = d.pad_left = pad;
  d.dil_h = d.dil_w = 1;
  d.group = group;
  d.input = in.data();
  d.weight = w.data();
  d.bias = bias.data();
  d.output = out.data();
  void* pw = packed ? dnnf_conv2d_pack(&d) : nullptr;
  d.packed_weight = pw;
  dnnf_conv2d_f32(&d, &api);
  dnnf_release_packed(pw);
  int bad = 0;
  for (int64_t oc = 0; oc < OC; ++oc)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t g = oc / ocg;
        double want = bias[size_t(oc)], mag = std::fabs(want);
        for (int64_t c = 0; c < cg; ++c)
          for (int64_t kh = 0; kh < KH; ++kh)
            for (int64_t kw = 0; kw < KW; ++kw) {
              const int64_t ih = oh * stride - pad + kh, iw = ow * stride - pad + kw;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              const double t = double(in[size_t(((g * cg + c) * H + ih) * W + iw)]) *
                               w[size_t(((oc * cg + c) * KH + kh) * KW + kw)];
              want += t;
              mag += std::fabs(t);
            }
        const float got = out[size_t((oc * OH + oh) * OW + ow)];
        if (!close(got, want, mag) && bad++ < 3)
          ADD_FAILURE() << "conv C " << C << " OC " << OC << " H=W " << H << " k " << KH << " s " << stride << " p "
                        << pad << " group " << group << " packed " << packed << " threads " << api.num_threads
                        << ": out[" << oc << "][" << oh << "][" << ow << "] = " << got << " want " << want;
      }
}

TEST(OddShapes, ConvolutionDenseGroupedDepthwise) {
  for (int threads : {1, 3}) {
    dnnf_test::TaskPool pool(threads);
    const dnnf_api api = dnnf_make_api(&pool, dnnf_test::TaskPool::parallel_for, threads);
    for (int64_t C : {1, 3, 17})
      for (int64_t HW : {1, 3, 17})
        for (int64_t K : {1, 3})
          for (int64_t stride : {1, 2})
            for (bool packed : {false, true}) {
              const int64_t pad = K / 2;
              for (int64_t OC : {1, 3, 17}) conv_case(C, OC, HW, HW, K, stride, pad, 1, packed, api);
              conv_case(C, C, HW, HW, K, stride, pad, C, packed, api);  // depthwise
              if (C == 3) conv_case(C, 6, HW, HW, K, stride, pad, 3, packed, api);  // grouped, 2 per group
            }
    // One larger image through the blocked paths (positions beyond one tile).
    conv_case(17, 17, 33, 31, 3, 1, 1, 1, true, api);
    conv_case(17, 17, 33, 31, 3, 1, 1, 17, true, api);
  }
}

// The vector body (vf) and the scalar tail (float) of the same function must agree on
// every lane, so a kernel's result does not depend on where its tail starts.
TEST(OddShapes, SimdVectorAndScalarAgree) {
  using dnnf_simd::vf;
  using dnnf_simd::VL;
  std::vector<float> xs;
  for (int i = 0; i < 255; ++i) xs.push_back(-12.0f + 24.0f * float(i) / 254.0f);
  while (xs.size() % size_t(VL)) xs.push_back(0.25f);
  struct Fn {
    const char* name;
    float (*s)(float);
    vf (*v)(vf);
  };
  const Fn fns[] = {
      {"exp", [](float x) { return dnnf_simd::vexp(x); }, [](vf x) { return dnnf_simd::vexp(x); }},
      {"tanh", [](float x) { return dnnf_simd::vtanh(x); }, [](vf x) { return dnnf_simd::vtanh(x); }},
      {"sigmoid", [](float x) { return dnnf_simd::vsigmoid(x); }, [](vf x) { return dnnf_simd::vsigmoid(x); }},
      {"erf", [](float x) { return dnnf_simd::verf(x); }, [](vf x) { return dnnf_simd::verf(x); }},
      {"floor", [](float x) { return dnnf_simd::vfloor(x); }, [](vf x) { return dnnf_simd::vfloor(x); }},
  };
  for (const Fn& f : fns)
    for (size_t i = 0; i < xs.size(); i += size_t(VL)) {
      vf v;
      __builtin_memcpy(&v, &xs[i], sizeof v);
      const vf r = f.v(v);
      for (int l = 0; l < VL; ++l) {
        const float s = f.s(xs[i + size_t(l)]);
        EXPECT_TRUE(std::fabs(r[l] - s) <= 1e-6f * (1.0f + std::fabs(s))) << f.name << "(" << xs[i + size_t(l)]
                                                                          << "): vector " << r[l] << " scalar " << s;
      }
    }
}

}  // namespace
