#include "core/export/bundle_job.h"

#include <filesystem>

#include "core/export/bundle_sha256.h"
#include "core/export/bundle_sources.h"
#include "core/export/bundle_writer.h"

namespace dnnf::exporter {

void add_common_bundle_files(BundleWriter& bundle) {
  bundle.add_file("include/dnnf_model.h", bundle_source("kernels/bundle/include/dnnf_model.h"));
  bundle.add_file("src/runner/runner.cpp", bundle_source("kernels/bundle/runner/runner.cpp"));
}

PlannedModel plan_for_bundle(const BundleRequest& request, const std::string& target,
                             const BundleProgressFn& progress) {
  auto report = [&](const std::string& stage, size_t done, size_t total) {
    if (progress) progress(stage, done, total);
  };
  PlannedModel out;
  out.model = load_and_infer(request.model_path, request.bind_dims);
  out.manifest.target = target;
  out.manifest.model_file = std::filesystem::path(request.model_path).filename().string();
  out.manifest.model_sha256 = sha256_file(request.model_path);
  for (const auto& [name, size] : request.bind_dims) out.manifest.bound_dims.emplace_back(name, size);
  // Checked before the long stages: a model with open dimensions fails at once.
  out.manifest.inputs = bundle_inputs(out.model.graph);
  out.manifest.outputs = bundle_outputs(out.model.graph);

  PipelineOptions popts;
  popts.rewrite = request.rewrite;
  popts.fusion = request.fusion;
  popts.rewrite_options.disabled = request.disabled_rules;
  popts.use_db = false;
  popts.measure = false;
  // The NEON bundle runs the CPU code generator's kernels; Vulkan plans for its shaders.
  popts.target = target == "vulkan" ? "vulkan" : "cpu";
  popts.rewrite_options.on_sweep = [&](int sweep, size_t) {
    report("rewriting", size_t(sweep + 1), size_t(popts.rewrite_options.max_sweeps));
  };
  report("rewriting", 0, size_t(popts.rewrite_options.max_sweeps));
  popts.plan = false;
  PipelineResult result = run_pipeline(out.model, popts);
  report("planning fusion", 0, 1);
  PipelineOptions plan_only = popts;
  plan_only.rewrite = false;
  plan_only.plan = true;
  PipelineResult planned = run_pipeline(out.model, plan_only);
  result.plan = std::move(planned.plan);
  result.plan_ms = planned.plan_ms;
  for (JournalStep& s : planned.journal.steps) result.journal.steps.push_back(std::move(s));
  report("planning fusion", 1, 1);

  out.manifest.plan.nodes_before = result.summary.nodes_before;
  out.manifest.plan.nodes_after = result.summary.nodes_after;
  out.manifest.plan.fused_layers = result.plan.fused_layers();
  // Rewriting may rename or drop outputs' producers but keeps the graph's interface;
  // shapes are re-read from the rewritten graph.
  out.manifest.inputs = bundle_inputs(out.model.graph);
  out.manifest.outputs = bundle_outputs(out.model.graph);
  out.result = std::move(result);
  return out;
}

}  // namespace dnnf::exporter
