#include "app/studio/layout_bench.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFileInfo>
#include <cstdio>

#include "views/graph/graph_view.h"
#include "views/session/graph_timeline.h"
#include "views/window/graph_controller.h"
#include "views/window/main_window.h"

namespace dnnf::studio {

namespace {

struct Shown {
  double ms = 0;        // from the request to the first paint of the graph
  size_t drawn = 0;     // display nodes on screen
  size_t operators = 0; // operators they stand for
  bool detailed = false;  // false: the collapsed overview came first (expand in the UI)
};

// Asks the controller for one position with a cold layout cache and waits until the
// window has painted it.
Shown show_position(views::MainWindow& window, size_t position) {
  views::GraphController* graph = window.controller();
  graph->cache().clear();
  QElapsedTimer t;
  t.start();
  window.set_position(position);
  window.wait_idle();
  window.graph_view()->viewport()->repaint();
  Shown s;
  s.ms = double(t.nsecsElapsed()) / 1e6;
  s.drawn = window.graph_view()->shown_ids().size();
  s.operators = window.graph_view()->operator_ids().size();
  s.detailed = s.drawn == s.operators;
  return s;
}

}  // namespace

int run_layout_bench(const std::vector<std::string>& models) {
  views::MainWindow window;
  window.resize(1600, 1000);
  window.show();
  int failures = 0;
  std::printf("| model | operators (original → fused state) | first graph painted s (operators) | open (pipeline + journal replay + layout) s | first view: drawn nodes | layout + show s | original graph: drawn nodes | layout + show s |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  std::fflush(stdout);
  for (const std::string& model : models) {
    QElapsedTimer t;
    // The first graph on screen: the imported one while the pipeline runs, unless the
    // whole open finished before its layout did.
    double first_s = -1;
    size_t first_operators = 0;
    const auto first_paint = QObject::connect(window.controller(), &views::GraphController::state_shown, &window, [&] {
      if (first_s >= 0) return;
      window.graph_view()->viewport()->repaint();
      first_s = double(t.nsecsElapsed()) / 1e9;
      first_operators = window.graph_view()->operator_ids().size();
    });
    t.start();
    window.open_model(QString::fromStdString(model));
    window.wait_idle();
    QObject::disconnect(first_paint);
    const double open_s = double(t.nsecsElapsed()) / 1e9;
    const QString name = QFileInfo(QString::fromStdString(model)).completeBaseName();
    if (!window.session() || QFileInfo(QString::fromStdString(window.session()->path)) != QFileInfo(QString::fromStdString(model))) {
      std::printf("| %s | failed: %s | | | | | | |\n", qPrintable(name), qPrintable(window.last_error()));
      ++failures;
      continue;
    }
    const size_t last = window.controller()->timeline()->positions() - 1;
    const Shown fused = show_position(window, last);
    const Shown original = show_position(window, 0);
    auto drawn = [](const Shown& s) {
      return s.detailed ? QString::number(s.drawn) : QString("%1 (overview of %2)").arg(s.drawn).arg(s.operators);
    };
    std::printf("| %s | %zu → %zu | %.1f (%zu) | %.1f | %s | %.2f | %s | %.2f |\n", qPrintable(name),
                window.session()->original.nodes.size(), window.session()->optimized.graph.nodes.size(), first_s,
                first_operators, open_s,
                qPrintable(drawn(fused)), fused.ms / 1000, qPrintable(drawn(original)), original.ms / 1000);
    std::fflush(stdout);
  }
  return failures ? 1 : 0;
}

}  // namespace dnnf::studio
