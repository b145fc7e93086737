// DNNF Studio's side views and machinery, offscreen: the layered layout for big graphs,
// the before/after split view of a step, the unfused-vs-fused pair with synchronised
// zoom, and opening a model while a job runs without blocking the window.
#include <QtTest>
#include <atomic>
#include <random>

#include "views/graph/graph_view.h"
#include "views/jobs/job_runner.h"
#include "views/layout/layered_layout.h"
#include "views/panels/graph_pair_view.h"
#include "views/panels/step_split_view.h"
#include "views/session/graph_timeline.h"
#include "views/window/graph_controller.h"
#include "views/window/main_window.h"

using namespace dnnf;
using namespace dnnf::views;

namespace {

QString bert_toy() {
  const QString env = qEnvironmentVariable("DNNF_MODELS");
  return QDir(env.isEmpty() ? QString(DNNF_GUI_DEFAULT_MODELS_DIR) : env).filePath("transformer/bert_toy_unfused.onnx");
}

std::set<NodeId> node_ids(const Graph& g) {
  std::set<NodeId> ids;
  for (const Node& n : g.nodes) ids.insert(n.id);
  return ids;
}

bool disjoint(const std::set<NodeId>& a, const std::vector<NodeId>& b) {
  for (NodeId id : b)
    if (a.count(id)) return false;
  return true;
}

bool contains_all(const std::set<NodeId>& a, const std::vector<NodeId>& b) {
  for (NodeId id : b)
    if (!a.count(id)) return false;
  return true;
}

}  // namespace

class TestStudioViews : public QObject {
  Q_OBJECT
 private slots:
  void layeredLayoutKeepsBoxesApartAndEdgesDownward();
  void splitViewShowsTheStepsNeighbourhoodBeforeAndAfter();
  void unfusedAndFusedZoomTogether();
  void startingAJobWhileAnotherRunsDoesNotWaitForIt();
  void openingAModelWhileAJobRunsDoesNotBlock();
};

void TestStudioViews::layeredLayoutKeepsBoxesApartAndEdgesDownward() {
  // A random DAG the size of BERT's graph: edges only from lower to higher index.
  LayoutInput in;
  std::mt19937 rng(7);
  const int n = 3000;
  for (int i = 0; i < n; ++i) in.nodes.push_back({i, 80.0 + double(rng() % 80), 40});
  for (int i = 1; i < n; ++i)
    for (int k = 0; k < 1 + int(rng() % 2); ++k) in.edges.push_back({int64_t(rng() % i), i});
  in.clusters.push_back({5, {10, 11, 12}});
  const LayoutResult r = layered_layout(in);
  QCOMPARE(r.centres.size(), size_t(n));
  QCOMPARE(r.splines.size(), in.edges.size());
  for (const auto& e : in.edges) QVERIFY(r.centres.at(e.to).y > r.centres.at(e.from).y);
  std::map<double, std::vector<std::pair<double, double>>> rows;  // y -> [left, right]
  for (const auto& node : in.nodes) {
    const LayoutPoint c = r.centres.at(node.id);
    rows[c.y].push_back({c.x - node.width / 2, c.x + node.width / 2});
    QVERIFY(c.x - node.width / 2 >= r.bounds.x - 1e-6 && c.x + node.width / 2 <= r.bounds.x + r.bounds.w + 1e-6);
  }
  for (auto& [y, spans] : rows) {
    std::sort(spans.begin(), spans.end());
    for (size_t i = 1; i < spans.size(); ++i) QVERIFY2(spans[i].first >= spans[i - 1].second, "two boxes overlap");
  }
  const LayoutRect box = r.clusters.at(5);
  for (int64_t m : {10, 11, 12}) {
    const LayoutPoint c = r.centres.at(m);
    QVERIFY(c.x > box.x && c.x < box.x + box.w && c.y > box.y && c.y < box.y + box.h);
  }
  QVERIFY(layout_for_display(LayoutInput{}).centres.empty());  // an empty graph is fine
}

void TestStudioViews::splitViewShowsTheStepsNeighbourhoodBeforeAndAfter() {
  if (!QFileInfo::exists(bert_toy())) QSKIP("bert_toy_unfused.onnx not found");
  MainWindow w;
  w.resize(1400, 900);
  w.show();
  w.open_model(bert_toy());
  w.wait_idle();
  QVERIFY(w.session());
  const auto& steps = w.session()->result.journal.steps;
  size_t checked = 0;
  for (size_t k = 1; k <= steps.size(); ++k) {
    const JournalStep& s = steps[k - 1];
    if (s.stage != "rewrite" || s.removed.empty() || s.created.empty()) continue;
    w.set_position(k);
    w.wait_idle();
    const std::set<NodeId> before = w.split_view()->before()->operator_ids();
    const std::set<NodeId> after = w.split_view()->after()->operator_ids();
    QVERIFY2(contains_all(before, s.removed), qPrintable(QString("step %1: removed nodes missing before").arg(k)));
    QVERIFY2(disjoint(before, s.created), qPrintable(QString("step %1: created nodes shown before").arg(k)));
    QVERIFY2(contains_all(after, s.created), qPrintable(QString("step %1: created nodes missing after").arg(k)));
    QVERIFY2(disjoint(after, s.removed), qPrintable(QString("step %1: removed nodes shown after").arg(k)));
    // A neighbourhood, not the whole graph.
    QVERIFY(before.size() < node_ids(w.controller()->timeline()->graph_at(k - 1)).size());
    for (NodeId id : s.created) QCOMPARE(w.split_view()->after()->item(id)->highlight(), Highlight::Created);
    if (++checked == 5) break;
  }
  QVERIFY(checked > 0);
  // A fusion decision: the candidate is on both sides.
  for (size_t k = 1; k <= steps.size(); ++k) {
    const JournalStep& s = steps[k - 1];
    if (s.stage != "fusion" || !s.accepted || !s.details.contains("candidate")) continue;
    w.set_position(k);
    w.wait_idle();
    const NodeId candidate = s.details["candidate"].get<NodeId>();
    QVERIFY(w.split_view()->before()->operator_ids().count(candidate));
    QVERIFY(w.split_view()->after()->operator_ids().count(candidate));
    break;
  }
  w.set_position(0);
  w.wait_idle();
  QVERIFY(w.split_view()->before()->shown_ids().empty());
}

void TestStudioViews::unfusedAndFusedZoomTogether() {
  MainWindow w;
  w.resize(1400, 900);
  w.show();
  w.open_model(MainWindow::default_model_path());
  w.wait_idle();
  QVERIFY(w.session());
  w.show_unfused_vs_fused();
  w.wait_idle();
  GraphView* left = w.pair_view()->unfused();
  GraphView* right = w.pair_view()->fused();
  QCOMPARE(left->operator_ids(), node_ids(w.session()->original));
  QCOMPARE(right->operator_ids(), node_ids(w.session()->optimized.graph));
  QVERIFY(right->shown_ids().size() < left->shown_ids().size());  // blocks collapsed to kernels
  for (auto [from, to] : {std::pair{left, right}, std::pair{right, left}}) {
    const double zoom = to->transform().m11();
    from->zoom_by(1.25);
    QVERIFY(qFuzzyCompare(to->transform().m11(), zoom * 1.25));
  }
}

void TestStudioViews::startingAJobWhileAnotherRunsDoesNotWaitForIt() {
  JobRunner runner;
  std::atomic<bool> release{false}, entered{false}, first_returned{false};
  bool first_applied = false, second_applied = false;
  QSignalSpy cancelled(&runner, &JobRunner::cancelled);
  // A job that ignores cancel until released, like a pipeline stage without a check.
  runner.start("stubborn", [&](const JobControl&) -> std::function<void()> {
    entered = true;
    while (!release) QThread::yieldCurrentThread();
    first_returned = true;
    return [&first_applied] { first_applied = true; };
  });
  while (!entered) QThread::yieldCurrentThread();  // the first job is really running
  runner.start("next", [](const JobControl&) -> std::function<void()> {
    return [] {};
  });
  runner.start("latest", [&](const JobControl&) -> std::function<void()> {
    return [&second_applied] { second_applied = true; };
  });
  // start() came back although the first job is still running: it did not wait.
  QVERIFY(!first_returned);
  QVERIFY(runner.busy());
  release = true;
  runner.wait_idle();
  QVERIFY(first_returned);
  QVERIFY(!first_applied);   // superseded: its result is dropped
  QVERIFY(second_applied);   // only the latest request runs
  QCOMPARE(cancelled.count(), 1);
  QVERIFY(!runner.busy());
}

void TestStudioViews::openingAModelWhileAJobRunsDoesNotBlock() {
  MainWindow w;
  w.show();
  std::atomic<bool> release{false}, entered{false}, returned{false};
  w.jobs()->start("stubborn", [&](const JobControl&) -> std::function<void()> {
    entered = true;
    while (!release) QThread::yieldCurrentThread();
    returned = true;
    return [] {};
  });
  while (!entered) QThread::yieldCurrentThread();
  w.open_model(MainWindow::default_model_path());
  QVERIFY(!returned);  // open_model came back while the old job still runs
  QCoreApplication::processEvents();  // the window keeps handling events meanwhile
  QVERIFY(!w.session());
  release = true;
  w.wait_idle();
  QVERIFY(w.session());
  QVERIFY(!w.graph_view()->shown_ids().empty());
}

QTEST_MAIN(TestStudioViews)
#include "tst_studio_views.moc"
