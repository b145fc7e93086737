// Winograd F(4x4, 3x3) convolution (Lavin & Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2016): each 4x4 block of outputs ("tile") of a 3x3 stride-1
// convolution is A^T [ (G g G^T) . (B^T d B) ] A, where d is the 6x6 input patch the
// tile reads. The element-wise product summed over input channels is 36 GEMMs,
// M[e] (OC x tiles) = U[e] (OC x C) * V[e] (C x tiles), e = 0..35: 36 multiply-adds per
// tile and channel pair instead of 16 * 9 = 144, a quarter of the im2col GEMM's work.
//
// U (the weights, transformed) is packed once, as 36 sets of GEMM A panels. Per task --
// a block of whole tile rows of one image -- the input transform writes V, the 36 GEMMs
// run on the calling thread in blocks of output channels small enough that their
// results stay in L2, and the output transform writes finished rows, bias included,
// before the epilogue sees them. Tasks run in parallel.
//
// Error: the transforms scale values by up to 8 (A) and 1/24 (G); against the im2col
// GEMM the results differ by about 1e-6 of the sum of |x * w| (the unit tests bound it
// at 1e-4 of it, the same bound as the other paths).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cpu/conv2d_internal.h"
#include "kernels/cpu/gemm_driver.h"
#include "kernels/cpu/gemm_microkernel.h"
#include "kernels/cpu/gemm_packing.h"
#include "kernels/cpu/packed_buffer.h"

namespace dnnf_kernels {
namespace {

constexpr int kElems = 36;  // 6x6 transformed elements per tile

#if defined(__x86_64__) || defined(__i386__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,fma,prefer-vector-width=512")
namespace avx512 {
#include "kernels/cpu/conv2d_winograd_rows.inc"
}  // namespace avx512
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
#include "kernels/cpu/conv2d_winograd_rows.inc"
}  // namespace avx2
#pragma GCC pop_options
#endif
namespace base {  // SSE2 on x86, NEON on aarch64
#include "kernels/cpu/conv2d_winograd_rows.inc"
}  // namespace base

struct RowFns {
  void (*split)(const float* src, int64_t W, int64_t first, int64_t count, float* p0, int64_t pitch);
  void (*input)(const float* phase, int64_t tiles, float* const out[36], float* scratch);
  void (*output)(const float* const m[36], int64_t tiles, float bias, float* const rows[4], float* scratch);
};

// The transforms on the instruction set the GEMM kernel uses (which honours DNNF_KERNEL_ISA).
RowFns row_fns() {
  static const std::string isa = micro_kernel().isa;
#if defined(__x86_64__) || defined(__i386__)
  if (isa == "avx512") return {avx512::split_phases, avx512::input_tiles, avx512::output_tile_row};
  if (isa == "avx2") return {avx2::split_phases, avx2::input_tiles, avx2::output_tile_row};
#endif
  return {base::split_phases, base::input_tiles, base::output_tile_row};
}

// G of F(4x4, 3x3): U = G g G^T.
constexpr double kG[6][3] = {{1.0 / 4, 0, 0},
                             {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                             {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                             {1.0 / 24, 1.0 / 12, 1.0 / 6},
                             {1.0 / 24, -1.0 / 12, 1.0 / 6},
                             {0, 0, 1}};

// Tiles per task: enough GEMM columns for whole micro-kernel panels, few enough that V
// (36 x C x tiles) is not much more than L2.
constexpr int64_t kTargetTiles = 96;
// The largest plane run in shared mode (plan()): V of the whole image is 36 x C x tiles.
constexpr int64_t kSharedMaxTiles = 8 * kTargetTiles;
// The largest transformed weights packed (winograd_pays): 256 MB.
constexpr int64_t kMaxTransformedFloats = int64_t(64) << 20;
// Floats of GEMM results per block of output channels: stays in a 1 MB L2 with V's panel.
constexpr int64_t kResultFloats = 96 * 1024;

struct Geometry {
  int64_t tiles_x, tiles_y;
  int64_t rows_per_task;  // tile rows
  int64_t row_blocks;     // per image
  bool shared;            // phases over channels rather than tasks over row blocks (below)
  int64_t oc_block;       // output channels per round of GEMMs
};

Geometry plan(const dnnf_conv2d_desc& d, int64_t threads, int mr) {
  Geometry g{};
  g.tiles_x = (d.OW + 3) / 4;
  g.tiles_y = (d.OH + 3) / 4;
  // Tile rows per task near the target, then evened out: 4 tile rows as 3 + 1 left a
  // thread idle half the time.
  const int64_t rows = std::clamp<int64_t>((kTargetTiles + g.tiles_x / 2) / g.tiles_x, 1, g.tiles_y);
  g.row_blocks = (g.tiles_y + rows - 1) / rows;
  g.rows_per_task = (g.tiles_y + g.row_blocks - 1) / g.row_blocks;
  g.row_blocks = (g.tiles_y + g.rows_per_task - 1) / g.rows_per_task;
  // Too few tasks to share evenly between the threads: on planes of up to kSharedMaxTiles
  // tiles each image is then one block, its input transform cut over the input channels
  // and, once that is done, its GEMMs and output transform over the output channels.
  // Larger planes instead get shorter row blocks until the threads come out even.
  const auto uneven = [&] {
    const int64_t tasks = d.N * g.row_blocks;
    return threads > 1 && (tasks < threads || (tasks % threads != 0 && tasks < 4 * threads));
  };
  g.shared = uneven() && g.tiles_x * g.tiles_y <= kSharedMaxTiles;
  if (g.shared) {
    g.rows_per_task = g.tiles_y;
    g.row_blocks = 1;
  }
  while (!g.shared && uneven() && g.rows_per_task > 1) {
    --g.rows_per_task;
    g.row_blocks = (g.tiles_y + g.rows_per_task - 1) / g.rows_per_task;
  }
  const int64_t tiles = g.rows_per_task * g.tiles_x;
  g.oc_block = std::max<int64_t>(mr, kResultFloats / (kElems * tiles) / mr * mr);
  return g;
}

// Part `part` of `parts` of [0, count), cut at multiples of `unit` but for the end.
std::pair<int64_t, int64_t> share(int64_t count, int64_t parts, int64_t part, int64_t unit) {
  auto edge = [&](int64_t s) { return s == parts ? count : s * count / parts / unit * unit; };
  return {edge(part), edge(part + 1)};
}

struct Job {
  const dnnf_conv2d_desc* d;
  const float* u;  // 36 sets of A panels, panel_floats(OC, C, mr) apart
  Geometry g;
  RowFns fns;
  int mr, nr;
  // Shared mode: the image in flight, its V, and how many parts each phase has.
  int64_t image = 0;
  float* v = nullptr;
  int64_t parts = 1;
};

// The tile rows of row block `block`, its tiles (the GEMMs' columns) and the size of V.
struct Block {
  int64_t ty0, ty1, tile_rows, tiles;
  int64_t v_floats;  // per element e: B panels of nr columns over C rows
};

Block block_of(const Job& job, int64_t block) {
  Block b;
  b.ty0 = block * job.g.rows_per_task;
  b.ty1 = std::min(job.g.tiles_y, b.ty0 + job.g.rows_per_task);
  b.tile_rows = b.ty1 - b.ty0;
  b.tiles = b.tile_rows * job.g.tiles_x;
  b.v_floats = ceil_div(b.tiles, job.nr) * job.nr * job.d->C;
  return b;
}

float* scratch_of(std::vector<float>& scratch, size_t floats) {
  if (scratch.size() < floats) scratch.resize(floats);
  return scratch.data();
}

// V for input channels [c0, c1) of block b of `image`: the input transform of every tile,
// straight into the GEMMs' B panels. All tile rows of the block go through the transform
// at once, side by side: on small planes a tile row alone is too short for its vector loops.
void transform_input(const Job& job, int64_t image, const Block& b, int64_t c0, int64_t c1, float* v,
                     std::vector<float>& scratch) {
  const dnnf_conv2d_desc& d = *job.d;
  const int64_t tiles = b.tiles, tiles_x = job.g.tiles_x, nr = job.nr;
  float* phase = scratch_of(scratch, size_t(3 * kElems * tiles));
  float* work = phase + kElems * tiles;
  float* transformed = work + kElems * tiles;
  float* outs[kElems];
  for (int e = 0; e < kElems; ++e) outs[e] = transformed + e * tiles;
  for (int64_t c = c0; c < c1; ++c) {
    const float* plane = d.input + (image * d.C + c) * d.H * d.W;
    for (int i = 0; i < 6; ++i) {
      float* p = phase + i * 6 * tiles;
      for (int64_t r = 0; r < b.tile_rows; ++r) {
        const int64_t ih = 4 * (b.ty0 + r) + i - d.pad_top, t0 = r * tiles_x;
        if (ih >= 0 && ih < d.H) {
          job.fns.split(plane + ih * d.W, d.W, -d.pad_left, tiles_x, p + t0, tiles);
        } else {
          for (int q = 0; q < 6; ++q) std::fill(p + q * tiles + t0, p + q * tiles + t0 + tiles_x, 0.0f);
        }
      }
    }
    job.fns.input(phase, tiles, outs, work);
    // Panel j of element e holds columns [j nr, j nr + nr) of its C rows.
    for (int e = 0; e < kElems; ++e)
      for (int64_t j0 = 0; j0 < tiles; j0 += nr) {
        const float* src = outs[e] + j0;
        float* dst = v + e * b.v_floats + j0 * d.C + c * nr;
        const int64_t run = std::min<int64_t>(nr, tiles - j0);
        for (int64_t q = 0; q < run; ++q) dst[q] = src[q];
      }
  }
}

// Output channels [oc_first, oc_end) of block b of `image` from its V: the 36 GEMMs in
// rounds of oc_block channels, each round's output transform (bias included) and epilogue.
void multiply_and_output(const Job& job, int64_t image, const Block& b, int64_t oc_first, int64_t oc_end,
                         const float* v, std::vector<float>& scratch) {
  const dnnf_conv2d_desc& d = *job.d;
  const int64_t tiles_x = job.g.tiles_x, tiles = b.tiles;
  const int64_t ocb = std::min(job.g.oc_block, oc_end - oc_first);
  float* m = scratch_of(scratch, size_t(kElems * ocb * tiles + 40 * tiles_x));
  float* work = m + kElems * ocb * tiles;
  float* out_rows = work + 24 * tiles_x;
  const int64_t oh_begin = 4 * b.ty0, oh_end = std::min(d.OH, 4 * b.ty1), positions = d.OH * d.OW;
  float* image_out = d.output + image * d.OC * positions;
  const int64_t u_floats = panel_floats(d.OC, d.C, job.mr);
  const bool direct = d.OW == 4 * tiles_x;  // whole rows go straight to the output
  for (int64_t oc0 = oc_first; oc0 < oc_end; oc0 += ocb) {
    const int64_t count = std::min(ocb, oc_end - oc0);
    for (int e = 0; e < kElems; ++e) {
      GemmProblem p;
      p.M = count;
      p.N = tiles;
      p.K = d.C;
      p.packed_a = job.u + e * u_floats + oc0 * d.C;  // oc0 is a multiple of mr: a panel boundary
      p.packed_b = v + e * b.v_floats;
      p.c = m + e * ocb * tiles;
      p.ldc = tiles;
      run_gemm(p, nullptr);
    }
    const float* mp[kElems];
    float* dst[4];
    for (int64_t oc = oc0; oc < oc0 + count; ++oc) {
      const float bias = d.bias ? d.bias[oc] : 0.0f;
      float* channel = image_out + oc * positions;
      for (int64_t r = 0; r < b.tile_rows; ++r) {
        for (int e = 0; e < kElems; ++e) mp[e] = m + (e * ocb + oc - oc0) * tiles + r * tiles_x;
        const int64_t oh = 4 * (b.ty0 + r);
        for (int k = 0; k < 4; ++k)
          dst[k] = direct && oh + k < d.OH ? channel + (oh + k) * d.OW : out_rows + k * 4 * tiles_x;
        job.fns.output(mp, tiles_x, bias, dst, work);
        for (int k = 0; k < 4; ++k)
          if (dst[k] == out_rows + k * 4 * tiles_x && oh + k < d.OH)
            std::memcpy(channel + (oh + k) * d.OW, dst[k], size_t(d.OW) * sizeof(float));
      }
    }
    if (d.epilogue)
      d.epilogue(d.epilogue_ctx, image_out + oc0 * positions + oh_begin * d.OW, positions, image, oc0,
                 oh_begin * d.OW, count, (oh_end - oh_begin) * d.OW);
  }
}

thread_local std::vector<float> v_scratch, work_scratch;

// A task per (image, row block): its V on the thread, all output channels.
void run_blocks(void* ctx, int64_t begin, int64_t end) {
  const Job& job = *static_cast<const Job*>(ctx);
  for (int64_t t = begin; t < end; ++t) {
    const int64_t image = t / job.g.row_blocks;
    const Block b = block_of(job, t % job.g.row_blocks);
    float* v = scratch_of(v_scratch, size_t(kElems * b.v_floats));
    transform_input(job, image, b, 0, job.d->C, v, work_scratch);
    multiply_and_output(job, image, b, 0, job.d->OC, v, work_scratch);
  }
}

// Shared mode, phase 1: part t of the input channels into the image's V.
void run_input_parts(void* ctx, int64_t begin, int64_t end) {
  const Job& job = *static_cast<const Job*>(ctx);
  for (int64_t t = begin; t < end; ++t) {
    const auto [c0, c1] = share(job.d->C, job.parts, t, 1);
    transform_input(job, job.image, block_of(job, 0), c0, c1, job.v, work_scratch);
  }
}

// Shared mode, phase 2: part t of the output channels from the image's V.
void run_output_parts(void* ctx, int64_t begin, int64_t end) {
  const Job& job = *static_cast<const Job*>(ctx);
  for (int64_t t = begin; t < end; ++t) {
    const auto [oc0, oc1] = share(job.d->OC, job.parts, t, job.mr);
    if (oc0 < oc1) multiply_and_output(job, job.image, block_of(job, 0), oc0, oc1, job.v, work_scratch);
  }
}

bool winograd_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("DNNF_WINOGRAD");
    return !(v && std::string(v) == "0");
  }();
  return enabled;
}

}  // namespace

bool winograd_pays(const dnnf_conv2d_desc* d) {
  // The input transform costs the same whatever the output channels, and the weights are
  // four times the im2col GEMM's: below 16 input or 32 output channels the transforms and
  // weight reads cost about what the GEMMs save (MobileNetV1-SSD's 512 -> 24 head on 19x19
  // ran 0.64 -> 0.93 ms on 2 threads). Below 16 tiles (a 13x13 output) the weights are read
  // for too few columns: 512 -> 126 channels on 10x10 (9 tiles) ran no faster, 512 -> 512
  // on 7x7 twice as slow; on 14x14 1.3x (512 channels) to 2x (256) faster.
  // The transformed weights are 36 * OC * C floats: above kMaxTransformedFloats (256 MB)
  // the convolution keeps the im2col GEMM's, a quarter of that.
  // DNNF_WINOGRAD=0 turns it off, for measuring against the im2col GEMM.
  if (!winograd_enabled()) return false;
  return d->group == 1 && d->KH == 3 && d->KW == 3 && d->stride_h == 1 && d->stride_w == 1 && d->dil_h == 1 &&
         d->dil_w == 1 && d->C >= 16 && d->OC >= 32 && (d->OH + 3) / 4 * ((d->OW + 3) / 4) >= 16 &&
         double(kElems) * double(d->OC) * double(d->C) <= double(kMaxTransformedFloats);
}

int64_t winograd_packed_floats(const dnnf_conv2d_desc* d) {
  return kElems * panel_floats(d->OC, d->C, micro_kernel().mr);
}

void pack_winograd_weights(const dnnf_conv2d_desc* d, float* dst) {
  const int mr = micro_kernel().mr;
  std::vector<float> u(size_t(kElems) * d->OC * d->C);
  const int64_t plane = d->OC * d->C;
  for (int64_t oc = 0; oc < d->OC; ++oc)
    for (int64_t c = 0; c < d->C; ++c) {
      const float* g = d->weight + (oc * d->C + c) * 9;
      double gg[6][3];  // G g
      for (int a = 0; a < 6; ++a)
        for (int j = 0; j < 3; ++j) gg[a][j] = kG[a][0] * g[j] + kG[a][1] * g[3 + j] + kG[a][2] * g[6 + j];
      for (int a = 0; a < 6; ++a)
        for (int b = 0; b < 6; ++b)
          u[(a * 6 + b) * plane + oc * d->C + c] =
              float(gg[a][0] * kG[b][0] + gg[a][1] * kG[b][1] + gg[a][2] * kG[b][2]);
    }
  const int64_t per = panel_floats(d->OC, d->C, mr);
  for (int e = 0; e < kElems; ++e)
    pack_a_block(u.data() + e * plane, d->C, false, 0, d->OC, 0, d->C, mr, dst + e * per);
}

void winograd_conv2d(const dnnf_conv2d_desc* d, const float* u, const dnnf_api* api) {
  const int64_t threads = api && api->parallel_for && api->num_threads > 1 ? api->num_threads : 1;
  const MicroKernel& mk = micro_kernel();
  Job job{d, u, plan(*d, threads, mk.mr), row_fns(), mk.mr, mk.nr};
  if (!job.g.shared) {
    const int64_t tasks = d->N * job.g.row_blocks;
    if (threads > 1 && tasks > 1)
      api->parallel_for(api->pool, tasks, run_blocks, &job);
    else
      run_blocks(&job, 0, tasks);
    return;
  }
  job.v = scratch_of(v_scratch, size_t(kElems * block_of(job, 0).v_floats));
  job.parts = threads;
  for (job.image = 0; job.image < d->N; ++job.image) {
    api->parallel_for(api->pool, job.parts, run_input_parts, &job);
    api->parallel_for(api->pool, job.parts, run_output_parts, &job);
  }
}

}  // namespace dnnf_kernels
