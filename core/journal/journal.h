// The journal: every rewrite and fusion decision, in order, with its reason and
// numbers. The CLI writes it as JSON; the Studio steps through it; replay re-applies
// the rewrite steps to the original graph.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ir/graph.h"

namespace dnnf {

struct CostSnapshot {
  double flops = 0;
  double bytes = 0;
  int64_t nodes = 0;
};

struct JournalStep {
  std::string stage;                 // "rewrite" or "fusion"
  std::string rule;                  // rule name or fusion decision kind
  std::string family;                // rule family (associative, fold, composite, ...)
  std::vector<NodeId> matched;       // nodes the step looked at
  std::vector<NodeId> created;       // nodes it added
  std::vector<NodeId> removed;       // nodes it took out of the graph
  std::string reason;
  CostSnapshot cost_before;          // of the matched region (rewrite) / candidate (fusion)
  CostSnapshot cost_after;
  bool accepted = true;
  nlohmann::json details;            // stage-specific numbers (mapping types, verdict, profile)
};

struct Journal {
  std::string model;
  std::vector<JournalStep> steps;

  nlohmann::json to_json() const;
  static Journal from_json(const nlohmann::json& j);  // throws dnnf::Error on bad input
  void save(const std::string& path) const;
  static Journal load(const std::string& path);
};

}  // namespace dnnf
