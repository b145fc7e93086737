#include "views/session/graph_timeline.h"

#include <algorithm>

namespace dnnf::views {

GraphTimeline::GraphTimeline(std::shared_ptr<const StudioSession> session, const JobControl& job)
    : session_(std::move(session)) {
  for (size_t i = 0; i < steps().size(); ++i)
    if (steps()[i].stage == "rewrite") rewrite_index_.push_back(i);
  current_ = session_->original;
  snapshots_[0] = Snapshot{current_, -1};
  replayer_ = std::make_unique<rewrite::RewriteReplayer>(current_);
  const size_t n = rewrite_index_.size();
  for (size_t done = 0; done < n; done += kSnapshotEvery) {
    job.progress(int(100 * done / n), "replaying the journal: step " + std::to_string(done) + " of " + std::to_string(n));
    advance_to(std::min(n, done + kSnapshotEvery));
  }
  job.progress(100, "journal replayed");
}

GraphTimeline::~GraphTimeline() = default;

size_t GraphTimeline::rewrites_before(size_t k) const {
  return size_t(std::lower_bound(rewrite_index_.begin(), rewrite_index_.end(), k) - rewrite_index_.begin());
}

void GraphTimeline::advance_to(size_t applied) {
  while (applied_ < applied) {
    replayer_->apply(steps()[rewrite_index_[applied_]]);
    ++applied_;
    if (applied_ % kSnapshotEvery == 0 && !snapshots_.count(applied_))
      snapshots_[applied_] = Snapshot{current_, replayer_->sweep()};
  }
}

void GraphTimeline::restore(size_t applied) {
  auto it = std::prev(snapshots_.upper_bound(applied));
  current_ = it->second.graph;
  replayer_ = std::make_unique<rewrite::RewriteReplayer>(current_, it->second.sweep);
  applied_ = it->first;
}

const Graph& GraphTimeline::graph_at(size_t k) {
  const size_t target = rewrites_before(k);
  if (target < applied_) restore(target);
  advance_to(target);
  if (applied_ == 0) return current_;  // the original graph, as imported
  if (tidied_applied_ != applied_) {
    // Between sweeps the driver's graph is not in topological order yet; show it as it
    // is at the end of a sweep.
    tidied_ = current_;
    rewrite::finish_sweep(tidied_);
    tidied_applied_ = applied_;
  }
  return tidied_;
}

std::map<int, std::vector<NodeId>> GraphTimeline::blocks_at(size_t k) const {
  std::map<int, std::vector<NodeId>> blocks;
  for (size_t i = 0; i < k && i < steps().size(); ++i) {
    const JournalStep& s = steps()[i];
    if (s.stage != "fusion" || !s.accepted || !s.details.contains("block") || !s.details.contains("candidate")) continue;
    blocks[s.details["block"].get<int>()].push_back(s.details["candidate"].get<NodeId>());
  }
  for (auto it = blocks.begin(); it != blocks.end();) it = it->second.size() < 2 ? blocks.erase(it) : std::next(it);
  return blocks;
}

}  // namespace dnnf::views
