// Opening big models in DNNF Studio, offscreen: the imported graph is shown while the
// pipeline runs and the optimised one replaces it; a cancelled open goes back to the
// model shown before; partial job results are dropped once their job is no longer
// wanted; the journal timeline reproduces the driver's graph exactly at every position.
#include <QDir>
#include <QSignalSpy>
#include <QtTest>

#include "core/rewrite/driver.h"
#include "views/graph/graph_view.h"
#include "views/jobs/job_runner.h"
#include "views/session/graph_timeline.h"
#include "views/window/graph_controller.h"
#include "views/window/main_window.h"

using namespace dnnf;
using namespace dnnf::views;

namespace {

QString model_path(const QString& relative) {
  const QString env = qEnvironmentVariable("DNNF_MODELS");
  return QDir(env.isEmpty() ? QString(DNNF_GUI_DEFAULT_MODELS_DIR) : env).filePath(relative);
}

std::set<NodeId> node_ids(const Graph& g) {
  std::set<NodeId> ids;
  for (const Node& n : g.nodes) ids.insert(n.id);
  return ids;
}

// Node order, ids and wiring: what two equal graph states share.
std::vector<std::string> structure(const Graph& g) {
  std::vector<std::string> rows;
  for (const Node& n : g.nodes) {
    std::string row = std::to_string(n.id) + " " + n.op_type + " (";
    for (const std::string& in : n.inputs) row += in + ",";
    row += ") -> ";
    for (const std::string& o : n.outputs) row += o + ",";
    rows.push_back(row);
  }
  for (const auto& [k, t] : g.initializers) rows.push_back("init " + k);
  return rows;
}

}  // namespace

class TestStudioOpen : public QObject {
  Q_OBJECT
 private slots:
  void showsImportedGraphThenOptimised();
  void cancelAfterImportGoesBackToPreviousModel();
  void partialResultOfReplacedJobIsDropped();
  void partialResultComesBeforeFinalResult();
  void timelineMatchesDriverEverywhere();
};

void TestStudioOpen::showsImportedGraphThenOptimised() {
  const QString path = model_path("transformer/TFBertForQuestionAnswering.onnx");
  if (!QFileInfo::exists(path)) QSKIP("TFBertForQuestionAnswering.onnx not found");
  MainWindow w;
  w.resize(1200, 800);
  w.show();
  std::vector<bool> shown;               // optimised flag of every session shown
  std::vector<size_t> nodes_in_session;  // original node count of that session
  connect(&w, &MainWindow::session_shown, &w, [&](bool optimised) {
    shown.push_back(optimised);
    nodes_in_session.push_back(w.session()->original.nodes.size());
    // While only the imported graph is there, the job is still running.
    if (!optimised) QVERIFY(w.jobs()->busy());
  });
  w.open_model(path);
  w.wait_idle();
  QCOMPARE(shown, (std::vector<bool>{false, true}));
  QCOMPARE(nodes_in_session.front(), nodes_in_session.back());
  QVERIFY(w.session()->optimised);
  QCOMPARE(w.graph_view()->operator_ids(), node_ids(w.session()->optimized.graph));
  QCOMPARE(w.controller()->position(), w.controller()->timeline()->positions() - 1);
}

void TestStudioOpen::cancelAfterImportGoesBackToPreviousModel() {
  const QString big = model_path("transformer/TFBertForQuestionAnswering.onnx");
  if (!QFileInfo::exists(big)) QSKIP("TFBertForQuestionAnswering.onnx not found");
  MainWindow w;
  w.resize(1200, 800);
  w.show();
  w.open_model(MainWindow::default_model_path());
  w.wait_idle();
  const auto first = w.session();
  QVERIFY(first && first->optimised);
  const std::set<NodeId> first_ops = w.graph_view()->operator_ids();
  QSignalSpy cancelled(w.jobs(), &JobRunner::cancelled);
  // Cancel as soon as the imported graph is up.
  connect(&w, &MainWindow::session_shown, w.jobs(), [&w](bool optimised) {
    if (!optimised) w.jobs()->cancel();
  });
  w.open_model(big);
  w.wait_idle();
  QCOMPARE(cancelled.count(), 1);
  QCOMPARE(w.session(), first);
  QCOMPARE(w.graph_view()->operator_ids(), first_ops);
  QVERIFY(w.last_error().isEmpty());
}

void TestStudioOpen::partialResultOfReplacedJobIsDropped() {
  JobRunner runner;
  bool partial = false, second = false;
  runner.start("first", [&partial](const JobControl& job) -> std::function<void()> {
    job.deliver([&partial] { partial = true; });
    for (;;) job.progress(-1, "spinning");  // until cancelled
    return {};
  });
  // Replaced before the UI thread had a chance to take the partial result.
  runner.start("second", [&second](const JobControl&) -> std::function<void()> {
    return [&second] { second = true; };
  });
  runner.wait_idle();
  QVERIFY(!partial);
  QVERIFY(second);
}

void TestStudioOpen::partialResultComesBeforeFinalResult() {
  JobRunner runner;
  std::vector<std::string> log;
  runner.start("job", [&log](const JobControl& job) -> std::function<void()> {
    job.deliver([&log] { log.push_back("partial"); });
    return [&log] { log.push_back("final"); };
  });
  runner.wait_idle();
  QCOMPARE(log, (std::vector<std::string>{"partial", "final"}));
}

void TestStudioOpen::timelineMatchesDriverEverywhere() {
  const QString path = model_path("transformer/gpt2_past.onnx");
  if (!QFileInfo::exists(path)) QSKIP("gpt2_past.onnx not found");
  const auto session = load_session(path.toStdString(), JobControl());
  GraphTimeline timeline(session);
  const size_t last = timeline.positions() - 1;
  // The last position is exactly the graph the pipeline planned on.
  QVERIFY(structure(timeline.graph_at(last)) == structure(session->optimized.graph));
  QVERIFY(structure(timeline.graph_at(0)) == structure(session->original));

  // Every 53rd position, walked forward on a fresh timeline, then visited backwards
  // and in a scattered order on the first (restoring snapshots mid-sweep).
  std::vector<size_t> probes;
  for (size_t k = 0; k <= last; k += 53) probes.push_back(k);
  GraphTimeline forward(session);
  std::map<size_t, std::vector<std::string>> expected;
  for (size_t k : probes) {
    const Graph& g = forward.graph_at(k);
    expected[k] = structure(g);
    // The node set follows from the journal alone.
    std::set<NodeId> ids = node_ids(session->original);
    for (size_t i = 0; i < k; ++i) {
      for (NodeId id : timeline.steps()[i].removed) ids.erase(id);
      ids.insert(timeline.steps()[i].created.begin(), timeline.steps()[i].created.end());
    }
    QVERIFY2(node_ids(g) == ids, qPrintable(QString("node set differs at position %1").arg(k)));
  }
  for (auto it = probes.rbegin(); it != probes.rend(); ++it)
    QVERIFY2(structure(timeline.graph_at(*it)) == expected[*it], qPrintable(QString("position %1").arg(*it)));
  for (size_t i = 0; i < probes.size(); ++i) {
    const size_t k = probes[(i * 7) % probes.size()];
    QVERIFY2(structure(timeline.graph_at(k)) == expected[k], qPrintable(QString("position %1").arg(k)));
  }
}

QTEST_MAIN(TestStudioOpen)
#include "tst_studio_open.moc"
