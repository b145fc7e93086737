// The light-weight profiler behind the planner's "profile" verdicts on the CPU: it
// generates and compiles the candidate as one kernel and as two (block, operator),
// runs both on random data with the real thread pool and reports the best times. Kernels
// go through the same cache as the runtime's, so the winner is usually compiled
// already when the plan is built. Candidates the code generator cannot express fall
// back to the analytic estimate (and say so in the result's source).
#pragma once

#include <memory>

#include "core/codegen/kernel_compiler.h"
#include "core/fusion/profiler.h"

namespace dnnf {

struct CpuProfilerOptions {
  int threads = 0;                    // 0: DNNF_THREADS or the hardware thread count
  int max_reps = 15;                  // timed runs per variant (after one warm-up)
  double budget_ms = 40;              // stop timing after this much time
  codegen::CompilerOptions compiler;
};

std::unique_ptr<fusion::BlockProfiler> make_cpu_profiler(const CpuProfilerOptions& options = {});

}  // namespace dnnf
