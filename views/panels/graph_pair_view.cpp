#include "views/panels/graph_pair_view.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QScrollBar>
#include <QVBoxLayout>

#include "views/graph/graph_view.h"
#include "views/layout/async_layout.h"
#include "views/session/graph_timeline.h"

namespace dnnf::views {

GraphPairView::GraphPairView(QWidget* parent) : QWidget(parent), layout_(new AsyncLayout(this)) {
  auto* row = new QHBoxLayout(this);
  auto side = [&](QLabel*& title, GraphView*& view) {
    auto* column = new QVBoxLayout;
    title = new QLabel(this);
    view = new GraphView(this);
    column->addWidget(title);
    column->addWidget(view, 1);
    row->addLayout(column, 1);
  };
  side(left_title_, left_);
  side(right_title_, right_);
  right_->set_legend_visible(false);  // one legend (left) is enough for both
  for (auto [a, b] : {std::pair{left_, right_}, std::pair{right_, left_}}) {
    connect(a, &GraphView::zoomed_by, this, [this, a, b](double factor) {
      if (syncing_) return;
      syncing_ = true;
      b->zoom_by(factor);
      syncing_ = false;
      follow(a, b);
    });
    auto scrolled = [this, a, b] { follow(a, b); };
    connect(a->horizontalScrollBar(), &QScrollBar::valueChanged, this, scrolled);
    connect(a->verticalScrollBar(), &QScrollBar::valueChanged, this, scrolled);
  }
  left_title_->setText("<b>unfused</b>: no model");
  right_title_->setText("<b>fused</b>: no model");
}

void GraphPairView::follow(GraphView* from, GraphView* to) {
  if (syncing_ || to->scene()->sceneRect().isEmpty() || from->scene()->sceneRect().isEmpty()) return;
  syncing_ = true;
  const QRectF a = from->scene()->sceneRect(), b = to->scene()->sceneRect();
  const QPointF c = from->mapToScene(from->viewport()->rect().center());
  to->centerOn(b.left() + (c.x() - a.left()) / a.width() * b.width(), b.top() + (c.y() - a.top()) / a.height() * b.height());
  syncing_ = false;
}

void GraphPairView::set_timeline(GraphTimeline* timeline) {
  timeline_ = timeline;
  stale_ = true;
  layout_->drop();
  left_->clear_graph();
  right_->clear_graph();
  if (isVisible()) update_now();
}

void GraphPairView::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (stale_) update_now();
}

void GraphPairView::update_now() {
  stale_ = false;
  if (!timeline_) return;
  const size_t last = timeline_->positions() - 1;
  const DisplayGraph unfused = make_display_graph(timeline_->graph_at(0), {}, {});
  std::set<int> all_blocks;
  const auto blocks = timeline_->blocks_at(last);
  for (const auto& [b, members] : blocks) all_blocks.insert(b);
  const DisplayGraph fused = make_display_graph(timeline_->graph_at(last), blocks, all_blocks);
  left_title_->setText(QString("<b>unfused</b>: %1 operators, one kernel each").arg(unfused.nodes.size()));
  right_title_->setText(QString("<b>fused</b>: %1 kernels (%2 fused blocks collapsed), after rewriting")
                            .arg(fused.nodes.size()).arg(blocks.size()));
  left_title_->setToolTip("Zoom or scroll either side: the other follows.");
  layout_->request({unfused, fused}, [this, unfused, fused](const AsyncLayout::Layouts& l) {
    if (!l[0] || !l[1]) return;
    left_->show_graph(unfused, *l[0]);
    right_->show_graph(fused, *l[1]);
    syncing_ = true;
    left_->fit();
    right_->fit();
    syncing_ = false;
  });
}

bool GraphPairView::pending() const { return layout_->pending(); }

void GraphPairView::wait_idle() { layout_->wait_idle(); }

}  // namespace dnnf::views
