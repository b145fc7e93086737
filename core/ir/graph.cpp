#include "core/ir/graph.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "core/util/error.h"

namespace dnnf {

std::string Dim::str() const {
  if (known()) return std::to_string(value);
  return symbol.empty() ? "?" : symbol;
}

TensorType::TensorType(DType t, const Shape& s) : dtype(t), has_shape(true) {
  dims.reserve(s.size());
  for (int64_t d : s) dims.emplace_back(d);
}

bool TensorType::is_static() const {
  if (!has_shape) return false;
  for (const Dim& d : dims)
    if (!d.known()) return false;
  return true;
}

std::optional<Shape> TensorType::static_shape() const {
  if (!is_static()) return std::nullopt;
  Shape s;
  s.reserve(dims.size());
  for (const Dim& d : dims) s.push_back(d.value);
  return s;
}

int64_t TensorType::numel_or(int64_t fallback) const {
  if (!is_static()) return fallback;
  // Saturates instead of overflowing: absurd shapes then fail the tensor-elements limit.
  int64_t n = 1;
  bool saturated = false;
  for (const Dim& d : dims) {
    if (d.value <= 0) return d.value == 0 ? 0 : fallback;
    if (saturated || __builtin_mul_overflow(n, d.value, &n)) saturated = true;
  }
  return saturated ? INT64_MAX : n;
}

std::string TensorType::str() const {
  std::ostringstream os;
  os << dtype_name(dtype);
  if (!has_shape) return os.str() + "[...]";
  os << '[';
  for (size_t i = 0; i < dims.size(); ++i) os << (i ? "," : "") << dims[i].str();
  os << ']';
  return os.str();
}

bool TensorType::operator==(const TensorType& o) const {
  return dtype == o.dtype && has_shape == o.has_shape && dims == o.dims;
}

Attribute Attribute::from_int(int64_t v) { Attribute a; a.kind = Kind::Int; a.i = v; return a; }
Attribute Attribute::from_float(float v) { Attribute a; a.kind = Kind::Float; a.f = v; return a; }
Attribute Attribute::from_string(std::string v) { Attribute a; a.kind = Kind::String; a.s = std::move(v); return a; }
Attribute Attribute::from_ints(std::vector<int64_t> v) { Attribute a; a.kind = Kind::Ints; a.ints = std::move(v); return a; }
Attribute Attribute::from_floats(std::vector<float> v) { Attribute a; a.kind = Kind::Floats; a.floats = std::move(v); return a; }
Attribute Attribute::from_tensor(dnnf::Tensor v) { Attribute a; a.kind = Kind::Tensor; a.t = std::move(v); return a; }
Attribute Attribute::from_graph(std::shared_ptr<dnnf::Graph> v) { Attribute a; a.kind = Kind::Graph; a.g = std::move(v); return a; }

const Attribute* Node::attr(const std::string& k) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? nullptr : &it->second;
}

int64_t Node::attr_int(const std::string& k, int64_t def) const {
  const Attribute* a = attr(k);
  if (!a) return def;
  if (a->kind == Attribute::Kind::Int) return a->i;
  if (a->kind == Attribute::Kind::Float) return int64_t(a->f);
  fail(label(), ": attribute '", k, "' should be an integer");
}

float Node::attr_float(const std::string& k, float def) const {
  const Attribute* a = attr(k);
  if (!a) return def;
  if (a->kind == Attribute::Kind::Float) return a->f;
  if (a->kind == Attribute::Kind::Int) return float(a->i);
  fail(label(), ": attribute '", k, "' should be a float");
}

std::string Node::attr_string(const std::string& k, const std::string& def) const {
  const Attribute* a = attr(k);
  if (!a) return def;
  check(a->kind == Attribute::Kind::String, label(), ": attribute '", k, "' should be a string");
  return a->s;
}

std::vector<int64_t> Node::attr_ints(const std::string& k, const std::vector<int64_t>& def) const {
  const Attribute* a = attr(k);
  if (!a) return def;
  if (a->kind == Attribute::Kind::Ints) return a->ints;
  if (a->kind == Attribute::Kind::Int) return {a->i};
  fail(label(), ": attribute '", k, "' should be a list of integers");
}

std::vector<float> Node::attr_floats(const std::string& k, const std::vector<float>& def) const {
  const Attribute* a = attr(k);
  if (!a) return def;
  if (a->kind == Attribute::Kind::Floats) return a->floats;
  if (a->kind == Attribute::Kind::Float) return {a->f};
  fail(label(), ": attribute '", k, "' should be a list of floats");
}

std::string Node::label() const {
  std::ostringstream os;
  os << op_type << " '" << name << "' (#" << id << ")";
  return os.str();
}

Node& Graph::add_node(Node node) {
  if (node.id < 0) node.id = next_id_;
  reserve_ids_past(node.id);
  nodes.push_back(std::move(node));
  return nodes.back();
}

int64_t Graph::opset(const std::string& domain) const {
  auto it = opsets.find(domain);
  if (it != opsets.end()) return it->second;
  if (domain == "ai.onnx") return opset("");
  return 0;
}

bool Graph::is_graph_input(const std::string& value) const {
  return std::any_of(inputs.begin(), inputs.end(), [&](const ValueInfo& v) { return v.name == value; });
}

bool Graph::is_graph_output(const std::string& value) const {
  return std::any_of(outputs.begin(), outputs.end(), [&](const ValueInfo& v) { return v.name == value; });
}

int64_t Graph::producer_index(const std::string& value) const {
  if (value.empty()) return -1;
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const std::string& o : nodes[i].outputs)
      if (o == value) return int64_t(i);
  return -1;
}

const Node* Graph::find_node(NodeId id) const {
  for (const Node& n : nodes)
    if (n.id == id) return &n;
  return nullptr;
}

Node* Graph::find_node(NodeId id) {
  for (Node& n : nodes)
    if (n.id == id) return &n;
  return nullptr;
}

std::vector<size_t> Graph::consumer_indices(const std::string& value) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const std::string& in : nodes[i].inputs)
      if (in == value) { out.push_back(i); break; }
  return out;
}

namespace {

// Names a subgraph reads from its enclosing scopes (used but not defined inside).
void collect_free_names(const Graph& g, std::set<std::string>& out) {
  std::unordered_set<std::string> defined;
  for (const ValueInfo& v : g.inputs) defined.insert(v.name);
  for (const auto& [name, t] : g.initializers) defined.insert(name);
  for (const Node& n : g.nodes)
    for (const std::string& o : n.outputs) defined.insert(o);
  auto use = [&](const std::string& name) {
    if (!name.empty() && !defined.count(name)) out.insert(name);
  };
  for (const Node& n : g.nodes) {
    for (const std::string& in : n.inputs) use(in);
    for (const auto& [k, a] : n.attrs) {
      std::set<std::string> inner;
      if (a.g) collect_free_names(*a.g, inner);
      for (const auto& sg : a.graphs)
        if (sg) collect_free_names(*sg, inner);
      for (const std::string& name : inner) use(name);
    }
  }
  for (const ValueInfo& v : g.outputs) use(v.name);
}

}  // namespace

std::vector<std::string> subgraph_reads(const Node& n) {
  std::set<std::string> inner;
  for (const auto& [k, a] : n.attrs) {
    if (a.g) collect_free_names(*a.g, inner);
    for (const auto& sg : a.graphs)
      if (sg) collect_free_names(*sg, inner);
  }
  return {inner.begin(), inner.end()};
}

std::vector<std::string> node_reads(const Node& n) {
  std::vector<std::string> reads;
  for (const std::string& in : n.inputs)
    if (!in.empty()) reads.push_back(in);
  std::set<std::string> inner;
  for (const auto& [k, a] : n.attrs) {
    if (a.g) collect_free_names(*a.g, inner);
    for (const auto& sg : a.graphs)
      if (sg) collect_free_names(*sg, inner);
  }
  reads.insert(reads.end(), inner.begin(), inner.end());
  return reads;
}

void Graph::topo_sort(const std::vector<std::string>& outer_scope) {
  std::unordered_set<std::string> available(outer_scope.begin(), outer_scope.end());
  for (const ValueInfo& v : inputs) available.insert(v.name);
  for (const auto& [name, t] : initializers) available.insert(name);

  std::unordered_map<std::string, size_t> producer;
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const std::string& o : nodes[i].outputs) {
      if (o.empty()) continue;
      auto [it, inserted] = producer.emplace(o, i);
      if (!inserted) fail("value '", o, "' is produced by two nodes: ", nodes[it->second].label(),
                          " and ", nodes[i].label());
    }

  const size_t n = nodes.size();
  std::vector<std::vector<size_t>> users(n);
  std::vector<size_t> pending(n, 0);
  for (size_t i = 0; i < n; ++i) {
    std::set<size_t> deps;
    for (const std::string& in : node_reads(nodes[i])) {
      auto it = producer.find(in);
      if (it != producer.end()) {
        deps.insert(it->second);
      } else if (!available.count(in)) {
        fail(nodes[i].label(), " uses value '", in, "', which nothing defines");
      }
    }
    for (size_t d : deps) {
      users[d].push_back(i);
      ++pending[i];
    }
  }
  // Stable Kahn: always take the lowest current index that is ready.
  std::set<size_t> ready;
  for (size_t i = 0; i < n; ++i)
    if (pending[i] == 0) ready.insert(i);
  std::vector<size_t> order;
  order.reserve(n);
  while (!ready.empty()) {
    const size_t i = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(i);
    for (size_t u : users[i])
      if (--pending[u] == 0) ready.insert(u);
  }
  if (order.size() != n) {
    for (size_t i = 0; i < n; ++i)
      if (pending[i] != 0) fail("the graph has a cycle through ", nodes[i].label());
  }
  std::vector<Node> sorted;
  sorted.reserve(n);
  for (size_t i : order) sorted.push_back(std::move(nodes[i]));
  nodes = std::move(sorted);
}

void Graph::validate(const std::vector<std::string>& outer_scope) const {
  Graph copy_for_check;  // topo_sort on a shallow copy of the structure only
  copy_for_check.inputs = inputs;
  copy_for_check.nodes = nodes;
  for (const auto& [name, t] : initializers) copy_for_check.initializers.emplace(name, Tensor());
  copy_for_check.topo_sort(outer_scope);
  std::unordered_set<std::string> defined(outer_scope.begin(), outer_scope.end());
  for (const ValueInfo& v : inputs) defined.insert(v.name);
  for (const auto& [name, t] : initializers) defined.insert(name);
  for (const Node& node : nodes)
    for (const std::string& o : node.outputs) defined.insert(o);
  for (const ValueInfo& v : outputs)
    check(defined.count(v.name) != 0, "graph output '", v.name, "' is not produced by any node");
}

const TensorType* Graph::type_of(const std::string& value) const {
  auto it = value_types.find(value);
  if (it != value_types.end()) return &it->second;
  for (const ValueInfo& v : inputs)
    if (v.name == value) return &v.type;
  return nullptr;
}

std::vector<TensorType> Graph::types_of(const std::vector<std::string>& values) const {
  std::vector<TensorType> out;
  out.reserve(values.size());
  for (const std::string& v : values) {
    const TensorType* t = v.empty() ? nullptr : type_of(v);
    out.push_back(t ? *t : TensorType());
  }
  return out;
}

size_t Graph::remove_dead_nodes() {
  std::unordered_set<std::string> live;
  for (const ValueInfo& v : outputs) live.insert(v.name);
  std::vector<bool> keep(nodes.size(), false);
  for (size_t k = nodes.size(); k-- > 0;) {
    const Node& n = nodes[k];
    bool needed = false;
    for (const std::string& o : n.outputs)
      if (!o.empty() && live.count(o)) needed = true;
    if (!needed) continue;
    keep[k] = true;
    for (const std::string& in : node_reads(n)) live.insert(in);
  }
  size_t removed = 0;
  std::vector<Node> kept;
  kept.reserve(nodes.size());
  for (size_t k = 0; k < nodes.size(); ++k) {
    if (keep[k]) kept.push_back(std::move(nodes[k]));
    else ++removed;
  }
  nodes = std::move(kept);
  for (auto it = initializers.begin(); it != initializers.end();) {
    if (!live.count(it->first)) it = initializers.erase(it);
    else ++it;
  }
  return removed;
}

std::string Graph::fresh_name(const std::string& prefix) {
  // After shape inference value_types names every value, so a lookup there is enough;
  // before it, fall back to a scan of the structure.
  std::unordered_set<std::string> used;
  if (value_types.empty()) {
    for (const ValueInfo& v : inputs) used.insert(v.name);
    for (const Node& n : nodes)
      for (const std::string& o : n.outputs) used.insert(o);
  }
  for (;;) {
    std::string candidate = prefix + "_" + std::to_string(name_counter_++);
    if (!used.count(candidate) && !value_types.count(candidate) && !initializers.count(candidate) &&
        !is_graph_input(candidate))
      return candidate;
  }
}

size_t count_nodes_recursive(const Graph& g) {
  size_t n = g.nodes.size();
  for (const Node& node : g.nodes)
    for (const auto& [k, a] : node.attrs) {
      if (a.g) n += count_nodes_recursive(*a.g);
      for (const auto& sg : a.graphs)
        if (sg) n += count_nodes_recursive(*sg);
    }
  return n;
}

}  // namespace dnnf
