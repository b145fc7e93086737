// dnnf_gemm_f32 / dnnf_gemm_pack_b against a naive triple loop in double precision, with
// an epilogue that checks every element of C is handed over exactly once, serially and on
// a 4-thread parallel_for; with `accumulate`, the product is added to what C held.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/gemm_microkernel.h"
#include "kernels/cpu/kernel_api.h"
#include "tests/unit/kernel_test_pool.h"

namespace {

struct GemmCase {
  int64_t batch, M, N, K;
  bool trans_a, trans_b;
  float alpha;
  bool broadcast_a = false;  // a_batch_stride 0
  bool use_offsets = false;  // offsets arrays instead of strides
  bool packed_b = false;
  int64_t pad = 0;  // extra columns in every leading dimension
  bool accumulate = false;  // C += alpha A B
  bool packed_a = false;    // A packed once (one A: batch 1 or broadcast)
};

// What C holds before an accumulating GEMM.
float c_before(int64_t ci) { return 0.01f * float(ci % 97) - 0.3f; }

// Hits per element of C, indexed like C: batch b's matrix starts at c_start[b].
struct Coverage {
  std::vector<std::atomic<int>> hits;
  int64_t ldc;
  std::vector<int64_t> c_start;
  Coverage(size_t n, int64_t ldc, std::vector<int64_t> c_start) : hits(n), ldc(ldc), c_start(std::move(c_start)) {}
};

// Adds 1 to the tile and counts how often each element was seen.
void add_one_epilogue(void* ctx, float* tile, int64_t ldt, int64_t batch, int64_t row0,
                      int64_t col0, int64_t rows, int64_t cols) {
  auto* cov = static_cast<Coverage*>(ctx);
  EXPECT_EQ(ldt, cov->ldc);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      tile[i * ldt + j] += 1.0f;
      cov->hits[cov->c_start[size_t(batch)] + (row0 + i) * cov->ldc + col0 + j]++;
    }
}

void run_case(const GemmCase& gc, const dnnf_api& api) {
  SCOPED_TRACE(::testing::Message() << "batch " << gc.batch << " M " << gc.M << " N " << gc.N
                                    << " K " << gc.K << " ta " << gc.trans_a << " tb "
                                    << gc.trans_b << " threads " << api.num_threads);
  std::mt19937 rng(unsigned(gc.M * 131 + gc.N * 7 + gc.K));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const int64_t a_rows = gc.trans_a ? gc.K : gc.M, a_cols = gc.trans_a ? gc.M : gc.K;
  const int64_t b_rows = gc.trans_b ? gc.N : gc.K, b_cols = gc.trans_b ? gc.K : gc.N;
  const int64_t lda = a_cols + gc.pad, ldb = b_cols + gc.pad, ldc = gc.N + gc.pad;
  const int64_t a_size = a_rows * lda, b_size = b_rows * ldb, c_size = gc.M * ldc;
  const int64_t a_batches = gc.broadcast_a ? 1 : gc.batch;
  // Offsets store the matrices in reverse order after a gap, to catch a driver ignoring
  // them: no matrix starts at the base, not even the only one of batch 1.
  const int64_t gap = gc.use_offsets ? 7 : 0;
  std::vector<float> A(gap + a_batches * a_size + 1), B(gap + gc.batch * b_size + 1);
  for (auto& x : A) x = dist(rng);
  for (auto& x : B) x = dist(rng);
  std::vector<int64_t> a_off(gc.batch), b_off(gc.batch), c_off(gc.batch);
  for (int64_t b = 0; b < gc.batch; ++b) {
    a_off[b] = gap + (gc.broadcast_a ? 0 : (gc.batch - 1 - b) * a_size);
    b_off[b] = gap + (gc.batch - 1 - b) * b_size;
    c_off[b] = gap + (gc.batch - 1 - b) * c_size;
  }
  auto a_at = [&](int64_t b) { return gc.use_offsets ? a_off[b] : (gc.broadcast_a ? 0 : b * a_size); };
  auto b_at = [&](int64_t b) { return gc.use_offsets ? b_off[b] : b * b_size; };
  auto c_at = [&](int64_t b) { return gc.use_offsets ? c_off[b] : b * c_size; };
  const float sentinel = 1234.5f;
  std::vector<float> C(gap + gc.batch * c_size + 1, sentinel);
  if (gc.accumulate)
    for (int64_t b = 0; b < gc.batch; ++b)
      for (int64_t m = 0; m < gc.M; ++m)
        for (int64_t n = 0; n < gc.N; ++n) {
          const int64_t ci = c_at(b) + m * ldc + n;
          C[ci] = c_before(ci);
        }

  void* packed = gc.packed_b ? dnnf_gemm_pack_b(B.data(), gc.K, gc.N, ldb, gc.trans_b) : nullptr;
  void* packed_a = gc.packed_a ? dnnf_gemm_pack_a(A.data() + a_at(0), gc.M, gc.K, lda, gc.trans_a) : nullptr;
  std::vector<int64_t> c_start(size_t(gc.batch));
  for (int64_t b = 0; b < gc.batch; ++b) c_start[size_t(b)] = c_at(b);
  Coverage cov(C.size(), ldc, c_start);
  dnnf_gemm_desc d{};
  d.batch = gc.batch;
  d.M = gc.M;
  d.N = gc.N;
  d.K = gc.K;
  d.A = A.data();
  d.lda = lda;
  d.a_batch_stride = gc.broadcast_a ? 0 : a_size;
  d.a_offsets = gc.use_offsets ? a_off.data() : nullptr;
  d.trans_a = gc.trans_a;
  d.B = gc.packed_b ? nullptr : B.data();
  d.ldb = ldb;
  d.b_batch_stride = gc.packed_b ? 0 : b_size;
  d.b_offsets = gc.use_offsets && !gc.packed_b ? b_off.data() : nullptr;
  d.trans_b = gc.trans_b;
  d.packed_b = packed;
  d.packed_a = packed_a;
  d.C = C.data();
  d.ldc = ldc;
  d.c_batch_stride = c_size;
  d.c_offsets = gc.use_offsets ? c_off.data() : nullptr;
  d.alpha = gc.alpha;
  d.accumulate = gc.accumulate;
  d.epilogue = add_one_epilogue;
  d.epilogue_ctx = &cov;
  api.gemm(&d, &api);
  dnnf_release_packed(packed);
  dnnf_release_packed(packed_a);

  for (int64_t ci = 0; ci < gap; ++ci) {  // before the first matrix: never written, never handed on
    EXPECT_EQ(C[ci], sentinel);
    EXPECT_EQ(cov.hits[ci].load(), 0);
  }
  int failures = 0;
  for (int64_t b = 0; b < gc.batch && failures < 5; ++b) {
    const int64_t bb = gc.packed_b ? 0 : b;  // a packed B serves every batch
    for (int64_t m = 0; m < gc.M; ++m)
      for (int64_t n = 0; n < ldc; ++n) {
        const int64_t ci = c_at(b) + m * ldc + n;
        if (n >= gc.N) {  // padding columns: never written, never handed to the epilogue
          EXPECT_EQ(C[ci], sentinel);
          EXPECT_EQ(cov.hits[ci].load(), 0);
          continue;
        }
        double ref = 0, mag = 0;
        for (int64_t k = 0; k < gc.K; ++k) {
          const double a = A[a_at(b) + (gc.trans_a ? k * lda + m : m * lda + k)];
          const double bv = B[(gc.packed_b ? 0 : b_at(bb)) + (gc.trans_b ? n * ldb + k : k * ldb + n)];
          ref += a * bv;
          mag += std::fabs(a * bv);
        }
        ref = ref * gc.alpha + 1.0 + (gc.accumulate ? c_before(ci) : 0.0);
        const bool ok = std::fabs(C[ci] - ref) <= 1e-4 * (std::fabs(gc.alpha) * mag + 1.0) &&
                        cov.hits[ci].load() == 1;
        if (!ok && failures++ < 5)
          ADD_FAILURE() << "C[" << b << "][" << m << "][" << n << "] = " << C[ci] << " want " << ref
                        << ", epilogue saw it " << cov.hits[ci].load() << " times";
      }
  }
  EXPECT_EQ(C.back(), sentinel);
}

std::vector<GemmCase> cases() {
  std::vector<GemmCase> v = {
      {1, 1, 1, 1, false, false, 1.0f},
      {1, 13, 17, 19, false, false, 1.0f},
      {1, 13, 17, 19, true, false, 0.5f},
      {1, 13, 17, 19, false, true, 2.0f},
      {1, 13, 17, 19, true, true, -1.0f},
      {1, 37, 70, 300, false, false, 1.0f},   // several k-blocks
      {1, 200, 1100, 40, false, true, 1.0f},  // several row and column blocks
      {1, 64, 96, 128, false, false, 1.0f, false, false, false, 5},
      {1, 5, 7, 0, false, false, 1.0f},  // K = 0: C = 0, epilogue still runs
      {3, 21, 33, 45, false, false, 1.0f},
      {3, 21, 33, 45, true, true, 1.0f, true},           // A broadcast over batches
      {4, 12, 32, 16, false, false, 1.0f, false, true},  // offsets arrays
      {2, 50, 40, 70, false, false, 1.0f, true, true, true},
      {1, 31, 45, 333, false, true, 1.0f, false, false, true, 3},  // packed B
      {1, 128, 768, 768, false, false, 1.0f, false, false, true},
      {1, 781, 797, 40, false, true, 1.0f},  // M, N >= 768: row tiles outside, odd edges
      {1, 800, 790, 270, false, false, 0.5f, false, false, true},  // the same, packed B, two k-blocks
      // C += alpha A B: the first k-block adds too (a MatMul chain sums column blocks)
      {1, 13, 17, 19, false, false, 1.0f, false, false, false, 0, true},
      {1, 37, 70, 300, false, false, 0.5f, false, false, true, 2, true},
      {3, 21, 33, 45, false, true, 1.0f, false, true, false, 0, true},
      {1, 200, 1100, 40, false, false, 1.0f, false, false, true, 0, true},
      {1, 5, 7, 0, false, false, 1.0f, false, false, false, 0, true},  // K = 0: C unchanged
      // A packed once (an Attention's projections share it over heads)
      {1, 13, 17, 19, true, false, 1.0f, false, false, false, 0, false, true},
      {1, 200, 1100, 40, false, true, 1.0f, false, false, true, 0, true, true},
      {1, 800, 790, 270, false, false, 0.5f, false, false, true, 0, false, true},
      {3, 21, 33, 45, false, false, 1.0f, true, false, false, 0, false, true},  // shared by all batches
  };
  return v;
}

TEST(KernelsGemm, SerialMatchesNaive) {
  const dnnf_api api = dnnf_make_api(nullptr, nullptr, 1);
  for (const GemmCase& gc : cases()) run_case(gc, api);
}

TEST(KernelsGemm, FourThreadsMatchNaive) {
  dnnf_test::TaskPool pool(4);
  const dnnf_api api = dnnf_make_api(&pool, dnnf_test::TaskPool::parallel_for, 4);
  for (const GemmCase& gc : cases()) run_case(gc, api);
  EXPECT_GT(pool.calls(), 0);  // the big cases really went through the pool
}

// Runs every case on 2 and 4 threads against the naive product, each in exactly two
// pool calls (`what` they are).
void expect_two_pool_calls(const std::vector<GemmCase>& cases, const char* what) {
  for (int threads : {2, 4}) {
    dnnf_test::TaskPool pool(threads);
    const dnnf_api api = dnnf_make_api(&pool, dnnf_test::TaskPool::parallel_for, threads);
    for (const GemmCase& gc : cases) {
      const int before = pool.calls();
      run_case(gc, api);
      EXPECT_EQ(pool.calls() - before, 2) << "M " << gc.M << " N " << gc.N << " K " << gc.K << " on " << threads
                                          << " threads: " << what;
    }
  }
}

// A small result with a long K (an SSD head's 3x3 convolution, a pointwise one on a
// 10 x 10 plane) is split over K instead of over the result: on 2 and 4 threads every
// slice goes through the pool and a second pool call adds the slices up and runs the
// epilogue once per element; accumulating, packed and transposed operands, a K that
// leaves the last slice short, and a result placed by c_offsets.
TEST(KernelsGemm, LongKSplitsOverThreadsAndMatchesNaive) {
  const std::vector<GemmCase> long_k = {
      {1, 13, 17, 2100, false, false, 1.0f},
      {1, 126, 37, 4608, false, false, 1.0f, false, false, false, 0, false, true},  // packed A (weights)
      {1, 24, 100, 2304, true, true, 0.5f, false, false, false, 3, true},         // accumulate, padded
      {1, 50, 45, 2500, false, false, 1.0f, false, false, true, 0, true, false},  // packed B, accumulate
      {1, 7, 9, 5000, false, true, -1.0f},
      {1, 9, 20, 3000, false, false, 1.0f, false, true},  // offsets: the result lies after a gap
  };
  expect_two_pool_calls(long_k, "the slices, then their sum");
}

// Packed weights larger than L2 with rows split over the threads: A is packed once, its
// row panels shared out over the pool, and the tasks then split the columns (two pool
// calls). Odd row counts leave a partial last panel; transposed and padded A,
// accumulating into C, on 2 and 4 threads.
TEST(KernelsGemm, WeightsLargerThanL2ShareOnePackOfA) {
  const std::vector<GemmCase> large_b = {
      {1, 37, 450, 600, false, false, 1.0f, false, false, true},
      {1, 130, 768, 768, true, false, 0.5f, false, false, true, 3},
      {1, 61, 1100, 300, false, true, 1.0f, false, false, true, 0, true},
  };
  expect_two_pool_calls(large_b, "the pack of A, then the product");
}

// A's columns in blocks (an Attention's [H, S, D] result read as [S, H * D]): element
// (m, k) at A[(k / kb) * block_stride + m * kb + k % kb], serially and on 4 threads, with
// blocks shorter and longer than a k-block of the driver.
TEST(KernelsGemm, ColumnBlocksOfAMatchNaive) {
  dnnf_test::TaskPool pool(4);
  for (const dnnf_api& api : {dnnf_make_api(nullptr, nullptr, 1), dnnf_make_api(&pool, dnnf_test::TaskPool::parallel_for, 4)})
    for (const auto& [M, N, K, kb] : std::vector<std::array<int64_t, 4>>{{37, 45, 60, 20}, {128, 768, 768, 64},
                                                                         {9, 33, 1200, 600}}) {
      SCOPED_TRACE(::testing::Message() << "M " << M << " N " << N << " K " << K << " blocks of " << kb);
      std::mt19937 rng(unsigned(M + N + K));
      std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
      const int64_t stride = M * kb + 3;  // blocks need not touch
      std::vector<float> A(size_t(K / kb * stride)), B(size_t(K * N)), C(size_t(M * N), 9.0f);
      for (float& v : A) v = dist(rng);
      for (float& v : B) v = dist(rng);
      dnnf_gemm_desc d{};
      d.batch = 1, d.M = M, d.N = N, d.K = K;
      d.A = A.data(), d.lda = kb, d.a_k_block = kb, d.a_k_block_stride = stride;
      d.B = B.data(), d.ldb = N;
      d.C = C.data(), d.ldc = N, d.alpha = 1.0f;
      api.gemm(&d, &api);
      int failures = 0;
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          double ref = 0, mag = 0;
          for (int64_t k = 0; k < K; ++k) {
            const double t = double(A[size_t((k / kb) * stride + m * kb + k % kb)]) * B[size_t(k * N + n)];
            ref += t, mag += std::fabs(t);
          }
          if (std::fabs(C[size_t(m * N + n)] - ref) > 1e-4 * (mag + 1.0) && failures++ < 5)
            ADD_FAILURE() << "C[" << m << "][" << n << "] = " << C[size_t(m * N + n)] << " want " << ref;
        }
    }
}

TEST(KernelsGemm, PackedHandleChecksShape) {
  std::vector<float> B(6 * 4, 1.0f), A(3 * 6, 1.0f), C(3 * 4);
  void* packed = dnnf_gemm_pack_b(B.data(), 6, 4, 4, 0);
  dnnf_gemm_desc d{};
  d.batch = 1;
  d.M = 3;
  d.N = 4;
  d.K = 5;  // packed for K = 6
  d.A = A.data();
  d.lda = 6;
  d.packed_b = packed;
  d.C = C.data();
  d.ldc = 4;
  d.alpha = 1.0f;
  EXPECT_THROW(dnnf_gemm_f32(&d, nullptr), std::invalid_argument);
  d.K = 6;
  dnnf_gemm_f32(&d, nullptr);
  EXPECT_EQ(C[0], 6.0f);
  dnnf_release_packed(packed);
  dnnf_release_packed(nullptr);
}

}  // namespace

// The ctest entries kernels_isa_avx2 / kernels_isa_base rerun the kernel tests with the
// choice capped; this checks the cap took effect, so they do test that path.
TEST(KernelsGemm, IsaCapIsHonoured) {
  const char* cap = std::getenv("DNNF_KERNEL_ISA");
  if (!cap) return;  // not capped: the widest kernel is in use
  const std::string isa = dnnf_kernels::micro_kernel().isa, want = cap;
  if (want == "base") {
    EXPECT_TRUE(isa == "sse2" || isa == "neon") << isa;
  }
#if defined(__x86_64__)
  if (want == "avx2" && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    EXPECT_EQ(isa, want);
  }
#endif
}
