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
};

// Loads, infers and runs the pipeline (default options, as `dnnf optimize`). Reports
// progress and honours cancel through `job`. Throws dnnf::Error on a bad model.
std::shared_ptr<const StudioSession> load_session(const std::string& path, const JobControl& job);

}  // namespace dnnf::views
