// What the graph view draws for one graph state, before layout: operators (or a
// collapsed fused block standing in for its members), tensor edges labelled with
// shapes, and the fused blocks as clusters. Plain data, no Qt, so it is cheap to build
// on every step and easy to test.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/ir/op_registry.h"

namespace dnnf::views {

// Display id of a collapsed block (negative, never a real NodeId).
inline NodeId collapsed_block_id(int block) { return -1000 - NodeId(block); }

struct DisplayNode {
  NodeId id = -1;                 // node id, or collapsed_block_id(block)
  std::string op;                 // op type, or "block N"
  std::string name;
  MappingType type = MappingType::OneToOne;
  int block = -1;                 // fused block it belongs to (-1: none)
  std::vector<NodeId> members;    // collapsed block: the operators inside
  OpCost cost;                    // summed over members for a collapsed block
};

struct DisplayEdge {
  NodeId from = -1, to = -1;
  std::string label;              // "float32[1,128,64]"
};

struct DisplayCluster {
  int block = -1;
  std::vector<NodeId> members;
};

struct DisplayGraph {
  std::vector<DisplayNode> nodes;
  std::vector<DisplayEdge> edges;
  std::vector<DisplayCluster> clusters;  // expanded multi-node blocks only
  // Identity of the drawing (nodes, edges, clusters): the layout cache key.
  uint64_t layout_key() const;
  const DisplayNode* find(NodeId id) const;
};

// `blocks`: multi-node fused blocks at this state; `collapsed`: blocks shown as one node.
DisplayGraph make_display_graph(const Graph& graph, const std::map<int, std::vector<NodeId>>& blocks,
                                const std::set<int>& collapsed);

}  // namespace dnnf::views
