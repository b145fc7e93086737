#include "views/export/export_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStandardItemModel>
#include <QVBoxLayout>

namespace dnnf::views {

const std::vector<ExportTarget>& export_targets() {
  static const std::vector<ExportTarget> targets = {
      {"onnx", "ONNX, fused blocks as local functions (opens in Netron, runs in ONNX Runtime)", ".fused.onnx", nullptr},
      {"neon", "NEON bundle (aarch64: C++ kernels, runtime, weights, libmodel.so, runner)", "-neon", nullptr, true},
      {"vulkan", "Vulkan bundle (SPIR-V shaders, plan, weights, host library over the Vulkan loader, runner)", "-vulkan",
       nullptr, true},
  };
  return targets;
}

ExportDialog::ExportDialog(const QString& model_path, BrowseFn browse, const QString& suggested_dir, QWidget* parent)
    : QDialog(parent), model_path_(model_path), browse_(std::move(browse)) {
  setWindowTitle("Export fused model");
  target_ = new QComboBox(this);
  auto* items = qobject_cast<QStandardItemModel*>(target_->model());
  for (const ExportTarget& t : export_targets()) {
    const QString label = t.unavailable ? QString("%1 — %2").arg(t.label, t.unavailable) : QString(t.label);
    target_->addItem(label, QString(t.id));
    if (t.unavailable && items) items->item(target_->count() - 1)->setEnabled(false);
  }
  const QFileInfo model(model_path);
  const QDir dir(suggested_dir.isEmpty() ? model.absolutePath() : suggested_dir);
  suffix_ = export_targets()[0].extension;
  output_ = new QLineEdit(dir.filePath(model.completeBaseName() + suffix_), this);
  connect(target_, qOverload<int>(&QComboBox::currentIndexChanged), this, &ExportDialog::target_changed);
  auto* browse_button = new QPushButton("Browse…", this);
  connect(browse_button, &QPushButton::clicked, this, &ExportDialog::browse);
  auto* path_row = new QHBoxLayout;
  path_row->addWidget(output_, 1);
  path_row->addWidget(browse_button);
  fusion_ = new QCheckBox("Fuse (one function per fused block)", this);
  fusion_->setChecked(true);
  keep_ops_ = new QCheckBox("Keep dnnf-only operators (dnnf.Gelu, dnnf.Attention, …): the file then runs only in dnnf", this);
  problem_ = new QLabel(this);
  problem_->setStyleSheet("color: #b00020");
  problem_->hide();

  auto* form = new QFormLayout;
  form->addRow("Model", new QLabel(model.fileName(), this));
  form->addRow("Target", target_);
  form->addRow("Output", path_row);
  form->addRow("", fusion_);
  form->addRow("", keep_ops_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
  buttons->addButton("Export", QDialogButtonBox::AcceptRole);
  connect(buttons, &QDialogButtonBox::accepted, this, &ExportDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &ExportDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(problem_);
  layout->addWidget(buttons);
  resize(720, sizeHint().height());
}

QString ExportDialog::target() const { return target_->currentData().toString(); }

const ExportTarget& ExportDialog::current() const {
  for (const ExportTarget& t : export_targets())
    if (target() == t.id) return t;
  return export_targets()[0];
}

void ExportDialog::target_changed() {
  const ExportTarget& t = current();
  QString path = output_->text();
  if (!suffix_.isEmpty() && path.endsWith(suffix_)) path.chop(suffix_.size());
  suffix_ = t.extension;
  output_->setText(path + suffix_);
  keep_ops_->setEnabled(QString(t.id) == "onnx");  // bundles never keep dnnf-only operators
  problem_->hide();
}

ExportJobRequest ExportDialog::job_request() const {
  ExportJobRequest r;
  r.target = target();
  r.onnx = request();
  r.output = QString::fromStdString(r.onnx.output_path);
  r.bundle.model_path = r.onnx.model_path;
  r.bundle.output_dir = r.onnx.output_path;
  r.bundle.fusion = r.onnx.fusion;
  return r;
}

exporter::OnnxExportRequest ExportDialog::request() const {
  exporter::OnnxExportRequest r;
  r.model_path = model_path_.toStdString();
  r.output_path = QFileInfo(output_->text().trimmed()).absoluteFilePath().toStdString();
  r.fusion = fusion_->isChecked();
  r.keep_dnnf_ops = keep_ops_->isChecked();
  return r;
}

void ExportDialog::browse() {
  const QString path = browse_(output_->text());
  if (!path.isEmpty()) output_->setText(path);
}

void ExportDialog::accept() {
  const QString path = output_->text().trimmed();
  const bool folder = current().folder;
  QString problem;
  if (path.isEmpty()) problem = folder ? "Choose an output folder." : "Choose an output file.";
  else if (!folder && QFileInfo(path).isDir()) problem = path + " is a folder: choose a file name.";
  else if (folder && QFileInfo::exists(path) && !QFileInfo(path).isDir())
    problem = path + " is a file: choose a folder name for the bundle.";
  else if (folder && QFileInfo(path).isDir() && !QDir(path).isEmpty() && !QFileInfo::exists(QDir(path).filePath("manifest.json")))
    problem = path + " is a folder that is not a dnnf bundle: choose another name.";
  else if (!QFileInfo(QFileInfo(path).absolutePath()).isDir())
    problem = "The folder " + QFileInfo(path).absolutePath() + " does not exist.";
  else if (QFileInfo(path).absoluteFilePath() == QFileInfo(model_path_).absoluteFilePath())
    problem = "The output would overwrite the model being exported.";
  if (!problem.isEmpty()) {
    problem_->setText(problem);
    problem_->show();
    return;
  }
  QDialog::accept();
}

}  // namespace dnnf::views
