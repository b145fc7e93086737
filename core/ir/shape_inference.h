// Shape and type inference over a whole graph with dnnf's own per-op shape functions.
// Small integer tensors computed from constants (shape subgraphs) are evaluated on the
// way, so Reshape/Expand targets built by Shape->Gather->Concat chains become static.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <vector>
#include <string>

#include "core/ir/graph.h"

namespace dnnf {

struct InferOptions {
  // Symbolic input dims are kept symbolic unless bound here (name -> size).
  std::map<std::string, int64_t> bind_dims;
  // Values with at most this many elements are partially evaluated when all their
  // inputs are known, to resolve shape computations.
  int64_t max_fold_elements = 4096;
};

// Infers one node's output types from its inputs' types and known values (used by
// the rewriter to type nodes it creates). Throws like infer_shapes.
std::vector<TensorType> infer_node_types(
    const Graph& graph, const Node& node,
    const std::function<const TensorType*(const std::string&)>& type_of,
    const std::function<const Tensor*(const std::string&)>& value_of);

// Value of a Shape or Size node when its input's (static enough) type determines it.
std::optional<Tensor> shape_op_value(const Node& node, const TensorType& input);

// Fills graph.value_types for every value (recursing into subgraphs). Throws
// dnnf::Error naming the node on an unknown op or inconsistent shapes.
void infer_shapes(Graph& graph, const InferOptions& options = {});

}  // namespace dnnf
