// The compiler pipeline shared by the CLI, the Studio and the benchmarks: rewrite the
// graph, then plan fusion for a target (with the fusion database and the target's
// code-generation coverage). Each stage is optional and journaled.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/fusion/fusion_plan.h"
#include "core/journal/journal.h"
#include "core/rewrite/driver.h"

namespace dnnf {

struct PipelineOptions {
  bool rewrite = true;
  bool plan = true;                   // false: stop after rewriting
  bool fusion = true;                 // false: one block per operator (still a plan), composite rules off
  std::string target = "cpu";
  // The plan's code generator reads a pointwise Conv's per-channel Mul(x, s) as x with
  // scaled weights (the GLSL shaders do), so fusing that Mul into the Conv saves its
  // product's write and read. Implied by target "vulkan"; the Vulkan runtime, which
  // plans with the CPU target's measured verdicts, sets it.
  bool channel_scaled_conv = false;
  // The plan's code generator runs Many-to-Many pairs one group at a time (codegen/chains.h:
  // a depthwise Conv per channel group of a pointwise Conv, a MatMul per row block of a
  // MatMul), so their blocks may be joined. The C++ kernels do (target "cpu"); the GLSL
  // shaders do not, so the Vulkan runtime, which plans with the CPU target, turns it off.
  bool chains = true;
  bool use_db = true;
  std::string db_path;                // empty: the default fusion database
  // "profile" verdicts timed on the target; false: the analytic estimate. The default
  // follows DNNF_PROFILER ("estimate" turns measuring off, e.g. for GUI tests).
  bool measure = default_measure();
  static bool default_measure();
  rewrite::RewriteOptions rewrite_options;
};

struct PipelineResult {
  rewrite::RewriteSummary summary;
  fusion::FusionPlan plan;
  Journal journal;
  double rewrite_ms = 0, plan_ms = 0;
  std::string db_path;
  int64_t db_hits = 0, db_misses = 0;
};

// Loads an ONNX file and infers shapes; symbolic input dims not in `bind_dims` are
// taken as 1 so that FLOPs, bytes, plans and kernels are concrete. Throws dnnf::Error.
Model load_and_infer(const std::string& path, const std::map<std::string, int64_t>& bind_dims = {});

// Targets the pipeline knows ("cpu").
bool known_target(const std::string& target);

// Rewrites `model` in place (unless disabled) and plans fusion on the result.
PipelineResult run_pipeline(Model& model, const PipelineOptions& options);

}  // namespace dnnf
