// The three things the graph scene is made of: operator boxes, tensor edges (Graphviz
// splines with an arrowhead and a shape label) and fused-block clusters. Text is drawn
// only when zoomed in far enough to read it, which keeps big graphs smooth.
#pragma once

#include <QBrush>
#include <QGraphicsItem>
#include <QGraphicsPathItem>
#include <QGraphicsRectItem>
#include <QPainterPath>
#include <QString>

#include "views/graph/display_graph.h"
#include "views/layout/graphviz_layout.h"

namespace dnnf::views {

enum class Highlight { None, Matched, Created };

class NodeItem : public QGraphicsItem {
 public:
  NodeItem(const DisplayNode& node, QSizeF size);
  NodeId id() const { return id_; }
  int block() const { return block_; }
  bool is_collapsed_block() const { return collapsed_; }
  const QString& op() const { return op_; }
  const QString& name() const { return name_; }
  QColor fill() const { return fill_; }

  void set_fill(QColor c) { fill_ = c; update(); }
  void set_badge(QString text) { badge_ = std::move(text); update(); }  // overlay number
  void set_highlight(Highlight h) { highlight_ = h; update(); }
  Highlight highlight() const { return highlight_; }

  QRectF boundingRect() const override;
  void paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

 private:
  NodeId id_;
  int block_;
  bool collapsed_;
  QString op_, name_, badge_;
  QSizeF size_;
  QColor fill_;
  Highlight highlight_ = Highlight::None;
};

class EdgeItem : public QGraphicsPathItem {
 public:
  EdgeItem(const std::vector<LayoutPoint>& spline, QString label);
  void paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget* widget) override;
  QRectF boundingRect() const override;

 private:
  QString label_;
  QPointF label_at_;
  QPolygonF arrow_;
};

class ClusterItem : public QGraphicsRectItem {
 public:
  ClusterItem(int block, QRectF rect, QString title);
  int block() const { return block_; }
  void paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

 private:
  int block_;
  QString title_;
};

// Display size of an operator box, from its text.
QSizeF node_size(const DisplayNode& node);

}  // namespace dnnf::views
