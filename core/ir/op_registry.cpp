#include "core/ir/op_registry.h"

#include "core/util/error.h"

namespace dnnf {

const char* mapping_type_name(MappingType m) {
  switch (m) {
    case MappingType::OneToOne: return "One-to-One";
    case MappingType::Reorganize: return "Reorganize";
    case MappingType::Shuffle: return "Shuffle";
    case MappingType::OneToMany: return "One-to-Many";
    case MappingType::ManyToMany: return "Many-to-Many";
  }
  return "?";
}

std::optional<MappingType> mapping_type_from_name(const std::string& s) {
  for (MappingType m : {MappingType::OneToOne, MappingType::Reorganize, MappingType::Shuffle,
                        MappingType::OneToMany, MappingType::ManyToMany})
    if (s == mapping_type_name(m)) return m;
  return std::nullopt;
}

const Tensor& KernelContext::in(size_t i) const {
  check(has_input(i), node.label(), ": required input ", i, " is missing");
  return *inputs[i];
}

void OpRegistry::add(OpInfo info) {
  check(bool(info.shape) && bool(info.kernel), "operator row ", info.name,
        " needs a shape function and a reference kernel");
  const std::string key = info.domain + "::" + info.name;
  auto range = index_.equal_range(key);
  for (auto it = range.first; it != range.second; ++it) {
    const OpInfo& other = rows_[it->second];
    if (info.since <= other.until && other.since <= info.until)
      fail("operator ", info.name, " registered twice for overlapping opsets");
  }
  index_.emplace(key, rows_.size());
  rows_.push_back(std::move(info));
}

const OpInfo* OpRegistry::find(const std::string& domain, const std::string& name, int64_t opset) const {
  const std::string d = domain == "ai.onnx" ? "" : domain;
  auto range = index_.equal_range(d + "::" + name);
  const OpInfo* best = nullptr;
  for (auto it = range.first; it != range.second; ++it) {
    const OpInfo& row = rows_[it->second];
    if (opset >= row.since && opset <= row.until) return &row;
    if (!best || row.since > best->since) best = &row;
  }
  // An opset outside every row's range still runs on the nearest row when the
  // semantics carry over (newest row); callers treat nullptr as unknown.
  return opset <= 0 ? best : nullptr;
}

const OpInfo* OpRegistry::find_any(const std::string& domain, const std::string& name) const {
  return find(domain, name, 0);
}

const OpInfo& OpRegistry::lookup(const Node& node, const Graph& graph) const {
  const std::string d = node.domain == "ai.onnx" ? "" : node.domain;
  int64_t opset = graph.opset(d);
  if (opset == 0 && d.empty()) opset = 21;
  if (const OpInfo* row = find(d, node.op_type, opset)) return *row;
  if (find_any(d, node.op_type))
    fail(node.label(), ": operator ", node.op_type, " is not supported at opset ", opset);
  fail(node.label(), ": unknown operator '", (d.empty() ? "" : d + "."), node.op_type, "'");
}

MappingType OpRegistry::mapping_of(const Node& node, const std::vector<TensorType>& in,
                                   const std::vector<TensorType>& out) const {
  const OpInfo* row = find_any(node.domain, node.op_type);
  if (!row) return MappingType::ManyToMany;
  return row->mapping_fn ? row->mapping_fn(node, in, out) : row->mapping;
}

OpCost OpRegistry::cost_of(const Node& node, const std::vector<TensorType>& in,
                           const std::vector<TensorType>& out) const {
  const OpInfo* row = find_any(node.domain, node.op_type);
  if (row && row->cost) return row->cost(node, in, out);
  return default_cost(node, in, out);
}

bool is_random_op(const std::string& op_type) {
  return op_type == "RandomUniform" || op_type == "RandomNormal" || op_type == "RandomUniformLike" ||
         op_type == "RandomNormalLike" || op_type == "Multinomial" || op_type == "Bernoulli";
}

OpCost default_cost(const Node&, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
  OpCost c;
  for (const TensorType& t : out) {
    const double n = double(t.numel_or(0));
    c.flops += n;
    c.bytes += n * double(dtype_size(t.dtype));
  }
  for (const TensorType& t : in) c.bytes += double(t.numel_or(0)) * double(dtype_size(t.dtype));
  return c;
}

}  // namespace dnnf
