// Applies a peer's fusion table (peer_rules.h) to a model: the table's rewrites first
// (constant folding, BN folding, composite recognition), then greedy chain matching in
// topological order, first matching row wins. The result estimates how many kernels
// the peer would launch; `dnnf compare` shows it with source "rules".
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/peers/peer_rules.h"

namespace dnnf::peers {

struct EmulatedGroup {
  std::string rule;                   // the chain row that matched
  std::vector<std::string> op_types;  // anchor first
};

struct Emulation {
  int64_t layers = 0;        // kernels after the peer's rewrites and fusions
  int64_t fused_groups = 0;  // kernels made of more than one operator
  std::map<std::string, int64_t> rule_hits;  // per row: rewrites applied / chains matched / nodes expanded
  int64_t expanded = 0;      // kernels added (or, negative, removed) by Expand rows
  std::vector<EmulatedGroup> groups;
  // Kernels left as single operators, by op type (groups are in `groups`): what to hold
  // against a peer's real op list when the counts differ.
  std::map<std::string, int64_t> single_ops;
};

// `model` is copied; shapes must be inferred (dnnf::load_and_infer).
Emulation emulate(const Model& model, const PeerTable& table);

// Whether `when` holds for node `n` of `g` (shapes inferred).
bool when_holds(const Graph& g, const Node& n, When when);

// Only the chain rows on an already rewritten graph (exposed for tests).
Emulation match_chains(const Graph& graph, const PeerTable& table);

}  // namespace dnnf::peers
