// The extended computational graph (ECG): nodes with stable ids in topological order,
// named values with inferred types, constants owned by the graph, subgraphs of
// If/Loop/Scan kept as attributes. Values are referred to by name, as in ONNX.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/ir/tensor.h"

namespace dnnf {

// One dimension: a known size, or a symbol ("batch", "seq") / unknown ("").
struct Dim {
  int64_t value = -1;   // >= 0 when known
  std::string symbol;   // name of a symbolic dim when value < 0 (may be empty)
  Dim() = default;
  Dim(int64_t v) : value(v) {}  // NOLINT: implicit from a size is the common case
  static Dim sym(std::string s) { Dim d; d.symbol = std::move(s); return d; }
  bool known() const { return value >= 0; }
  bool operator==(const Dim& o) const { return value == o.value && (known() || symbol == o.symbol); }
  std::string str() const;
};

// Element type plus shape. has_shape=false means the rank is unknown.
struct TensorType {
  DType dtype = DType::Undefined;
  std::vector<Dim> dims;
  bool has_shape = false;

  TensorType() = default;
  TensorType(DType t, const Shape& s);
  TensorType(DType t, std::vector<Dim> d) : dtype(t), dims(std::move(d)), has_shape(true) {}
  static TensorType unknown_shape(DType t) { TensorType r; r.dtype = t; return r; }

  int64_t rank() const { return int64_t(dims.size()); }
  bool is_static() const;                  // shape known and all dims known
  std::optional<Shape> static_shape() const;
  int64_t numel_or(int64_t fallback) const; // element count if static
  std::string str() const;                 // "float32[1,3,N,224]"
  bool operator==(const TensorType& o) const;
};

class Graph;

struct Attribute {
  enum class Kind { Float, Int, String, Tensor, Graph, Floats, Ints, Strings, Tensors, Graphs };
  Kind kind = Kind::Int;
  float f = 0;
  int64_t i = 0;
  std::string s;
  dnnf::Tensor t;
  std::shared_ptr<dnnf::Graph> g;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<dnnf::Tensor> tensors;
  std::vector<std::shared_ptr<dnnf::Graph>> graphs;

  static Attribute from_int(int64_t v);
  static Attribute from_float(float v);
  static Attribute from_string(std::string v);
  static Attribute from_ints(std::vector<int64_t> v);
  static Attribute from_floats(std::vector<float> v);
  static Attribute from_tensor(dnnf::Tensor v);
  static Attribute from_graph(std::shared_ptr<dnnf::Graph> v);
};

using NodeId = int64_t;

struct Node {
  NodeId id = -1;
  std::string op_type;
  std::string domain;                    // "" = ai.onnx
  std::string name;
  std::vector<std::string> inputs;       // "" marks an omitted optional input
  std::vector<std::string> outputs;      // "" marks an omitted optional output
  std::map<std::string, Attribute> attrs;

  bool has_attr(const std::string& k) const { return attrs.count(k) != 0; }
  int64_t attr_int(const std::string& k, int64_t def) const;
  float attr_float(const std::string& k, float def) const;
  std::string attr_string(const std::string& k, const std::string& def) const;
  std::vector<int64_t> attr_ints(const std::string& k, const std::vector<int64_t>& def = {}) const;
  std::vector<float> attr_floats(const std::string& k, const std::vector<float>& def = {}) const;
  const Attribute* attr(const std::string& k) const;
  // Input i if present and non-empty.
  bool has_input(size_t i) const { return i < inputs.size() && !inputs[i].empty(); }
  std::string label() const;  // "Conv 'conv1' (#12)" for messages
};

struct ValueInfo {
  std::string name;
  TensorType type;
};

class Graph {
 public:
  std::string name;
  std::vector<ValueInfo> inputs;    // runtime inputs only (constants live in initializers)
  std::vector<ValueInfo> outputs;
  std::map<std::string, Tensor> initializers;   // named constants
  std::map<std::string, TensorType> value_types; // inferred type of every value
  std::vector<Node> nodes;          // kept in topological order (see topo_sort)
  std::map<std::string, int64_t> opsets;         // domain -> version, "" = ai.onnx
  std::map<std::string, std::string> doc;        // free-form notes (import warnings)

  // Appends a node with a fresh id; returns a reference valid until the next insert.
  Node& add_node(Node node);
  NodeId next_node_id() const { return next_id_; }
  void reserve_ids_past(NodeId id) { if (id >= next_id_) next_id_ = id + 1; }

  int64_t opset(const std::string& domain = "") const;
  bool is_constant(const std::string& value) const { return initializers.count(value) != 0; }
  bool is_graph_input(const std::string& value) const;
  bool is_graph_output(const std::string& value) const;

  // Producer node index of a value (-1 for inputs/constants/unknown).
  int64_t producer_index(const std::string& value) const;
  const Node* find_node(NodeId id) const;
  Node* find_node(NodeId id);
  std::vector<size_t> consumer_indices(const std::string& value) const;

  // Re-orders nodes topologically (stable: keeps the current order where legal).
  // Throws dnnf::Error naming a node on a cycle, or an undefined input.
  // `outer_scope` lists names visible from an enclosing graph (for subgraphs).
  void topo_sort(const std::vector<std::string>& outer_scope = {});
  // Structural checks: unique value producers, defined inputs, acyclic. Throws.
  void validate(const std::vector<std::string>& outer_scope = {}) const;

  // Type of a value if known (inputs, initializers, inferred).
  const TensorType* type_of(const std::string& value) const;
  // Types of several values; unknown or omitted ("") ones are an empty TensorType.
  std::vector<TensorType> types_of(const std::vector<std::string>& values) const;

  // Removes nodes whose outputs reach no graph output (and unused initializers).
  size_t remove_dead_nodes();
  // A fresh value name with the given prefix that does not occur in the graph.
  std::string fresh_name(const std::string& prefix);

 private:
  NodeId next_id_ = 0;
  int64_t name_counter_ = 0;
};

struct Model {
  int64_t ir_version = 8;
  std::string producer_name;
  std::string producer_version;
  std::string domain;
  int64_t model_version = 0;
  std::map<std::string, std::string> metadata;
  Graph graph;
  // ONNX local functions (kept opaque here; the importer inlines calls it can).
  std::string source_path;  // file it was loaded from, for messages
};

// Every value a node reads: its inputs plus what its subgraphs read from outside.
std::vector<std::string> node_reads(const Node& node);
// Only what a node's subgraphs read from outside them.
std::vector<std::string> subgraph_reads(const Node& node);

// Number of nodes including those inside subgraphs.
size_t count_nodes_recursive(const Graph& g);

}  // namespace dnnf
