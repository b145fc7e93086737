// The rewrite driver: sweeps the graph, collects every rule match, applies the ones
// the cost model accepts (largest FLOP reduction first, non-overlapping), records each
// as a journal step, and repeats to a fixed point. Replay re-applies a journal.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/journal/journal.h"
#include "core/rewrite/rule.h"

namespace dnnf::rewrite {

struct RewriteOptions {
  std::vector<std::string> only;       // run only these rules (empty = all)
  std::vector<std::string> disabled;   // never run these
  int max_sweeps = 200;
  // Tests: after every applied rewrite, check the index the driver keeps up to date
  // against one built from scratch (throws dnnf::Error on a difference; slow).
  bool check_index = false;
  std::function<void(int sweep, size_t steps)> on_sweep;  // progress
};

struct RewriteSummary {
  int64_t nodes_before = 0, nodes_after = 0;
  double flops_before = 0, flops_after = 0;
  std::map<std::string, int64_t> rewrites;  // applied count per rule
  int sweeps = 0;
};

// The rule set: every rule, listed in one place (rule_list.cpp).
const std::vector<std::unique_ptr<Rule>>& all_rules();
const Rule* find_rule(const std::string& name);

// Runs the rules on an inferred graph. Steps go to `journal` when given.
RewriteSummary run_rewrites(Graph& graph, Journal* journal, const RewriteOptions& options = {});

// Re-applies the rewrite steps of a journal to the original (inferred) graph.
// Throws dnnf::Error if a step no longer matches the nodes it recorded.
void replay_rewrites(Graph& graph, const Journal& journal);

// What the driver does to the graph at the end of every sweep: topological order,
// initializers nobody reads any more dropped.
void finish_sweep(Graph& graph);

// Re-applies journal rewrite steps one at a time, exactly as run_rewrites applied them
// (the graph is tidied with finish_sweep only between sweeps), keeping one index of the
// graph up to date instead of rebuilding it for every step. replay_rewrites is this
// over a whole journal; the Studio's timeline steps through it.
class RewriteReplayer {
 public:
  // `sweep`: the sweep whose steps were the last applied to `graph` (-1: none yet).
  explicit RewriteReplayer(Graph& graph, int64_t sweep = -1);
  ~RewriteReplayer();
  // Applies one "rewrite" step. Throws dnnf::Error if it no longer matches.
  void apply(const JournalStep& step);
  // Tidies up after the last step (the driver's final finish_sweep).
  void finish();
  int64_t sweep() const { return sweep_; }

 private:
  Graph& graph_;
  std::unique_ptr<RewriteEnv> env_;  // built on first use, current after every step
  int64_t sweep_;
};

// Applies one proposed rewrite now (evaluates, checks cost unless `force`).
// Returns the journal step, or nothing if the rewrite is invalid or not cheaper.
std::optional<JournalStep> apply_rewrite(Graph& graph, const Rule& rule, const Rewrite& rw, bool force = false);

}  // namespace dnnf::rewrite
