#include "views/graph/graph_view.h"

#include <QGraphicsScene>
#include <QImage>
#include <QMouseEvent>
#include <QPainter>
#include <QSvgGenerator>
#include <QWheelEvent>
#include <cmath>

#include "views/graph/mapping_colors.h"

namespace dnnf::views {

GraphView::GraphView(QWidget* parent) : QGraphicsView(parent) {
  setScene(new QGraphicsScene(this));
  setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
  setDragMode(ScrollHandDrag);
  setTransformationAnchor(AnchorUnderMouse);
  setViewportUpdateMode(SmartViewportUpdate);
  setBackgroundBrush(QColor(250, 250, 250));
  connect(scene(), &QGraphicsScene::selectionChanged, this, &GraphView::on_selection);
}

void GraphView::clear_graph() {
  scene()->clear();
  items_.clear();
  clusters_.clear();
  graph_ = {};
}

void GraphView::show_graph(const DisplayGraph& graph, const LayoutResult& layout) {
  const QSignalBlocker block(scene());
  clear_graph();
  graph_ = graph;
  for (const DisplayCluster& c : graph.clusters) {
    auto it = layout.clusters.find(c.block);
    if (it == layout.clusters.end()) continue;
    const LayoutRect& r = it->second;
    auto* item = new ClusterItem(c.block, QRectF(r.x, r.y, r.w, r.h),
                                 QString("block %1 · %2 ops").arg(c.block).arg(c.members.size()));
    scene()->addItem(item);
    clusters_.push_back(item);
  }
  for (const DisplayNode& n : graph.nodes) {
    auto* item = new NodeItem(n, node_size(n));
    if (auto it = layout.centres.find(n.id); it != layout.centres.end()) item->setPos(it->second.x, it->second.y);
    scene()->addItem(item);
    items_[n.id] = item;
  }
  for (size_t i = 0; i < graph.edges.size() && i < layout.splines.size(); ++i)
    scene()->addItem(new EdgeItem(layout.splines[i], QString::fromStdString(graph.edges[i].label)));
  scene()->setSceneRect(QRectF(layout.bounds.x, layout.bounds.y, layout.bounds.w, layout.bounds.h).adjusted(-40, -40, 40, 40));
  set_overlay(overlay_.kind == OverlayKind::None ? OverlayValues{} : overlay_);
}

void GraphView::set_overlay(const OverlayValues& overlay) {
  overlay_ = overlay;
  for (const DisplayNode& n : graph_.nodes) {
    NodeItem* item = items_.at(n.id);
    auto it = overlay.value.find(n.id);
    if (overlay.kind == OverlayKind::None) {
      item->set_fill(mapping_color(n.type));
      item->set_badge({});
    } else if (it == overlay.value.end()) {
      item->set_fill(QColor(225, 225, 225));  // not measured (e.g. a node not in the plan)
      item->set_badge("-");
    } else {
      item->set_fill(overlay_color(overlay.max > 0 ? it->second / overlay.max : 0));
      item->set_badge(overlay.format(it->second));
    }
  }
  viewport()->update();
}

void GraphView::set_highlights(const std::set<NodeId>& matched, const std::set<NodeId>& created) {
  for (auto& [id, item] : items_) {
    Highlight h = Highlight::None;
    if (matched.count(id)) h = Highlight::Matched;
    if (created.count(id)) h = Highlight::Created;
    item->set_highlight(h);
  }
}

std::set<NodeId> GraphView::shown_ids() const {
  std::set<NodeId> ids;
  for (const auto& [id, item] : items_) ids.insert(id);
  return ids;
}

std::set<NodeId> GraphView::operator_ids() const {
  std::set<NodeId> ids;
  for (const DisplayNode& n : graph_.nodes) {
    if (!items_.count(n.id)) continue;
    if (n.members.empty()) ids.insert(n.id);
    ids.insert(n.members.begin(), n.members.end());
  }
  return ids;
}

NodeItem* GraphView::item(NodeId id) const {
  auto it = items_.find(id);
  return it == items_.end() ? nullptr : it->second;
}

std::vector<ClusterItem*> GraphView::clusters() const { return clusters_; }

void GraphView::fit() {
  if (!scene()->items().isEmpty()) fitInView(scene()->sceneRect(), Qt::KeepAspectRatio);
}

void GraphView::fit_readable() {
  fit();
  constexpr double kReadable = 0.75;
  if (items_.empty() || transform().m11() >= kReadable) return;
  setTransform(QTransform::fromScale(kReadable, kReadable));
  QRectF focus;
  for (const auto& [id, item] : items_)
    if (item->highlight() != Highlight::None) focus |= item->sceneBoundingRect();
  if (focus.isNull()) {
    const QRectF all = scene()->itemsBoundingRect();
    focus = QRectF(all.left(), all.top(), all.width(), 1);
    centerOn(QPointF(all.center().x(), all.top() + viewport()->height() / (2 * kReadable) - 20));
    return;
  }
  centerOn(focus.center());
}

void GraphView::zoom_by(double factor) {
  const double current = transform().m11();
  if (current * factor < 0.01 || current * factor > 8) return;
  scale(factor, factor);
  emit zoomed_by(factor);
}

int GraphView::find(const QString& text) {
  scene()->clearSelection();
  NodeItem* first = nullptr;
  int count = 0;
  for (auto& [id, item] : items_) {
    if (text.isEmpty()) break;
    if (item->op().contains(text, Qt::CaseInsensitive) || item->name().contains(text, Qt::CaseInsensitive)) {
      item->setSelected(true);
      if (!first) first = item;
      ++count;
    }
  }
  if (first) {
    if (transform().m11() < 0.6) setTransform(QTransform::fromScale(0.8, 0.8));
    centerOn(first);
  }
  return count;
}

bool GraphView::save_image(const QString& path) const {
  const QRectF source = scene()->sceneRect();
  if (path.endsWith(".svg", Qt::CaseInsensitive)) {
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(source.size().toSize());
    svg.setViewBox(QRectF(QPointF(0, 0), source.size()));
    QPainter p(&svg);
    scene()->render(&p, QRectF(QPointF(0, 0), source.size()), source);
    return p.end();
  }
  // PNG: full graph, capped so very large graphs still fit in memory.
  const double scale = std::min(1.5, 12000.0 / std::max(source.width(), source.height()));
  QImage image((source.size() * scale).toSize(), QImage::Format_ARGB32);
  image.fill(Qt::white);
  QPainter p(&image);
  p.setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
  scene()->render(&p, QRectF(QPointF(0, 0), source.size() * scale), source);
  p.end();
  return image.save(path);
}

void GraphView::wheelEvent(QWheelEvent* event) {
  zoom_by(std::pow(1.0015, event->angleDelta().y()));
  event->accept();
}

void GraphView::mouseDoubleClickEvent(QMouseEvent* event) {
  for (QGraphicsItem* it : items(event->pos())) {
    if (auto* n = dynamic_cast<NodeItem*>(it); n && n->is_collapsed_block()) {
      emit block_toggle_requested(n->block());
      return;
    }
    if (auto* c = dynamic_cast<ClusterItem*>(it)) {
      emit block_toggle_requested(c->block());
      return;
    }
  }
  QGraphicsView::mouseDoubleClickEvent(event);
}

void GraphView::on_selection() {
  const QList<QGraphicsItem*> sel = scene()->selectedItems();
  for (QGraphicsItem* it : sel)
    if (auto* n = dynamic_cast<NodeItem*>(it)) {
      emit node_selected(n->id());
      return;
    }
  emit node_selected(-1);
}

void GraphView::drawForeground(QPainter* p, const QRectF&) {
  if (items_.empty() || !legend_) return;
  // The legend lives in viewport coordinates, bottom-left.
  p->save();
  p->resetTransform();
  QFont f;
  f.setPointSizeF(8.5);
  p->setFont(f);
  const int row = 17, pad = 8;
  const bool ramp = overlay_.kind != OverlayKind::None;
  const int rows = ramp ? 3 : int(all_mapping_types().size()) + 1;
  const QRect box(pad, viewport()->height() - pad - rows * row - 2 * pad, 190, rows * row + 2 * pad);
  p->setPen(QColor(150, 150, 150));
  p->setBrush(QColor(255, 255, 255, 230));
  p->drawRoundedRect(box, 6, 6);
  int y = box.top() + pad;
  p->setPen(Qt::black);
  if (!ramp) {
    p->drawText(box.left() + pad, y + 12, "mapping type");
    y += row;
    for (MappingType t : all_mapping_types()) {
      p->setBrush(mapping_color(t));
      p->drawRect(box.left() + pad, y + 2, 14, 12);
      p->drawText(box.left() + pad + 22, y + 12, mapping_label(t));
      y += row;
    }
  } else {
    p->drawText(box.left() + pad, y + 12, overlay_name(overlay_.kind) + " (share of max)");
    y += row;
    const int w = box.width() - 2 * pad;
    for (int x = 0; x < w; ++x) {
      p->setPen(overlay_color(double(x) / (w - 1)));
      p->drawLine(box.left() + pad + x, y + 2, box.left() + pad + x, y + 14);
    }
    y += row;
    p->setPen(Qt::black);
    p->drawText(box.left() + pad, y + 12, "0");
    p->drawText(QRect(box.left() + pad, y, w, row), Qt::AlignRight | Qt::AlignVCenter, overlay_.format(overlay_.max));
  }
  p->restore();
}

}  // namespace dnnf::views
