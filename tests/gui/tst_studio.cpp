// DNNF Studio, offscreen: opening models, stepping through a journal, collapsing
// blocks, overlay colours, the compare rows, cancelling a job, and a corrupt file.
#include <QDir>
#include <QDirIterator>
#include <QMessageBox>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>

#include "views/compare/compare_rows.h"
#include "views/graph/graph_view.h"
#include "views/graph/overlay.h"
#include "views/jobs/job_runner.h"
#include "views/panels/compare_panel.h"
#include "views/session/graph_timeline.h"
#include "views/window/graph_controller.h"
#include "views/window/main_window.h"

using namespace dnnf;
using namespace dnnf::views;

namespace {

QString models_dir() {
  const QString env = qEnvironmentVariable("DNNF_MODELS");
  return env.isEmpty() ? QString(DNNF_GUI_DEFAULT_MODELS_DIR) : env;
}

std::set<NodeId> node_ids(const Graph& g) {
  std::set<NodeId> ids;
  for (const Node& n : g.nodes) ids.insert(n.id);
  return ids;
}

// Opens a model in a fresh window and waits until it is on screen.
std::unique_ptr<MainWindow> open_window(const QString& path) {
  auto w = std::make_unique<MainWindow>();
  w->resize(1200, 800);
  w->show();
  w->open_model(path);
  w->wait_idle();
  return w;
}

}  // namespace

class TestStudio : public QObject {
  Q_OBJECT
 private slots:
  void opensSharedModel_data();
  void opensSharedModel();
  void stepsThroughBertToyJournalBothWays();
  void collapsesAndExpandsBlock();
  void overlayColoursFollowLatencies();
  void compareRowsMatchPlan();
  void cancelsRunningJob();
  void cancelsModelOpening();
  void corruptFileShowsErrorAndAppStaysUsable();
};

void TestStudio::opensSharedModel_data() {
  QTest::addColumn<QString>("path");
  const QDir dir(models_dir());
  if (!dir.exists()) QSKIP("shared models not found (set DNNF_MODELS)");
  for (const QString sub : {"cnn", "detect", "transformer"}) {
    QDirIterator it(dir.filePath(sub), {"*.onnx"}, QDir::Files);
    QStringList files;
    while (it.hasNext()) files << it.next();
    files.sort();
    for (const QString& f : files) QTest::newRow(qPrintable(sub + "/" + QFileInfo(f).fileName())) << f;
  }
}

void TestStudio::opensSharedModel() {
  QFETCH(QString, path);
  auto w = open_window(path);
  QVERIFY2(w->session(), qPrintable("not opened: " + w->last_error()));
  // The final position shows the optimised graph: every operator of it, nothing else.
  QCOMPARE(w->graph_view()->operator_ids(), node_ids(w->session()->optimized.graph));
  QVERIFY(w->controller()->timeline()->positions() == w->session()->result.journal.steps.size() + 1);
}

void TestStudio::stepsThroughBertToyJournalBothWays() {
  const QString path = QDir(models_dir()).filePath("transformer/bert_toy_unfused.onnx");
  if (!QFileInfo::exists(path)) QSKIP("bert_toy_unfused.onnx not found");
  auto w = open_window(path);
  QVERIFY(w->session());
  const auto& steps = w->session()->result.journal.steps;
  // The node set at every position, from the journal alone: start from the original
  // graph, take out what each rewrite removed and add what it created.
  std::vector<std::set<NodeId>> expected{node_ids(w->session()->original)};
  for (const JournalStep& s : steps) {
    std::set<NodeId> next = expected.back();
    for (NodeId id : s.removed) next.erase(id);
    next.insert(s.created.begin(), s.created.end());
    expected.push_back(next);
  }
  QCOMPARE(expected.back(), node_ids(w->session()->optimized.graph));
  auto check_at = [&](size_t k) {
    w->set_position(k);
    w->wait_idle();
    QCOMPARE(w->controller()->position(), k);
    QVERIFY2(w->graph_view()->operator_ids() == expected[k], qPrintable(QString("node set differs at position %1").arg(k)));
  };
  for (size_t k = 0; k < expected.size(); ++k) check_at(k);
  for (size_t k = expected.size(); k-- > 0;) check_at(k);
}

void TestStudio::collapsesAndExpandsBlock() {
  auto w = open_window(MainWindow::default_model_path());
  QVERIFY(w->session());
  const auto clusters = w->graph_view()->clusters();
  QVERIFY(!clusters.empty());
  const int block = clusters.front()->block();
  const std::set<NodeId> before = w->graph_view()->shown_ids();
  const std::set<NodeId> ops = w->graph_view()->operator_ids();
  w->controller()->toggle_block(block);
  w->wait_idle();
  const std::set<NodeId> collapsed = w->graph_view()->shown_ids();
  QVERIFY(collapsed.count(collapsed_block_id(block)));
  QVERIFY(collapsed.size() < before.size());
  QCOMPARE(w->graph_view()->operator_ids(), ops);  // the block still stands for its members
  QVERIFY(w->graph_view()->item(collapsed_block_id(block))->is_collapsed_block());
  w->controller()->toggle_block(block);
  w->wait_idle();
  QCOMPARE(w->graph_view()->shown_ids(), before);
}

void TestStudio::overlayColoursFollowLatencies() {
  DisplayGraph d;
  fusion::FusionPlan plan;
  LayoutResult layout;
  for (NodeId id = 0; id < 4; ++id) {
    DisplayNode n;
    n.id = id;
    n.op = "Relu";
    d.nodes.push_back(n);
    fusion::FusedBlock b;
    b.id = int(id);
    b.nodes = {id};
    plan.blocks.push_back(b);
    layout.centres[id] = {double(id) * 120, 0};
  }
  const std::vector<double> us = {30, 5, 80, 12};
  GraphView view;
  view.show_graph(d, layout);
  view.set_overlay(latency_overlay(d, plan, us));
  // Darker (lower lightness) exactly when slower.
  for (NodeId a = 0; a < 4; ++a)
    for (NodeId b = 0; b < 4; ++b)
      if (us[a] > us[b]) QVERIFY(view.item(a)->fill().lightnessF() < view.item(b)->fill().lightnessF());
  QCOMPARE(view.item(2)->fill(), overlay_color(1.0));
}

void TestStudio::compareRowsMatchPlan() {
  auto w = open_window(MainWindow::default_model_path());
  QVERIFY(w->session());
  w->compare_with_peers();
  w->wait_idle();
  const auto rows = w->compare_panel()->rows();
  QVERIFY(!rows.empty());
  QCOMPARE(rows[0].system, std::string("dnnf"));
  QCOMPARE(rows[0].layers, int64_t(w->session()->result.plan.blocks.size()));
  // The same table as the CLI's `dnnf compare --json`.
  QProcess cli;
  cli.start(DNNF_GUI_CLI_PATH, {"compare", MainWindow::default_model_path(), "--json", "-"});
  QVERIFY(cli.waitForFinished(600000));
  QCOMPARE(cli.exitCode(), 0);
  const auto j = nlohmann::json::parse(cli.readAllStandardOutput().toStdString(), nullptr, false);
  QVERIFY(!j.is_discarded());
  QVERIFY(compare_rows_from_json(j) == rows);
  QVERIFY_THROWS_EXCEPTION(std::exception, compare_rows_from_json(nlohmann::json{{"nope", 1}}));
}

void TestStudio::cancelsRunningJob() {
  JobRunner runner;
  QSignalSpy cancelled(&runner, &JobRunner::cancelled);
  QSignalSpy finished(&runner, &JobRunner::finished);
  bool applied = false;
  // A job that runs until told to stop; it is cancelled once it reports progress.
  connect(&runner, &JobRunner::progress, &runner, &JobRunner::cancel);
  runner.start("spin", [&applied](const JobControl& job) -> std::function<void()> {
    for (;;) job.progress(-1, "spinning");
    return [&applied] { applied = true; };
  });
  QVERIFY(runner.busy());
  QVERIFY(finished.wait(20000));
  QCOMPARE(cancelled.count(), 1);
  QCOMPARE(finished.first().at(0).toBool(), false);
  QVERIFY(!applied);
  QVERIFY(!runner.busy());
}

void TestStudio::cancelsModelOpening() {
  MainWindow w;
  QSignalSpy cancelled(w.jobs(), &JobRunner::cancelled);
  connect(w.jobs(), &JobRunner::progress, w.jobs(), &JobRunner::cancel);
  w.open_model(MainWindow::default_model_path());
  w.wait_idle();
  QCOMPARE(cancelled.count(), 1);
  QVERIFY(!w.session());
  QVERIFY(w.last_error().isEmpty());  // a cancel is not an error
}

void TestStudio::corruptFileShowsErrorAndAppStaysUsable() {
  QTemporaryDir dir;
  const QString bad = dir.filePath("corrupt.onnx");
  std::ofstream(bad.toStdString()) << "this is not a protobuf \x01\x02\x03";
  MainWindow w;
  w.show();
  w.open_model(bad);
  w.wait_idle();
  QVERIFY(!w.session());
  QVERIFY(!w.last_error().isEmpty());
  QVERIFY(w.error_box() != nullptr);
  QVERIFY(w.error_box()->isVisible());
  QCOMPARE(w.error_box()->icon(), QMessageBox::Critical);
  w.error_box()->accept();
  // Still usable: the next model opens.
  w.open_model(MainWindow::default_model_path());
  w.wait_idle();
  QVERIFY(w.session());
  QVERIFY(!w.graph_view()->shown_ids().empty());
}

QTEST_MAIN(TestStudio)
#include "tst_studio.moc"
