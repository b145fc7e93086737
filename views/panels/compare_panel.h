// The compare view: the `dnnf compare` table and a bar chart (Qt Charts) of kernels
// per inference and fused groups for every system.
#pragma once

#include <QWidget>
#include <vector>

#include "views/compare/compare_rows.h"

class QTableWidget;
class QChartView;

namespace dnnf::views {

class ComparePanel : public QWidget {
  Q_OBJECT
 public:
  explicit ComparePanel(QWidget* parent = nullptr);
  void set_rows(std::vector<CompareRow> rows, const QString& model);
  const std::vector<CompareRow>& rows() const { return rows_; }

 signals:
  void load_requested();  // "Load dnnf compare --json output…"

 private:
  std::vector<CompareRow> rows_;
  QTableWidget* table_;
  QChartView* chart_;
};

}  // namespace dnnf::views
