#include "tests/support/rule_test_util.h"

#include "core/ir/shape_inference.h"
#include "core/runtime/graph_compare.h"

namespace dnnf::test {

GraphBuilder::GraphBuilder(int64_t opset) {
  model_.ir_version = 8;
  model_.graph.name = "test";
  model_.graph.opsets[""] = opset;
}

std::string GraphBuilder::input(const std::string& name, DType dtype, const Shape& shape) {
  model_.graph.inputs.push_back({name, TensorType(dtype, shape)});
  return name;
}

std::string GraphBuilder::input(const std::string& name, DType dtype, const std::vector<Dim>& dims) {
  model_.graph.inputs.push_back({name, TensorType(dtype, dims)});
  return name;
}

std::string GraphBuilder::constant(const std::string& name, const Tensor& value) {
  model_.graph.initializers[name] = value;
  return name;
}

std::string GraphBuilder::scalar(const std::string& name, float v) {
  return constant(name, Tensor::scalar_f32(v));
}

std::string GraphBuilder::node(const std::string& op, const std::vector<std::string>& inputs,
                               const std::map<std::string, Attribute>& attrs, size_t num_outputs,
                               const std::string& domain) {
  Node n;
  n.op_type = op;
  n.domain = domain;
  n.inputs = inputs;
  n.attrs = attrs;
  for (size_t i = 0; i < num_outputs; ++i) n.outputs.push_back(op + "_" + std::to_string(counter_++));
  n.name = n.outputs[0];
  if (!domain.empty() && !model_.graph.opsets.count(domain)) model_.graph.opsets[domain] = 1;
  model_.graph.add_node(n);
  return n.outputs[0];
}

void GraphBuilder::output(const std::string& value) { model_.graph.outputs.push_back({value, TensorType()}); }

Model GraphBuilder::finish() {
  model_.graph.topo_sort();
  infer_shapes(model_.graph);
  return model_;
}

RuleRun run_rule(const Model& model, const std::string& rule, bool cleanup) {
  RuleRun r;
  r.before = model;
  r.after = model;
  rewrite::RewriteOptions options;
  options.only = {rule};
  if (cleanup && rule != "dead-code") options.only.push_back("dead-code");
  r.summary = rewrite::run_rewrites(r.after.graph, &r.journal, options);
  r.fired = r.summary.rewrites.count(rule) && r.summary.rewrites.at(rule) > 0;
  return r;
}

RuleRun run_all_rules(const Model& model) {
  RuleRun r;
  r.before = model;
  r.after = model;
  r.summary = rewrite::run_rewrites(r.after.graph, &r.journal);
  r.fired = !r.journal.steps.empty();
  return r;
}

testing::AssertionResult outputs_agree(const Model& a, const Model& b, double rtol, double atol, uint64_t seed) {
  const CompareResult r = compare_graph_outputs(a.graph, b.graph, Tolerance{rtol, atol}, seed);
  if (!r.ok) return testing::AssertionFailure() << r.message;
  return testing::AssertionSuccess();
}

size_t count_ops(const Graph& g, const std::string& op_type, const std::string& domain) {
  size_t n = 0;
  for (const Node& node : g.nodes)
    if (node.op_type == op_type && (domain == "*" || node.domain == domain)) ++n;
  return n;
}

}  // namespace dnnf::test
