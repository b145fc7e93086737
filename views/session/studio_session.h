// One opened model as the Studio sees it: the inferred original graph, the result of
// the same pipeline the CLI runs (journal + plan), and the optimised graph. Immutable
// once loaded, so the UI thread and worker jobs can share it.
#pragma once

#include <memory>
#include <string>

#include "core/pipeline/pipeline.h"
#include "views/jobs/job_control.h"

namespace dnnf::views {

struct StudioSession {
  std::string path;
  Graph original;      // shape-inferred, before any rewrite
  Model optimized;     // after the rewrite stage: the graph the plan refers to
  PipelineResult result;
  size_t rewrite_steps = 0;  // journal steps with stage "rewrite" (they come first)
  // False for a session that is only imported (no journal, no plan; `optimized` is the
  // imported model): what the window shows while the pipeline runs.
  bool optimised = false;
};

// Loads and infers the model: a session without journal or plan. Throws dnnf::Error on
// a bad model.
std::shared_ptr<const StudioSession> import_session(const std::string& path, const JobControl& job);
// Runs the pipeline (default options, as `dnnf optimize`) on an imported session.
// Reports progress and honours cancel through `job`.
std::shared_ptr<const StudioSession> optimise_session(const StudioSession& imported, const JobControl& job);
// Both of the above.
std::shared_ptr<const StudioSession> load_session(const std::string& path, const JobControl& job);

}  // namespace dnnf::views
