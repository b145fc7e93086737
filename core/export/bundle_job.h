// The part of every bundle export (NEON, Vulkan) before the target's own work: load the
// model with fixed shapes, run the rewrite + fusion pipeline, and fill the common
// manifest fields. Unlike `dnnf optimize`, the plan uses the analytic cost estimate and
// no fusion database: kernels timed on this machine say nothing about the target, and a
// plan that depends on timing or on a database's history would make two exports of the
// same model differ. Progress goes through a callback that may throw to cancel.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/export/bundle_manifest.h"
#include "core/pipeline/pipeline.h"

namespace dnnf::exporter {

struct BundleRequest {
  std::string model_path;
  std::string output_dir;
  std::map<std::string, int64_t> bind_dims;  // symbolic input dims (others become 1)
  bool rewrite = true;
  bool fusion = true;
  std::vector<std::string> disabled_rules;  // rewrite rules the target cannot run the result of
};

// stage: "rewriting", "planning fusion", then the target's stages ("generating",
// "compiling", "writing"); done/total: progress in that stage.
using BundleProgressFn = std::function<void(const std::string& stage, size_t done, size_t total)>;

struct PlannedModel {
  Model model;                // rewritten, shapes inferred
  PipelineResult result;      // the plan (result.plan) and the rewrite summary
  BundleManifest manifest;    // target-independent fields filled in
};

// Writes the files every bundle has: include/dnnf_model.h (the C API) and
// src/runner/runner.cpp (the command-line runner over it).
class BundleWriter;
void add_common_bundle_files(BundleWriter& bundle);

// Throws dnnf::Error naming the problem (missing or bad model, unfixed shapes).
PlannedModel plan_for_bundle(const BundleRequest& request, const std::string& target,
                             const BundleProgressFn& progress = {});

}  // namespace dnnf::exporter
