#include "core/peers/peer_emulator.h"

#include <set>

#include "core/ir/op_registry.h"
#include "core/rewrite/driver.h"

namespace dnnf::peers {

namespace {

bool op_in_class(const Graph& g, const Node& n, const std::string& cls) {
  const OpInfo* info = OpRegistry::instance().find_any(n.domain, n.op_type);
  if (!info) return false;
  const MappingType m = OpRegistry::instance().mapping_of(n, g.types_of(n.inputs), g.types_of(n.outputs));
  // DNNFusion calls a broadcasting binary op One-to-Many; TVM's kBroadcast fuses like kElemWise.
  const bool elementwise = m == MappingType::OneToOne ||
                           (m == MappingType::OneToMany && (info->family == "elementwise" || info->family == "activation"));
  if (cls == "@elementwise") return elementwise;
  if (cls == "@injective") return elementwise || m == MappingType::Reorganize || m == MappingType::Shuffle;
  return false;
}

bool step_accepts(const Graph& g, const Node& n, const ChainStep& step, const std::string& chain_value) {
  bool op_ok = false;
  for (const std::string& o : step.ops) {
    if (o.empty()) continue;
    if (o[0] == '@' ? op_in_class(g, n, o) : n.op_type == o) {
      op_ok = true;
      break;
    }
  }
  if (!op_ok) return false;
  if (step.operand == Operand::Constant) {
    for (const std::string& in : n.inputs)
      if (!in.empty() && in != chain_value && !g.is_constant(in)) return false;
  }
  return true;
}

// The single consumer of a node's only output, if the output is read once and is not a
// graph output (a fused intermediate is never written back to memory).
int64_t sole_consumer(const Graph& g, const Node& n) {
  size_t produced = 0;
  for (const std::string& o : n.outputs) produced += o.empty() ? 0 : 1;
  if (produced != 1 || n.outputs[0].empty() || g.is_graph_output(n.outputs[0])) return -1;
  const std::vector<size_t> users = g.consumer_indices(n.outputs[0]);
  if (users.size() != 1) return -1;
  // A node reading the value twice (x * x) is still one consumer.
  return int64_t(users[0]);
}

// Tries a chain rule anchored at node `start`; returns the claimed node indices.
// Greedy: a repeating step keeps matching unless the next step accepts the node;
// optional steps are skipped when they do not match.
std::vector<size_t> match_at(const Graph& g, size_t start, const PeerRule& rule, const std::vector<bool>& taken) {
  const std::vector<ChainStep>& steps = rule.steps;
  if (steps.empty() || !step_accepts(g, g.nodes[start], steps[0], "")) return {};
  std::vector<size_t> claimed = {start};
  size_t si = 0;  // the step that matched last
  while (true) {
    const int64_t next = sole_consumer(g, g.nodes[claimed.back()]);
    if (next < 0 || taken[size_t(next)]) break;
    const Node& cand = g.nodes[size_t(next)];
    const std::string value = g.nodes[claimed.back()].outputs[0];
    bool advanced = false;
    for (size_t j = si + 1; j < steps.size(); ++j) {
      if (step_accepts(g, cand, steps[j], value)) {
        si = j;
        advanced = true;
        break;
      }
      if (!steps[j].optional) break;
    }
    if (!advanced && !(steps[si].repeat && step_accepts(g, cand, steps[si], value))) break;
    claimed.push_back(size_t(next));
  }
  for (size_t j = si + 1; j < steps.size(); ++j)
    if (!steps[j].optional) return {};
  if (claimed.size() < 2) return {};
  return claimed;
}

}  // namespace

Emulation match_chains(const Graph& g, const PeerTable& table) {
  Emulation e;
  std::set<std::string> dropped;
  for (const PeerRule& r : table.rules)
    if (r.kind == RuleKind::Drop) dropped.insert(r.drop_ops.begin(), r.drop_ops.end());
  std::vector<bool> taken(g.nodes.size(), false);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (taken[i]) continue;
    const Node& n = g.nodes[i];
    if (n.op_type == "Constant") continue;  // a constant, not a kernel
    if (dropped.count(n.op_type)) {
      taken[i] = true;
      e.rule_hits["drop " + n.op_type]++;
      continue;
    }
    bool grouped = false;
    for (const PeerRule& r : table.rules) {
      if (r.kind != RuleKind::Chain) continue;
      const std::vector<size_t> claimed = match_at(g, i, r, taken);
      if (claimed.empty()) continue;
      EmulatedGroup group{r.name, {}};
      for (size_t c : claimed) {
        taken[c] = true;
        group.op_types.push_back(g.nodes[c].op_type);
      }
      e.groups.push_back(std::move(group));
      e.rule_hits[r.name]++;
      e.layers++;
      e.fused_groups++;
      grouped = true;
      break;
    }
    if (!grouped) {
      taken[i] = true;
      e.layers++;
      // A composite recognised by a rewrite row (dnnf.LayerNormalization, dnnf.Gelu, ...)
      // is one kernel made of several ONNX operators.
      if (n.domain == "dnnf") e.fused_groups++;
    }
  }
  return e;
}

Emulation emulate(const Model& model, const PeerTable& table) {
  Model m = model;
  std::map<std::string, int64_t> rewrite_hits;
  for (const PeerRule& r : table.rules) {
    if (r.kind != RuleKind::Rewrite) continue;
    rewrite::RewriteOptions opts;
    opts.only = r.rewrites;
    // Folding exposes more folding: each row runs with the cleanup rules to a fixed point.
    for (const char* cleanup : {"dead-code", "constant-to-initializer"}) opts.only.push_back(cleanup);
    const rewrite::RewriteSummary s = rewrite::run_rewrites(m.graph, nullptr, opts);
    int64_t applied = 0;
    for (const std::string& name : r.rewrites)
      if (auto it = s.rewrites.find(name); it != s.rewrites.end()) applied += it->second;
    if (applied) rewrite_hits[r.name] += applied;
  }
  Emulation e = match_chains(m.graph, table);
  for (const auto& [k, v] : rewrite_hits) e.rule_hits[k] += v;
  return e;
}

}  // namespace dnnf::peers
