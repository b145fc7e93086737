#include "views/layout/layered_layout.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <unordered_map>

namespace dnnf::views {

namespace {

constexpr double kNodeGap = 18;   // points between boxes of one rank (dot's nodesep 0.25in)
constexpr double kRankGap = 32;   // points between ranks (dot's ranksep 0.45in)
constexpr double kClusterMargin = 10;
constexpr int kSweeps = 4;        // down+up pairs; more barely changes the picture

struct Layered {
  std::vector<std::vector<size_t>> preds, succs;
  std::vector<size_t> topo;
  std::vector<int> rank;
};

// Topological order (Kahn); nodes on a cycle, which a valid graph never has, go last.
std::vector<size_t> topological_order(const Layered& l) {
  const size_t n = l.preds.size();
  std::vector<size_t> indegree(n), order;
  for (size_t v = 0; v < n; ++v) indegree[v] = l.preds[v].size();
  for (size_t v = 0; v < n; ++v)
    if (!indegree[v]) order.push_back(v);
  for (size_t i = 0; i < order.size(); ++i)
    for (size_t s : l.succs[order[i]])
      if (--indegree[s] == 0) order.push_back(s);
  std::vector<bool> placed(n);
  for (size_t v : order) placed[v] = true;
  for (size_t v = 0; v < n; ++v)
    if (!placed[v]) order.push_back(v);
  return order;
}

// Longest path from the sources, then sources (weights, shape computations) are pulled
// down next to their first consumer so they do not all sit in rank 0.
std::vector<int> ranks(const Layered& l) {
  std::vector<int> rank(l.preds.size(), 0);
  for (size_t v : l.topo)
    for (size_t p : l.preds[v]) rank[v] = std::max(rank[v], rank[p] + 1);
  for (auto it = l.topo.rbegin(); it != l.topo.rend(); ++it) {
    const size_t v = *it;
    if (!l.preds[v].empty() || l.succs[v].empty()) continue;
    int lowest = std::numeric_limits<int>::max();
    for (size_t s : l.succs[v]) lowest = std::min(lowest, rank[s]);
    rank[v] = std::max(rank[v], lowest - 1);
  }
  return rank;
}

// Places one rank: sorted by wanted x, pushed apart to not overlap, then shifted so
// the boxes sit, on average, where they want to be.
void place_rank(const std::vector<size_t>& members, const std::vector<double>& wanted, const std::vector<double>& width,
                std::vector<double>& x, std::vector<size_t>& order) {
  order = members;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return wanted[a] < wanted[b]; });
  double shift = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    const size_t v = order[i];
    x[v] = wanted[v];
    if (i > 0) {
      const size_t u = order[i - 1];
      x[v] = std::max(x[v], x[u] + (width[u] + width[v]) / 2 + kNodeGap);
    }
    shift += wanted[v] - x[v];
  }
  if (order.empty()) return;
  shift /= double(order.size());
  for (size_t v : order) x[v] += shift;
}

}  // namespace

LayoutResult layered_layout(const LayoutInput& input) {
  const size_t n = input.nodes.size();
  std::unordered_map<int64_t, size_t> index;
  for (size_t i = 0; i < n; ++i) index.emplace(input.nodes[i].id, i);
  Layered l;
  l.preds.resize(n);
  l.succs.resize(n);
  for (const auto& e : input.edges) {
    auto a = index.find(e.from), b = index.find(e.to);
    if (a == index.end() || b == index.end() || a->second == b->second) continue;
    l.succs[a->second].push_back(b->second);
    l.preds[b->second].push_back(a->second);
  }
  l.topo = topological_order(l);
  l.rank = ranks(l);
  const int rank_count = n ? *std::max_element(l.rank.begin(), l.rank.end()) + 1 : 0;
  std::vector<std::vector<size_t>> by_rank(static_cast<size_t>(rank_count));
  for (size_t v : l.topo) by_rank[size_t(l.rank[v])].push_back(v);  // topological order first

  std::vector<double> width(n), x(n, 0), wanted(n, 0);
  for (size_t i = 0; i < n; ++i) width[i] = input.nodes[i].width;
  for (auto& members : by_rank) {  // initial: packed left to right, centred on 0
    double total = 0;
    for (size_t v : members) total += width[v] + kNodeGap;
    double at = -total / 2;
    for (size_t v : members) {
      x[v] = at + width[v] / 2;
      at += width[v] + kNodeGap;
    }
  }
  auto mean_x = [&](const std::vector<size_t>& neighbours, size_t v) {
    if (neighbours.empty()) return x[v];
    double sum = 0;
    for (size_t u : neighbours) sum += x[u];
    return sum / double(neighbours.size());
  };
  std::vector<size_t> order;
  for (int sweep = 0; sweep < 2 * kSweeps + 1; ++sweep) {
    const bool down = sweep % 2 == 0;  // the last sweep is downwards: consumers under producers
    for (int k = 0; k < rank_count; ++k) {
      auto& members = by_rank[size_t(down ? k : rank_count - 1 - k)];
      for (size_t v : members) wanted[v] = mean_x(down ? l.preds[v] : l.succs[v], v);
      place_rank(members, wanted, width, x, order);
      members = order;
    }
  }

  LayoutResult r;
  std::vector<double> y(n);
  double top = 0;
  for (const auto& members : by_rank) {
    double h = 0;
    for (size_t v : members) h = std::max(h, input.nodes[v].height);
    for (size_t v : members) y[v] = top + h / 2;
    top += h + kRankGap;
  }
  double left = std::numeric_limits<double>::max(), right = std::numeric_limits<double>::lowest();
  for (size_t i = 0; i < n; ++i) {
    left = std::min(left, x[i] - width[i] / 2);
    right = std::max(right, x[i] + width[i] / 2);
  }
  if (!n) left = right = 0;
  // Shift so the drawing starts at x = kNodeGap, like Graphviz's bounding box.
  for (size_t i = 0; i < n; ++i) {
    x[i] += kNodeGap - left;
    r.centres[input.nodes[i].id] = {x[i], y[i]};
  }
  r.bounds = {0, 0, right - left + 2 * kNodeGap, std::max(0.0, top - kRankGap) + kNodeGap};
  for (const auto& e : input.edges) {
    auto a = index.find(e.from), b = index.find(e.to);
    if (a == index.end() || b == index.end() || a->second == b->second) {
      r.splines.emplace_back();
      continue;
    }
    const size_t u = a->second, v = b->second;
    const LayoutPoint p0{x[u], y[u] + input.nodes[u].height / 2}, p1{x[v], y[v] - input.nodes[v].height / 2};
    // A straight cubic (control points on the line), the shape the edge item expects.
    auto lerp = [&](double t) { return LayoutPoint{p0.x + (p1.x - p0.x) * t, p0.y + (p1.y - p0.y) * t}; };
    r.splines.push_back({p0, lerp(1.0 / 3), lerp(2.0 / 3), p1});
  }
  for (const auto& c : input.clusters) {
    double x0 = std::numeric_limits<double>::max(), y0 = x0, x1 = std::numeric_limits<double>::lowest(), y1 = x1;
    for (int64_t m : c.members) {
      auto it = index.find(m);
      if (it == index.end()) continue;
      const size_t v = it->second;
      x0 = std::min(x0, x[v] - width[v] / 2);
      x1 = std::max(x1, x[v] + width[v] / 2);
      y0 = std::min(y0, y[v] - input.nodes[v].height / 2);
      y1 = std::max(y1, y[v] + input.nodes[v].height / 2);
    }
    if (x0 <= x1)
      r.clusters[c.id] = {x0 - kClusterMargin, y0 - kClusterMargin, x1 - x0 + 2 * kClusterMargin, y1 - y0 + 2 * kClusterMargin};
  }
  return r;
}

LayoutResult layout_for_display(const LayoutInput& input) {
  return input.nodes.size() > kLayeredLayoutAbove ? layered_layout(input) : layout_graph(input);
}

}  // namespace dnnf::views
