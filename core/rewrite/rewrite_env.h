// A read-only view of a graph for rule matching: producers, consumers, use counts,
// constant values and types. Built once per rewrite sweep; the driver then keeps it up
// to date as it edits the graph (forget_node / renumber / index_node), because
// rebuilding it after every applied rewrite made a sweep quadratic in the graph size.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ir/op_registry.h"

namespace dnnf::rewrite {

class RewriteEnv {
 public:
  explicit RewriteEnv(const Graph& graph);

  const Graph& graph() const { return graph_; }
  const Node* producer(const std::string& value) const;
  // Distinct nodes that read a value (inputs or subgraphs), in graph order.
  const std::vector<const Node*>& consumers(const std::string& value) const;
  // Readers of a value: consuming nodes plus one if it is a graph output.
  size_t uses(const std::string& value) const;
  bool is_graph_output(const std::string& value) const { return outputs_.count(value) != 0; }
  // Known value: an initializer or the output of a Constant node.
  const Tensor* constant(const std::string& value) const;
  const TensorType* type(const std::string& value) const { return graph_.type_of(value); }
  std::optional<Shape> shape(const std::string& value) const;
  const MathProps* props(const Node& node) const;

  // ---- for the driver --------------------------------------------------------------
  // The node with this id (the first one, as Graph::find_node), or nullptr.
  const Node* node(NodeId id) const;
  // Position of a node in graph().nodes; the node must be in the graph.
  size_t index_of(NodeId id) const;
  // True if some node output, graph input or initializer has this name.
  bool defines(const std::string& value) const;
  // Reads of a value counted with repeats (a node reading it twice counts twice) plus
  // one per graph output of that name.
  int64_t read_count(const std::string& value) const;
  // True if some node's subgraph reads the value from the outer scope.
  bool read_in_subgraph(const std::string& value) const;

  // Keeping the view current while the graph changes. The graph's node order may only
  // change by removing nodes and appending new ones (as the driver does) between a
  // rebuild and the next: consumer lists stay in graph order without re-sorting.
  void forget_node(const Node& n);  // before `n` is edited or removed
  void renumber();                  // after nodes were removed from or appended to graph().nodes
  void index_node(const Node& n);   // after `n` was edited or appended (and renumbered)
  void rebuild();                   // from scratch, after any other change
  // True if this view says what a view built from scratch says (a check for tests).
  bool same_as(const RewriteEnv& fresh) const;

 private:
  size_t position(NodeId id) const { return size_t(position_[size_t(id)]); }
  void invalidate_consumer_cache() const;

  const Graph& graph_;
  std::vector<int64_t> position_;                            // node id -> index, -1 = absent
  std::unordered_map<std::string, NodeId> producer_;
  std::unordered_map<std::string, std::vector<NodeId>> readers_;  // in graph order
  std::unordered_map<std::string, int64_t> subgraph_readers_;
  std::unordered_map<std::string, Tensor> constant_nodes_;
  std::unordered_map<std::string, bool> outputs_;
  // consumers() hands out references; they are built on demand and stay valid until the
  // view next changes (rules only ask during one match).
  mutable std::unordered_map<std::string, std::vector<const Node*>> consumer_cache_;
};

// True if `t` holds the same value `v` in every element (a splat constant).
bool is_splat(const Tensor& t, double v);
std::optional<double> splat_value(const Tensor& t);

}  // namespace dnnf::rewrite
