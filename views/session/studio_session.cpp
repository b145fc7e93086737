#include "views/session/studio_session.h"

namespace dnnf::views {

std::shared_ptr<const StudioSession> import_session(const std::string& path, const JobControl& job) {
  auto s = std::make_shared<StudioSession>();
  s->path = path;
  job.progress(2, "loading " + path);
  s->optimized = load_and_infer(path);
  s->original = s->optimized.graph;
  job.progress(10, "imported " + std::to_string(s->original.nodes.size()) + " nodes");
  return s;
}

std::shared_ptr<const StudioSession> optimise_session(const StudioSession& imported, const JobControl& job) {
  auto s = std::make_shared<StudioSession>(imported);
  job.progress(10, "rewriting");
  PipelineOptions options;
  // The sweep callback is the pipeline's only hook during rewriting: progress and the
  // cancel check (JobCancelled unwinds out of run_pipeline) both go through it.
  options.rewrite_options.on_sweep = [&job](int sweep, size_t steps) {
    job.progress(-1, "rewriting: sweep " + std::to_string(sweep + 1) + ", " + std::to_string(steps) + " steps");
  };
  s->result = run_pipeline(s->optimized, options);
  s->result.journal.model = s->path;
  for (const JournalStep& step : s->result.journal.steps)
    if (step.stage == "rewrite") ++s->rewrite_steps;
  s->optimised = true;
  job.progress(100, "optimised");
  return s;
}

std::shared_ptr<const StudioSession> load_session(const std::string& path, const JobControl& job) {
  return optimise_session(*import_session(path, job), job);
}

}  // namespace dnnf::views
