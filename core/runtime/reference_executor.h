// The reference executor: runs a graph node by node with the registry's plain
// reference kernels. It is the numerical oracle every other backend is checked against.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/ir/graph.h"

namespace dnnf {

using TensorMap = std::map<std::string, Tensor>;

struct RunOptions {
  // Called after each top-level node (index, count) for progress reporting.
  std::function<void(size_t, size_t)> on_node;
  // When true, also keep every intermediate value in the returned map.
  bool keep_intermediates = false;
};

class ReferenceExecutor {
 public:
  explicit ReferenceExecutor(const Graph& graph);
  // Checks inputs against the graph's declared types (dtype, rank, static dims) and
  // runs. Returns the graph outputs by name. Throws dnnf::Error on a bad input.
  TensorMap run(const TensorMap& inputs, const RunOptions& options = {}) const;

 private:
  const Graph& graph_;
};

// Runs a (sub)graph with an environment of outer-scope values already bound.
TensorMap run_graph(const Graph& graph, const TensorMap& inputs, const TensorMap* outer_scope,
                    const RunOptions& options);

// Checks inputs against the graph's declared inputs (names, dtype, rank, static dims).
void check_model_inputs(const Graph& graph, const TensorMap& inputs);

// Runs one node of `graph` with the reference kernel; `lookup` gives input values
// (and what the node's subgraphs read from outside). Used by backends for the
// operators they do not generate code for.
std::vector<Tensor> run_node(const Graph& graph, const Node& node,
                             const std::function<const Tensor*(const std::string&)>& lookup);

}  // namespace dnnf
