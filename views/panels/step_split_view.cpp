#include "views/panels/step_split_view.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "views/graph/graph_view.h"
#include "views/graph/neighbourhood.h"
#include "views/layout/async_layout.h"
#include "views/session/graph_timeline.h"

namespace dnnf::views {

StepFocus step_focus(GraphTimeline& timeline, size_t position) {
  StepFocus f;
  const JournalStep* step = timeline.step_into(position);
  if (!step) return f;
  f.highlight_matched.insert(step->matched.begin(), step->matched.end());
  f.highlight_matched.insert(step->removed.begin(), step->removed.end());
  f.highlight_created.insert(step->created.begin(), step->created.end());
  f.before = f.highlight_matched;
  f.after = f.highlight_matched;
  f.after.insert(step->created.begin(), step->created.end());
  if (step->stage == "fusion" && step->details.contains("candidate")) {
    const NodeId candidate = step->details["candidate"].get<NodeId>();
    f.highlight_matched.insert(candidate);
    if (step->accepted) f.highlight_created.insert(candidate);
    f.before.insert(candidate);
    f.after.insert(candidate);
    if (step->details.contains("block")) {
      const int block = step->details["block"].get<int>();
      for (auto* blocks : {&f.before, &f.after}) {
        const auto at = timeline.blocks_at(blocks == &f.before ? position - 1 : position);
        if (auto it = at.find(block); it != at.end()) blocks->insert(it->second.begin(), it->second.end());
      }
    }
  }
  return f;
}

StepSplitView::StepSplitView(QWidget* parent) : QWidget(parent), layout_(new AsyncLayout(this)) {
  auto* row = new QHBoxLayout(this);
  row->setContentsMargins(2, 2, 2, 2);
  auto side = [&](QLabel*& title, GraphView*& view) {
    auto* column = new QVBoxLayout;
    title = new QLabel(this);
    view = new GraphView(this);
    view->set_legend_visible(false);
    column->addWidget(title);
    column->addWidget(view, 1);
    row->addLayout(column, 1);
  };
  side(before_title_, before_);
  side(after_title_, after_);
  clear();
}

void StepSplitView::clear() {
  timeline_ = nullptr;
  layout_->drop();
  before_->clear_graph();
  after_->clear_graph();
  before_title_->setText("before the step");
  after_title_->setText("after the step");
}

void StepSplitView::show_step(GraphTimeline* timeline, size_t position) {
  if (timeline == timeline_ && position == position_ && !stale_) return;
  timeline_ = timeline;
  position_ = position;
  stale_ = true;
  if (isVisible()) update_now();  // hidden: nothing to draw, redone in showEvent
}

void StepSplitView::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (stale_) update_now();
}

void StepSplitView::update_now() {
  stale_ = false;
  GraphTimeline* timeline = timeline_;
  const size_t position = position_;
  if (!timeline || position == 0) {
    clear();
    timeline_ = timeline;
    before_title_->setText("position 0 is the original graph: no step leads to it");
    return;
  }
  const StepFocus f = step_focus(*timeline, position);
  // graph_at moves the timeline's cursor: build the first display graph before asking
  // for the second state.
  const DisplayGraph before = neighbourhood(
      make_display_graph(timeline->graph_at(position - 1), timeline->blocks_at(position - 1), {}), f.before);
  std::set<NodeId> around;  // the context before the step, where it still exists after
  for (const DisplayNode& n : before.nodes) around.insert(n.id);
  const DisplayGraph after = neighbourhood(
      make_display_graph(timeline->graph_at(position), timeline->blocks_at(position), {}), f.after, 400, around);
  const JournalStep* step = timeline->step_into(position);
  before_title_->setText(QString("<b>before</b> step %1 (%2): %3 nodes around it")
                             .arg(position).arg(QString::fromStdString(step->rule)).arg(before.nodes.size()));
  after_title_->setText(QString("<b>after</b> step %1: %2 nodes around it").arg(position).arg(after.nodes.size()));
  layout_->request({before, after}, [this, before, after, f](const AsyncLayout::Layouts& l) {
    auto show = [](GraphView* view, const DisplayGraph& g, const std::shared_ptr<const LayoutResult>& layout,
                   const std::set<NodeId>& matched, const std::set<NodeId>& created) {
      if (!layout) {
        view->clear_graph();
        return;
      }
      view->show_graph(g, *layout);
      view->set_highlights(matched, created);
      view->fit();
    };
    show(before_, before, l[0], f.highlight_matched, {});
    show(after_, after, l[1], f.highlight_matched, f.highlight_created);
  });
}

bool StepSplitView::pending() const { return layout_->pending(); }

void StepSplitView::wait_idle() { layout_->wait_idle(); }

}  // namespace dnnf::views
