#include "views/graph/neighbourhood.h"

namespace dnnf::views {

DisplayGraph neighbourhood(const DisplayGraph& graph, const std::set<NodeId>& focus, size_t max_nodes,
                           const std::set<NodeId>& also) {
  std::set<NodeId> present;
  for (const DisplayNode& n : graph.nodes) present.insert(n.id);
  std::set<NodeId> keep;
  for (NodeId id : focus)
    if (present.count(id) && keep.size() < max_nodes) keep.insert(id);
  const std::set<NodeId> core = keep;
  for (NodeId id : also)
    if (present.count(id) && keep.size() < max_nodes) keep.insert(id);
  for (const DisplayEdge& e : graph.edges) {
    if (keep.size() >= max_nodes) break;
    if (core.count(e.from)) keep.insert(e.to);
    if (core.count(e.to)) keep.insert(e.from);
  }
  DisplayGraph out;
  for (const DisplayNode& n : graph.nodes)
    if (keep.count(n.id)) out.nodes.push_back(n);
  for (const DisplayEdge& e : graph.edges)
    if (keep.count(e.from) && keep.count(e.to)) out.edges.push_back(e);
  for (const DisplayCluster& c : graph.clusters) {
    DisplayCluster cut{c.block, {}};
    for (NodeId m : c.members)
      if (keep.count(m)) cut.members.push_back(m);
    if (!cut.members.empty()) out.clusters.push_back(std::move(cut));
  }
  return out;
}

}  // namespace dnnf::views
