#include "views/panels/compare_panel.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QHeaderView>
#include <QPushButton>
#include <QTableWidget>
#include <QValueAxis>
#include <QVBoxLayout>

namespace dnnf::views {

ComparePanel::ComparePanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  table_ = new QTableWidget(0, 5, this);
  table_->setHorizontalHeaderLabels({"system", "version", "layers", "fused groups", "source"});
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  layout->addWidget(table_, 2);
  chart_ = new QChartView(this);
  chart_->setRenderHint(QPainter::Antialiasing);
  chart_->setMinimumHeight(200);
  layout->addWidget(chart_, 3);
  auto* load = new QPushButton("Load dnnf compare --json output…", this);
  layout->addWidget(load);
  connect(load, &QPushButton::clicked, this, &ComparePanel::load_requested);
  set_rows({}, {});
}

void ComparePanel::set_rows(std::vector<CompareRow> rows, const QString& model) {
  rows_ = std::move(rows);
  table_->setRowCount(int(rows_.size()));
  auto* layers = new QBarSet("layers (kernels per inference)");
  auto* groups = new QBarSet("fused groups");
  QStringList systems;
  int64_t max = 1;
  for (size_t r = 0; r < rows_.size(); ++r) {
    const CompareRow& row = rows_[r];
    const QStringList cells = {QString::fromStdString(row.system), QString::fromStdString(row.version),
                               row.layers < 0 ? QString("failed") : QString::number(row.layers),
                               row.fused_groups < 0 ? QString("–") : QString::number(row.fused_groups),
                               QString::fromStdString(row.source)};
    for (int c = 0; c < cells.size(); ++c) table_->setItem(int(r), c, new QTableWidgetItem(cells[c]));
    *layers << double(std::max<int64_t>(0, row.layers));
    *groups << double(std::max<int64_t>(0, row.fused_groups));
    systems << QString::fromStdString(row.system);
    max = std::max(max, row.layers);
  }
  table_->resizeColumnsToContents();
  auto* series = new QBarSeries;
  series->append(layers);
  series->append(groups);
  series->setLabelsVisible(true);
  auto* chart = new QChart;
  chart->addSeries(series);
  chart->setTitle(model.isEmpty() ? "kernels per inference" : "kernels per inference · " + model);
  auto* x = new QBarCategoryAxis;
  x->append(systems);
  chart->addAxis(x, Qt::AlignBottom);
  series->attachAxis(x);
  auto* y = new QValueAxis;
  y->setRange(0, double(max) * 1.15);
  y->setLabelFormat("%d");
  chart->addAxis(y, Qt::AlignLeft);
  series->attachAxis(y);
  chart->legend()->setAlignment(Qt::AlignBottom);
  QChart* old = chart_->chart();
  chart_->setChart(chart);
  delete old;
}

}  // namespace dnnf::views
