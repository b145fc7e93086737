#include "core/runtime/reference_executor.h"

#include <unordered_map>

#include "core/ir/op_registry.h"
#include "core/util/error.h"

namespace dnnf {

namespace {

// Values visible while running one graph level; lookups fall back to enclosing scopes.
struct RunScope {
  std::unordered_map<std::string, Tensor> values;
  const RunScope* parent = nullptr;

  const Tensor* find(const std::string& name) const {
    for (const RunScope* s = this; s; s = s->parent) {
      auto it = s->values.find(name);
      if (it != s->values.end()) return &it->second;
    }
    return nullptr;
  }
};

using ValueLookup = std::function<const Tensor*(const std::string&)>;
using SubgraphRunner = std::function<std::vector<Tensor>(const Graph&, const std::vector<Tensor>&)>;

// One node on its reference kernel: inputs from `lookup`, checked outputs.
std::vector<Tensor> invoke_kernel(const Graph& graph, const Node& node, const ValueLookup& lookup,
                                  const SubgraphRunner& run_sub) {
  const OpInfo& row = OpRegistry::instance().lookup(node, graph);
  KernelContext ctx{node, graph.opset(node.domain == "ai.onnx" ? "" : node.domain), {}, {}};
  if (ctx.opset == 0) ctx.opset = 21;
  for (const std::string& in : node.inputs) {
    if (in.empty()) {
      ctx.inputs.push_back(nullptr);
      continue;
    }
    const Tensor* t = lookup(in);
    check(t != nullptr, node.label(), ": input '", in, "' has no value");
    ctx.inputs.push_back(t);
  }
  ctx.run_subgraph = run_sub;
  std::vector<Tensor> outs = row.kernel(ctx);
  for (size_t i = 0; i < node.outputs.size(); ++i)
    check(node.outputs[i].empty() || (i < outs.size() && outs[i].defined()), node.label(),
          ": produced no value for output '", node.outputs[i], "'");
  return outs;
}

std::vector<Tensor> run_level(const Graph& graph, RunScope& scope, const RunOptions& options,
                              bool top_level);

std::vector<Tensor> run_subgraph(const Graph& g, const std::vector<Tensor>& inputs,
                                 const RunScope& outer, const RunOptions& options) {
  check(inputs.size() <= g.inputs.size(), "subgraph '", g.name, "' takes ", g.inputs.size(),
        " inputs, got ", inputs.size());
  RunScope scope;
  scope.parent = &outer;
  for (size_t i = 0; i < inputs.size(); ++i) scope.values[g.inputs[i].name] = inputs[i];
  RunOptions inner;  // progress is reported for the top level only
  inner.keep_intermediates = false;
  (void)options;
  return run_level(g, scope, inner, false);
}

std::vector<Tensor> run_level(const Graph& graph, RunScope& scope, const RunOptions& options,
                              bool top_level) {
  for (const auto& [name, t] : graph.initializers) scope.values.emplace(name, t);

  // Last reader of each value at this level, so intermediates are freed early.
  std::unordered_map<std::string, size_t> last_use;
  if (!options.keep_intermediates) {
    for (size_t i = 0; i < graph.nodes.size(); ++i)
      for (const std::string& in : node_reads(graph.nodes[i])) last_use[in] = i;
    for (const ValueInfo& o : graph.outputs) last_use[o.name] = graph.nodes.size();
  }

  for (size_t idx = 0; idx < graph.nodes.size(); ++idx) {
    const Node& node = graph.nodes[idx];
    std::vector<Tensor> outs = invoke_kernel(
        graph, node, [&](const std::string& v) { return scope.find(v); },
        [&](const Graph& g, const std::vector<Tensor>& ins) { return run_subgraph(g, ins, scope, options); });
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      if (node.outputs[i].empty()) continue;
      scope.values[node.outputs[i]] = std::move(outs[i]);
    }
    if (!options.keep_intermediates) {
      for (const std::string& in : node_reads(node)) {
        auto it = last_use.find(in);
        if (it != last_use.end() && it->second == idx && !graph.initializers.count(in))
          scope.values.erase(in);
      }
      for (const std::string& o : node.outputs)
        if (!o.empty() && !last_use.count(o)) scope.values.erase(o);  // unused output
    }
    if (top_level && options.on_node) options.on_node(idx + 1, graph.nodes.size());
  }

  std::vector<Tensor> results;
  results.reserve(graph.outputs.size());
  for (const ValueInfo& o : graph.outputs) {
    const Tensor* t = scope.find(o.name);
    check(t != nullptr, "graph output '", o.name, "' has no value");
    results.push_back(*t);
  }
  return results;
}

void check_input(const ValueInfo& info, const Tensor& t) {
  const TensorType& want = info.type;
  if (want.dtype != DType::Undefined && want.dtype != t.dtype())
    fail("input '", info.name, "' has element type ", dtype_name(t.dtype()), ", the model expects ",
         dtype_name(want.dtype));
  if (!want.has_shape) return;
  bool ok = want.rank() == t.rank();
  for (int64_t i = 0; ok && i < t.rank(); ++i) {
    const Dim& d = want.dims[size_t(i)];
    if (d.known() && d.value != t.shape()[size_t(i)]) ok = false;
  }
  if (!ok)
    fail("input '", info.name, "' has shape ", shape_str(t.shape()), ", the model expects ",
         want.str());
}

}  // namespace

ReferenceExecutor::ReferenceExecutor(const Graph& graph) : graph_(graph) {}

TensorMap ReferenceExecutor::run(const TensorMap& inputs, const RunOptions& options) const {
  check_model_inputs(graph_, inputs);
  return run_graph(graph_, inputs, nullptr, options);
}

void check_model_inputs(const Graph& graph, const TensorMap& inputs) {
  for (const auto& [name, t] : inputs)
    check(graph.is_graph_input(name), "the model has no input named '", name, "'");
  for (const ValueInfo& in : graph.inputs) {
    auto it = inputs.find(in.name);
    check(it != inputs.end(), "missing value for model input '", in.name, "'");
    check_input(in, it->second);
  }
}

TensorMap run_graph(const Graph& graph, const TensorMap& inputs, const TensorMap* outer_scope,
                    const RunOptions& options) {
  RunScope outer;
  if (outer_scope)
    for (const auto& [k, v] : *outer_scope) outer.values.emplace(k, v);
  RunScope scope;
  scope.parent = &outer;
  for (const auto& [k, v] : inputs) scope.values.emplace(k, v);
  std::vector<Tensor> outs = run_level(graph, scope, options, true);
  TensorMap result;
  if (options.keep_intermediates)
    for (const auto& [k, v] : scope.values) result.emplace(k, v);
  for (size_t i = 0; i < graph.outputs.size(); ++i) result[graph.outputs[i].name] = outs[i];
  return result;
}

std::vector<Tensor> run_node(const Graph& graph, const Node& node,
                             const std::function<const Tensor*(const std::string&)>& lookup) {
  TensorMap outer;
  for (const std::string& v : subgraph_reads(node))
    if (const Tensor* t = lookup(v)) outer.emplace(v, *t);
  return invoke_kernel(graph, node, lookup, [&](const Graph& g, const std::vector<Tensor>& ins) {
    TensorMap named;
    check(ins.size() <= g.inputs.size(), "subgraph '", g.name, "' takes ", g.inputs.size(), " inputs, got ",
          ins.size());
    for (size_t i = 0; i < ins.size(); ++i) named[g.inputs[i].name] = ins[i];
    TensorMap r = run_graph(g, named, &outer, {});
    std::vector<Tensor> out;
    for (const ValueInfo& o : g.outputs) out.push_back(r.at(o.name));
    return out;
  });
}

}  // namespace dnnf
