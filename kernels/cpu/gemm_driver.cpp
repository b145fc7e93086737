#include "kernels/cpu/gemm_driver.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "kernels/cpu/gemm_microkernel.h"
#include "kernels/cpu/gemm_packing.h"
#include "kernels/cpu/scratch.h"

namespace dnnf_kernels {
namespace {

// Block limits: an A block (mc x kc) stays in L2 while one B panel (kc x nr) sits in L1.
constexpr int64_t kMaxKc = 256;
constexpr int64_t kMaxMcRows = 480;
constexpr int64_t kMaxNc = 1024;
// Large products (both sides at least kRowsOuterMin) keep one A micro-panel in L1 and
// stream the B block (kc x nc, 1 MB) from L2, row tiles outside: 1024^3 with B packed
// once went from 118-127 to 131-141 GFLOP/s on this machine (2 MB L2, 48 KB L1d). The
// same order lost 5-20% on the smaller shapes measured (512^3, BERT-base projections,
// 3x3 conv 256@14, 1x1 conv 64->256@56), so they keep the columns-outside order.
constexpr int64_t kRowsOuterMin = 768;
constexpr int64_t kRowsOuterMcRows = 240;
// Below this many multiply-adds, threading costs more than it saves.
constexpr double kParallelMinMacs = 1 << 18;
constexpr int kMaxTileFloats = 12 * 32;  // the largest micro-kernel tile (AVX-512)

struct Blocking {
  int64_t mc, nc, kc, mblocks, nblocks;
  bool rows_outer = false;  // row tiles outside column tiles inside a block
  int64_t tasks(int64_t batch) const { return batch * mblocks * nblocks; }
};

// Splits `n` into equal blocks of at most `max_block`, each a multiple of `unit`.
void split(int64_t n, int64_t max_block, int64_t unit, int64_t& block, int64_t& blocks) {
  blocks = ceil_div(n, max_block);
  block = ceil_div(ceil_div(n, blocks), unit) * unit;
  blocks = ceil_div(n, block);
}

Blocking choose_blocking(const GemmProblem& p, const MicroKernel& mk, int threads) {
  Blocking b;
  int64_t kblocks;
  if (p.a_k_block > 0) {  // k-blocks inside A's column blocks: a divisor of a_k_block
    int64_t pieces = ceil_div(p.a_k_block, kMaxKc);
    while (p.a_k_block % pieces != 0) ++pieces;
    b.kc = p.a_k_block / pieces;
  } else {
    split(std::max<int64_t>(p.K, 1), kMaxKc, 1, b.kc, kblocks);
  }
  b.rows_outer = p.M >= kRowsOuterMin && p.N >= kRowsOuterMin;
  int64_t max_mc = std::max<int64_t>((b.rows_outer ? kRowsOuterMcRows : kMaxMcRows) / mk.mr, 1) * mk.mr;
  int64_t max_nc = kMaxNc / mk.nr * mk.nr;
  split(p.M, max_mc, mk.mr, b.mc, b.mblocks);
  split(p.N, max_nc, mk.nr, b.nc, b.nblocks);
  // Enough tasks for every thread. Every task packs its own row block of A (unless A is
  // pre-packed) and its own column block of B (unless B is), so splitting columns packs
  // A again for every column block, and splitting rows packs B again for every row
  // block. With B pre-packed (weights) and A not, split rows first: splitting columns
  // first packed the activations once per column block, and MobileBERT's 128x128x512
  // GEMMs took longer on two threads than on one. Otherwise columns first.
  const bool rows_first = p.packed_b && !p.packed_a;
  const auto narrow_columns = [&] {
    if (b.nc <= 2 * mk.nr) return false;
    max_nc = std::max<int64_t>(b.nc / 2 / mk.nr * mk.nr, mk.nr);
    split(p.N, max_nc, mk.nr, b.nc, b.nblocks);
    return true;
  };
  const auto narrow_rows = [&] {
    if (b.mc <= mk.mr) return false;
    max_mc = std::max<int64_t>(b.mc / 2 / mk.mr * mk.mr, mk.mr);
    split(p.M, max_mc, mk.mr, b.mc, b.mblocks);
    return true;
  };
  while (threads > 1 && b.tasks(p.batch) < 2 * threads) {
    const bool narrowed = rows_first ? (narrow_rows() || narrow_columns()) : (narrow_columns() || narrow_rows());
    if (!narrowed) break;
  }
  return b;
}

// With k_slices > 1 (split_k_pays), task t computes slice t / (tasks per slice) of K,
// k_slice columns of A wide: slice 0 into C, slice s into the (s - 1)-th dense M x N
// matrix at `partials`, and no task runs the epilogue: reduce_slices adds the slices up
// and runs it.
struct TaskContext {
  const GemmProblem* p;
  const MicroKernel* mk;
  Blocking bl;
  int64_t k_slices = 1, k_slice = 0;
  float* partials = nullptr;
};

float* c_matrix(const GemmProblem& p, int64_t b) {
  return p.c + (p.c_offsets ? p.c_offsets[b] : b * p.c_batch_stride);
}

void run_task(const TaskContext& t, int64_t task) {
  const GemmProblem& p = *t.p;
  const MicroKernel& mk = *t.mk;
  const Blocking& bl = t.bl;
  const int64_t per_batch = bl.mblocks * bl.nblocks;
  const int64_t slice = task / bl.tasks(p.batch);
  task %= bl.tasks(p.batch);
  const int64_t batch = task / per_batch;
  const int64_t mi = (task % per_batch) / bl.nblocks, ni = task % bl.nblocks;
  const int64_t m0 = mi * bl.mc, mlen = std::min(bl.mc, p.M - m0);
  const int64_t n0 = ni * bl.nc, nlen = std::min(bl.nc, p.N - n0);
  const int64_t k_begin = slice * t.k_slice, k_end = t.k_slices > 1 ? std::min(p.K, k_begin + t.k_slice) : p.K;
  const int64_t ldc = slice > 0 ? p.N : p.ldc;
  float* c = (slice > 0 ? t.partials + (slice - 1) * p.M * p.N : c_matrix(p, batch)) + m0 * ldc + n0;

  if (k_begin >= k_end && (slice > 0 || !p.accumulate)) {
    for (int64_t i = 0; i < mlen; ++i) std::fill(c + i * ldc, c + i * ldc + nlen, 0.0f);
  }
  thread_local Scratch a_scratch, b_scratch;
  const int mr = mk.mr, nr = mk.nr;
  for (int64_t k0 = k_begin; k0 < k_end; k0 += bl.kc) {
    const int64_t kc = std::min(bl.kc, k_end - k0);
    const float* a_panels;
    int64_t a_stride;
    if (p.packed_a) {
      a_panels = p.packed_a + (m0 / mr) * p.K * mr + k0 * mr;
      a_stride = p.K * mr;
    } else {
      float* buf = a_scratch.get(panel_floats(mlen, kc, mr));
      if (p.a_k_block > 0)
        pack_a_block(p.a.at(batch) + (k0 / p.a_k_block) * p.a_k_block_stride, p.a.ld, p.a.trans, m0, mlen,
                     k0 % p.a_k_block, kc, mr, buf);
      else
        pack_a_block(p.a.at(batch), p.a.ld, p.a.trans, m0, mlen, k0, kc, mr, buf);
      a_panels = buf;
      a_stride = kc * mr;
    }
    const float* b_panels;
    int64_t b_stride;
    if (p.packed_b) {
      b_panels = p.packed_b + (n0 / nr) * p.K * nr + k0 * nr;
      b_stride = p.K * nr;
    } else {
      float* buf = b_scratch.get(panel_floats(nlen, kc, nr));
      if (p.pack_b)
        p.pack_b(p.pack_b_ctx, batch, k0, kc, n0, nlen, nr, buf);
      else
        pack_b_block(p.b.at(batch), p.b.ld, p.b.trans, k0, kc, n0, nlen, nr, buf);
      b_panels = buf;
      b_stride = kc * nr;
    }
    const bool accumulate = (p.accumulate && slice == 0) || k0 > k_begin;
    // One register tile. The first row tile of a column panel prefetches the next column
    // panel, which the other row tiles then find in L2 (packed weights are read once per
    // run, from L3 or memory).
    const auto tile_at = [&](int64_t i0, int64_t j0) {
      const float* ap = a_panels + (i0 / mr) * a_stride;
      const float* bp = b_panels + (j0 / nr) * b_stride;
      const int rows = int(std::min<int64_t>(mr, mlen - i0));
      const int cols = int(std::min<int64_t>(nr, nlen - j0));
      const float* b_next = i0 == 0 && j0 + nr < nlen ? bp + b_stride : nullptr;
      float* ct = c + i0 * ldc + j0;
      if (cols == nr) {
        mk.rows[rows](kc, ap, bp, ct, ldc, p.alpha, accumulate, b_next);
        return;
      }
      // Column edge: compute the register tile, or its narrow part when that covers the
      // columns, into a buffer, keep the valid part.
      alignas(64) float tile[kMaxTileFloats];
      if (accumulate)
        for (int i = 0; i < rows; ++i) std::memcpy(tile + i * nr, ct + i * ldc, cols * 4);
      mk.for_columns(cols)(kc, ap, bp, tile, nr, p.alpha, accumulate, b_next);
      for (int i = 0; i < rows; ++i) std::memcpy(ct + i * ldc, tile + i * nr, cols * 4);
    };
    if (bl.rows_outer) {
      for (int64_t i0 = 0; i0 < mlen; i0 += mr)
        for (int64_t j0 = 0; j0 < nlen; j0 += nr) tile_at(i0, j0);
    } else {
      for (int64_t j0 = 0; j0 < nlen; j0 += nr)
        for (int64_t i0 = 0; i0 < mlen; i0 += mr) tile_at(i0, j0);
    }
  }
  if (p.epilogue && t.k_slices == 1) p.epilogue(p.epilogue_ctx, c, ldc, batch, m0, n0, mlen, nlen);
}

void run_tasks(void* ctx, int64_t begin, int64_t end) {
  const auto& t = *static_cast<const TaskContext*>(ctx);
  for (int64_t task = begin; task < end; ++task) run_task(t, task);
}

// Whether to split K over the threads instead of the result (rows and columns): when the
// result is small and K long, as in an SSD head's 3x3 convolution (126 x 100 outputs,
// K = 9216) or a pointwise convolution on a 10 x 10 plane. Cutting such a result into the
// 2 * threads tasks the blocking asks for makes every column block read all of A again
// and every row block pack all of B again; in a whole model the weights come from
// memory, so MobileNetV1-SSD's heads ran 1.2x faster on two threads than on one while
// ONNX Runtime's ran 1.9x faster. Split K, A and B are read once in all, and what it
// costs is one M x N partial result per extra slice, written and read back once. The
// counts are floats moved; an operand packed per call is read, written and read again.
bool split_k_pays(const GemmProblem& p, const Blocking& threaded, int threads) {
  if (p.batch != 1 || p.a_k_block > 0 || p.K < 2 * kMaxKc * threads) return false;
  if (threaded.tasks(1) < threads) return true;  // the result alone cannot keep every thread busy
  const double a_reads = double(p.M) * double(p.K) * (p.packed_a ? 1 : 3);
  const double b_reads = double(p.K) * double(p.N) * (p.packed_b ? 1 : 3);
  const double result_split = double(threaded.nblocks - 1) * a_reads + double(threaded.mblocks - 1) * b_reads;
  const double k_split = double(threads - 1) * double(p.M) * double(p.N) * 3;
  return k_split < result_split;
}

struct ReduceContext {
  const GemmProblem* p;
  int64_t rows_per_task, slices;  // slices 1.. are `partials`, one dense M x N matrix each
  const float* partials;
};

// Adds the partial results of K slices 1.. into C, a strip of rows per task, and hands
// each finished strip to the epilogue.
void reduce_slices(void* ctx, int64_t begin, int64_t end) {
  const auto& r = *static_cast<const ReduceContext*>(ctx);
  const GemmProblem& p = *r.p;
  for (int64_t task = begin; task < end; ++task) {
    const int64_t m0 = task * r.rows_per_task, rows = std::min(r.rows_per_task, p.M - m0);
    float* c = c_matrix(p, 0) + m0 * p.ldc;
    for (int64_t s = 1; s < r.slices; ++s)
      for (int64_t i = 0; i < rows; ++i) {
        float* dst = c + i * p.ldc;
        const float* src = r.partials + (s - 1) * p.M * p.N + (m0 + i) * p.N;
        for (int64_t j = 0; j < p.N; ++j) dst[j] += src[j];
      }
    if (p.epilogue) p.epilogue(p.epilogue_ctx, c, p.ldc, 0, m0, 0, rows, p.N);
  }
}

void run_split_k(const GemmProblem& p, const MicroKernel& mk, const Blocking& single, int threads,
                 const dnnf_api* api) {
  thread_local Scratch partial_scratch;  // the caller's thread: tasks only write into it
  TaskContext t{&p, &mk, single};
  const int64_t kblocks = (p.K + single.kc - 1) / single.kc;
  t.k_slice = (kblocks + threads - 1) / threads * single.kc;
  t.k_slices = (p.K + t.k_slice - 1) / t.k_slice;
  t.partials = partial_scratch.get((t.k_slices - 1) * p.M * p.N);
  api->parallel_for(api->pool, t.k_slices * single.tasks(1), run_tasks, &t);
  ReduceContext r{&p, std::max<int64_t>((p.M + 4 * threads - 1) / (4 * threads), 1), t.k_slices, t.partials};
  api->parallel_for(api->pool, (p.M + r.rows_per_task - 1) / r.rows_per_task, reduce_slices, &r);
}

// A packed whole (panels of mr rows over all of K, the packed_a layout), some panels
// per task.
struct PackAContext {
  const GemmProblem* p;
  int mr;
  int64_t panels_per_task;
  float* dst;
};

void pack_a_panels(void* ctx, int64_t begin, int64_t end) {
  const auto& c = *static_cast<const PackAContext*>(ctx);
  const GemmProblem& p = *c.p;
  for (int64_t task = begin; task < end; ++task) {
    const int64_t m0 = task * c.panels_per_task * c.mr;
    const int64_t rows = std::min(c.panels_per_task * c.mr, p.M - m0);
    if (rows > 0) pack_a_block(p.a.at(0), p.a.ld, p.a.trans, m0, rows, 0, p.K, c.mr, c.dst + (m0 / c.mr) * p.K * c.mr);
  }
}

// Whether to pack A once for all tasks, over the threads, before they run: when B is
// packed (weights) and A is not, the blocking splits rows first so that no task packs
// A again, but then every row block reads all of B (BERT-base's 128 x 768 x 768
// projections: six row blocks of 24 rows, each reading the whole 2.4 MB of packed
// weights from L3, and 11 row tiles do not share evenly over two threads). With A
// packed once the tasks split the columns: each reads its part of B once, and A from L2.
// Only for a B larger than L2 (kSharedAMinBBytes): when B stays in L2, reading it again
// is cheaper than the extra parallel region and reading the A panels another core
// packed (MobileBERT's 128 x 128 x 512 GEMMs took 1.5x as long, TinyBERT's 1.25x).
constexpr int64_t kSharedAMinBBytes = int64_t(1) << 20;

bool shares_packed_a(const GemmProblem& p, const Blocking& threaded) {
  return p.batch == 1 && p.packed_b && !p.packed_a && p.a_k_block == 0 && threaded.mblocks > 1 &&
         p.K * p.N * int64_t(sizeof(float)) >= kSharedAMinBBytes;
}

const float* pack_a_shared(const GemmProblem& p, const MicroKernel& mk, const dnnf_api* api) {
  thread_local Scratch shared;  // the caller's thread: tasks only read it
  PackAContext c{&p, mk.mr, 1, shared.get(panel_floats(p.M, p.K, mk.mr))};
  const int64_t panels = ceil_div(p.M, mk.mr);
  c.panels_per_task = ceil_div(panels, int64_t(2) * api->num_threads);
  api->parallel_for(api->pool, ceil_div(panels, c.panels_per_task), pack_a_panels, &c);
  return c.dst;
}

}  // namespace

void run_gemm(const GemmProblem& p, const dnnf_api* api) {
  if (p.batch <= 0 || p.M <= 0 || p.N <= 0) return;
  const MicroKernel& mk = micro_kernel();
  const double macs = double(p.batch) * double(p.M) * double(p.N) * double(p.K);
  const bool parallel = api && api->parallel_for && api->num_threads > 1 && macs >= kParallelMinMacs;
  const int threads = parallel ? api->num_threads : 1;
  TaskContext t{&p, &mk, choose_blocking(p, mk, threads)};
  if (parallel && split_k_pays(p, t.bl, api->num_threads))
    return run_split_k(p, mk, choose_blocking(p, mk, 1), api->num_threads, api);
  GemmProblem with_packed_a;
  if (parallel && shares_packed_a(p, t.bl)) {
    with_packed_a = p;
    with_packed_a.packed_a = pack_a_shared(p, mk, api);
    t = TaskContext{&with_packed_a, &mk, choose_blocking(with_packed_a, mk, threads)};
  }
  const int64_t tasks = t.bl.tasks(p.batch);
  if (parallel && tasks > 1)
    api->parallel_for(api->pool, tasks, run_tasks, const_cast<TaskContext*>(&t));
  else
    run_tasks(const_cast<TaskContext*>(&t), 0, tasks);
}

}  // namespace dnnf_kernels
