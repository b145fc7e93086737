#include "core/runtime/cpu_runtime.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

#include "core/codegen/block_codegen.h"
#include "core/runtime/host_fast_kernels.h"
#include "core/runtime/load_time_values.h"
#include "core/runtime/memory_plan.h"
#include "core/runtime/thread_pool.h"
#include "core/util/error.h"
#include "kernels/cpu/kernel_api.h"

namespace dnnf {

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// DNNF_DEBUG_MEMORY: the busiest step's live buffers (a lower bound for any arena);
// "steps": also every step's live bytes. Buffers sharing bytes in place count once.
void print_memory(const std::string& mode, const std::vector<BufferLifetime>& buffers,
                  const std::vector<std::string>& names, const MemoryPlan& mp) {
  int64_t end = 0;
  for (const BufferLifetime& b : buffers) end = std::max(end, b.last_step);
  auto live_at = [&](int64_t st) {
    std::set<size_t> offsets;
    size_t live = 0;
    for (size_t k = 0; k < buffers.size(); ++k)
      if (buffers[k].first_step <= st && st <= buffers[k].last_step && offsets.insert(mp.offsets[k]).second)
        live += buffers[k].bytes;
    return live;
  };
  size_t best = 0;
  int64_t best_step = 0;
  for (int64_t st = 0; st <= end; ++st) {
    const size_t live = live_at(st);
    if (mode == "steps") std::fprintf(stderr, "step %lld %zu\n", (long long)st, live);
    if (live > best) best = live, best_step = st;
  }
  std::fprintf(stderr, "memory: arena %zu, busiest step %lld holds %zu:\n", mp.arena_bytes, (long long)best_step, best);
  for (size_t k = 0; k < buffers.size(); ++k)
    if (buffers[k].first_step <= best_step && best_step <= buffers[k].last_step)
      std::fprintf(stderr, "  %10zu  %s [%lld, %lld] at %zu\n", buffers[k].bytes, names[k].c_str(),
                   (long long)buffers[k].first_step, (long long)buffers[k].last_step, mp.offsets[k]);
}

using KernelFn = void (*)(const dnnf_kernel_args*);
using PrepareFn = void* (*)(const dnnf_kernel_args*);
using ReleaseFn = void (*)(void*, const dnnf_api*);

}  // namespace

struct CpuProgram::Impl {
  struct Step {
    const fusion::FusedBlock* block = nullptr;
    std::vector<const Node*> nodes;           // interpreted steps
    codegen::BlockKernel kernel;              // generated steps (code dropped after build)
    bool generated = false;
    KernelFn fn = nullptr;
    ReleaseFn release = nullptr;
    void* state = nullptr;
    std::vector<void*> bufs;                  // bound at construction where fixed
    std::vector<std::pair<size_t, std::string>> late;  // slots bound per run from the environment
  };

  const Graph& g;
  ThreadPool pool;
  dnnf_api api;
  codegen::KernelLibrary lib;
  std::vector<Step> steps;
  std::map<std::string, size_t> arena_offset;
  void* arena = nullptr;
  TensorMap constants;                         // values of Constant nodes, computed once
  std::map<std::string, size_t> last_env_use;  // value -> last step reading it from the environment
  // Large graph outputs that generated kernels write: straight into these tensors, not
  // the arena. A run hands them out and the next run writes into them again unless the
  // caller still holds them (then it allocates new ones). Copying an output out of the
  // arena into a fresh, zero-filled tensor took a lone pointwise convolution with a 5.8 MB
  // output from 1.48 to 2.09 ms a run (GPT-2's logits are 26 MB). Small outputs stay in
  // the arena, where they may share bytes with values that died.
  static constexpr size_t kDirectOutputBytes = size_t(1) << 20;
  std::map<std::string, Tensor> output_tensors;
  CpuRuntimeStats stats;

  Impl(const Graph& graph, const fusion::FusionPlan& plan, const CpuRuntimeOptions& o)
      : g(graph), pool(o.threads) {
    api = dnnf_make_api(&pool, thread_pool_parallel_for, pool.num_threads());
    run_constant_nodes();
    generate(plan, o);
    plan_memory_and_bind();  // before compiling: a plan over the limit plan-memory fails fast
    build(o);
    prepare(o);
  }

  ~Impl() {
    for (Step& s : steps)
      if (s.release && s.state) s.release(s.state, &api);
    std::free(arena);
  }

  // Values known before any input (fusion::load_time_nodes): computed once, here.
  void run_constant_nodes() { constants = compute_load_time_values(g); }

  void generate(const fusion::FusionPlan& plan, const CpuRuntimeOptions& o) {
    const auto t0 = std::chrono::steady_clock::now();
    size_t done = 0;
    for (const fusion::FusedBlock& b : plan.blocks) {
      Step s;
      s.block = &b;
      for (NodeId id : b.nodes) s.nodes.push_back(g.find_node(id));
      std::string why;
      if (auto k = codegen::generate_block(g, b, &why)) {
        s.generated = true;
        s.kernel = std::move(*k);
        stats.merged_epilogues += size_t(s.kernel.merged_epilogues);
      } else {
        stats.interpreted_reasons.push_back("block " + std::to_string(b.id) + ": " + why);
      }
      steps.push_back(std::move(s));
      if (o.on_progress) o.on_progress("generate", ++done, plan.blocks.size());
    }
    stats.generate_ms = ms_since(t0);
  }

  void build(const CpuRuntimeOptions& o) {
    std::vector<codegen::KernelSource> sources;
    std::set<std::string> seen;
    for (const Step& s : steps)
      if (s.generated && seen.insert(s.kernel.symbol).second) sources.push_back({s.kernel.symbol, s.kernel.code});
    codegen::CompilerOptions copt = o.compiler;
    if (o.on_progress && !copt.on_progress)
      copt.on_progress = [&](size_t done, size_t total) { o.on_progress("compile", done, total); };
    const auto t0 = std::chrono::steady_clock::now();
    if (!sources.empty()) lib.build(sources, copt);
    stats.compile_ms = ms_since(t0);
    stats.unique_kernels = sources.size();
    stats.compiled_kernels = lib.stats().compiled;
    for (Step& s : steps) {
      if (!s.generated) {
        ++stats.interpreted_blocks;
        continue;
      }
      ++stats.generated_blocks;
      s.fn = reinterpret_cast<KernelFn>(lib.symbol(s.kernel.symbol));
      s.release = reinterpret_cast<ReleaseFn>(lib.symbol(s.kernel.symbol + "_release"));
      s.kernel.code.clear();
    }
    stats.blocks = steps.size();
  }

  // Arena buffers: everything generated kernels write. Lifetimes in steps.
  void plan_memory_and_bind() {
    std::map<std::string, std::pair<int64_t, int64_t>> life;
    std::map<std::string, size_t> bytes;
    const int64_t end = int64_t(steps.size());
    std::set<std::string> graph_outputs, in_place_values;
    for (const ValueInfo& o : g.outputs) graph_outputs.insert(o.name);
    for (const Step& s : steps)
      for (const auto& [out, in] : s.kernel.in_place) in_place_values.insert({out, in});
    for (size_t i = 0; i < steps.size(); ++i) {
      const Step& s = steps[i];
      if (!s.generated) continue;
      for (const codegen::KernelBuffer& b : s.kernel.buffers) {
        if (b.role == codegen::BufferRole::Input) continue;
        if (b.role == codegen::BufferRole::Output && graph_outputs.count(b.value) &&
            size_t(b.bytes()) >= kDirectOutputBytes && !in_place_values.count(b.value)) {
          output_tensors.emplace(b.value, Tensor());  // bound per run, in run()
          continue;
        }
        life[b.value] = {int64_t(i), b.role == codegen::BufferRole::Scratch ? int64_t(i) : int64_t(i)};
        bytes[b.value] = size_t(b.bytes());
      }
    }
    // Extend lifetimes to the last reader (any step) and to the end for graph outputs.
    for (size_t i = 0; i < steps.size(); ++i)
      for (const Node* n : steps[i].nodes)
        for (const std::string& in : node_reads(*n)) {
          auto it = life.find(in);
          if (it != life.end()) it->second.second = std::max(it->second.second, int64_t(i));
        }
    for (const ValueInfo& o : g.outputs) {
      auto it = life.find(o.name);
      if (it != life.end()) it->second.second = end;
    }
    std::vector<BufferLifetime> buffers;
    std::vector<std::string> names;
    std::map<std::string, size_t> index;
    for (const auto& [v, l] : life) {
      index[v] = names.size();
      buffers.push_back({int64_t(names.size()), std::max<size_t>(bytes[v], 1), l.first, l.second});
      names.push_back(v);
    }
    // Outputs a kernel may write over its inputs; the plan takes the input's bytes when the
    // input dies at that step (its last reader, not a graph output) and sizes match.
    std::vector<InPlace> in_place;
    for (const Step& s : steps)
      if (s.generated)
        for (const auto& [out, in] : s.kernel.in_place) {
          auto o = index.find(out), i = index.find(in);
          if (o != index.end() && i != index.end()) in_place.push_back({o->second, i->second});
        }
    stats.direct_outputs = output_tensors.size();
    const MemoryPlan mp = plan_memory(buffers, in_place);
    stats.in_place_buffers = mp.in_place;
    if (const char* debug = std::getenv("DNNF_DEBUG_MEMORY")) print_memory(debug, buffers, names, mp);
    size_t weight_bytes = 0;
    for (const auto& [name, t] : g.initializers) weight_bytes += t.nbytes();
    for (const auto& [name, t] : constants) weight_bytes += t.nbytes();
    check_plan_memory(mp.arena_bytes, weight_bytes, "the CPU plan of graph '" + g.name + "'");
    stats.arena_bytes = mp.arena_bytes;
    stats.unplanned_bytes = mp.total_bytes;
    arena = std::aligned_alloc(kArenaAlignment, std::max<size_t>(mp.arena_bytes, kArenaAlignment));
    check(arena != nullptr, "cannot allocate the ", mp.arena_bytes, "-byte arena");
    for (size_t i = 0; i < names.size(); ++i) arena_offset[names[i]] = mp.offsets[i];

    for (size_t i = 0; i < steps.size(); ++i) {
      Step& s = steps[i];
      auto note_env = [&](const std::string& v) { last_env_use[v] = std::max(last_env_use[v], i); };
      if (!s.generated) {
        for (const Node* n : s.nodes)
          for (const std::string& in : node_reads(*n))
            if (!in.empty() && !arena_offset.count(in)) note_env(in);
        continue;
      }
      s.bufs.assign(s.kernel.buffers.size(), nullptr);
      for (size_t k = 0; k < s.kernel.buffers.size(); ++k) {
        const codegen::KernelBuffer& b = s.kernel.buffers[k];
        if (auto it = arena_offset.find(b.value); it != arena_offset.end()) {
          s.bufs[k] = static_cast<char*>(arena) + it->second;
        } else if (auto c = g.initializers.find(b.value); c != g.initializers.end()) {
          s.bufs[k] = const_cast<void*>(c->second.raw());
        } else if (auto c2 = constants.find(b.value); c2 != constants.end()) {
          s.bufs[k] = c2->second.raw();
        } else {
          s.late.push_back({k, b.value});
          note_env(b.value);
        }
      }
    }
    for (const ValueInfo& o : g.outputs) last_env_use[o.name] = steps.size();
  }

  void prepare(const CpuRuntimeOptions& o) {
    const auto t0 = std::chrono::steady_clock::now();
    size_t done = 0;
    for (Step& s : steps) {
      if (!s.generated) continue;
      auto prep = reinterpret_cast<PrepareFn>(lib.symbol(s.kernel.symbol + "_prepare"));
      std::vector<void*> bufs(s.bufs.size(), nullptr);
      for (size_t k = 0; k < bufs.size(); ++k)
        if (s.kernel.buffers[k].constant) bufs[k] = s.bufs[k];
      dnnf_kernel_args args{bufs.data(), &api, nullptr};
      s.state = prep(&args);
      if (o.on_progress) o.on_progress("prepare", ++done, stats.generated_blocks);
    }
    stats.prepare_ms = ms_since(t0);
  }

  Tensor tensor_from_arena(const std::string& v) const {
    const TensorType* t = g.type_of(v);
    Tensor out(t->dtype, *t->static_shape());
    std::memcpy(out.raw(), static_cast<const char*>(arena) + arena_offset.at(v), out.nbytes());
    return out;
  }

  // A node outside generated code: the fast host kernel for heavy operators (their
  // shapes were unknown when the plan was compiled), else the reference kernel.
  template <class Lookup>
  std::vector<Tensor> run_interpreted(const Node& n, const Lookup& lookup) {
    std::vector<const Tensor*> ins;
    bool complete = true;  // a missing value is the reference kernel's error to report
    for (const std::string& v : n.inputs) {
      const Tensor* t = v.empty() ? nullptr : lookup(v);
      complete = complete && (v.empty() || t != nullptr);
      ins.push_back(t);
    }
    if (complete)
      if (auto outs = run_host_fast(n, ins, api)) return std::move(*outs);
    return run_node(g, n, lookup);
  }

  TensorMap run(const TensorMap& inputs, std::vector<double>* block_us = nullptr) {
    check_model_inputs(g, inputs);
    if (block_us) block_us->assign(steps.size(), 0.0);
    std::map<std::string, Tensor> env(inputs.begin(), inputs.end());
    auto lookup = [&](const std::string& v) -> const Tensor* {
      if (auto it = env.find(v); it != env.end()) return &it->second;
      if (auto it = constants.find(v); it != constants.end()) return &it->second;
      if (auto it = g.initializers.find(v); it != g.initializers.end()) return &it->second;
      if (arena_offset.count(v)) return &(env[v] = tensor_from_arena(v));
      // A graph output, first looked up by the kernel that writes it.
      if (auto it = output_tensors.find(v); it != output_tensors.end()) {
        if (!it->second.defined() || it->second.storage_shared()) {
          const TensorType* type = g.type_of(v);
          it->second = Tensor(type->dtype, *type->static_shape());
          ++stats.output_allocations;
        }
        return &(env[v] = it->second);
      }
      return nullptr;
    };
    for (size_t i = 0; i < steps.size(); ++i) {
      Step& s = steps[i];
      const auto t0 = std::chrono::steady_clock::now();
      if (s.generated) {
        for (const auto& [slot, v] : s.late) {
          const Tensor* t = lookup(v);
          check(t != nullptr, "cpu runtime: value '", v, "' has no value");
          s.bufs[slot] = const_cast<void*>(t->raw());
        }
        dnnf_kernel_args args{s.bufs.data(), &api, s.state};
        s.fn(&args);
      } else {
        for (const Node* n : s.nodes) {
          std::vector<Tensor> outs = run_interpreted(*n, lookup);
          for (size_t k = 0; k < n->outputs.size(); ++k)
            if (!n->outputs[k].empty()) env[n->outputs[k]] = std::move(outs[k]);
        }
      }
      if (block_us) (*block_us)[i] = ms_since(t0) * 1000.0;
      size_t env_bytes = 0;
      for (const auto& [name, t] : env) env_bytes += t.nbytes();
      stats.peak_env_bytes = std::max(stats.peak_env_bytes, env_bytes);
      // Free environment values (and arena copies) whose last reader has run.
      for (auto it = env.begin(); it != env.end();) {
        auto lu = last_env_use.find(it->first);
        const bool keep = lu != last_env_use.end() && lu->second > i;
        if (!keep && !inputs.count(it->first)) it = env.erase(it);
        else ++it;
      }
    }
    TensorMap out;
    for (const ValueInfo& o : g.outputs) {
      const Tensor* t = lookup(o.name);
      check(t != nullptr, "graph output '", o.name, "' has no value");
      out[o.name] = *t;
    }
    return out;
  }
};

CpuProgram::CpuProgram(const Graph& graph, const fusion::FusionPlan& plan, const CpuRuntimeOptions& options)
    : impl_(std::make_unique<Impl>(graph, plan, options)) {}
CpuProgram::~CpuProgram() = default;
TensorMap CpuProgram::run(const TensorMap& inputs) { return impl_->run(inputs); }
TensorMap CpuProgram::run_profiled(const TensorMap& inputs, std::vector<double>* block_us) {
  return impl_->run(inputs, block_us);
}
const CpuRuntimeStats& CpuProgram::stats() const { return impl_->stats; }
size_t CpuProgram::peak_activation_bytes() const { return impl_->stats.arena_bytes + impl_->stats.peak_env_bytes; }

}  // namespace dnnf
