// dnnf optimize MODEL: the compiler pipeline up to the requested stage, with the
// journal of every decision and a JSON summary.
#include <chrono>
#include <cstdio>

#include "app/cli/cli.h"
#include "app/cli/commands.h"
#include "core/onnx_io/onnx_export.h"
#include "core/rewrite/cost_model.h"
#include "core/rewrite/driver.h"

namespace dnnf::cli {

int cmd_optimize(const CommandArgs& argv) {
  Args args(argv, {"--stage", "--journal", "--json", "--dim", "--output", "--disable-rule", "--only-rule"},
            {"--no-rewrite"});
  if (args.positional().size() != 1) throw UsageError("expected one MODEL");
  const std::string stage = args.value_or("--stage", "rewrite");
  if (stage != "rewrite") throw UsageError("unknown --stage '" + stage + "' (available: rewrite)");
  const std::string path = args.positional()[0];
  Model model = load_and_infer(path, parse_dims(args.values("--dim")));

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
  if (auto out = args.value("--json")) {
    write_json(j, *out);
    if (*out == "-") return 0;
  }
  std::printf("%s: %lld -> %lld nodes, %.4g -> %.4g FLOPs, %zu rewrite steps in %.0f ms\n", path.c_str(),
              (long long)summary.nodes_before, (long long)summary.nodes_after, summary.flops_before,
              summary.flops_after, journal.steps.size(), ms);
  for (const auto& [rule, n] : summary.rewrites) std::printf("  %-32s %lld\n", rule.c_str(), (long long)n);
  return 0;
}

}  // namespace dnnf::cli
