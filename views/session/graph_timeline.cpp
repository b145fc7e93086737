#include "views/session/graph_timeline.h"

#include "core/rewrite/driver.h"

namespace dnnf::views {

GraphTimeline::GraphTimeline(std::shared_ptr<const StudioSession> session, const JobControl& job)
    : session_(std::move(session)) {
  for (size_t i = 0; i < steps().size(); ++i)
    if (steps()[i].stage == "rewrite") rewrite_index_.push_back(i);
  current_ = session_->original;
  snapshots_[0] = current_;
  const size_t n = rewrite_index_.size();
  for (size_t done = 0; done < n; done += kSnapshotEvery) {
    job.progress(int(100 * done / n), "replaying the journal: step " + std::to_string(done) + " of " + std::to_string(n));
    advance_to(std::min(n, done + kSnapshotEvery));
  }
  job.progress(100, "journal replayed");
}

size_t GraphTimeline::rewrites_before(size_t k) const {
  size_t r = 0;
  while (r < rewrite_index_.size() && rewrite_index_[r] < k) ++r;
  return r;
}

void GraphTimeline::advance_to(size_t applied) {
  // One step at a time: replaying a single-step journal applies exactly that rewrite.
  while (applied_ < applied) {
    Journal one;
    one.steps.push_back(steps()[rewrite_index_[applied_]]);
    rewrite::replay_rewrites(current_, one);
    ++applied_;
    if (applied_ % kSnapshotEvery == 0 && !snapshots_.count(applied_)) snapshots_[applied_] = current_;
  }
}

const Graph& GraphTimeline::graph_at(size_t k) {
  const size_t target = rewrites_before(k);
  if (target < applied_) {
    auto it = std::prev(snapshots_.upper_bound(target));
    current_ = it->second;
    applied_ = it->first;
  }
  advance_to(target);
  return current_;
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
