// Unfused vs fused, side by side: the original graph (every operator a kernel) on the
// left and the fused plan on the right, every fused block collapsed to the one kernel
// it becomes. Zoom and scroll are synchronised: zooming one side zooms the other by
// the same factor, and both show the same relative part of their graph.
#pragma once

#include <QWidget>

class QLabel;

namespace dnnf::views {

class AsyncLayout;
class GraphTimeline;
class GraphView;

class GraphPairView : public QWidget {
  Q_OBJECT
 public:
  explicit GraphPairView(QWidget* parent = nullptr);
  // Lays both graphs out when the view is (or next becomes) visible.
  void set_timeline(GraphTimeline* timeline);
  GraphView* unfused() const { return left_; }
  GraphView* fused() const { return right_; }
  bool pending() const;
  void wait_idle();

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  void update_now();
  void follow(GraphView* from, GraphView* to);  // copy zoom and relative centre

  GraphTimeline* timeline_ = nullptr;
  bool stale_ = false;
  bool syncing_ = false;
  GraphView *left_, *right_;
  QLabel *left_title_, *right_title_;
  AsyncLayout* layout_;
};

}  // namespace dnnf::views
