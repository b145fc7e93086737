// DNNF Studio's main window: the graph view in the centre, dock panels for the journal
// steps, the node inspector, profiling and the peer comparison, a status bar with the
// progress of every long job, and the menus that drive them.
#pragma once

#include <QMainWindow>
#include <QMessageBox>
#include <QPointer>
#include <functional>
#include <memory>
#include <utility>

#include "views/graph/overlay.h"

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
struct StudioSession;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Opens a model on the worker thread; errors end in a dialog, the old model stays.
  void open_model(const QString& path);
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
};

}  // namespace dnnf::views
