// File > Export fused model: the target (one row per target dnnf can write; targets that
// do not exist yet are listed, disabled, with the reason), the output path (a file for
// ONNX, a folder for bundles) and the options. The dialog only collects the request; the
// main window runs it (views/export/export_job.h) as a background job with progress and
// cancel.
#pragma once

#include <QDialog>
#include <QString>
#include <functional>
#include <vector>

#include "core/export/onnx_export_job.h"
#include "views/export/export_job.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;

namespace dnnf::views {

// One row of the target list.
struct ExportTarget {
  const char* id;         // as in `dnnf export --target`
  const char* label;
  const char* extension;  // of the suggested output (a folder name suffix for bundles)
  const char* unavailable;  // nullptr when the target can be exported today, else why not
  bool folder = false;      // the output is a folder (a bundle), not a file
};
const std::vector<ExportTarget>& export_targets();

class ExportDialog : public QDialog {
  Q_OBJECT
 public:
  // `browse` asks for an output path (empty: cancelled), given a suggestion. The output is
  // suggested in `suggested_dir`, or next to the model when that is empty.
  using BrowseFn = std::function<QString(const QString& suggested)>;
  ExportDialog(const QString& model_path, BrowseFn browse, const QString& suggested_dir = {}, QWidget* parent = nullptr);

  // What to export; valid after the dialog was accepted. request(): the ONNX part.
  exporter::OnnxExportRequest request() const;
  ExportJobRequest job_request() const;
  QString target() const;

  // For tests and --screenshot.
  QComboBox* target_box() const { return target_; }
  QLineEdit* output_edit() const { return output_; }
  QCheckBox* keep_dnnf_ops_box() const { return keep_ops_; }
  QLabel* problem_label() const { return problem_; }

 public slots:
  void accept() override;  // refuses (and says why) an empty path or a missing folder

 private:
  void browse();
  void target_changed();  // swaps the output's suffix, enables the target's options
  const ExportTarget& current() const;
  QString suffix_;        // suffix of the suggested output for the current target
  QString model_path_;
  BrowseFn browse_;
  QComboBox* target_;
  QLineEdit* output_;
  QCheckBox* keep_ops_;
  QCheckBox* fusion_;
  QLabel* problem_;
};

}  // namespace dnnf::views
