#include "core/fusion/profiler.h"

#include <algorithm>
#include <functional>
#include <set>
#include <sstream>

#include "core/ir/op_registry.h"

namespace dnnf::fusion {

namespace {

double bytes_of(const Graph& g, const std::string& v) {
  const TensorType* t = g.type_of(v);
  return t && t->is_static() ? double(t->numel_or(0) * int64_t(dtype_size(t->dtype))) : 0.0;
}

class EstimatingProfiler : public BlockProfiler {
 public:
  EstimatingProfiler(std::string target, double gflops, double gbps)
      : target_(std::move(target)), flops_per_us_(gflops * 1e3), bytes_per_us_(gbps * 1e3) {}
  std::string target() const override { return target_; }

  ProfileResult compare(const Graph& g, const std::vector<NodeId>& block, NodeId candidate) override {
    const OpRegistry& reg = OpRegistry::instance();
    auto cost = [&](NodeId id) {
      const Node& n = *g.find_node(id);
      return reg.cost_of(n, g.types_of(n.inputs), g.types_of(n.outputs));
    };
    double block_flops = 0, block_bytes = 0;
    for (NodeId id : block) {
      const OpCost c = cost(id);
      block_flops += c.flops;
      block_bytes += c.bytes;
    }
    const OpCost cc = cost(candidate);
    auto latency = [&](double f, double b) { return std::max(f / flops_per_us_, b / bytes_per_us_) + 2.0; };
    ProfileResult r;
    r.source = "estimate";
    r.separate_us = latency(block_flops, block_bytes) + latency(cc.flops, cc.bytes);
    // Fusing saves writing and re-reading the values passed between the two.
    const Node& cand = *g.find_node(candidate);
    std::set<std::string> block_outputs;
    for (NodeId id : block)
      for (const std::string& o : g.find_node(id)->outputs) block_outputs.insert(o);
    double saved = 0;
    for (const std::string& in : cand.inputs)
      if (block_outputs.count(in)) saved += 2 * bytes_of(g, in);
    for (const std::string& o : cand.outputs)
      for (NodeId id : block)
        for (const std::string& in : g.find_node(id)->inputs)
          if (in == o) saved += 2 * bytes_of(g, o);
    // A broadcast or gather consumer re-evaluates the block per output element.
    double recompute = 0;
    if (reg.mapping_of(cand, g.types_of(cand.inputs), g.types_of(cand.outputs)) == MappingType::OneToMany) {
      double in_elems = 0, out_elems = 0;
      for (const std::string& in : cand.inputs)
        if (block_outputs.count(in)) in_elems += bytes_of(g, in);
      for (const std::string& o : cand.outputs) out_elems += bytes_of(g, o);
      if (in_elems > 0 && out_elems > in_elems) recompute = block_flops * (out_elems / in_elems - 1.0);
    }
    r.fused_us = latency(block_flops + cc.flops + recompute, block_bytes + cc.bytes - saved);
    return r;
  }

 private:
  std::string target_;
  double flops_per_us_, bytes_per_us_;
};

void append_attr(std::ostringstream& os, const Attribute& a) {
  using K = Attribute::Kind;
  switch (a.kind) {
    case K::Int: os << a.i; break;
    case K::Float: os << a.f; break;
    case K::String: os << '"' << a.s << '"'; break;
    case K::Ints: for (auto v : a.ints) os << v << ','; break;
    case K::Floats: for (auto v : a.floats) os << v << ','; break;
    case K::Strings: for (auto& v : a.strings) os << v << ','; break;
    case K::Tensor: os << "tensor" << shape_str(a.t.shape()); break;
    default: os << "graph"; break;
  }
}

}  // namespace

std::unique_ptr<BlockProfiler> make_estimating_profiler(const std::string& target, double gflops, double gbytes_per_s) {
  return std::make_unique<EstimatingProfiler>(target, gflops, gbytes_per_s);
}

std::string block_signature(const Graph& graph, const std::vector<NodeId>& nodes, const std::string& target) {
  // Values are renamed by first appearance so equal structures get equal keys.
  std::map<std::string, std::string> local;
  auto name = [&](const std::string& v) {
    if (v.empty()) return std::string("-");
    auto it = local.find(v);
    if (it != local.end()) return it->second;
    const std::string n = "v" + std::to_string(local.size());
    local[v] = n;
    return n;
  };
  std::ostringstream os;
  os << target << '|';
  for (NodeId id : nodes) {
    const Node& n = *graph.find_node(id);
    os << n.domain << '.' << n.op_type << '(';
    for (const std::string& in : n.inputs) {
      const TensorType* t = in.empty() ? nullptr : graph.type_of(in);
      os << name(in) << ':' << (t ? t->str() : "?") << (graph.is_constant(in) ? "c" : "") << ',';
    }
    os << ")->";
    for (const std::string& o : n.outputs) os << name(o) << ',';
    os << '{';
    for (const auto& [k, a] : n.attrs) {
      os << k << '=';
      append_attr(os, a);
      os << ';';
    }
    os << "};";
  }
  return os.str();
}

}  // namespace dnnf::fusion
