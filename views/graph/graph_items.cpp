#include "views/graph/graph_items.h"

#include <QFontMetricsF>
#include <QPainter>
#include <QStyleOptionGraphicsItem>
#include <algorithm>
#include <cmath>

#include "views/graph/mapping_colors.h"

namespace dnnf::views {

namespace {
constexpr double kReadableDetail = 0.45;  // below this zoom, text is unreadable anyway

QFont small_font() {
  QFont f;
  f.setPointSizeF(7.5);
  return f;
}
QFont bold_font() {
  QFont f;
  f.setPointSizeF(9);
  f.setBold(true);
  return f;
}
}  // namespace

QSizeF node_size(const DisplayNode& node) {
  const size_t chars = std::max(node.op.size(), std::min<size_t>(node.name.size(), 22));
  return {std::max(86.0, 7.2 * double(chars) + 18), node.members.empty() ? 40.0 : 48.0};
}

NodeItem::NodeItem(const DisplayNode& node, QSizeF size)
    : id_(node.id), block_(node.block), collapsed_(!node.members.empty()),
      op_(QString::fromStdString(node.op)), name_(QString::fromStdString(node.name)), size_(size),
      fill_(mapping_color(node.type)) {
  setFlag(ItemIsSelectable);
  setToolTip(QString("%1\n%2\n%3").arg(op_, name_, mapping_label(node.type)));
}

QRectF NodeItem::boundingRect() const {
  return QRectF(-size_.width() / 2 - 3, -size_.height() / 2 - 3, size_.width() + 6, size_.height() + 6);
}

void NodeItem::paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget*) {
  const QRectF r(-size_.width() / 2, -size_.height() / 2, size_.width(), size_.height());
  QPen pen(QColor(60, 60, 60), 1);
  if (highlight_ == Highlight::Created) pen = QPen(QColor(0, 150, 60), 4);
  if (highlight_ == Highlight::Matched) pen = QPen(QColor(230, 120, 0), 4);
  if (isSelected()) pen = QPen(QColor(20, 90, 220), 3, Qt::DashLine);
  p->setPen(pen);
  p->setBrush(fill_);
  if (collapsed_) {
    p->drawRoundedRect(r.adjusted(4, 4, 4, 4), 6, 6);  // stacked look: a block of several ops
  }
  p->drawRoundedRect(r, 6, 6);
  const double detail = option->levelOfDetailFromTransform(p->worldTransform());
  if (detail < kReadableDetail) return;
  p->setPen(fill_.lightnessF() < 0.45 ? Qt::white : Qt::black);  // dark overlay colours
  p->setFont(bold_font());
  const QRectF top(r.left() + 4, r.top() + 2, r.width() - 8, r.height() / 2 - 2);
  p->drawText(top, Qt::AlignHCenter | Qt::AlignBottom, op_);
  p->setFont(small_font());
  const QRectF bottom(r.left() + 4, r.center().y() + 1, r.width() - 8, r.height() / 2 - 3);
  const QString second = badge_.isEmpty() ? name_ : badge_;
  p->drawText(bottom, Qt::AlignHCenter | Qt::AlignTop,
              QFontMetricsF(p->font()).elidedText(second, Qt::ElideMiddle, bottom.width()));
}

EdgeItem::EdgeItem(const std::vector<LayoutPoint>& pts, QString label) : label_(std::move(label)) {
  setZValue(-1);
  if (pts.size() < 2) return;
  QPainterPath path(QPointF(pts[0].x, pts[0].y));
  // Graphviz gives 3n+1 Bézier points, plus the arrow tip when there is one.
  const size_t bezier_points = pts.size() % 3 == 2 ? pts.size() - 1 : pts.size();
  size_t i = 1;
  for (; i + 2 < bezier_points; i += 3)
    path.cubicTo(QPointF(pts[i].x, pts[i].y), QPointF(pts[i + 1].x, pts[i + 1].y), QPointF(pts[i + 2].x, pts[i + 2].y));
  for (; i < pts.size(); ++i) path.lineTo(pts[i].x, pts[i].y);
  setPath(path);
  setPen(QPen(QColor(90, 90, 90), 1.2));
  // Arrowhead on the last segment.
  const QPointF tip(pts.back().x, pts.back().y);
  const QPointF from = path.pointAtPercent(std::max(0.0, 1.0 - 8.0 / std::max(1.0, path.length())));
  QPointF dir = tip - from;
  const double len = std::hypot(dir.x(), dir.y());
  if (len > 1e-6) {
    dir /= len;
    const QPointF normal(-dir.y(), dir.x());
    arrow_ << tip << tip - dir * 9 + normal * 4 << tip - dir * 9 - normal * 4;
  }
  label_at_ = path.pointAtPercent(0.5);
}

QRectF EdgeItem::boundingRect() const {
  return QGraphicsPathItem::boundingRect().united(QRectF(label_at_ - QPointF(4, 10), QSizeF(160, 14)))
      .united(arrow_.boundingRect());
}

void EdgeItem::paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget* w) {
  QGraphicsPathItem::paint(p, option, w);
  p->setBrush(pen().color());
  p->drawPolygon(arrow_);
  if (label_.isEmpty() || option->levelOfDetailFromTransform(p->worldTransform()) < 0.7) return;
  p->setPen(QColor(70, 70, 120));
  p->setFont(small_font());
  p->drawText(label_at_ + QPointF(4, 3), label_);
}

ClusterItem::ClusterItem(int block, QRectF rect, QString title) : QGraphicsRectItem(rect), block_(block), title_(std::move(title)) {
  setZValue(-2);
  setToolTip(title_ + "\n(double-click to collapse)");
}

void ClusterItem::paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget*) {
  p->setPen(QPen(QColor(80, 80, 160), 1.5, Qt::DashLine));
  p->setBrush(QColor(235, 235, 250, 160));
  p->drawRoundedRect(rect(), 8, 8);
  if (option->levelOfDetailFromTransform(p->worldTransform()) < kReadableDetail) return;
  p->setPen(QColor(60, 60, 140));
  p->setFont(small_font());
  p->drawText(rect().adjusted(6, 2, -6, -2), Qt::AlignLeft | Qt::AlignTop, title_);
}

}  // namespace dnnf::views
