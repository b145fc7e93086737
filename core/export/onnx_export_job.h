// The whole "export as ONNX with fused functions" job, shared by `dnnf export --target
// onnx` and the Studio's export dialog: load the model, run the pipeline as
// `dnnf optimize` does (less the rewrites into dnnf-only operators unless asked to keep
// them), then write the file atomically. Progress goes through a callback that may throw
// to cancel; a cancelled or failed job leaves no file behind.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/export/onnx_fused_export.h"

namespace dnnf::exporter {

struct OnnxExportRequest {
  std::string model_path;
  std::string output_path;
  std::map<std::string, int64_t> bind_dims;  // symbolic input dims (others become 1)
  bool rewrite = true;
  bool fusion = true;
  bool use_db = true;
  std::string db_path;         // empty: the default fusion database
  bool keep_dnnf_ops = false;  // keep rewrites into dnnf's own operators (file runs only in dnnf)
  bool measure = true;         // false: plan with the analytic estimate, never timing kernels
};

struct OnnxExportReport {
  FusedExportStats stats;
  int64_t nodes_before = 0;  // imported graph
  int64_t nodes_after = 0;   // after rewriting
  size_t fused_layers = 0;   // kernels per inference of the plan
};

// stage: "rewriting", "planning fusion" or "writing"; done/total: progress in that stage.
using ExportProgressFn = std::function<void(const std::string& stage, size_t done, size_t total)>;

// Throws dnnf::Error naming the problem (bad model, unwritable output).
OnnxExportReport export_onnx_model(const OnnxExportRequest& request, const ExportProgressFn& progress = {});

}  // namespace dnnf::exporter
