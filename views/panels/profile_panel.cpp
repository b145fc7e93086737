#include "views/panels/profile_panel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <numeric>

#include "core/fusion/fusion_plan.h"

namespace dnnf::views {

ProfilePanel::ProfilePanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel("Overlay:", this));
  overlay_ = new QComboBox(this);
  for (OverlayKind k : {OverlayKind::None, OverlayKind::Latency, OverlayKind::Bytes, OverlayKind::Flops})
    overlay_->addItem(overlay_name(k), int(k));
  top->addWidget(overlay_, 1);
  run_ = new QPushButton("Profile on CPU", this);
  run_->setToolTip("Compile the fusion plan and time every block on the CPU backend");
  top->addWidget(run_);
  layout->addLayout(top);
  table_ = new QTableWidget(0, 4, this);
  table_->setHorizontalHeaderLabels({"block", "ops", "µs", "share"});
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  layout->addWidget(table_, 1);
  connect(overlay_, &QComboBox::currentIndexChanged, this,
          [this](int i) { emit overlay_requested(OverlayKind(overlay_->itemData(i).toInt())); });
  connect(run_, &QPushButton::clicked, this, &ProfilePanel::profile_requested);
}

void ProfilePanel::set_overlay(OverlayKind kind) {
  const QSignalBlocker block(overlay_);
  overlay_->setCurrentIndex(overlay_->findData(int(kind)));
}

void ProfilePanel::show_times(const fusion::FusionPlan* plan, const std::vector<double>& us) {
  table_->setRowCount(0);
  if (!plan) return;
  const double total = std::accumulate(us.begin(), us.end(), 0.0);
  std::vector<size_t> order(std::min(us.size(), plan->blocks.size()));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return us[a] > us[b]; });
  table_->setRowCount(int(order.size()));
  for (size_t r = 0; r < order.size(); ++r) {
    const auto& block = plan->blocks[order[r]];
    const double share = total > 0 ? us[order[r]] / total : 0;
    table_->setItem(int(r), 0, new QTableWidgetItem(QString::number(block.id)));
    table_->setItem(int(r), 1, new QTableWidgetItem(QString::number(block.nodes.size())));
    table_->setItem(int(r), 2, new QTableWidgetItem(QString::number(us[order[r]], 'f', 1)));
    table_->setItem(int(r), 3, new QTableWidgetItem(QString("%1 %").arg(100 * share, 0, 'f', 1)));
  }
}

}  // namespace dnnf::views
