// dnnf compare MODEL: kernels per inference of dnnf and of the peer frameworks on the
// same ONNX file (core/peers/peer_compare.h), dnnf first.
#include <cstdio>

#include "app/cli/cli.h"
#include "app/cli/commands.h"
#include "core/peers/peer_compare.h"
#include "core/peers/peer_rules.h"
#include "core/pipeline/pipeline.h"

namespace dnnf::cli {

namespace {

// dnnf's own row: the fused layers of its CPU plan after rewriting.
peers::CompareRow dnnf_row(const Model& inferred, bool measure, bool use_db, int64_t* nodes_after_rewrite) {
  Model model = inferred;
  PipelineOptions popts;
  popts.measure = measure;
  popts.use_db = use_db;
  const PipelineResult r = run_pipeline(model, popts);
  *nodes_after_rewrite = r.summary.nodes_after;
  peers::CompareRow row;
  row.system = "dnnf";
  row.version = DNNF_VERSION;
  row.source = "dnnf";
  row.layers = int64_t(r.plan.fused_layers());
  row.fused_groups = 0;
  for (const fusion::FusedBlock& b : r.plan.blocks) {
    const Node* first = b.nodes.empty() ? nullptr : model.graph.find_node(b.nodes[0]);
    if (b.nodes.size() > 1 || (first && first->domain == "dnnf")) row.fused_groups++;
  }
  return row;
}

}  // namespace

int cmd_compare(const CommandArgs& argv) {
  Args args(argv, {"--json", "--peers", "--dim", "--source", "--timeout"}, {"--no-cache", "--no-measure", "--no-db"});
  if (args.positional().size() != 1) throw UsageError("expected one MODEL");
  const std::string path = args.positional()[0];
  const std::string source = args.value_or("--source", "auto");
  peers::PeerMode mode = peers::PeerMode::Auto;
  if (source == "tool") mode = peers::PeerMode::Tool;
  else if (source == "rules") mode = peers::PeerMode::Rules;
  else if (source != "auto") throw UsageError("unknown --source '" + source + "' (available: auto, tool, rules)");
  const std::vector<std::string> peer_list = peers::parse_peer_list(args.value_or("--peers", "all"));
  peers::PeerEnv env = peers::default_peer_env();
  if (auto t = args.value("--timeout")) env.timeout_seconds = args.double_or("--timeout", env.timeout_seconds);

  Model model = load_and_infer(path, parse_dims(args.values("--dim")));
  const int64_t nodes = int64_t(model.graph.nodes.size());
  const std::string hash = peers::file_hash(path);

  std::vector<peers::CompareRow> rows;
  int64_t nodes_after_rewrite = 0;
  Progress progress("compare");
  progress.set_label("dnnf");
  rows.push_back(dnnf_row(model, !args.flag("--no-measure"), !args.flag("--no-db"), &nodes_after_rewrite));
  for (size_t i = 0; i < peer_list.size(); ++i) {
    progress.set_label(peer_list[i]);
    rows.push_back(peers::peer_row(peer_list[i], path, hash, model, env, mode, !args.flag("--no-cache")));
  }
  progress.finish();

  nlohmann::json j;
  j["model"] = path;
  j["model_hash"] = hash;
  j["nodes"] = nodes;
  j["dnnf_nodes_after_rewrite"] = nodes_after_rewrite;
  j["rows"] = nlohmann::json::array();
  for (const peers::CompareRow& r : rows) j["rows"].push_back(r.to_json());
  if (auto out = args.value("--json")) {
    write_json(j, *out);
    if (*out == "-") return 0;
  }
  std::printf("%s: %lld nodes, %lld after dnnf rewriting\n", path.c_str(), (long long)nodes,
              (long long)nodes_after_rewrite);
  std::printf("  %-26s %-36s %8s %8s  %s\n", "system", "version", "layers", "fused", "source");
  for (const peers::CompareRow& r : rows) {
    if (!r.error.empty()) {
      std::printf("  %-26s %-36s %8s %8s  %s  failed: %s\n", r.system.c_str(), r.version.c_str(), "-", "-",
                  r.source.c_str(), r.error.c_str());
      continue;
    }
    std::printf("  %-26s %-36s %8lld %8lld  %s%s%s\n", r.system.c_str(), r.version.c_str(), (long long)r.layers,
                (long long)r.fused_groups, r.source.c_str(), r.note.empty() ? "" : "  ", r.note.c_str());
  }
  return 0;
}

}  // namespace dnnf::cli
