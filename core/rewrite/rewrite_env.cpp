#include "core/rewrite/rewrite_env.h"

#include <algorithm>

namespace dnnf::rewrite {

namespace {

bool has_subgraphs(const Node& n) {
  for (const auto& [k, a] : n.attrs)
    if (a.g || !a.graphs.empty()) return true;
  return false;
}

const Tensor* constant_node_value(const Node& n) {
  if (n.op_type != "Constant" || n.outputs.size() != 1) return nullptr;
  const Attribute* a = n.attr("value");
  return a && a->kind == Attribute::Kind::Tensor ? &a->t : nullptr;
}

}  // namespace

RewriteEnv::RewriteEnv(const Graph& graph) : graph_(graph) { rebuild(); }

void RewriteEnv::rebuild() {
  producer_.clear();
  readers_.clear();
  subgraph_readers_.clear();
  constant_nodes_.clear();
  outputs_.clear();
  invalidate_consumer_cache();
  renumber();
  for (const Node& n : graph_.nodes) {
    for (const std::string& o : n.outputs)
      if (!o.empty()) producer_[o] = n.id;
    for (const std::string& in : node_reads(n)) {
      auto& list = readers_[in];
      if (list.empty() || list.back() != n.id) list.push_back(n.id);
    }
    if (has_subgraphs(n))
      for (const std::string& v : subgraph_reads(n)) ++subgraph_readers_[v];
    if (const Tensor* t = constant_node_value(n)) constant_nodes_[n.outputs[0]] = *t;
  }
  for (const ValueInfo& v : graph_.outputs) outputs_[v.name] = true;
}

void RewriteEnv::renumber() {
  NodeId bound = graph_.next_node_id();
  for (const Node& n : graph_.nodes) bound = std::max(bound, n.id + 1);
  position_.assign(size_t(std::max<NodeId>(bound, 0)), -1);
  for (size_t i = 0; i < graph_.nodes.size(); ++i) {
    const NodeId id = graph_.nodes[i].id;
    if (id >= 0 && position_[size_t(id)] < 0) position_[size_t(id)] = int64_t(i);
  }
  invalidate_consumer_cache();
}

void RewriteEnv::forget_node(const Node& n) {
  invalidate_consumer_cache();
  for (const std::string& o : n.outputs) {
    if (o.empty()) continue;
    auto it = producer_.find(o);
    if (it != producer_.end() && it->second == n.id) producer_.erase(it);
  }
  if (constant_node_value(n)) constant_nodes_.erase(n.outputs[0]);
  for (const std::string& in : node_reads(n)) {
    auto it = readers_.find(in);
    if (it == readers_.end()) continue;
    auto& list = it->second;
    list.erase(std::remove(list.begin(), list.end(), n.id), list.end());
    if (list.empty()) readers_.erase(it);
  }
  if (has_subgraphs(n))
    for (const std::string& v : subgraph_reads(n))
      if (--subgraph_readers_[v] <= 0) subgraph_readers_.erase(v);
}

void RewriteEnv::index_node(const Node& n) {
  invalidate_consumer_cache();
  for (const std::string& o : n.outputs)
    if (!o.empty()) producer_[o] = n.id;
  const size_t at = position(n.id);
  for (const std::string& in : node_reads(n)) {
    auto& list = readers_[in];
    // Keep graph order: the list is sorted by node position.
    auto it = std::lower_bound(list.begin(), list.end(), at,
                               [this](NodeId id, size_t pos) { return position(id) < pos; });
    if (it == list.end() || *it != n.id) list.insert(it, n.id);
  }
  if (has_subgraphs(n))
    for (const std::string& v : subgraph_reads(n)) ++subgraph_readers_[v];
  if (const Tensor* t = constant_node_value(n)) constant_nodes_[n.outputs[0]] = *t;
}

bool RewriteEnv::same_as(const RewriteEnv& fresh) const {
  // Positions only matter for nodes in the graph; the id range may differ.
  for (const Node& n : graph_.nodes)
    if (node(n.id) != fresh.node(n.id)) return false;
  if (producer_ != fresh.producer_ || readers_ != fresh.readers_ || subgraph_readers_ != fresh.subgraph_readers_ ||
      outputs_ != fresh.outputs_ || constant_nodes_.size() != fresh.constant_nodes_.size())
    return false;
  for (const auto& [v, t] : constant_nodes_) {
    auto it = fresh.constant_nodes_.find(v);
    if (it == fresh.constant_nodes_.end() || it->second.shape() != t.shape() || it->second.dtype() != t.dtype()) return false;
  }
  return true;
}

void RewriteEnv::invalidate_consumer_cache() const {
  if (!consumer_cache_.empty()) consumer_cache_.clear();
}

const Node* RewriteEnv::node(NodeId id) const {
  if (id < 0 || size_t(id) >= position_.size() || position_[size_t(id)] < 0) return nullptr;
  return &graph_.nodes[position(id)];
}

size_t RewriteEnv::index_of(NodeId id) const { return position(id); }

bool RewriteEnv::defines(const std::string& value) const {
  if (producer_.count(value) || graph_.initializers.count(value) || graph_.is_graph_input(value)) return true;
  if (!value.empty()) return false;
  // An omitted optional output is "defined" under the empty name (never indexed).
  for (const Node& n : graph_.nodes)
    for (const std::string& o : n.outputs)
      if (o.empty()) return true;
  return false;
}

int64_t RewriteEnv::read_count(const std::string& value) const {
  int64_t count = 0;
  if (auto it = readers_.find(value); it != readers_.end()) {
    for (NodeId id : it->second) {
      const Node& n = graph_.nodes[position(id)];
      count += std::count(n.inputs.begin(), n.inputs.end(), value);
      if (has_subgraphs(n)) {
        const auto inner = subgraph_reads(n);
        count += std::count(inner.begin(), inner.end(), value);
      }
    }
  }
  for (const ValueInfo& o : graph_.outputs) count += o.name == value;
  return count;
}

bool RewriteEnv::read_in_subgraph(const std::string& value) const { return subgraph_readers_.count(value) != 0; }

const Node* RewriteEnv::producer(const std::string& value) const {
  auto it = producer_.find(value);
  return it == producer_.end() ? nullptr : &graph_.nodes[position(it->second)];
}

const std::vector<const Node*>& RewriteEnv::consumers(const std::string& value) const {
  static const std::vector<const Node*> none;
  auto it = readers_.find(value);
  if (it == readers_.end()) return none;
  auto [cached, fresh] = consumer_cache_.try_emplace(value);
  if (fresh) {
    cached->second.reserve(it->second.size());
    for (NodeId id : it->second) cached->second.push_back(&graph_.nodes[position(id)]);
  }
  return cached->second;
}

size_t RewriteEnv::uses(const std::string& value) const {
  auto it = readers_.find(value);
  return (it == readers_.end() ? 0 : it->second.size()) + (is_graph_output(value) ? 1 : 0);
}

const Tensor* RewriteEnv::constant(const std::string& value) const {
  auto it = graph_.initializers.find(value);
  if (it != graph_.initializers.end()) return &it->second;
  auto jt = constant_nodes_.find(value);
  return jt == constant_nodes_.end() ? nullptr : &jt->second;
}

std::optional<Shape> RewriteEnv::shape(const std::string& value) const {
  const TensorType* t = type(value);
  return t ? t->static_shape() : std::nullopt;
}

const MathProps* RewriteEnv::props(const Node& node) const {
  const OpInfo* row = OpRegistry::instance().find_any(node.domain, node.op_type);
  return row ? &row->props : nullptr;
}

std::optional<double> splat_value(const Tensor& t) {
  if (t.numel() == 0 || t.dtype() == DType::String) return std::nullopt;
  const double v = t.get_f64(0);
  for (int64_t i = 1; i < t.numel(); ++i)
    if (t.get_f64(i) != v) return std::nullopt;
  return v;
}

bool is_splat(const Tensor& t, double v) {
  auto s = splat_value(t);
  return s && *s == v;
}

}  // namespace dnnf::rewrite
