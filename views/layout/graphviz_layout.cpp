#include "views/layout/graphviz_layout.h"

#include <gvc.h>

#include <mutex>

#include "core/util/error.h"

namespace dnnf::views {

namespace {

std::mutex& graphviz_mutex() {
  static std::mutex m;
  return m;
}

GVC_t* context() {
  static GVC_t* gvc = gvContext();  // lives for the process; Graphviz keeps plugin state here
  return gvc;
}

void set(void* obj, const char* key, const std::string& value) {
  agsafeset(obj, const_cast<char*>(key), const_cast<char*>(value.c_str()), const_cast<char*>(""));
}

std::string inches(double points) { return std::to_string(points / 72.0); }

}  // namespace

LayoutResult layout_graph(const LayoutInput& input) {
  std::lock_guard<std::mutex> lock(graphviz_mutex());
  Agraph_t* g = agopen(const_cast<char*>("dnnf"), Agdirected, nullptr);
  check(g != nullptr, "graphviz: cannot create a graph");
  set(g, "rankdir", "TB");
  set(g, "nodesep", "0.25");
  set(g, "ranksep", "0.45");
  if (input.nodes.size() > 1000) {
    // Big graphs: straight edges and bounded crossing minimisation keep dot to seconds.
    set(g, "splines", "line");
    set(g, "mclimit", "0.3");
    set(g, "nslimit", "2");
    set(g, "nslimit1", "2");
  }
  std::map<int64_t, Agnode_t*> nodes;
  for (const auto& n : input.nodes) {
    const std::string name = "n" + std::to_string(n.id);
    Agnode_t* an = agnode(g, const_cast<char*>(name.c_str()), 1);
    set(an, "shape", "box");
    set(an, "fixedsize", "true");
    set(an, "label", "");
    set(an, "width", inches(n.width));
    set(an, "height", inches(n.height));
    nodes[n.id] = an;
  }
  for (const auto& c : input.clusters) {
    const std::string name = "cluster_" + std::to_string(c.id);
    Agraph_t* sub = agsubg(g, const_cast<char*>(name.c_str()), 1);
    set(sub, "margin", "10");
    for (int64_t m : c.members)
      if (auto it = nodes.find(m); it != nodes.end()) agsubnode(sub, it->second, 1);
  }
  std::vector<Agedge_t*> edges;
  for (const auto& e : input.edges) {
    auto a = nodes.find(e.from), b = nodes.find(e.to);
    edges.push_back(a == nodes.end() || b == nodes.end() ? nullptr : agedge(g, a->second, b->second, nullptr, 1));
  }
  if (gvLayout(context(), g, "dot") != 0) {
    agclose(g);
    fail("graphviz: dot layout failed");
  }

  LayoutResult r;
  const boxf bb = GD_bb(g);
  const double top = bb.UR.y;  // Graphviz has y up; flip around the top edge
  auto flip = [top](pointf p) { return LayoutPoint{p.x, top - p.y}; };
  r.bounds = {bb.LL.x, 0, bb.UR.x - bb.LL.x, bb.UR.y - bb.LL.y};
  for (const auto& [id, an] : nodes) r.centres[id] = flip(ND_coord(an));
  for (Agedge_t* e : edges) {
    std::vector<LayoutPoint> pts;
    if (e && ED_spl(e) && ED_spl(e)->size > 0) {
      const bezier& bz = ED_spl(e)->list[0];
      for (size_t i = 0; i < bz.size; ++i) pts.push_back(flip(bz.list[i]));
      if (bz.eflag) pts.push_back(flip(bz.ep));
    }
    r.splines.push_back(std::move(pts));
  }
  for (const auto& c : input.clusters) {
    const std::string name = "cluster_" + std::to_string(c.id);
    if (Agraph_t* sub = agsubg(g, const_cast<char*>(name.c_str()), 0)) {
      const boxf cb = GD_bb(sub);
      r.clusters[c.id] = {cb.LL.x, top - cb.UR.y, cb.UR.x - cb.LL.x, cb.UR.y - cb.LL.y};
    }
  }
  gvFreeLayout(context(), g);
  agclose(g);
  return r;
}

}  // namespace dnnf::views
