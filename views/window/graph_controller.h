// Keeps the graph view in step with the user's choices: which journal position, which
// blocks are collapsed, which overlay. Builds the DisplayGraph for the state, takes the
// layout from the cache or computes it on a worker thread, then shows it.
#pragma once

#include <QObject>
#include <memory>
#include <set>
#include <vector>

#include "views/graph/graph_view.h"
#include "views/layout/layout_cache.h"
#include "views/session/graph_timeline.h"

namespace dnnf::views {

class GraphController : public QObject {
  Q_OBJECT
 public:
  GraphController(GraphView* view, QObject* parent = nullptr);

  void set_timeline(std::shared_ptr<GraphTimeline> timeline);  // shows the last position
  GraphTimeline* timeline() const { return timeline_.get(); }
  size_t position() const { return position_; }
  void set_position(size_t k);

  void toggle_block(int block);
  void collapse_all();
  void expand_all();
  const std::set<int>& collapsed() const { return collapsed_; }

  void set_overlay(OverlayKind kind);
  OverlayKind overlay() const { return overlay_; }
  // Per-block times (plan order) from a profiling run of the final plan.
  void set_block_times(std::vector<double> block_us);
  bool has_block_times() const { return !block_us_.empty(); }

  bool layout_pending() const { return pending_ > 0; }
  // The state asked for last is drawn (not waiting for its layout).
  bool state_on_screen() const { return timeline_ && shown_key_ == wanted_key_; }
  void wait_idle();  // processes events until the current state is on screen
  LayoutCache& cache() { return cache_; }

 signals:
  void state_shown(size_t position);
  void layout_busy(bool busy, const QString& message);

 private:
  void refresh();
  void show_now(const std::shared_ptr<const LayoutResult>& layout);
  void apply_decorations();

  GraphView* view_;
  std::shared_ptr<GraphTimeline> timeline_;
  size_t position_ = 0;
  std::set<int> collapsed_;
  OverlayKind overlay_ = OverlayKind::None;
  std::vector<double> block_us_;
  DisplayGraph current_;
  uint64_t wanted_key_ = 0, shown_key_ = 1;
  int pending_ = 0;
  bool fit_on_show_ = true;
  LayoutCache cache_;
};

// Turns a DisplayGraph into Graphviz input (box sizes from the drawn text).
LayoutInput layout_input_for(const DisplayGraph& graph);

}  // namespace dnnf::views
