// The operator registry: one row (OpInfo) per ONNX operator, holding everything the
// engine knows about it: opset range, DNNFusion mapping type, algebraic properties,
// shape function, reference kernel and cost. Rows are registered per operator family
// in core/ops/*.cpp and listed in one place, core/ops/op_table.cpp.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/ir/graph.h"

namespace dnnf {

// DNNFusion's five mapping types (paper Table 2), ordered by transformation
// impedance as the paper's footnote ranks them.
enum class MappingType : uint8_t { OneToOne, Reorganize, Shuffle, OneToMany, ManyToMany };
const char* mapping_type_name(MappingType m);  // "One-to-One", ...
std::optional<MappingType> mapping_type_from_name(const std::string& s);

struct MathProps {
  bool associative = false;
  bool commutative = false;
  std::vector<std::string> distributes_over;  // e.g. Mul distributes over {Add, Sub}
  std::optional<double> identity;             // x op e == x (Add 0, Mul 1)
  std::optional<double> absorbing;            // x op z == z (Mul 0)
};

struct OpCost {
  double flops = 0;   // arithmetic operations
  double bytes = 0;   // bytes read + written
};

// What a shape function sees of a node.
struct InferContext {
  const Node& node;
  const Graph& graph;
  int64_t opset = 0;
  std::vector<TensorType> inputs;           // one per node input; Undefined for omitted
  std::vector<const Tensor*> input_values;  // known values (constants, folded shapes) or nullptr

  size_t num_inputs() const { return inputs.size(); }
  bool has_input(size_t i) const { return i < inputs.size() && inputs[i].dtype != DType::Undefined; }
  const TensorType& in(size_t i) const { return inputs.at(i); }
  const Tensor* value(size_t i) const { return i < input_values.size() ? input_values[i] : nullptr; }
  size_t num_outputs() const { return node.outputs.size(); }
};

// What a reference kernel sees of a node at run time.
struct KernelContext {
  const Node& node;
  int64_t opset = 0;
  std::vector<const Tensor*> inputs;  // nullptr for omitted optional inputs
  // Runs a subgraph attribute (If/Loop/Scan) with the given inputs; the enclosing
  // scope's values stay visible inside. Set by the executor.
  std::function<std::vector<Tensor>(const Graph&, const std::vector<Tensor>&)> run_subgraph;

  size_t num_inputs() const { return inputs.size(); }
  bool has_input(size_t i) const { return i < inputs.size() && inputs[i] != nullptr; }
  const Tensor& in(size_t i) const;  // throws dnnf::Error if missing
  size_t num_outputs() const { return node.outputs.size(); }
};

using ShapeFn = std::function<std::vector<TensorType>(const InferContext&)>;
using RefKernel = std::function<std::vector<Tensor>(KernelContext&)>;
using MappingFn = std::function<MappingType(const Node&, const std::vector<TensorType>& in,
                                            const std::vector<TensorType>& out)>;
using CostFn = std::function<OpCost(const Node&, const std::vector<TensorType>& in,
                                    const std::vector<TensorType>& out)>;

struct OpInfo {
  std::string name;
  std::string domain;        // "" = ai.onnx
  int since = 1;             // first opset this row serves
  int until = 1000;          // last opset this row serves
  std::string family;        // "elementwise", "conv", ... (for listings)
  MappingType mapping = MappingType::OneToOne;
  MappingFn mapping_fn;      // optional: attribute/shape-dependent mapping type
  MathProps props;
  ShapeFn shape;             // required
  RefKernel kernel;          // required
  CostFn cost;               // optional: default is one op per output element
  std::string summary;       // one line, for `dnnf ops`
};

class OpRegistry {
 public:
  static const OpRegistry& instance();  // built once from core/ops/op_table.cpp

  void add(OpInfo info);  // throws on a duplicate (name, domain, overlapping opsets)
  const OpInfo* find(const std::string& domain, const std::string& name, int64_t opset) const;
  const OpInfo* find_any(const std::string& domain, const std::string& name) const;
  // Finds the row for a node in a graph (uses the graph's opset for the node's domain).
  const OpInfo& lookup(const Node& node, const Graph& graph) const;  // throws "unknown op"
  const std::vector<OpInfo>& all() const { return rows_; }

  // Mapping type of a concrete node (uses mapping_fn when present).
  MappingType mapping_of(const Node& node, const std::vector<TensorType>& in,
                         const std::vector<TensorType>& out) const;
  OpCost cost_of(const Node& node, const std::vector<TensorType>& in,
                 const std::vector<TensorType>& out) const;

 private:
  std::vector<OpInfo> rows_;
  std::multimap<std::string, size_t> index_;  // "domain::name" -> row
};

// Operators whose outputs differ run to run: never folded, merged or evaluated early.
bool is_random_op(const std::string& op_type);

// Default cost: flops = output elements, bytes = inputs + outputs (static shapes).
OpCost default_cost(const Node& node, const std::vector<TensorType>& in,
                    const std::vector<TensorType>& out);

}  // namespace dnnf
