// DNNF Studio as a new user meets it: every entry of the menu bar is triggered and
// checked to do what its text says (no entry may be a no-op or crash). Runs offscreen
// and, through ctest's gui_studio_menus_xvfb, on a real X server. A menu entry added
// without a check here fails the coverage assertion at the end.
#include <QDockWidget>
#include <QFile>
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStandardItemModel>
#include <QMenuBar>
#include <QSettings>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <deque>
#include <fstream>
#include <functional>
#include <map>

#include "core/onnx_io/onnx_import.h"
#include "views/export/export_dialog.h"
#include "views/graph/graph_view.h"
#include "views/jobs/job_runner.h"
#include "views/panels/compare_panel.h"
#include "views/panels/graph_pair_view.h"
#include "views/session/graph_timeline.h"
#include "views/window/graph_controller.h"
#include "views/window/main_window.h"

using namespace dnnf;
using namespace dnnf::views;

namespace {

QString plain(QString text) { return text.remove('&'); }

// Every action reachable from the menu bar (submenus entered, separators skipped).
void collect(QMenu* menu, std::vector<QAction*>& out) {
  for (QAction* a : menu->actions()) {
    if (a->isSeparator()) continue;
    if (a->menu()) collect(a->menu(), out);
    else out.push_back(a);
  }
}

QString bert_toy() {
  const QString env = qEnvironmentVariable("DNNF_MODELS");
  const QString path = QDir(env.isEmpty() ? QString(DNNF_GUI_DEFAULT_MODELS_DIR) : env).filePath("transformer/bert_toy_unfused.onnx");
  return QFileInfo::exists(path) ? path : MainWindow::default_model_path();
}

bool same_file(const std::string& a, const QString& b) { return QFileInfo(QString::fromStdString(a)) == QFileInfo(b); }

}  // namespace

class TestStudioMenus : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase();
  void everyMenuEntryDoesWhatItSays();

 private:
  QTemporaryDir settings_dir_;
};

void TestStudioMenus::initTestCase() {
  // Recent files live in QSettings: keep this run's list away from the user's.
  QSettings::setDefaultFormat(QSettings::IniFormat);
  QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settings_dir_.path());
}

void TestStudioMenus::everyMenuEntryDoesWhatItSays() {
  QTemporaryDir tmp;
  MainWindow w;
  w.resize(1400, 900);
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  std::deque<QString> chosen;  // what the "file dialog" answers next
  w.set_file_chooser([&chosen](bool, const QString&, const QString&, const QString&) {
    if (chosen.empty()) return QString();
    QString next = chosen.front();
    chosen.pop_front();
    return next;
  });
  std::set<QString> exercised;  // by text: Open recent's entries are rebuilt on every open
  bool recent_checked = false;
  auto all_actions = [&w] {
    std::vector<QAction*> out;
    for (QAction* top : w.menuBar()->actions())
      if (top->menu()) collect(top->menu(), out);
    return out;
  };
  auto find = [&](const QString& text) -> QAction* {
    for (QAction* a : all_actions())
      if (plain(a->text()) == text) return a;
    return nullptr;
  };
  auto trigger = [&](const QString& text) {
    QAction* a = find(text);
    if (!a) QTest::qFail(qPrintable("no menu entry '" + text + "'"), __FILE__, __LINE__);
    QVERIFY2(a->isEnabled(), qPrintable(text + " is disabled"));
    exercised.insert(plain(a->text()));
    a->trigger();
    w.wait_idle();
  };
  auto session_is = [&w](const QString& path) { return w.session() && same_file(w.session()->path, path); };

  // File
  trigger("Open default model");
  QVERIFY(session_is(MainWindow::default_model_path()));
  QVERIFY(!w.graph_view()->shown_ids().empty());
  chosen = {bert_toy()};
  trigger("Open model…");
  QVERIFY2(session_is(bert_toy()), qPrintable(w.last_error()));
  chosen = {};  // the dialog cancelled: nothing changes
  trigger("Open model…");
  QVERIFY(session_is(bert_toy()));
  trigger("Open default model");
  {  // Open recent: the entry for bert_toy (second most recent now) opens it again.
    QAction* recent = nullptr;
    for (QAction* a : all_actions())
      if (QFileInfo(a->text()) == QFileInfo(bert_toy()) && a->text() != "Open model…") recent = a;
    QVERIFY2(recent, "bert_toy is not in Open recent");
    trigger(recent->text());
    QVERIFY(session_is(bert_toy()));
    recent_checked = true;  // every recent entry is the same kind of action
  }
  trigger("Open default model");
  for (const QString ext : {"svg", "png"}) {
    const QString file = tmp.filePath("graph." + ext);
    chosen = {file};
    trigger("Save graph view as image (PNG, SVG)…");
    QVERIFY2(QFileInfo(file).size() > 1000, qPrintable(file + " was not written"));
  }
  QVERIFY(!QImage(tmp.filePath("graph.png")).isNull());
  {  // Export: the dialog offers the targets that exist, refuses a path it cannot write,
     // then the export runs as a job and says where the file went.
    trigger("Export fused model…");
    QPointer<ExportDialog> d = w.export_dialog_box();
    QVERIFY(d && d->isVisible());
    QCOMPARE(d->target(), QString("onnx"));
    // The bundled model's folder belongs to the installation: the suggestion is elsewhere.
    QVERIFY(QFileInfo(d->output_edit()->text()).absolutePath() != QFileInfo(MainWindow::default_model_path()).absolutePath());
    auto* targets = qobject_cast<QStandardItemModel*>(d->target_box()->model());
    QVERIFY(targets && targets->rowCount() == int(export_targets().size()));
    for (int i = 0; i < targets->rowCount(); ++i)
      QCOMPARE(targets->item(i)->isEnabled(), export_targets()[size_t(i)].unavailable == nullptr);
    d->output_edit()->setText(tmp.filePath("no/such/folder/model.onnx"));
    d->accept();
    QVERIFY(d->isVisible());
    QVERIFY(d->problem_label()->isVisible() && d->problem_label()->text().contains("does not exist"));
    const QString out = tmp.filePath("exported.fused.onnx");
    chosen = {out};
    QPushButton* browse = nullptr;
    for (QPushButton* b : d->findChildren<QPushButton*>())
      if (b->text() == "Browse…") browse = b;
    QVERIFY(browse);
    browse->click();
    QCOMPARE(d->output_edit()->text(), out);
    d->accept();
    w.wait_idle();
    QVERIFY2(QFileInfo(out).size() > 100, qPrintable(w.last_error()));
    QCOMPARE(w.last_export_path(), QFileInfo(out).absoluteFilePath());
    QVERIFY(w.export_result_box() && w.export_result_box()->isVisible());
    QVERIFY(w.export_result_box()->text().contains(QFileInfo(out).absoluteFilePath()));
    w.export_result_box()->accept();
    const Model exported = onnx_io::load_model(out.toStdString());
    QCOMPARE(QString::fromStdString(exported.metadata.at("dnnf.source_model")), QString("default.onnx"));
    QVERIFY(!exported.graph.nodes.empty());
  }
  QFile svg(tmp.filePath("graph.svg"));
  QVERIFY(svg.open(QIODevice::ReadOnly) && svg.readAll().contains("<svg"));

  // View: tabs, zoom, fit, find
  trigger("Unfused vs fused side by side");
  QCOMPARE(w.central_tabs()->currentWidget(), static_cast<QWidget*>(w.pair_view()));
  QVERIFY(w.pair_view()->unfused()->shown_ids().size() > w.pair_view()->fused()->shown_ids().size());
  trigger("Step-through graph");
  QCOMPARE(w.central_tabs()->currentWidget(), static_cast<QWidget*>(w.graph_view()));
  GraphView* v = w.graph_view();
  const double zoom = v->transform().m11();
  trigger("Zoom in");
  QVERIFY(qFuzzyCompare(v->transform().m11(), zoom * 1.25));
  trigger("Zoom out");
  QVERIFY(qFuzzyCompare(v->transform().m11(), zoom));
  trigger("Zoom in");
  trigger("Zoom in");
  trigger("Fit graph");
  const QRect drawn = v->mapFromScene(v->scene()->sceneRect()).boundingRect();
  QVERIFY2(v->viewport()->rect().adjusted(-2, -2, 2, 2).contains(drawn), "Fit graph left part of the graph outside");
  w.activateWindow();
  QVERIFY(QTest::qWaitForWindowActive(&w));
  trigger("Find node…");
  QVERIFY(w.find_box()->hasFocus());
  QTest::keyClicks(w.find_box(), "MatMul");
  QTest::keyClick(w.find_box(), Qt::Key_Return);
  QVERIFY(!v->scene()->selectedItems().isEmpty());

  // View: fused blocks
  const std::set<NodeId> expanded = v->shown_ids();
  QVERIFY(!v->clusters().empty());
  trigger("Collapse all fused blocks");
  QVERIFY(v->clusters().empty());
  QVERIFY(v->shown_ids().size() < expanded.size());
  trigger("Expand all fused blocks");
  QCOMPARE(v->shown_ids(), expanded);

  // View: overlays
  trigger("Intermediate bytes");
  QCOMPARE(w.controller()->overlay(), OverlayKind::Bytes);
  trigger("FLOPs");
  QCOMPARE(w.controller()->overlay(), OverlayKind::Flops);
  trigger("Latency share (profiles on CPU)");
  QCOMPARE(w.controller()->overlay(), OverlayKind::Latency);
  QVERIFY2(w.controller()->has_block_times(), qPrintable(w.last_error()));
  trigger("No overlay (mapping types)");
  QCOMPARE(w.controller()->overlay(), OverlayKind::None);

  // View: every dock's toggle hides it, and shows it again.
  for (QDockWidget* d : w.findChildren<QDockWidget*>()) {
    const bool visible = d->isVisible();
    trigger(plain(d->toggleViewAction()->text()));
    QCOMPARE(d->isVisible(), !visible);
    d->toggleViewAction()->trigger();
    QCOMPARE(d->isVisible(), visible);
  }

  // Steps
  const size_t last = w.controller()->timeline()->positions() - 1;
  QVERIFY(last >= 2);
  trigger("First (original graph)");
  QCOMPARE(w.controller()->position(), size_t(0));
  trigger("Next step");
  QCOMPARE(w.controller()->position(), size_t(1));
  trigger("Last (fused plan)");
  QCOMPARE(w.controller()->position(), last);
  trigger("Previous step");
  QCOMPARE(w.controller()->position(), last - 1);

  // Run
  trigger("Profile on CPU (latency overlay)");
  QVERIFY(w.controller()->has_block_times());
  QCOMPARE(w.controller()->position(), last);  // the profile belongs to the fused plan
  {
    QSignalSpy cancelled(w.jobs(), &JobRunner::cancelled);
    w.jobs()->start("a job that runs until cancelled", [](const JobControl& job) -> std::function<void()> {
      for (;;) job.check_cancelled();
    });
    trigger("Cancel running job");
    QCOMPARE(cancelled.count(), 1);
    QVERIFY(!w.jobs()->busy());
  }
  trigger("Compare with peers (dnnf compare)");
  QVERIFY(!w.compare_panel()->rows().empty());
  QCOMPARE(w.compare_panel()->rows().front().system, std::string("dnnf"));
  QVERIFY(w.compare_panel()->isVisible());
  trigger("Step-through graph");
  trigger("Show compare view");
  QVERIFY(w.compare_panel()->isVisible());
  QCOMPARE(w.central_tabs()->currentWidget(), static_cast<QWidget*>(w.pair_view()));
  {
    const QString json = tmp.filePath("compare.json");
    std::ofstream(json.toStdString())
        << R"([{"system":"dnnf","version":"t","layers":7,"fused_groups":3,"source":"test"},)"
        << R"({"system":"peer","version":"1","layers":11,"fused_groups":2,"source":"test"}])";
    chosen = {json};
    trigger("Load dnnf compare --json output…");
    QCOMPARE(w.compare_panel()->rows().size(), size_t(2));
    QCOMPARE(w.compare_panel()->rows()[1].layers, int64_t(11));
  }

  // Help
  trigger("About DNNF Studio");
  QVERIFY(w.about_box() && w.about_box()->isVisible());
  QVERIFY(w.about_box()->text().contains("DNNF Studio"));
  w.about_box()->accept();

  // File > Quit last: it closes the window.
  trigger("Quit");
  QVERIFY(!w.isVisible());

  // Coverage: no entry of the menu bar went untried.
  for (QAction* a : all_actions()) {
    auto* menu = qobject_cast<QMenu*>(a->parent());
    const bool recent_entry = menu && plain(menu->title()) == "Open recent";
    QVERIFY2(exercised.count(plain(a->text())) || (recent_entry && recent_checked),
             qPrintable("menu entry not exercised: " + plain(a->text())));
  }
}

QTEST_MAIN(TestStudioMenus)
#include "tst_studio_menus.moc"
