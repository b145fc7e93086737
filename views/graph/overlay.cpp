#include "views/graph/overlay.h"

#include <algorithm>
#include <cmath>

namespace dnnf::views {

QString overlay_name(OverlayKind kind) {
  switch (kind) {
    case OverlayKind::Latency: return "latency";
    case OverlayKind::Bytes: return "bytes";
    case OverlayKind::Flops: return "flops";
    case OverlayKind::None: break;
  }
  return "none";
}

OverlayKind overlay_from_name(const QString& name) {
  if (name == "latency") return OverlayKind::Latency;
  if (name == "bytes") return OverlayKind::Bytes;
  if (name == "flops") return OverlayKind::Flops;
  return OverlayKind::None;
}

namespace {
QString scaled(double v, const char* unit) {
  const char* prefixes[] = {"", "K", "M", "G", "T"};
  int p = 0;
  while (std::abs(v) >= 1000 && p < 4) {
    v /= 1000;
    ++p;
  }
  return QString("%1 %2%3").arg(v, 0, 'f', v < 10 ? 1 : 0).arg(prefixes[p]).arg(unit);
}

OverlayValues finish(OverlayValues o) {
  for (const auto& [id, v] : o.value) o.max = std::max(o.max, v);
  return o;
}
}  // namespace

QString OverlayValues::format(double v) const {
  switch (kind) {
    case OverlayKind::Latency: return QString("%1 %").arg(100 * v, 0, 'f', 1);
    case OverlayKind::Bytes: return scaled(v, "B");
    case OverlayKind::Flops: return scaled(v, "FLOP");
    case OverlayKind::None: break;
  }
  return {};
}

QColor overlay_color(double fraction) {
  const double f = std::clamp(std::isfinite(fraction) ? fraction : 0.0, 0.0, 1.0);
  // Pale yellow -> orange -> dark red: hue falls and lightness falls with the value.
  const double hue = 55.0 * (1.0 - f) / 360.0;
  const double light = 0.92 - 0.55 * f;
  return QColor::fromHslF(float(hue), 0.9f, float(light));
}

OverlayValues latency_overlay(const DisplayGraph& d, const fusion::FusionPlan& plan, const std::vector<double>& block_us) {
  OverlayValues o;
  o.kind = OverlayKind::Latency;
  double total = 0;
  for (double us : block_us) total += us;
  if (total <= 0) return o;
  std::map<NodeId, double> share;
  for (size_t b = 0; b < plan.blocks.size() && b < block_us.size(); ++b)
    for (NodeId id : plan.blocks[b].nodes) share[id] = block_us[b] / total;
  for (const DisplayNode& n : d.nodes) {
    if (n.members.empty()) {
      if (auto it = share.find(n.id); it != share.end()) o.value[n.id] = it->second;
    } else if (auto it = share.find(n.members.front()); it != share.end()) {
      o.value[n.id] = it->second;  // all members share one block, hence one time
    }
  }
  return finish(o);
}

OverlayValues bytes_overlay(const DisplayGraph& d) {
  OverlayValues o;
  o.kind = OverlayKind::Bytes;
  for (const DisplayNode& n : d.nodes) o.value[n.id] = n.cost.bytes;
  return finish(o);
}

OverlayValues flops_overlay(const DisplayGraph& d) {
  OverlayValues o;
  o.kind = OverlayKind::Flops;
  for (const DisplayNode& n : d.nodes) o.value[n.id] = n.cost.flops;
  return finish(o);
}

}  // namespace dnnf::views
