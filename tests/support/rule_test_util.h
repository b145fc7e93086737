// Test harness for rewrite rules: build a small model, run one rule (plus dead-code
// cleanup), check whether it fired, and compare reference outputs before and after.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/rewrite/driver.h"

namespace dnnf::test {

class GraphBuilder {
 public:
  explicit GraphBuilder(int64_t opset = 17);
  // Graph input; returns its name.
  std::string input(const std::string& name, DType dtype, const Shape& shape);
  std::string input(const std::string& name, DType dtype, const std::vector<Dim>& dims);
  // Initializer; returns its name.
  std::string constant(const std::string& name, const Tensor& value);
  std::string scalar(const std::string& name, float v);
  // Adds a node; returns the name of its first output (outputs are named "<op>_<k>").
  std::string node(const std::string& op, const std::vector<std::string>& inputs,
                   const std::map<std::string, Attribute>& attrs = {}, size_t num_outputs = 1,
                   const std::string& domain = "");
  void output(const std::string& value);
  // Runs shape inference and returns the model.
  Model finish();

 private:
  Model model_;
  int counter_ = 0;
};

struct RuleRun {
  bool fired = false;
  Model before, after;
  rewrite::RewriteSummary summary;
  Journal journal;
};

// Runs only `rule` (and dead-code cleanup unless `cleanup` is false) to a fixed point.
RuleRun run_rule(const Model& model, const std::string& rule, bool cleanup = true);
// Runs every rule.
RuleRun run_all_rules(const Model& model);

// Reference outputs of two models agree on the same seeded random inputs.
testing::AssertionResult outputs_agree(const Model& a, const Model& b, double rtol = 1e-4, double atol = 1e-5,
                                       uint64_t seed = 1);

size_t count_ops(const Graph& g, const std::string& op_type, const std::string& domain = "*");

}  // namespace dnnf::test
