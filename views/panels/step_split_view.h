// The before/after split view of one journal step: the nodes the step matched, removed
// or created (for a fusion decision: the candidate and its block) with their direct
// neighbours, in the graph before the step (left) and after it (right), side by side.
#pragma once

#include <QWidget>
#include <set>

#include "views/graph/display_graph.h"

class QLabel;

namespace dnnf::views {

class AsyncLayout;
class GraphTimeline;
class GraphView;

class StepSplitView : public QWidget {
  Q_OBJECT
 public:
  explicit StepSplitView(QWidget* parent = nullptr);
  // Shows the step into `position` (position 0: nothing before it, both sides empty).
  void show_step(GraphTimeline* timeline, size_t position);
  void clear();
  GraphView* before() const { return before_; }
  GraphView* after() const { return after_; }
  bool pending() const;
  void wait_idle();

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  void update_now();

  GraphTimeline* timeline_ = nullptr;
  size_t position_ = 0;
  bool stale_ = false;  // asked while hidden: redo when shown
  GraphView *before_, *after_;
  QLabel *before_title_, *after_title_;
  AsyncLayout* layout_;
};

// The display ids a step is about, in the graph before it and after it: rewrite steps
// matched + removed before and matched + created after; fusion decisions the candidate
// and the members of its block. Exposed for tests.
struct StepFocus {
  std::set<NodeId> before, after;
  std::set<NodeId> highlight_matched, highlight_created;
};
StepFocus step_focus(GraphTimeline& timeline, size_t position);

}  // namespace dnnf::views
