#include "views/window/main_window.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QSettings>
#include <QStandardPaths>
#include <QDir>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>
#include <fstream>

#include "core/util/error.h"
#include "views/compare/compare_rows.h"
#include "views/export/export_dialog.h"
#include "views/graph/graph_view.h"
#include "views/jobs/job_runner.h"
#include "views/panels/compare_panel.h"
#include "views/panels/graph_pair_view.h"
#include "views/panels/step_split_view.h"
#include "views/panels/inspector_panel.h"
#include "views/panels/profile_panel.h"
#include "views/panels/steps_panel.h"
#include "views/session/graph_timeline.h"
#include "views/session/profile_run.h"
#include "views/session/session_autosaver.h"
#include "views/window/graph_controller.h"
#include "views/window/restore_bar.h"

namespace dnnf::views {

namespace {
constexpr int kMaxRecent = 8;
QSettings settings() { return QSettings("dnnf", "DNNF Studio"); }
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle("DNNF Studio");
  setAcceptDrops(true);
  view_ = new GraphView(this);
  pair_ = new GraphPairView(this);
  central_ = new QTabWidget(this);
  central_->setDocumentMode(true);
  central_->addTab(view_, "Graph (step through the journal)");
  central_->addTab(pair_, "Unfused vs fused");
  // The restore bar sits above the tabs, hidden unless there is something to restore.
  restore_bar_ = new RestoreBar(this);
  auto* centre = new QWidget(this);
  auto* centre_layout = new QVBoxLayout(centre);
  centre_layout->setContentsMargins(0, 0, 0, 0);
  centre_layout->setSpacing(0);
  centre_layout->addWidget(restore_bar_);
  centre_layout->addWidget(central_, 1);
  setCentralWidget(centre);
  connect(restore_bar_, &RestoreBar::restore_requested, this, &MainWindow::restore_previous_session);
  choose_file_ = [this](bool save, const QString& title, const QString& suggested, const QString& filter) {
    return save ? QFileDialog::getSaveFileName(this, title, suggested, filter)
                : QFileDialog::getOpenFileName(this, title, suggested, filter);
  };
  graph_ = new GraphController(view_, this);
  jobs_ = new JobRunner(this);
  build_docks();
  build_status_bar();
  build_menus();
  connect(view_, &GraphView::node_selected, this, &MainWindow::on_node_selected);
  connect(steps_, &StepsPanel::position_requested, this, &MainWindow::set_position);
  connect(graph_, &GraphController::state_shown, steps_, &StepsPanel::show_position);
  connect(graph_, &GraphController::state_shown, this, [this](size_t position) { split_->show_step(timeline_.get(), position); });
  connect(graph_, &GraphController::state_shown, this, &MainWindow::apply_view_target);
  connect(profile_, &ProfilePanel::overlay_requested, this, &MainWindow::set_overlay);
  connect(profile_, &ProfilePanel::profile_requested, this, &MainWindow::profile);
  connect(compare_, &ComparePanel::load_requested, this, &MainWindow::load_compare_json);
  resize(1400, 900);
}

MainWindow::~MainWindow() = default;

QString MainWindow::default_model_path() {
  // Next to the executable when installed, else the source tree's copy.
  const QString installed = QApplication::applicationDirPath() + "/../share/dnnf/models/default.onnx";
  return QFileInfo::exists(installed) ? installed : QString(DNNF_DEFAULT_MODEL);
}

void MainWindow::build_docks() {
  auto dock = [this](const QString& title, QWidget* w, Qt::DockWidgetArea area) {
    auto* d = new QDockWidget(title, this);
    d->setObjectName(title);
    d->setWidget(w);
    addDockWidget(area, d);
    return d;
  };
  steps_ = new StepsPanel(this);
  inspector_ = new InspectorPanel(this);
  profile_ = new ProfilePanel(this);
  compare_ = new ComparePanel(this);
  split_ = new StepSplitView(this);
  QDockWidget* steps = dock("Steps", steps_, Qt::RightDockWidgetArea);
  QDockWidget* inspector = dock("Node inspector", inspector_, Qt::RightDockWidgetArea);
  QDockWidget* profile = dock("Profile", profile_, Qt::RightDockWidgetArea);
  compare_dock_ = dock("Compare", compare_, Qt::RightDockWidgetArea);
  QDockWidget* split = dock("Before / after the step", split_, Qt::BottomDockWidgetArea);
  tabifyDockWidget(inspector, profile);
  tabifyDockWidget(profile, compare_dock_);
  inspector->raise();
  resizeDocks({steps, inspector}, {430, 430}, Qt::Horizontal);
  resizeDocks({split}, {240}, Qt::Vertical);
}

void MainWindow::build_status_bar() {
  status_text_ = new QLabel("Ready", this);
  progress_ = new QProgressBar(this);
  progress_->setMaximumWidth(220);
  progress_->hide();
  cancel_ = new QToolButton(this);
  cancel_->setText("Cancel");
  cancel_->hide();
  statusBar()->addWidget(status_text_, 1);
  statusBar()->addPermanentWidget(progress_);
  statusBar()->addPermanentWidget(cancel_);
  connect(cancel_, &QToolButton::clicked, jobs_, &JobRunner::cancel);
  connect(jobs_, &JobRunner::started, this, [this](const QString& title) {
    status_text_->setText(title + "…");
    progress_->setRange(0, 0);
    progress_->show();
    cancel_->show();
  });
  connect(jobs_, &JobRunner::progress, this, [this](int percent, const QString& message) {
    if (percent < 0) progress_->setRange(0, 0);
    else {
      progress_->setRange(0, 100);
      progress_->setValue(percent);
    }
    status_text_->setText(message);
  });
  connect(jobs_, &JobRunner::finished, this, [this](bool ok, const QString& title) {
    progress_->hide();
    cancel_->hide();
    if (ok) status_text_->setText(title + ": done");
    else end_import_preview();  // an open that did not finish leaves the model shown before
  });
  connect(jobs_, &JobRunner::cancelled, this, [this](const QString& title) { status_text_->setText(title + ": cancelled"); });
  connect(jobs_, &JobRunner::failed, this, [this](const QString& title, const QString& error) {
    status_text_->setText(title + ": failed");
    show_error(title, error);
  });
  connect(graph_, &GraphController::layout_busy, this, [this](bool busy, const QString& message) {
    if (jobs_->busy()) return;  // the job's own progress has the bar
    progress_->setVisible(busy);
    progress_->setRange(0, 0);
    if (!message.isEmpty()) status_text_->setText(message);
    else if (!busy) status_text_->setText("Ready");
  });
}

void MainWindow::build_menus() {
  QMenu* file = menuBar()->addMenu("&File");
  file->addAction("&Open model…", QKeySequence::Open, this, &MainWindow::open_dialog);
  file->addAction("Open &default model", this, &MainWindow::open_default_model);
  recent_menu_ = file->addMenu("Open &recent");
  rebuild_recent_menu();
  file->addSeparator();
  file->addAction("&Save graph view as image (PNG, SVG)…", QKeySequence::Save, this, &MainWindow::save_image_dialog);
  file->addAction("&Export fused model…", QKeySequence(Qt::CTRL | Qt::Key_E), this, &MainWindow::export_dialog);
  file->addSeparator();
  file->addAction("&Quit", QKeySequence::Quit, this, &QWidget::close);

  view_menu_ = menuBar()->addMenu("&View");
  view_menu_->addAction("&Step-through graph", this, &MainWindow::show_step_graph);
  view_menu_->addAction("&Unfused vs fused side by side", this, &MainWindow::show_unfused_vs_fused);
  view_menu_->addSeparator();
  view_menu_->addAction("&Fit graph", QKeySequence(Qt::CTRL | Qt::Key_0), view_, &GraphView::fit);
  view_menu_->addAction("Zoom &in", QKeySequence::ZoomIn, this, [this] { view_->zoom_by(1.25); });
  view_menu_->addAction("Zoom &out", QKeySequence::ZoomOut, this, [this] { view_->zoom_by(0.8); });
  view_menu_->addAction("&Find node…", QKeySequence::Find, this, [this] {
    find_box_->setFocus();
    find_box_->selectAll();
  });
  view_menu_->addSeparator();
  view_menu_->addAction("&Collapse all fused blocks", graph_, &GraphController::collapse_all);
  view_menu_->addAction("&Expand all fused blocks", graph_, &GraphController::expand_all);
  QMenu* overlay = view_menu_->addMenu("&Overlay");
  auto* group = new QActionGroup(this);
  for (OverlayKind k : {OverlayKind::None, OverlayKind::Latency, OverlayKind::Bytes, OverlayKind::Flops}) {
    static const std::map<OverlayKind, QString> label = {{OverlayKind::None, "&No overlay (mapping types)"},
                                                         {OverlayKind::Latency, "&Latency share (profiles on CPU)"},
                                                         {OverlayKind::Bytes, "Intermediate &bytes"},
                                                         {OverlayKind::Flops, "&FLOPs"}};
    QAction* a = overlay->addAction(label.at(k), this, [this, k] { set_overlay(k); });
    a->setCheckable(true);
    a->setChecked(k == OverlayKind::None);
    a->setData(int(k));
    group->addAction(a);
  }
  view_menu_->addSeparator();
  for (QDockWidget* d : findChildren<QDockWidget*>()) view_menu_->addAction(d->toggleViewAction());

  QMenu* steps = menuBar()->addMenu("&Steps");
  steps->addAction("&First (original graph)", QKeySequence(Qt::CTRL | Qt::Key_Home), steps_, &StepsPanel::first);
  steps->addAction("&Previous step", QKeySequence(Qt::CTRL | Qt::Key_Left), steps_, &StepsPanel::previous);
  steps->addAction("&Next step", QKeySequence(Qt::CTRL | Qt::Key_Right), steps_, &StepsPanel::next);
  steps->addAction("&Last (fused plan)", QKeySequence(Qt::CTRL | Qt::Key_End), steps_, &StepsPanel::last);

  QMenu* run = menuBar()->addMenu("&Run");
  run->addAction("&Profile on CPU (latency overlay)", QKeySequence(Qt::Key_F5), this, &MainWindow::profile);
  run->addAction("&Cancel running job", QKeySequence(Qt::Key_Escape), jobs_, &JobRunner::cancel);
  run->addSeparator();
  run->addAction("&Compare with peers (dnnf compare)", this, &MainWindow::compare_with_peers);
  run->addAction("Show c&ompare view", this, &MainWindow::show_compare);
  run->addAction("&Load dnnf compare --json output…", this, &MainWindow::load_compare_json);

  QMenu* help = menuBar()->addMenu("&Help");
  help->addAction("&About DNNF Studio", this, &MainWindow::show_about);

  QToolBar* bar = addToolBar("Graph");
  bar->setObjectName("graph toolbar");
  bar->addAction("Open", this, &MainWindow::open_dialog);
  bar->addAction("Fit", view_, &GraphView::fit);
  bar->addAction("Prev", steps_, &StepsPanel::previous);
  bar->addAction("Next", steps_, &StepsPanel::next);
  find_box_ = new QLineEdit(this);
  find_box_->setPlaceholderText("Find node by name or op type");
  find_box_->setClearButtonEnabled(true);
  find_box_->setMaximumWidth(280);
  bar->addWidget(find_box_);
  connect(find_box_, &QLineEdit::returnPressed, this, [this] { find_nodes(find_box_->text()); });
}

void MainWindow::show_about() {
  // Not QMessageBox::about: that blocks in its own event loop until closed.
  if (about_box_) about_box_->close();
  about_box_ = new QMessageBox(QMessageBox::Information, "About DNNF Studio",
                               QString("DNNF Studio %1\nExplore what dnnf's rewrites and operator fusion did to a model, "
                                       "step by step.").arg(DNNF_VERSION),
                               QMessageBox::Ok, this);
  about_box_->setAttribute(Qt::WA_DeleteOnClose);
  about_box_->open();
}

void MainWindow::show_unfused_vs_fused() { central_->setCurrentWidget(pair_); }

void MainWindow::show_step_graph() { central_->setCurrentWidget(view_); }

void MainWindow::open_dialog() {
  const QString start = settings().value("last_dir").toString();
  const QString path = choose_file_(false, "Open ONNX model", start, "ONNX models (*.onnx);;All files (*)");
  if (!path.isEmpty()) open_model(path);
}

void MainWindow::open_default_model() { open_model(default_model_path()); }

ShowTarget ShowTarget::from_saved(const SavedSession& s) {
  ShowTarget t;
  t.position = size_t(s.position);
  t.overlay = overlay_from_name(s.overlay);
  t.compare_view = s.view == "compare";
  t.zoom = s.zoom;
  t.center = {s.center_x, s.center_y};
  t.selected = s.selected;
  return t;
}

void MainWindow::open_model_at(const QString& path, const ShowTarget& target) {
  open_model(path);
  target_path_ = QFileInfo(path).absoluteFilePath();
  target_ = target;
}

void MainWindow::open_model(const QString& path) {
  target_.reset();  // a target belongs to the open that asked for it
  view_target_.reset();
  const std::string file = path.toStdString();
  jobs_->start("Opening " + QFileInfo(path).fileName(), [this, file, path](const JobControl& job) -> std::function<void()> {
    std::shared_ptr<const StudioSession> imported = import_session(file, job);
    // A big model takes a while to optimise: show it as imported in the meantime.
    auto imported_timeline = std::make_shared<GraphTimeline>(imported);
    job.deliver([this, imported, imported_timeline] { show_imported(imported, imported_timeline); });
    std::shared_ptr<const StudioSession> session = optimise_session(*imported, job);
    auto timeline = std::make_shared<GraphTimeline>(session, job);
    return [this, session, timeline, path] {
      set_session(session, timeline);
      remember_recent(path);
    };
  });
}

void MainWindow::show_imported(std::shared_ptr<const StudioSession> imported, std::shared_ptr<GraphTimeline> timeline) {
  if (!showing_import_) {
    // Back to this if the optimisation fails or is cancelled.
    shown_before_import_ = {session_, timeline_};
    showing_import_ = true;
  }
  set_session(std::move(imported), std::move(timeline));
}

void MainWindow::end_import_preview() {
  if (!showing_import_) return;
  auto [session, timeline] = std::move(shown_before_import_);
  shown_before_import_ = {};
  showing_import_ = false;
  if (session) set_session(std::move(session), std::move(timeline));
  else clear_session();
}

void MainWindow::clear_session() {
  session_.reset();
  timeline_.reset();
  setWindowTitle("DNNF Studio");
  steps_->set_timeline(nullptr, 0);
  split_->clear();
  pair_->set_timeline(nullptr);
  graph_->set_timeline(nullptr);
  inspector_->show_node(nullptr, nullptr);
  profile_->show_times(nullptr, {});
}

void MainWindow::set_session(std::shared_ptr<const StudioSession> session, std::shared_ptr<GraphTimeline> timeline) {
  if (session->optimised) {
    showing_import_ = false;  // the real thing replaces the imported preview
    shown_before_import_ = {};
  }
  session_ = std::move(session);
  timeline_ = std::move(timeline);
  setWindowTitle(QString("DNNF Studio — %1").arg(QFileInfo(QString::fromStdString(session_->path)).fileName()));
  // Every panel that keeps a raw pointer to the old timeline (now freed) is switched
  // before the graph: showing the graph notifies the steps panel and the split view.
  steps_->set_timeline(timeline_.get(), timeline_->positions() - 1);
  split_->clear();
  pair_->set_timeline(timeline_.get());
  graph_->set_timeline(timeline_);
  inspector_->show_node(nullptr, nullptr);
  selected_ = -1;
  profile_->show_times(nullptr, {});
  if (!session_->optimised) {
    status_text_->setText(QString("%1: %2 nodes imported; optimising…")
                              .arg(QFileInfo(QString::fromStdString(session_->path)).fileName())
                              .arg(session_->original.nodes.size()));
    emit session_shown(false);
    return;
  }
  compare_->set_rows({dnnf_compare_row(*session_)}, QFileInfo(QString::fromStdString(session_->path)).fileName());
  status_text_->setText(QString("%1: %2 nodes → %3 after rewriting → %4 fused layers; %5 journal steps")
                            .arg(QFileInfo(QString::fromStdString(session_->path)).fileName())
                            .arg(session_->result.summary.nodes_before)
                            .arg(session_->result.summary.nodes_after)
                            .arg(session_->result.plan.blocks.size())
                            .arg(session_->result.journal.steps.size()));
  if (target_ && QFileInfo(QString::fromStdString(session_->path)).absoluteFilePath() == target_path_) apply_target();
  if (autosaver_) autosaver_->state_changed();
  emit session_shown(true);
}

void MainWindow::apply_target() {
  const ShowTarget t = *target_;
  target_.reset();
  const size_t positions = timeline_->positions();
  if (t.position && *t.position >= positions)
    status_text_->setText(QString("the journal has %1 positions now (%2 before): showing the fused plan")
                              .arg(positions).arg(*t.position + 1));
  if (t.compare_view) show_unfused_vs_fused();
  if (t.zoom > 0 || t.selected >= 0) view_target_ = t;
  if (t.position) set_position(*t.position);
  if (t.overlay != OverlayKind::None) set_overlay(t.overlay);
  if (graph_->state_on_screen()) apply_view_target();
}

void MainWindow::apply_view_target() {
  if (!view_target_ || !graph_->state_on_screen()) return;
  const ShowTarget t = *view_target_;
  view_target_.reset();
  if (t.zoom > 0) {
    view_->resetTransform();
    view_->scale(t.zoom, t.zoom);
    view_->centerOn(t.center);
  }
  if (t.selected >= 0)
    if (NodeItem* item = view_->item(t.selected)) item->setSelected(true);
}

void MainWindow::enable_autosave(const QString& file) {
  if (autosaver_) return;
  autosaver_ = new SessionAutosaver(file, [this] { return saved_state(); }, this);
  auto changed = [this] { autosaver_->state_changed(); };
  connect(graph_, &GraphController::state_shown, this, changed);
  connect(view_, &GraphView::zoomed_by, this, changed);
  connect(view_, &GraphView::node_selected, this, changed);
  connect(central_, &QTabWidget::currentChanged, this, changed);
  // Quitting without closing the window (QApplication::quit) is a clean exit too.
  connect(qApp, &QCoreApplication::aboutToQuit, autosaver_, &SessionAutosaver::mark_closed);
}

std::optional<SavedSession> MainWindow::saved_state() const {
  // While a model is only imported (or nothing is open) the file keeps the last state.
  if (!session_ || !session_->optimised || !timeline_) return std::nullopt;
  SavedSession s;
  stamp_model(s, QString::fromStdString(session_->path));
  s.position = qint64(graph_->position());
  s.positions = qint64(timeline_->positions());
  s.overlay = graph_->overlay() == OverlayKind::None ? "none" : overlay_name(graph_->overlay());
  s.view = central_->currentWidget() == pair_ ? "compare" : "graph";
  s.zoom = view_->transform().m11();
  const QPointF centre = view_->mapToScene(view_->viewport()->rect().center());
  s.center_x = centre.x();
  s.center_y = centre.y();
  s.selected = selected_;
  return s;
}

bool MainWindow::offer_restore() {
  if (!autosaver_) return false;
  if (!autosaver_->previous_error().isEmpty()) {
    restore_message_ = "The previous session could not be restored: " + autosaver_->previous_error();
    restore_bar_->inform(restore_message_);
    return false;
  }
  if (!autosaver_->previous_crashed()) return false;
  const SavedSession& p = *autosaver_->previous();
  restore_message_ = QString("DNNF Studio did not close cleanly last time. Restore %1 at journal position %2%3?")
                         .arg(QFileInfo(p.model_path).fileName())
                         .arg(p.position)
                         .arg(p.overlay == "none" ? QString() : QString(" with the %1 overlay").arg(p.overlay));
  restore_bar_->offer(restore_message_);
  return true;
}

bool MainWindow::restore_previous_session() {
  restore_bar_->hide();
  if (!autosaver_ || !autosaver_->previous()) return false;
  const SavedSession p = *autosaver_->previous();
  const QString problem = saved_model_problem(p);
  if (!problem.isEmpty()) {
    restore_message_ = "The previous session was not restored: " + problem + ".";
    restore_bar_->inform(restore_message_);
    return false;
  }
  restore_message_ = "Restored the previous session: " + p.model_path;
  status_text_->setText(restore_message_);
  open_model_at(p.model_path, ShowTarget::from_saved(p));
  return true;
}

void MainWindow::set_position(size_t position) {
  graph_->set_position(position);
  steps_->show_position(graph_->position());
}

void MainWindow::set_overlay(OverlayKind kind) {
  profile_->set_overlay(kind);
  graph_->set_overlay(kind);
  if (autosaver_) autosaver_->state_changed();
  if (kind == OverlayKind::Latency && session_ && !graph_->has_block_times()) profile();
}

bool MainWindow::session_optimised() {
  if (session_ && !session_->optimised) status_text_->setText("the model is still being optimised");
  return session_ && session_->optimised;
}

void MainWindow::profile() {
  if (!session_optimised()) return;
  std::shared_ptr<const StudioSession> session = session_;
  jobs_->start("Profiling on CPU", [this, session](const JobControl& job) -> std::function<void()> {
    std::vector<double> us = profile_blocks(*session, job);
    return [this, session, us] {
      if (session != session_) return;  // another model was opened meanwhile
      graph_->set_block_times(us);
      profile_->show_times(&session_->result.plan, us);
      // The latency numbers belong to the final plan, so show that state.
      set_position(timeline_->positions() - 1);
      profile_->set_overlay(OverlayKind::Latency);
      graph_->set_overlay(OverlayKind::Latency);
      if (autosaver_) autosaver_->state_changed();
      if (auto* d = qobject_cast<QDockWidget*>(profile_->parentWidget())) d->raise();
    };
  });
}

void MainWindow::compare_with_peers() {
  if (!session_optimised()) return;
  std::shared_ptr<const StudioSession> session = session_;
  jobs_->start("Comparing with peers", [this, session](const JobControl& job) -> std::function<void()> {
    std::vector<CompareRow> rows = compare_rows_with_peers(*session, job);
    return [this, session, rows] {
      if (session != session_) return;
      compare_->set_rows(rows, QFileInfo(QString::fromStdString(session->path)).fileName());
      show_compare();
    };
  });
}

void MainWindow::show_compare() {
  compare_dock_->show();
  compare_dock_->raise();
  show_unfused_vs_fused();
}

void MainWindow::load_compare_json() {
  const QString path = choose_file_(false, "Load dnnf compare --json output", {}, "JSON (*.json);;All files (*)");
  if (path.isEmpty()) return;
  try {
    std::ifstream in(path.toStdString());
    check(bool(in), "cannot read ", path.toStdString());
    nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    check(!j.is_discarded(), path.toStdString(), " is not JSON");
    compare_->set_rows(compare_rows_from_json(j), QFileInfo(path).fileName());
    show_compare();
  } catch (const std::exception& e) {
    show_error("Load compare table", e.what());
  }
}

void MainWindow::save_image_dialog() {
  const QString path = choose_file_(true, "Save graph view", "graph.svg", "SVG (*.svg);;PNG (*.png)");
  if (path.isEmpty()) return;
  if (view_->save_image(path)) status_text_->setText("saved " + path);
  else show_error("Save graph view", "could not write " + path);
}

ExportDialog* MainWindow::export_dialog_box() const { return export_dialog_.data(); }

void MainWindow::export_dialog() {
  if (!session_optimised()) return;
  if (export_dialog_) export_dialog_->close();
  // Next to the model, except for the bundled default model (its folder is part of the
  // installation) or a read-only folder: then the user's documents folder.
  const QFileInfo model(QString::fromStdString(session_->path));
  QString dir;
  if (model == QFileInfo(default_model_path()) || !QFileInfo(model.absolutePath()).isWritable()) {
    dir = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    if (dir.isEmpty() || !QFileInfo(dir).isDir()) dir = QDir::homePath();
  }
  export_dialog_ = new ExportDialog(model.filePath(), [this](const QString& suggested) {
    return choose_file_(true, "Export fused model", suggested, "ONNX (*.onnx);;All files (*)");
  }, dir, this);
  export_dialog_->setAttribute(Qt::WA_DeleteOnClose);
  connect(export_dialog_, &QDialog::accepted, this, [this] { run_export(*export_dialog_); });
  export_dialog_->open();  // window-modal, not blocking: tests fill it in
}

void MainWindow::run_export(const ExportDialog& dialog) {
  const ExportJobRequest request = dialog.job_request();
  jobs_->start("Exporting " + QFileInfo(request.output).fileName(), [this, request](const JobControl& job) -> std::function<void()> {
    const ExportJobResult r = run_export_job(request, job);
    return [this, r] {
      last_export_path_ = r.output;
      status_text_->setText("exported to " + r.output);
      if (export_result_box_) export_result_box_->close();
      export_result_box_ = new QMessageBox(QMessageBox::Information, "Export finished", r.summary, QMessageBox::Ok, this);
      export_result_box_->setAttribute(Qt::WA_DeleteOnClose);
      export_result_box_->open();
    };
  });
}

void MainWindow::find_nodes(const QString& text) {
  const int n = view_->find(text);
  status_text_->setText(n ? QString("%1 nodes match '%2'").arg(n).arg(text) : QString("no node matches '%1'").arg(text));
}

void MainWindow::on_node_selected(int64_t id) {
  selected_ = id;
  if (!timeline_ || id == -1) {
    inspector_->show_node(nullptr, nullptr);
    return;
  }
  inspector_->show_node(&timeline_->graph_at(graph_->position()), view_->graph().find(id));
  if (QDockWidget* d = qobject_cast<QDockWidget*>(inspector_->parentWidget())) d->raise();
}

void MainWindow::show_error(const QString& title, const QString& message) {
  last_error_ = message;
  // Window-modal but not blocking: the app stays usable and tests can inspect it.
  if (error_box_) error_box_->close();
  error_box_ = new QMessageBox(QMessageBox::Critical, title, message, QMessageBox::Ok, this);
  error_box_->setAttribute(Qt::WA_DeleteOnClose);
  error_box_->open();
}

void MainWindow::remember_recent(const QString& path) {
  QSettings s = settings();
  QStringList recent = s.value("recent").toStringList();
  const QString abs = QFileInfo(path).absoluteFilePath();
  recent.removeAll(abs);
  recent.prepend(abs);
  while (recent.size() > kMaxRecent) recent.removeLast();
  s.setValue("recent", recent);
  s.setValue("last_dir", QFileInfo(abs).absolutePath());
  rebuild_recent_menu();
}

void MainWindow::rebuild_recent_menu() {
  recent_menu_->clear();
  const QStringList recent = settings().value("recent").toStringList();
  for (const QString& path : recent) recent_menu_->addAction(path, this, [this, path] { open_model(path); });
  recent_menu_->setEnabled(!recent.isEmpty());
}

void MainWindow::wait_idle() {
  jobs_->wait_idle();
  graph_->wait_idle();
  split_->wait_idle();
  pair_->wait_idle();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const QList<QUrl> urls = event->mimeData()->urls();
  if (!urls.isEmpty() && urls.first().isLocalFile()) open_model(urls.first().toLocalFile());
}

void MainWindow::closeEvent(QCloseEvent* event) {
  jobs_->cancel();
  if (autosaver_) autosaver_->mark_closed();
  QMainWindow::closeEvent(event);
}

}  // namespace dnnf::views
