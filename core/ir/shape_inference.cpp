#include "core/ir/shape_inference.h"

#include <unordered_map>

#include "core/ir/op_registry.h"
#include "core/ops/op_util.h"
#include "core/util/error.h"

namespace dnnf {

namespace {

// Types and known values visible at one graph level, chained to the enclosing one.
struct InferScope {
  std::unordered_map<std::string, TensorType> types;
  std::unordered_map<std::string, Tensor> values;
  const InferScope* parent = nullptr;

  const TensorType* type(const std::string& name) const {
    for (const InferScope* s = this; s; s = s->parent) {
      auto it = s->types.find(name);
      if (it != s->types.end()) return &it->second;
    }
    return nullptr;
  }
  const Tensor* value(const std::string& name) const {
    for (const InferScope* s = this; s; s = s->parent) {
      auto it = s->values.find(name);
      if (it != s->values.end()) return &it->second;
    }
    return nullptr;
  }
};

bool never_fold(const std::string& op) {
  // Ops whose outputs must not be evaluated at compile time (random, control flow).
  return is_random_op(op) || op == "If" || op == "Loop" || op == "Scan";
}

}  // namespace

// Shape and Size are known from the input's static shape alone.
std::optional<Tensor> shape_op_value(const Node& node, const TensorType& in) {
  auto shape = in.static_shape();
  if (node.op_type == "Size") {
    if (!shape) return std::nullopt;
    return Tensor::scalar_i64(shape_numel(*shape));
  }
  if (!in.has_shape) return std::nullopt;
  const int64_t r = in.rank();
  int64_t start = node.attr_int("start", 0), end = node.attr_int("end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<int64_t>(start, 0, r);
  end = std::clamp<int64_t>(end, 0, r);
  std::vector<int64_t> dims;
  for (int64_t i = start; i < end; ++i) {
    if (!in.dims[size_t(i)].known()) return std::nullopt;
    dims.push_back(in.dims[size_t(i)].value);
  }
  return Tensor::vector_i64(dims);
}

namespace {

void infer_graph(Graph& graph, const InferOptions& options, InferScope& scope);

void infer_subgraphs(Node& node, const InferOptions& options, const InferScope& scope) {
  for (auto& [key, attr] : node.attrs) {
    std::vector<std::shared_ptr<Graph>> subs;
    if (attr.g) subs.push_back(attr.g);
    for (auto& g : attr.graphs) if (g) subs.push_back(g);
    for (auto& g : subs) {
      InferScope inner;
      inner.parent = &scope;
      infer_graph(*g, options, inner);
    }
  }
}

void infer_graph(Graph& graph, const InferOptions& options, InferScope& scope) {
  const OpRegistry& registry = OpRegistry::instance();
  graph.value_types.clear();
  for (ValueInfo& in : graph.inputs) {
    for (Dim& d : in.type.dims) {
      auto it = d.known() ? options.bind_dims.end() : options.bind_dims.find(d.symbol);
      if (it != options.bind_dims.end()) d = Dim(it->second);
    }
    if (in.type.is_static())
      check_tensor_size(in.type.numel_or(0), in.type.dtype, "graph input '" + in.name + "'");
    scope.types[in.name] = in.type;
    graph.value_types[in.name] = in.type;
  }
  for (const auto& [name, t] : graph.initializers) {
    const TensorType type(t.dtype(), t.shape());
    scope.types[name] = type;
    scope.values[name] = t;
    graph.value_types[name] = type;
  }

  for (Node& node : graph.nodes) {
    const OpInfo& row = registry.lookup(node, graph);

    InferContext ctx{node, graph, graph.opset(node.domain == "ai.onnx" ? "" : node.domain), {}, {}};
    if (ctx.opset == 0) ctx.opset = 21;
    bool all_known = true;
    for (const std::string& in : node.inputs) {
      if (in.empty()) {
        ctx.inputs.emplace_back();
        ctx.input_values.push_back(nullptr);
        continue;
      }
      const TensorType* t = scope.type(in);
      check(t != nullptr, node.label(), ": input '", in, "' has no known type");
      ctx.inputs.push_back(*t);
      const Tensor* v = scope.value(in);
      ctx.input_values.push_back(v);
      if (!v) all_known = false;
    }
    // Loop/Scan bodies may leave their inputs untyped; bind them from the node's
    // inputs before inferring the bodies with the enclosing scope visible.
    ops::bind_subgraph_input_types(node, ctx.inputs, ctx.opset);
    infer_subgraphs(node, options, scope);

    std::vector<TensorType> outs = row.shape(ctx);
    outs.resize(node.outputs.size(), TensorType());
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      if (node.outputs[i].empty()) continue;
      const TensorType& t = outs[i];
      if (t.is_static())
        check_tensor_size(t.numel_or(0), t.dtype, node.label() + " output '" + node.outputs[i] + "'");
    }

    // Partial evaluation of small known values resolves shape subgraphs.
    std::vector<Tensor> folded;
    if ((node.op_type == "Shape" || node.op_type == "Size") && !ctx.inputs.empty()) {
      if (auto v = shape_op_value(node, ctx.inputs[0])) folded.push_back(*v);
    } else if (node.op_type == "Constant") {
      KernelContext kctx{node, ctx.opset, {}, {}};
      folded = row.kernel(kctx);
    } else if (all_known && !never_fold(node.op_type) && !node.outputs.empty()) {
      bool small = true;
      for (const TensorType& t : outs)
        if (!t.is_static() || t.numel_or(0) > options.max_fold_elements) small = false;
      if (small) {
        KernelContext kctx{node, ctx.opset, ctx.input_values, {}};
        try {
          folded = row.kernel(kctx);
        } catch (const Error&) {
          folded.clear();  // the run-time check reports it with real inputs
        }
      }
    }
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      const std::string& name = node.outputs[i];
      if (name.empty()) continue;
      TensorType t = outs[i];
      if (i < folded.size() && folded[i].defined()) {
        t = TensorType(folded[i].dtype(), folded[i].shape());
        scope.values[name] = folded[i];
      }
      scope.types[name] = t;
      graph.value_types[name] = t;
    }
  }
  for (ValueInfo& out : graph.outputs) {
    const TensorType* t = scope.type(out.name);
    if (t && (t->has_shape || !out.type.has_shape)) {
      out.type = *t;
    }
  }
}

}  // namespace

std::vector<TensorType> infer_node_types(
    const Graph& graph, const Node& node,
    const std::function<const TensorType*(const std::string&)>& type_of,
    const std::function<const Tensor*(const std::string&)>& value_of) {
  const OpInfo& row = OpRegistry::instance().lookup(node, graph);
  InferContext ctx{node, graph, graph.opset(node.domain == "ai.onnx" ? "" : node.domain), {}, {}};
  if (ctx.opset == 0) ctx.opset = 21;
  for (const std::string& in : node.inputs) {
    if (in.empty()) {
      ctx.inputs.emplace_back();
      ctx.input_values.push_back(nullptr);
      continue;
    }
    const TensorType* t = type_of(in);
    check(t != nullptr, node.label(), ": input '", in, "' has no known type");
    ctx.inputs.push_back(*t);
    ctx.input_values.push_back(value_of(in));
  }
  std::vector<TensorType> outs = row.shape(ctx);
  outs.resize(node.outputs.size(), TensorType());
  return outs;
}

void infer_shapes(Graph& graph, const InferOptions& options) {
  InferScope scope;
  infer_graph(graph, options, scope);
}

}  // namespace dnnf
