// Profiling: choose the overlay (none, latency, bytes, FLOPs), run the plan on the CPU
// backend, and list the blocks by measured time.
#pragma once

#include <QWidget>
#include <vector>

#include "views/graph/overlay.h"

class QComboBox;
class QTableWidget;
class QPushButton;

namespace dnnf { namespace fusion { struct FusionPlan; } }

namespace dnnf::views {

class ProfilePanel : public QWidget {
  Q_OBJECT
 public:
  explicit ProfilePanel(QWidget* parent = nullptr);
  void set_overlay(OverlayKind kind);  // updates the selector without emitting
  void show_times(const fusion::FusionPlan* plan, const std::vector<double>& block_us);

 signals:
  void overlay_requested(OverlayKind kind);
  void profile_requested();

 private:
  QComboBox* overlay_;
  QPushButton* run_;
  QTableWidget* table_;
};

}  // namespace dnnf::views
