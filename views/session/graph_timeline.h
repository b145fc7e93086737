// The graph at every position of the journal. Position 0 is the original graph;
// position k is the state after journal step k-1. Rewrite steps change the graph
// (replayed with core's RewriteReplayer, exactly as the driver applied them); fusion
// steps leave it alone and grow blocks. Snapshots every few rewrite steps keep a jump
// anywhere cheap.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "core/rewrite/driver.h"
#include "views/jobs/job_control.h"
#include "views/session/studio_session.h"

namespace dnnf::views {

class GraphTimeline {
 public:
  // Replays the whole journal once to take the snapshots (a worker job: progress, cancel).
  GraphTimeline(std::shared_ptr<const StudioSession> session, const JobControl& job = {});
  GraphTimeline(const GraphTimeline&) = delete;  // the replayer refers to current_
  GraphTimeline& operator=(const GraphTimeline&) = delete;
  ~GraphTimeline();

  size_t positions() const { return steps().size() + 1; }
  const std::vector<JournalStep>& steps() const { return session_->result.journal.steps; }
  // The step that led to position k (nullptr at 0).
  const JournalStep* step_into(size_t k) const { return k == 0 ? nullptr : &steps().at(k - 1); }
  // Graph state at position k, tidied as the driver tidies it after a sweep
  // (topological order, unread constants dropped). Not thread-safe (it moves an
  // internal cursor); the reference is valid until the next call.
  const Graph& graph_at(size_t k);
  // Multi-node fused blocks decided before position k: block id -> member nodes.
  std::map<int, std::vector<NodeId>> blocks_at(size_t k) const;
  const StudioSession& session() const { return *session_; }

 private:
  // The driver's graph between two rewrites: tidied only at the end of each sweep.
  struct Snapshot {
    Graph graph;
    int64_t sweep = -1;  // sweep of the last step applied
  };
  size_t rewrites_before(size_t k) const;  // rewrite steps among the first k steps
  void advance_to(size_t applied);
  void restore(size_t applied);            // the latest snapshot at or before `applied`

  static constexpr size_t kSnapshotEvery = 32;
  std::shared_ptr<const StudioSession> session_;
  std::vector<size_t> rewrite_index_;     // journal index of the i-th rewrite step
  std::map<size_t, Snapshot> snapshots_;  // rewrites applied -> graph
  Graph current_;                         // after applied_ rewrites, untidied
  std::unique_ptr<rewrite::RewriteReplayer> replayer_;  // applies steps to current_
  size_t applied_ = 0;
  Graph tidied_;                          // current_ after finish_sweep: what graph_at returns
  size_t tidied_applied_ = size_t(-1);    // applied_ when tidied_ was made
};

}  // namespace dnnf::views
