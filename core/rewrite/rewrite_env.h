// A read-only view of a graph for rule matching: producers, consumers, use counts,
// constant values and types, built once per rewrite sweep.
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
  const std::vector<const Node*>& consumers(const std::string& value) const;
  // Readers of a value: consuming nodes plus one if it is a graph output.
  size_t uses(const std::string& value) const;
  bool is_graph_output(const std::string& value) const { return outputs_.count(value) != 0; }
  // Known value: an initializer or the output of a Constant node.
  const Tensor* constant(const std::string& value) const;
  const TensorType* type(const std::string& value) const { return graph_.type_of(value); }
  std::optional<Shape> shape(const std::string& value) const;
  const MathProps* props(const Node& node) const;

 private:
  const Graph& graph_;
  std::unordered_map<std::string, const Node*> producer_;
  std::unordered_map<std::string, std::vector<const Node*>> consumers_;
  std::unordered_map<std::string, Tensor> constant_nodes_;
  std::unordered_map<std::string, bool> outputs_;
};

// True if `t` holds the same value `v` in every element (a splat constant).
bool is_splat(const Tensor& t, double v);
std::optional<double> splat_value(const Tensor& t);

}  // namespace dnnf::rewrite
