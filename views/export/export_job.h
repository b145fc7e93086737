// The export the dialog asked for, run as a Studio background job: ONNX with fused
// functions (core/export/onnx_export_job) or a NEON bundle (core/export/neon_bundle),
// with the job's progress bar fed from the export's stages. Cancelling throws out of a
// progress call, and the exports then leave nothing behind.
#pragma once

#include <QString>

#include "core/export/neon_bundle.h"
#include "core/export/onnx_export_job.h"
#include "views/jobs/job_control.h"

namespace dnnf::views {

struct ExportJobRequest {
  QString target;                    // "onnx" or "neon" (an ExportTarget id)
  QString output;                    // absolute file (onnx) or folder (bundles)
  exporter::OnnxExportRequest onnx;  // target "onnx"
  exporter::BundleRequest bundle;    // bundle targets
};

struct ExportJobResult {
  QString output;
  QString summary;  // what was written, for the "Export finished" box
};

// Runs on the job's thread; throws dnnf::Error (or JobCancelled) like the exports do.
ExportJobResult run_export_job(const ExportJobRequest& request, const JobControl& job);

}  // namespace dnnf::views
