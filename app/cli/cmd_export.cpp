// dnnf export MODEL --target onnx -o FILE: runs the pipeline with dnnf optimize's
// defaults (less the rewrites into dnnf-only operators, see --keep-dnnf-ops) and writes the rewritten graph with each fused block as one ONNX function
// call. Other targets (neon, vulkan) are announced but not there yet.
#include <cstdio>
#include <string>

#include "app/cli/cli.h"
#include "app/cli/commands.h"
#include "core/export/onnx_fused_export.h"
#include "core/pipeline/pipeline.h"

namespace dnnf::cli {

namespace {

// "-o FILE" is the conventional spelling; Args only knows "--" options.
CommandArgs expand_short_options(const CommandArgs& argv) {
  CommandArgs out = argv;
  for (std::string& a : out)
    if (a == "-o") a = "--output";
  return out;
}

}  // namespace

int cmd_export(const CommandArgs& argv) {
  Args args(expand_short_options(argv), {"--target", "--output", "--dim", "--db"},
            {"--no-rewrite", "--no-fusion", "--no-db", "--keep-dnnf-ops"});
  if (args.positional().size() != 1) throw UsageError("expected one MODEL");
  const auto target = args.value("--target");
  if (!target) throw UsageError("--target is required (available: onnx)");
  if (*target == "neon" || *target == "vulkan") {
    std::fprintf(stderr, "dnnf export: --target %s is not yet available (available: onnx)\n", target->c_str());
    return 2;
  }
  if (*target != "onnx") throw UsageError("unknown --target '" + *target + "' (available: onnx)");
  const auto output = args.value("--output");
  if (!output) throw UsageError("expected -o FILE");

  const std::string path = args.positional()[0];
  Model model = load_and_infer(path, parse_dims(args.values("--dim")));

  // The same pipeline as dnnf optimize (rewrites, CPU fusion plan, fusion database).
  PipelineOptions popts;
  popts.rewrite = !args.flag("--no-rewrite");
  popts.fusion = !args.flag("--no-fusion");
  popts.use_db = !args.flag("--no-db");
  popts.db_path = args.value_or("--db", "");
  // Except the rewrites into dnnf's own operators, which only dnnf can run: the file
  // is meant for any ONNX consumer unless --keep-dnnf-ops asks otherwise.
  if (!args.flag("--keep-dnnf-ops")) popts.rewrite_options.disabled = exporter::rules_creating_dnnf_ops();
  Progress progress("rewriting (sweeps)");
  popts.rewrite_options.on_sweep = [&](int sweep, size_t) {
    progress.update(size_t(sweep + 1), size_t(popts.rewrite_options.max_sweeps));
  };
  // Rewriting and planning run as two pipeline calls so that each stage has its own
  // progress line; the second call plans on the rewritten graph without rewriting.
  popts.plan = false;
  PipelineResult result = run_pipeline(model, popts);
  progress.set_label("planning fusion");
  progress.update(0, 1);
  PipelineOptions plan_only = popts;
  plan_only.rewrite = false;
  plan_only.plan = true;
  PipelineResult planned = run_pipeline(model, plan_only);
  result.plan = std::move(planned.plan);
  result.plan_ms = planned.plan_ms;
  for (JournalStep& s : planned.journal.steps) result.journal.steps.push_back(std::move(s));
  progress.update(1, 1);
  progress.set_label("writing " + *output);
  progress.update(0, 1);

  exporter::FusedExportOptions eopts;
  eopts.source_name = path;
  eopts.source_hash = exporter::hash_model_file(path);
  const exporter::FusedExportStats st = exporter::save_fused_model(model, result, *output, eopts);
  progress.update(1, 1);
  progress.finish();

  std::printf("%s: wrote %s (%zu bytes): %lld -> %lld nodes after rewriting, %zu fused layers, "
              "%zu fused blocks as calls of %zu functions, %zu nodes in the main graph\n",
              path.c_str(), output->c_str(), st.bytes, (long long)result.summary.nodes_before,
              (long long)result.summary.nodes_after, result.plan.fused_layers(), st.calls, st.functions,
              st.graph_nodes);
  return 0;
}

}  // namespace dnnf::cli
