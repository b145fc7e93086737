// The fusion plan: which operators run together as one generated kernel.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ir/op_registry.h"

namespace dnnf::fusion {

struct FusedBlock {
  int id = 0;
  std::vector<NodeId> nodes;          // in graph (topological) order
  MappingType type = MappingType::OneToOne;
  NodeId seed = -1;                   // -1 for blocks left as single operators
  std::vector<std::string> inputs;    // values the block reads from outside
  std::vector<std::string> outputs;   // values other blocks or the graph read
};

struct FusionPlan {
  std::string target;
  std::vector<FusedBlock> blocks;     // topological order of blocks
  std::map<NodeId, int> block_of;
  int64_t intermediate_bytes_before = 0;  // bytes of values written between operators
  int64_t intermediate_bytes_after = 0;   // bytes of values written between blocks
  size_t fused_layers() const { return blocks.size(); }
  nlohmann::json to_json(const Graph& graph) const;
};

// Per-target limits the planner respects (registers / shared memory, in the paper's words).
struct TargetLimits {
  size_t max_block_nodes = 48;
  size_t max_block_inputs = 16;
  size_t max_block_outputs = 3;
};

// Nodes whose values are known before any input arrives (Constant nodes and operators
// reading only constants, except random ones): a runtime computes them once at load,
// so they are never part of a block or counted as kernels. Indexed like graph.nodes.
std::vector<bool> load_time_nodes(const Graph& graph);

// Computes inputs/outputs of every block and the intermediate byte counts.
void finish_plan(const Graph& graph, FusionPlan& plan);

}  // namespace dnnf::fusion
