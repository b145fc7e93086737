#include "views/graph/display_graph.h"

#include <functional>

namespace dnnf::views {

namespace {
void mix(uint64_t& h, uint64_t v) { h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); }
}  // namespace

uint64_t DisplayGraph::layout_key() const {
  uint64_t h = 1469598103934665603ull;
  for (const DisplayNode& n : nodes) {
    mix(h, uint64_t(n.id));
    mix(h, std::hash<std::string>()(n.op));
  }
  for (const DisplayEdge& e : edges) {
    mix(h, uint64_t(e.from));
    mix(h, uint64_t(e.to));
  }
  for (const DisplayCluster& c : clusters) {
    mix(h, uint64_t(c.block) + 77);
    for (NodeId m : c.members) mix(h, uint64_t(m));
  }
  return h;
}

const DisplayNode* DisplayGraph::find(NodeId id) const {
  for (const DisplayNode& n : nodes)
    if (n.id == id) return &n;
  return nullptr;
}

DisplayGraph make_display_graph(const Graph& graph, const std::map<int, std::vector<NodeId>>& blocks,
                                const std::set<int>& collapsed) {
  const OpRegistry& reg = OpRegistry::instance();
  std::map<NodeId, int> block_of;
  for (const auto& [b, members] : blocks)
    for (NodeId m : members) block_of[m] = b;
  // Every operator maps to the display node that stands for it.
  auto shown_as = [&](NodeId id) {
    auto it = block_of.find(id);
    return it != block_of.end() && collapsed.count(it->second) ? collapsed_block_id(it->second) : id;
  };

  DisplayGraph d;
  std::map<int, size_t> collapsed_index;
  std::map<std::string, NodeId> producer;
  for (const Node& n : graph.nodes) {
    for (const std::string& out : n.outputs)
      if (!out.empty()) producer[out] = n.id;
    const std::vector<TensorType> in = graph.types_of(n.inputs), out = graph.types_of(n.outputs);
    MappingType type = MappingType::OneToOne;
    OpCost cost;
    try {  // an operator the registry cannot price still gets drawn
      if (reg.find_any(n.domain, n.op_type)) {
        type = reg.mapping_of(n, in, out);
        cost = reg.cost_of(n, in, out);
      }
    } catch (const std::exception&) {
    }
    const NodeId shown = shown_as(n.id);
    if (shown != n.id) {
      const int b = block_of.at(n.id);
      auto [it, fresh] = collapsed_index.emplace(b, d.nodes.size());
      if (fresh) {
        DisplayNode bn;
        bn.id = shown;
        bn.op = "block " + std::to_string(b);
        bn.type = type;
        bn.block = b;
        d.nodes.push_back(bn);
      }
      DisplayNode& bn = d.nodes[it->second];
      bn.members.push_back(n.id);
      bn.type = std::max(bn.type, type);  // the block's type is its most impeding member's
      bn.cost.flops += cost.flops;
      bn.cost.bytes += cost.bytes;
      bn.name = std::to_string(bn.members.size()) + " ops";
      continue;
    }
    DisplayNode dn;
    dn.id = n.id;
    dn.op = n.op_type;
    dn.name = n.name;
    dn.type = type;
    dn.cost = cost;
    auto bit = block_of.find(n.id);
    dn.block = bit == block_of.end() ? -1 : bit->second;
    d.nodes.push_back(dn);
  }
  std::set<std::pair<NodeId, NodeId>> seen;
  for (const Node& n : graph.nodes) {
    const NodeId to = shown_as(n.id);
    for (const std::string& in : node_reads(n)) {
      auto p = producer.find(in);
      if (p == producer.end()) continue;  // graph input or constant
      const NodeId from = shown_as(p->second);
      if (from == to || !seen.insert({from, to}).second) continue;
      const TensorType* t = graph.type_of(in);
      d.edges.push_back({from, to, t ? t->str() : std::string()});
    }
  }
  for (const auto& [b, members] : blocks)
    if (!collapsed.count(b)) d.clusters.push_back({b, members});
  return d;
}

}  // namespace dnnf::views
