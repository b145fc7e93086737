// The CPU runtime: compiles a fusion plan into generated kernels (one per block, shared
// between identical blocks, cached on disk) and runs it with a static memory plan: every
// value a kernel writes lives at a fixed offset of one arena, reused by liveness.
// Blocks the code generator does not cover (dynamic shapes, integer arithmetic, control
// flow, rare operators) run on the reference kernels, and say so in the stats.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/codegen/kernel_compiler.h"
#include "core/fusion/fusion_plan.h"
#include "core/runtime/reference_executor.h"

namespace dnnf {

struct CpuRuntimeOptions {
  int threads = 0;                    // 0: DNNF_THREADS or the hardware thread count
  codegen::CompilerOptions compiler;  // kernel cache and compiler
  // Progress of the long phases: ("generate"|"compile"|"prepare", done, total).
  std::function<void(const std::string&, size_t, size_t)> on_progress;
};

struct CpuRuntimeStats {
  size_t blocks = 0;             // kernels launched per inference (generated + interpreted)
  size_t generated_blocks = 0;   // blocks running generated code
  size_t interpreted_blocks = 0; // blocks running reference kernels
  size_t unique_kernels = 0;     // distinct generated kernels (identical blocks share)
  size_t compiled_kernels = 0;   // compiled now (the rest came from the cache)
  size_t merged_epilogues = 0;   // pointwise consumers run inside an anchor's epilogue
  size_t arena_bytes = 0;        // static memory plan: one arena
  size_t unplanned_bytes = 0;    // the same buffers without reuse
  size_t in_place_buffers = 0;   // block outputs written over an input that dies there
  size_t peak_env_bytes = 0;     // largest total of values outside the arena during a run
                                 // (inputs, reference-kernel results, arena copies they read,
                                 // graph outputs written outside the arena)
  size_t direct_outputs = 0;     // graph outputs kernels write outside the arena, into tensors
                                 // that later runs reuse once the caller drops them
  size_t output_allocations = 0; // tensors allocated for those so far (all runs)
  double generate_ms = 0, compile_ms = 0, prepare_ms = 0;
  std::vector<std::string> interpreted_reasons;  // one line per interpreted block
};

class CpuProgram {
 public:
  // `graph` must be shape-inferred with static shapes where kernels are generated; it
  // must outlive the program. Throws dnnf::Error (e.g. a kernel that fails to compile).
  CpuProgram(const Graph& graph, const fusion::FusionPlan& plan, const CpuRuntimeOptions& options = {});
  ~CpuProgram();
  CpuProgram(const CpuProgram&) = delete;
  CpuProgram& operator=(const CpuProgram&) = delete;

  // Runs one inference; inputs are checked like the reference executor checks them.
  // Not reentrant: the arena is the program's (one run at a time per program).
  TensorMap run(const TensorMap& inputs);
  // Peak activation memory of a run: the arena plus the largest environment seen.
  size_t peak_activation_bytes() const;
  // Same, and the wall time of every block (plan order) in microseconds: the Studio's
  // latency overlay and `dnnf run --profile`.
  TensorMap run_profiled(const TensorMap& inputs, std::vector<double>* block_us);
  const CpuRuntimeStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dnnf
