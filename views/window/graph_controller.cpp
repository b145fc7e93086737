#include "views/window/graph_controller.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QPointer>
#include <QtConcurrent/QtConcurrentRun>

#include "views/layout/layered_layout.h"

namespace dnnf::views {

LayoutInput layout_input_for(const DisplayGraph& graph) {
  LayoutInput in;
  for (const DisplayNode& n : graph.nodes) {
    const QSizeF s = node_size(n);
    in.nodes.push_back({n.id, s.width(), s.height()});
  }
  for (const DisplayEdge& e : graph.edges) in.edges.push_back({e.from, e.to});
  for (const DisplayCluster& c : graph.clusters) in.clusters.push_back({c.block, c.members});
  return in;
}

GraphController::GraphController(GraphView* view, QObject* parent) : QObject(parent), view_(view) {
  connect(view_, &GraphView::block_toggle_requested, this, &GraphController::toggle_block);
}

void GraphController::set_timeline(std::shared_ptr<GraphTimeline> timeline) {
  timeline_ = std::move(timeline);
  collapsed_.clear();
  block_us_.clear();
  fit_on_show_ = true;
  position_ = timeline_ ? timeline_->positions() - 1 : 0;
  if (!timeline_) {
    view_->clear_graph();
    return;
  }
  refresh();
}

void GraphController::set_position(size_t k) {
  if (!timeline_) return;
  position_ = std::min(k, timeline_->positions() - 1);
  refresh();
}

void GraphController::toggle_block(int block) {
  if (!collapsed_.erase(block)) collapsed_.insert(block);
  refresh();
}

void GraphController::collapse_all() {
  if (!timeline_) return;
  for (const auto& [b, members] : timeline_->blocks_at(position_)) collapsed_.insert(b);
  refresh();
}

void GraphController::expand_all() {
  collapsed_.clear();
  refresh();
}

void GraphController::set_overlay(OverlayKind kind) {
  overlay_ = kind;
  apply_decorations();
}

void GraphController::set_block_times(std::vector<double> block_us) {
  block_us_ = std::move(block_us);
  apply_decorations();
}

void GraphController::refresh() {
  if (!timeline_) return;
  current_ = make_display_graph(timeline_->graph_at(position_), timeline_->blocks_at(position_), collapsed_);
  wanted_key_ = current_.layout_key();
  if (auto layout = cache_.find(wanted_key_)) {
    show_now(layout);
    return;
  }
  ++pending_;
  emit layout_busy(true, QString("laying out %1 nodes").arg(current_.nodes.size()));
  const uint64_t key = wanted_key_;
  QPointer<GraphController> self(this);
  LayoutInput input = layout_input_for(current_);
  // Stale results are still cached: stepping back to that state is then instant.
  (void)QtConcurrent::run([self, key, input = std::move(input)] {
    std::shared_ptr<const LayoutResult> layout;
    QString error;
    try {
      layout = std::make_shared<LayoutResult>(layout_for_display(input));
    } catch (const std::exception& e) {
      error = e.what();
    }
    QMetaObject::invokeMethod(qApp, [self, key, layout, error] {
      if (!self) return;
      --self->pending_;
      if (layout) self->cache_.put(key, layout);
      if (key == self->wanted_key_ && layout) self->show_now(layout);
      if (self->pending_ == 0) emit self->layout_busy(false, error.isEmpty() ? QString() : "layout failed: " + error);
    }, Qt::QueuedConnection);
  });
}

void GraphController::show_now(const std::shared_ptr<const LayoutResult>& layout) {
  view_->show_graph(current_, *layout);
  shown_key_ = wanted_key_;
  apply_decorations();
  if (fit_on_show_) {
    view_->fit();
    fit_on_show_ = false;
  }
  emit state_shown(position_);
}

void GraphController::apply_decorations() {
  if (!timeline_ || shown_key_ != wanted_key_) return;
  std::set<NodeId> matched, created;
  if (const JournalStep* step = timeline_->step_into(position_)) {
    matched.insert(step->matched.begin(), step->matched.end());
    created.insert(step->created.begin(), step->created.end());
    if (step->stage == "fusion" && step->details.contains("candidate"))
      created.insert(step->details["candidate"].get<NodeId>());
  }
  view_->set_highlights(matched, created);
  switch (overlay_) {
    case OverlayKind::None: view_->set_overlay({}); break;
    case OverlayKind::Bytes: view_->set_overlay(bytes_overlay(current_)); break;
    case OverlayKind::Flops: view_->set_overlay(flops_overlay(current_)); break;
    case OverlayKind::Latency:
      view_->set_overlay(latency_overlay(current_, timeline_->session().result.plan, block_us_));
      break;
  }
}

void GraphController::wait_idle() {
  while (layout_pending()) {
    QEventLoop loop;
    connect(this, &GraphController::state_shown, &loop, &QEventLoop::quit);
    connect(this, &GraphController::layout_busy, &loop, &QEventLoop::quit);
    if (!layout_pending()) break;
    loop.exec();
  }
}

}  // namespace dnnf::views
