// Lays out a few display graphs on a worker thread and hands the results back on the
// UI thread. A newer request makes older ones stale: their results are dropped. Used
// by the side views (before/after split, unfused vs fused); the main view has its own
// cached path in GraphController.
#pragma once

#include <QObject>
#include <functional>
#include <memory>
#include <vector>

#include "views/graph/display_graph.h"
#include "views/layout/graphviz_layout.h"

namespace dnnf::views {

class AsyncLayout : public QObject {
  Q_OBJECT
 public:
  using Layouts = std::vector<std::shared_ptr<const LayoutResult>>;
  // `done` gets one layout per graph (nullptr where layout failed), on the UI thread.
  using Done = std::function<void(const Layouts&)>;

  explicit AsyncLayout(QObject* parent = nullptr) : QObject(parent) {}
  void request(const std::vector<DisplayGraph>& graphs, Done done);
  void drop();  // forget the request in flight (its result will be ignored)
  bool pending() const { return in_flight_ > 0; }
  void wait_idle();  // processes events until no layout is in flight

 signals:
  void settled();  // the last layout in flight came back

 private:
  uint64_t generation_ = 0;
  int in_flight_ = 0;
};

}  // namespace dnnf::views
