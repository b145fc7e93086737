// The light-weight profiler behind the planner's "profile" verdicts on the CPU: it
// generates and compiles the candidate as one kernel and as two (block, operator),
// runs both on random data and reports the best times. Kernels
// go through the same cache as the runtime's, so the winner is usually compiled
// already when the plan is built. Candidates the code generator cannot express fall
// back to the analytic estimate (and say so in the result's source).
#pragma once

#include <memory>

#include "core/codegen/kernel_compiler.h"
#include "core/fusion/profiler.h"

namespace dnnf {

struct CpuProfilerOptions {
  // One thread, timed by that thread's CPU clock: a verdict compares two ways of doing
  // the same work, and a thread's CPU time leaves out the time the OS gives to other
  // processes, so the verdict (cached for good in the fusion database) does not depend
  // on what else the machine was doing. Timed by the wall clock over a thread pool, a
  // planner run beside two compilers gave BERT-base's MatMul + bias 11 ms fused against
  // 1.8 ms apart, and left the FFN's GELU out of its MatMul. More threads (0: DNNF_THREADS
  // or the hardware count) switch back to wall-clock timing.
  int threads = 1;
  int min_reps = 3;                   // timed runs per variant, whatever the budget
  int max_reps = 15;                  // timed runs per variant (after one warm-up)
  double budget_ms = 40;              // stop timing after this much time (past min_reps)
  codegen::CompilerOptions compiler;
};

std::unique_ptr<fusion::BlockProfiler> make_cpu_profiler(const CpuProfilerOptions& options = {});

}  // namespace dnnf
