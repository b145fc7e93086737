// DNNF Studio's main window: the graph view in the centre, dock panels for the journal
// steps, the node inspector, profiling and the peer comparison, a status bar with the
// progress of every long job, and the menus that drive them.
#pragma once

#include <QMainWindow>
#include <QMessageBox>
#include <QPointer>
#include <QPointF>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "views/graph/overlay.h"
#include "views/session/saved_session.h"

class QLabel;
class QProgressBar;
class QToolButton;
class QMenu;
class QLineEdit;
class QDockWidget;
class QTabWidget;

namespace dnnf::views {

class GraphView;
class GraphController;
class GraphTimeline;
class StepsPanel;
class InspectorPanel;
class ProfilePanel;
class ComparePanel;
class StepSplitView;
class GraphPairView;
class JobRunner;
class ExportDialog;
class RestoreBar;
class SessionAutosaver;
struct StudioSession;

// Where to go once a model has opened: a restored session, or --step/--overlay given
// on the command line. Unset fields leave the window's defaults (the fused plan, no
// overlay, the graph fitted).
struct ShowTarget {
  std::optional<size_t> position;
  OverlayKind overlay = OverlayKind::None;
  bool compare_view = false;  // the "Unfused vs fused" tab
  double zoom = 0;            // 0: keep the fit
  QPointF center;
  int64_t selected = -1;
  static ShowTarget from_saved(const SavedSession& s);
};

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Opens a model on the worker thread; errors end in a dialog, the old model stays.
  void open_model(const QString& path);
  // The same, then shows `target` once the model is optimised.
  void open_model_at(const QString& path, const ShowTarget& target);
  void open_default_model();
  static QString default_model_path();

  void set_position(size_t position);
  void set_overlay(OverlayKind kind);
  void profile();            // runs the plan on the CPU, then shows the latency overlay
  void compare_with_peers(); // the `dnnf compare` rows, on the worker thread
  void show_compare();       // raises the compare dock and shows unfused vs fused
  void show_unfused_vs_fused();
  void show_step_graph();    // back to the step-through graph tab
  void export_dialog();      // File > Export fused model: the dialog, then a background job

  // How File dialogs pick a path (save: a file to write). Tests replace it; the
  // default asks with QFileDialog. An empty result means "cancelled".
  using FileChooser = std::function<QString(bool save, const QString& title, const QString& suggested,
                                            const QString& filter)>;
  void set_file_chooser(FileChooser chooser) { choose_file_ = std::move(chooser); }

  // For --screenshot and tests.
  JobRunner* jobs() const { return jobs_; }
  GraphController* controller() const { return graph_; }
  GraphView* graph_view() const { return view_; }
  StepsPanel* steps_panel() const { return steps_; }
  ComparePanel* compare_panel() const { return compare_; }
  StepSplitView* split_view() const { return split_; }
  GraphPairView* pair_view() const { return pair_; }
  QTabWidget* central_tabs() const { return central_; }
  QLineEdit* find_box() const { return find_box_; }
  QMessageBox* about_box() const { return about_box_; }
  ExportDialog* export_dialog_box() const;
  QMessageBox* export_result_box() const { return export_result_box_; }
  QString last_export_path() const { return last_export_path_; }
  std::shared_ptr<const StudioSession> session() const { return session_; }
  QMessageBox* error_box() const { return error_box_; }
  QString last_error() const { return last_error_; }
  void wait_idle();          // jobs and layout finished

  // Autosave (off unless enabled: tests' windows leave the user's session alone).
  // Reads the previous run's session from `file` first.
  void enable_autosave(const QString& file);
  SessionAutosaver* autosaver() const { return autosaver_; }
  // The state the autosave writes; nullopt while no optimised model is shown.
  std::optional<SavedSession> saved_state() const;
  // After a crash (the previous session not closed cleanly), shows the restore bar and
  // returns true; a corrupt session file is reported in the bar instead.
  bool offer_restore();
  // Reopens the previous session's model at its journal position and overlay. A missing
  // or changed model is refused with a message in the bar (returns false).
  bool restore_previous_session();
  RestoreBar* restore_bar() const { return restore_bar_; }
  QString restore_message() const { return restore_message_; }

 signals:
  // A model is now shown: imported only (optimised=false, while the pipeline runs) or
  // with its journal and plan.
  void session_shown(bool optimised);

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;
  void closeEvent(QCloseEvent* event) override;

 private:
  void build_menus();
  void build_docks();
  void build_status_bar();
  void set_session(std::shared_ptr<const StudioSession> session, std::shared_ptr<GraphTimeline> timeline);
  // The imported graph, shown while the model is optimised; end_import_preview goes
  // back to what was shown before it (after a failed or cancelled open).
  void show_imported(std::shared_ptr<const StudioSession> imported, std::shared_ptr<GraphTimeline> timeline);
  void end_import_preview();
  void clear_session();
  bool session_optimised();  // false (and says so) while only the imported graph is shown
  void show_error(const QString& title, const QString& message);
  void remember_recent(const QString& path);
  void rebuild_recent_menu();
  void open_dialog();
  void save_image_dialog();
  void load_compare_json();
  void find_nodes(const QString& text);
  void on_node_selected(int64_t id);
  void show_about();
  void run_export(const ExportDialog& dialog);
  void apply_target();        // the pending ShowTarget, once its model is optimised
  void apply_view_target();   // zoom and selection, once its graph state is on screen

  GraphView* view_;
  GraphController* graph_;
  JobRunner* jobs_;
  StepsPanel* steps_;
  InspectorPanel* inspector_;
  ProfilePanel* profile_;
  ComparePanel* compare_;
  StepSplitView* split_;
  GraphPairView* pair_;
  QTabWidget* central_;
  FileChooser choose_file_;
  QPointer<QMessageBox> about_box_;
  QPointer<ExportDialog> export_dialog_;
  QPointer<QMessageBox> export_result_box_;
  QString last_export_path_;
  QDockWidget* compare_dock_ = nullptr;
  QMenu* recent_menu_ = nullptr;
  QMenu* view_menu_ = nullptr;
  QLineEdit* find_box_ = nullptr;
  QLabel* status_text_;
  QProgressBar* progress_;
  QToolButton* cancel_;
  std::shared_ptr<const StudioSession> session_;
  std::shared_ptr<GraphTimeline> timeline_;
  bool showing_import_ = false;
  std::pair<std::shared_ptr<const StudioSession>, std::shared_ptr<GraphTimeline>> shown_before_import_;
  QPointer<QMessageBox> error_box_;
  QString last_error_;
  RestoreBar* restore_bar_ = nullptr;
  SessionAutosaver* autosaver_ = nullptr;
  QString restore_message_;
  QString target_path_;                 // the model the pending target belongs to
  std::optional<ShowTarget> target_;    // waiting for its model
  std::optional<ShowTarget> view_target_;  // zoom/selection waiting for the state on screen
  int64_t selected_ = -1;
};

}  // namespace dnnf::views
