// dnnf optimize MODEL: the compiler pipeline up to the requested stage, with the
// journal of every decision and a JSON summary.
#include <chrono>
#include <cstdio>

#include "app/cli/cli.h"
#include "app/cli/commands.h"
#include "core/pipeline/pipeline.h"
#include "core/onnx_io/onnx_export.h"
#include "core/runtime/graph_compare.h"

namespace dnnf::cli {

int cmd_optimize(const CommandArgs& argv) {
  Args args(argv, {"--stage", "--journal", "--json", "--dim", "--output", "--disable-rule", "--only-rule", "--target",
                   "--db"},
            {"--no-rewrite", "--no-fusion", "--no-db", "--verify"});
  if (args.positional().size() != 1) throw UsageError("expected one MODEL");
  const std::string stage = args.value_or("--stage", "fusion");
  if (stage != "rewrite" && stage != "fusion")
    throw UsageError("unknown --stage '" + stage + "' (available: rewrite, fusion)");
  const std::string target = args.value_or("--target", "cpu");
  if (target != "cpu" && target != "vulkan")
    throw UsageError("unknown --target '" + target + "' (available: cpu, vulkan)");
  const std::string path = args.positional()[0];
  Model model = load_and_infer(path, parse_dims(args.values("--dim")));

  const Model original = args.flag("--verify") ? model : Model();
  PipelineOptions popts;
  popts.rewrite = !args.flag("--no-rewrite");
  popts.fusion = !args.flag("--no-fusion");
  popts.target = target;
  popts.use_db = !args.flag("--no-db");
  popts.db_path = args.value_or("--db", "");
  popts.rewrite_options.disabled = args.values("--disable-rule");
  popts.rewrite_options.only = args.values("--only-rule");
  Progress progress("rewriting (sweeps)");
  popts.rewrite_options.on_sweep = [&](int sweep, size_t) {
    progress.update(size_t(sweep + 1), size_t(popts.rewrite_options.max_sweeps));
  };
  popts.plan = stage == "fusion";
  PipelineResult result = run_pipeline(model, popts);
  Journal& journal = result.journal;
  journal.model = path;
  const rewrite::RewriteSummary& summary = result.summary;
  const double ms = result.rewrite_ms;
  nlohmann::json fusion_json;
  const double plan_ms = result.plan_ms;
  if (stage == "fusion") {
    fusion_json = result.plan.to_json(model.graph);
    if (!result.db_path.empty())
      fusion_json["database"] = {{"path", result.db_path}, {"hits", result.db_hits}, {"misses", result.db_misses}};
  }

  int status = 0;
  nlohmann::json verify;
  if (args.flag("--verify")) {
    // The rewritten graph must compute what the original does (reference executor,
    // same seeded random inputs, rtol 1e-4).
    const CompareResult r = compare_graph_outputs(original.graph, model.graph, {1e-4, 1e-5});
    const std::string worst = r.ok ? std::string() : r.message;
    verify = {{"ok", worst.empty()}, {"rtol", 1e-4}, {"atol", 1e-5}};
    if (!worst.empty()) {
      std::fprintf(stderr, "dnnf optimize: the rewritten model differs from the original: %s\n", worst.c_str());
      status = 1;
    }
  }

  if (auto j = args.value("--journal")) journal.save(*j);
  if (auto out = args.value("--output")) onnx_io::save_model(model, *out);

  nlohmann::json j;
  j["model"] = path;
  j["nodes_before"] = summary.nodes_before;
  j["nodes_after_rewrite"] = summary.nodes_after;
  j["flops_before"] = summary.flops_before;
  j["flops_after_rewrite"] = summary.flops_after;
  j["rewrites"] = summary.rewrites;
  j["rewrite_steps"] = journal.steps.size();
  j["sweeps"] = summary.sweeps;
  j["rewrite_ms"] = ms;
  j["stage"] = stage;
  if (!verify.is_null()) j["verify"] = verify;
  if (stage == "fusion") {
    j["target"] = target;
    j["fused_layers"] = fusion_json["fused_layers"];
    j["blocks"] = fusion_json["blocks"];
    j["intermediate_bytes_before"] = fusion_json["intermediate_bytes_before"];
    j["intermediate_bytes_after"] = fusion_json["intermediate_bytes_after"];
    j["plan_ms"] = plan_ms;
    if (fusion_json.contains("database")) j["database"] = fusion_json["database"];
  }
  if (auto out = args.value("--json")) {
    write_json(j, *out);
    if (*out == "-") return status;
  }
  std::printf("%s: %lld -> %lld nodes, %.4g -> %.4g FLOPs, %zu rewrite steps in %.0f ms\n", path.c_str(),
              (long long)summary.nodes_before, (long long)summary.nodes_after, summary.flops_before,
              summary.flops_after, journal.steps.size(), ms);
  for (const auto& [rule, n] : summary.rewrites) std::printf("  %-32s %lld\n", rule.c_str(), (long long)n);
  if (stage == "fusion")
    std::printf("fusion (%s): %lld nodes -> %zu fused layers, intermediate bytes %lld -> %lld, planned in %.0f ms\n",
                target.c_str(), (long long)summary.nodes_after, j["fused_layers"].get<size_t>(),
                j["intermediate_bytes_before"].get<long long>(), j["intermediate_bytes_after"].get<long long>(), plan_ms);
  if (!verify.is_null()) std::printf("verify: %s\n", status == 0 ? "outputs equal the original's (rtol 1e-4)" : "MISMATCH");
  return status;
}

}  // namespace dnnf::cli
