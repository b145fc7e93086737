// Profiling overlays: a number per displayed node (latency share of its block, bytes
// read and written, FLOPs) and the colour ramp that shows it. The ramp is monotone in
// the value: a larger number is always a darker, redder colour.
#pragma once

#include <QColor>
#include <QString>
#include <map>
#include <vector>

#include "core/fusion/fusion_plan.h"
#include "views/graph/display_graph.h"

namespace dnnf::views {

enum class OverlayKind { None, Latency, Bytes, Flops };
QString overlay_name(OverlayKind kind);                  // "latency", "bytes", "flops"
OverlayKind overlay_from_name(const QString& name);      // None for anything else

struct OverlayValues {
  OverlayKind kind = OverlayKind::None;
  std::map<NodeId, double> value;  // per display node id
  double max = 0;
  QString format(double v) const;  // "12.5 %", "1.2 MB", "3.4 MFLOP"
};

// Colour for `fraction` of the maximum, 0..1 (clamped).
QColor overlay_color(double fraction);

// Share of the total measured time of each block, given to every member node (and to a
// collapsed block's display node). `block_us` is in plan order, as run_profiled gives it.
OverlayValues latency_overlay(const DisplayGraph& d, const fusion::FusionPlan& plan, const std::vector<double>& block_us);
OverlayValues bytes_overlay(const DisplayGraph& d);
OverlayValues flops_overlay(const DisplayGraph& d);

}  // namespace dnnf::views
