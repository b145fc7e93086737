// Graphviz "dot" layout as a pure function: node boxes, edges and clusters in, node
// centres, edge splines and cluster boxes out, in points with y growing downwards
// (Qt's convention). Graphviz is not thread-safe: calls are serialised internally.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dnnf::views {

struct LayoutPoint {
  double x = 0, y = 0;
};
struct LayoutRect {
  double x = 0, y = 0, w = 0, h = 0;
};

struct LayoutInput {
  struct Node {
    int64_t id;
    double width, height;  // points
  };
  struct Edge {
    int64_t from, to;
  };
  struct Cluster {
    int id;
    std::vector<int64_t> members;
  };
  std::vector<Node> nodes;
  std::vector<Edge> edges;
  std::vector<Cluster> clusters;
};

struct LayoutResult {
  std::map<int64_t, LayoutPoint> centres;
  // Per input edge (same order): a cubic Bézier poly-curve p0 c1 c2 p1 c1 c2 p2 ...,
  // then, when Graphviz drew an arrowhead, its tip as one extra point. Empty: no spline.
  // One cubic Bézier poly-curve per input edge (same order): p0, c1, c2, p1, c1, c2, p2...
  // Empty when Graphviz drew no spline for it.
  std::vector<std::vector<LayoutPoint>> splines;
  std::map<int, LayoutRect> clusters;
  LayoutRect bounds;
};

// Throws dnnf::Error if Graphviz fails.
LayoutResult layout_graph(const LayoutInput& input);

}  // namespace dnnf::views
