// dnnf optimize MODEL: the compiler pipeline up to the requested stage, with the
// journal of every decision and a JSON summary.
#include <chrono>
#include <cstdio>

#include "app/cli/cli.h"
#include "app/cli/commands.h"
#include "core/fusion/fusion_db.h"
#include "core/fusion/planner.h"
#include "core/onnx_io/onnx_export.h"
#include "core/runtime/graph_compare.h"
#include "core/rewrite/cost_model.h"
#include "core/rewrite/driver.h"

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
  if (target != "cpu") throw UsageError("unknown --target '" + target + "' (available: cpu)");
  const std::string path = args.positional()[0];
  Model model = load_and_infer(path, parse_dims(args.values("--dim")));

  const Model original = args.flag("--verify") ? model : Model();
  Journal journal;
  journal.model = path;
  rewrite::RewriteOptions options;
  options.disabled = args.values("--disable-rule");
  options.only = args.values("--only-rule");
  Progress progress("rewriting (sweeps)");
  options.on_sweep = [&](int sweep, size_t) { progress.update(size_t(sweep + 1), size_t(options.max_sweeps)); };
  const auto t0 = std::chrono::steady_clock::now();
  rewrite::RewriteSummary summary;
  if (args.flag("--no-rewrite")) {
    const CostSnapshot c = rewrite::graph_cost(model.graph);
    summary.nodes_before = summary.nodes_after = int64_t(model.graph.nodes.size());
    summary.flops_before = summary.flops_after = c.flops;
  } else {
    summary = rewrite::run_rewrites(model.graph, &journal, options);
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  nlohmann::json fusion_json;
  double plan_ms = 0;
  if (stage == "fusion") {
    const auto t1 = std::chrono::steady_clock::now();
    fusion::PlannerOptions popts;
    popts.target = target;
    popts.enabled = !args.flag("--no-fusion");
    auto estimator = fusion::make_estimating_profiler(target);
    std::unique_ptr<fusion::FusionDatabase> db;
    std::unique_ptr<fusion::BlockProfiler> cached;
    if (!args.flag("--no-db")) {
      db = std::make_unique<fusion::FusionDatabase>(args.value_or("--db", fusion::FusionDatabase::default_path()));
      cached = fusion::make_cached_profiler(*db, *estimator);
      popts.profiler = cached.get();
    } else {
      popts.profiler = estimator.get();
    }
    const fusion::FusionPlan plan = fusion::plan_fusion(model.graph, popts, &journal);
    plan_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count();
    fusion_json = plan.to_json(model.graph);
    if (db) {
      const auto st = db->stats();
      fusion_json["database"] = {{"path", db->path()}, {"hits", st.hits}, {"misses", st.misses}};
    }
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
