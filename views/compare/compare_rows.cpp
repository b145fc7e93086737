#include "views/compare/compare_rows.h"

#include "core/util/error.h"

// The peer comparison lives in core/peers when that part of dnnf is built; the Studio
// keeps working (dnnf's row only) without it.
#if __has_include("core/peers/peer_compare.h")
#include "core/peers/peer_compare.h"
#define DNNF_HAVE_PEERS 1
#else
#define DNNF_HAVE_PEERS 0
#endif

namespace dnnf::views {

CompareRow dnnf_compare_row(const StudioSession& s) {
  CompareRow row{"dnnf", DNNF_VERSION, int64_t(s.result.plan.fused_layers()), 0, "dnnf"};
  for (const fusion::FusedBlock& b : s.result.plan.blocks) {
    const Node* first = b.nodes.empty() ? nullptr : s.optimized.graph.find_node(b.nodes[0]);
    if (b.nodes.size() > 1 || (first && first->domain == "dnnf")) ++row.fused_groups;
  }
  return row;
}

std::vector<CompareRow> compare_rows_with_peers(const StudioSession& s, const JobControl& job) {
  std::vector<CompareRow> rows{dnnf_compare_row(s)};
#if DNNF_HAVE_PEERS
  Model original = s.optimized;  // the peers see the imported graph, before dnnf rewrote it
  original.graph = s.original;
  const peers::PeerEnv env = peers::default_peer_env();
  const std::string hash = peers::file_hash(s.path);
  const std::vector<std::string> list = peers::parse_peer_list("all");
  for (size_t i = 0; i < list.size(); ++i) {
    job.progress(int(100 * i / list.size()), "comparing with " + list[i]);
    const peers::CompareRow p = peers::peer_row(list[i], s.path, hash, original, env, peers::PeerMode::Auto);
    rows.push_back({p.system, p.version, p.layers, p.fused_groups, p.source});  // as --json prints it
  }
#else
  (void)job;
#endif
  return rows;
}

std::vector<CompareRow> compare_rows_from_json(const nlohmann::json& j) {
  const nlohmann::json& rows = j.is_object() && j.contains("rows") ? j["rows"] : j;
  check(rows.is_array(), "compare JSON: expected an array of rows or an object with \"rows\"");
  std::vector<CompareRow> out;
  for (const nlohmann::json& r : rows) {
    check(r.is_object() && r.contains("system") && r.contains("layers"), "compare JSON: a row lacks \"system\" or \"layers\"");
    CompareRow row;
    row.system = r["system"].get<std::string>();
    row.version = r.value("version", std::string());
    // null marks a failed row (the peer's converter failed): -1, as core/peers keeps it.
    row.layers = r["layers"].is_number() ? r["layers"].get<int64_t>() : -1;
    row.fused_groups = r.contains("fused_groups") && r["fused_groups"].is_number() ? r["fused_groups"].get<int64_t>() : -1;
    row.source = r.value("source", std::string());
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace dnnf::views
