#include "core/runtime/cpu_profiler.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <set>
#include <time.h>

#include "core/codegen/block_codegen.h"
#include "core/runtime/thread_pool.h"
#include "core/util/error.h"
#include "kernels/cpu/kernel_api.h"

namespace dnnf {

namespace {

using KernelFn = void (*)(const dnnf_kernel_args*);
using PrepareFn = void* (*)(const dnnf_kernel_args*);
using ReleaseFn = void (*)(void*, const dnnf_api*);

// Memory for one kernel's buffers: random floats in [0, 1), zeros elsewhere (so an
// integer index input is always in range).
struct KernelData {
  std::vector<std::vector<unsigned char>> storage;
  std::vector<void*> bufs;
  explicit KernelData(const codegen::BlockKernel& k, std::mt19937& rng) {
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    for (const codegen::KernelBuffer& b : k.buffers) {
      storage.emplace_back(size_t(std::max<int64_t>(b.bytes(), 4)) + 64, 0);
      if (b.dtype == DType::F32 && b.role == codegen::BufferRole::Input) {
        float* f = reinterpret_cast<float*>(storage.back().data());
        for (int64_t i = 0; i < b.numel(); ++i) f[i] = u(rng);
      }
    }
    for (auto& s : storage) bufs.push_back(s.data());
  }
};

class CpuProfiler : public fusion::BlockProfiler {
 public:
  explicit CpuProfiler(const CpuProfilerOptions& o)
      : options_(o), pool_(o.threads), estimate_(fusion::make_estimating_profiler("cpu")) {
    api_ = dnnf_make_api(&pool_, thread_pool_parallel_for, pool_.num_threads());
  }

  // The fusion database key's target: verdicts timed by thread CPU time are not mixed
  // with the wall-clock ones older versions stored under "cpu".
  std::string target() const override { return pool_.num_threads() == 1 ? "cpu/1t-cputime" : "cpu"; }

  fusion::ProfileResult compare(const Graph& g, const std::vector<NodeId>& block, NodeId candidate) override {
    std::vector<NodeId> all = block;
    all.push_back(candidate);
    std::sort(all.begin(), all.end(), [&](NodeId a, NodeId b) { return position(g, a) < position(g, b); });
    std::vector<NodeId> sorted_block = block;
    std::sort(sorted_block.begin(), sorted_block.end(),
              [&](NodeId a, NodeId b) { return position(g, a) < position(g, b); });
    // The candidate fused with the block, and the block and the operator apart. A
    // block's outputs are what any other node of the graph reads.
    const fusion::FusedBlock fused = make_block(g, all), alone = make_block(g, sorted_block),
                             op = make_block(g, {candidate});
    std::vector<codegen::BlockKernel> kernels;
    std::string why;
    for (const fusion::FusedBlock* b : {&fused, &alone, &op}) {
      auto k = codegen::generate_block(g, *b, &why);
      if (!k) {
        fusion::ProfileResult r = estimate_->compare(g, block, candidate);
        r.source = "estimate (no kernel: " + why + ")";
        return r;
      }
      kernels.push_back(std::move(*k));
    }
    std::vector<codegen::KernelSource> sources;
    for (const auto& k : kernels) sources.push_back({k.symbol, k.code});
    library_.build(sources, options_.compiler);
    fusion::ProfileResult r;
    const std::vector<double> best = time_interleaved(kernels);
    r.fused_us = best[0];
    r.separate_us = best[1] + best[2];
    r.source = "measured";
    return r;
  }

 private:
  static fusion::FusedBlock make_block(const Graph& g, const std::vector<NodeId>& nodes) {
    fusion::FusedBlock b;
    b.nodes = nodes;
    std::set<std::string> produced, outs;
    for (NodeId id : nodes)
      for (const std::string& o : g.find_node(id)->outputs)
        if (!o.empty()) produced.insert(o);
    for (const Node& n : g.nodes) {
      if (std::find(nodes.begin(), nodes.end(), n.id) != nodes.end()) continue;
      for (const std::string& in : node_reads(n))
        if (produced.count(in)) outs.insert(in);
    }
    for (const std::string& v : produced)
      if (g.is_graph_output(v)) outs.insert(v);
    b.outputs.assign(outs.begin(), outs.end());
    return b;
  }

  static size_t position(const Graph& g, NodeId id) {
    for (size_t i = 0; i < g.nodes.size(); ++i)
      if (g.nodes[i].id == id) return i;
    return g.nodes.size();
  }

  // Best-of-n times of each kernel, measured round-robin so that a change in machine
  // load hits every variant alike. The minimum is the least noisy latency estimate.
  std::vector<double> time_interleaved(const std::vector<codegen::BlockKernel>& kernels) {
    struct Bound {
      std::unique_ptr<KernelData> data;
      KernelFn fn;
      ReleaseFn release;
      dnnf_kernel_args args;
      double best = 1e300;
    };
    std::mt19937 rng(42);
    std::vector<Bound> bound;
    for (const codegen::BlockKernel& k : kernels) {
      Bound b;
      b.data = std::make_unique<KernelData>(k, rng);
      b.fn = reinterpret_cast<KernelFn>(library_.symbol(k.symbol));
      b.release = reinterpret_cast<ReleaseFn>(library_.symbol(k.symbol + "_release"));
      auto prep = reinterpret_cast<PrepareFn>(library_.symbol(k.symbol + "_prepare"));
      b.args = {b.data->bufs.data(), &api_, nullptr};
      b.args.state = prep(&b.args);
      b.fn(&b.args);  // warm-up: caches, page faults
      bound.push_back(std::move(b));
    }
    const bool cpu_clock = pool_.num_threads() == 1;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < options_.max_reps; ++i) {
      for (Bound& b : bound) {
        const double t0 = cpu_clock ? thread_cpu_us() : wall_us();
        b.fn(&b.args);
        b.best = std::min(b.best, (cpu_clock ? thread_cpu_us() : wall_us()) - t0);
      }
      if (i + 1 >= options_.min_reps &&
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() > options_.budget_ms)
        break;
    }
    std::vector<double> out;
    for (Bound& b : bound) {
      b.release(b.args.state, &api_);
      out.push_back(b.best);
    }
    return out;
  }

  static double thread_cpu_us() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e6 + double(ts.tv_nsec) * 1e-3;
  }
  static double wall_us() {
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }

  CpuProfilerOptions options_;
  ThreadPool pool_;
  dnnf_api api_;
  codegen::KernelLibrary library_;
  std::unique_ptr<fusion::BlockProfiler> estimate_;
};

}  // namespace

std::unique_ptr<fusion::BlockProfiler> make_cpu_profiler(const CpuProfilerOptions& options) {
  return std::make_unique<CpuProfiler>(options);
}

}  // namespace dnnf
