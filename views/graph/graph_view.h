// The graph canvas: draws a laid-out DisplayGraph with QGraphicsView, zooms with the
// wheel, pans by dragging, fits, finds nodes by name or op type, and paints a legend
// (mapping types, or the overlay's colour ramp) in the corner.
#pragma once

#include <QGraphicsView>
#include <map>
#include <set>

#include "views/graph/display_graph.h"
#include "views/graph/graph_items.h"
#include "views/graph/overlay.h"
#include "views/layout/graphviz_layout.h"

namespace dnnf::views {

class GraphView : public QGraphicsView {
  Q_OBJECT
 public:
  explicit GraphView(QWidget* parent = nullptr);

  // Replaces the drawing. Keeps the overlay kind and highlights given later.
  void show_graph(const DisplayGraph& graph, const LayoutResult& layout);
  void clear_graph();
  void set_overlay(const OverlayValues& overlay);
  void set_highlights(const std::set<NodeId>& matched, const std::set<NodeId>& created);

  const DisplayGraph& graph() const { return graph_; }
  // Display ids of what is drawn (operators and collapsed blocks).
  std::set<NodeId> shown_ids() const;
  // Operator ids drawn, a collapsed block counting as its members.
  std::set<NodeId> operator_ids() const;
  NodeItem* item(NodeId id) const;
  std::vector<ClusterItem*> clusters() const;

  void fit();
  // Fits, but never below a zoom where text is readable: then centres on the
  // highlighted nodes of the current step, or the top of the graph (for screenshots).
  void fit_readable();
  void zoom_by(double factor);  // emits zoomed_by
  void set_legend_visible(bool visible) { legend_ = visible; }
  // Selects every node whose op type or name contains `text` (case-insensitive),
  // centres the first; returns how many matched.
  int find(const QString& text);
  // Renders the whole graph to an image file (.png or .svg by extension).
  bool save_image(const QString& path) const;

 signals:
  void node_selected(NodeId id);  // -1: selection cleared
  void block_toggle_requested(int block);
  void zoomed_by(double factor);  // by the user or zoom_by (not by fit)

 protected:
  void wheelEvent(QWheelEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void drawForeground(QPainter* painter, const QRectF& rect) override;

 private:
  void on_selection();

  DisplayGraph graph_;
  OverlayValues overlay_;
  std::map<NodeId, NodeItem*> items_;
  std::vector<ClusterItem*> clusters_;
  bool legend_ = true;
};

}  // namespace dnnf::views
