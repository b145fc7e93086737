#include "core/export/onnx_export_job.h"

#include "core/pipeline/pipeline.h"

namespace dnnf::exporter {

OnnxExportReport export_onnx_model(const OnnxExportRequest& request, const ExportProgressFn& progress) {
  auto report_progress = [&](const std::string& stage, size_t done, size_t total) {
    if (progress) progress(stage, done, total);
  };
  Model model = load_and_infer(request.model_path, request.bind_dims);

  // The same pipeline as dnnf optimize (rewrites, CPU fusion plan, fusion database),
  // except the rewrites into dnnf's own operators, which only dnnf can run: the file is
  // meant for any ONNX consumer unless the caller keeps them.
  PipelineOptions popts;
  popts.rewrite = request.rewrite;
  popts.fusion = request.fusion;
  popts.use_db = request.use_db;
  popts.db_path = request.db_path;
  popts.measure = request.measure && PipelineOptions::default_measure();
  if (!request.keep_dnnf_ops) popts.rewrite_options.disabled = rules_creating_dnnf_ops();
  popts.rewrite_options.on_sweep = [&](int sweep, size_t) {
    report_progress("rewriting", size_t(sweep + 1), size_t(popts.rewrite_options.max_sweeps));
  };
  // Rewriting and planning run as two pipeline calls so that each stage reports its own
  // progress; the second call plans on the rewritten graph without rewriting.
  report_progress("rewriting", 0, size_t(popts.rewrite_options.max_sweeps));
  popts.plan = false;
  PipelineResult result = run_pipeline(model, popts);
  report_progress("planning fusion", 0, 1);
  PipelineOptions plan_only = popts;
  plan_only.rewrite = false;
  plan_only.plan = true;
  PipelineResult planned = run_pipeline(model, plan_only);
  result.plan = std::move(planned.plan);
  result.plan_ms = planned.plan_ms;
  for (JournalStep& s : planned.journal.steps) result.journal.steps.push_back(std::move(s));
  report_progress("planning fusion", 1, 1);

  report_progress("writing", 0, 1);
  FusedExportOptions eopts;
  eopts.source_name = request.model_path;
  eopts.source_hash = hash_model_file(request.model_path);
  OnnxExportReport out;
  out.stats = save_fused_model(model, result, request.output_path, eopts);
  out.nodes_before = result.summary.nodes_before;
  out.nodes_after = result.summary.nodes_after;
  out.fused_layers = result.plan.fused_layers();
  report_progress("writing", 1, 1);
  return out;
}

}  // namespace dnnf::exporter
