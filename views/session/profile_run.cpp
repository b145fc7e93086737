#include "views/session/profile_run.h"

#include <algorithm>

#include "core/runtime/cpu_runtime.h"
#include "core/runtime/random_inputs.h"

namespace dnnf::views {

std::vector<double> profile_blocks(const StudioSession& session, const JobControl& job, int runs) {
  CpuRuntimeOptions options;
  // Kernel generation and compilation are the long part; they report progress and
  // are where a cancel takes effect (JobCancelled unwinds out of the constructor).
  options.on_progress = [&job](const std::string& phase, size_t done, size_t total) {
    job.progress(total ? int(80 * done / total) : -1,
                 phase + " kernels " + std::to_string(done) + "/" + std::to_string(total));
  };
  const Graph& graph = session.optimized.graph;
  CpuProgram program(graph, session.result.plan, options);
  const TensorMap inputs = make_random_inputs(graph, {});
  job.progress(80, "warm-up run");
  program.run(inputs);
  std::vector<std::vector<double>> samples;  // per run
  for (int r = 0; r < runs; ++r) {
    job.progress(80 + 20 * r / runs, "profiling run " + std::to_string(r + 1) + "/" + std::to_string(runs));
    std::vector<double> us;
    program.run_profiled(inputs, &us);
    samples.push_back(std::move(us));
  }
  // Median per block: one noisy run should not recolour the graph.
  std::vector<double> median(samples.empty() ? 0 : samples[0].size());
  for (size_t b = 0; b < median.size(); ++b) {
    std::vector<double> v;
    for (const auto& s : samples) v.push_back(b < s.size() ? s[b] : 0);
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    median[b] = v[v.size() / 2];
  }
  return median;
}

}  // namespace dnnf::views
