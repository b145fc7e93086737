// run_pipeline's unfused plan (PipelineOptions::fusion = false): one block per operator,
// and no composite operator either, since a composite rule merges several operators into
// one kernel. The other rewrites still run.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/pipeline/pipeline.h"
#include "core/runtime/compare.h"
#include "core/runtime/cpu_runtime.h"
#include "core/runtime/random_inputs.h"
#include "core/runtime/reference_executor.h"
#include "tests/support/rule_test_util.h"
#include "tests/support/test_util.h"

using namespace dnnf;
using test::count_ops;
using test::GraphBuilder;

namespace {

// y = GELU(Identity(x)) in PyTorch's exported form: Div, Erf, Add, Mul, Mul.
Model gelu_after_identity() {
  GraphBuilder g(13);
  const std::string x = g.node("Identity", {g.input("x", DType::F32, Shape{3, 17})});
  const std::string e = g.node("Erf", {g.node("Div", {x, g.scalar("sqrt2", 1.4142135f)})});
  g.output(g.node("Mul", {g.node("Mul", {x, g.node("Add", {e, g.scalar("one", 1.0f)})}), g.scalar("half", 0.5f)}));
  return g.finish();
}

struct Planned {
  Model model;
  PipelineResult result;
};

Planned plan(bool fusion, std::vector<std::string> disabled_rules = {}) {
  Planned p{gelu_after_identity(), {}};
  PipelineOptions po;
  po.fusion = fusion;
  po.use_db = false;
  po.measure = false;
  po.rewrite_options.disabled = std::move(disabled_rules);
  p.result = run_pipeline(p.model, po);
  return p;
}

size_t steps_of_family(const Journal& j, const std::string& family) {
  size_t n = 0;
  for (const JournalStep& s : j.steps) n += s.family == family;
  return n;
}

}  // namespace

TEST(PipelineUnfusedPlan, FusedPlanRecognisesTheComposite) {
  const Planned p = plan(true);
  EXPECT_EQ(count_ops(p.model.graph, "Gelu", "dnnf"), 1u);
  EXPECT_EQ(p.model.graph.nodes.size(), 1u);
  EXPECT_GE(steps_of_family(p.result.journal, "composite"), 1u);
}

TEST(PipelineUnfusedPlan, LeavesCompositeOperatorsDecomposedAndStillCleansUp) {
  const Planned p = plan(false);
  EXPECT_EQ(count_ops(p.model.graph, "Gelu", "dnnf"), 0u);
  EXPECT_EQ(steps_of_family(p.result.journal, "composite"), 0u);
  EXPECT_EQ(count_ops(p.model.graph, "Identity"), 0u) << "cleanup rules run in both plans";
  EXPECT_EQ(p.model.graph.nodes.size(), 5u);
  EXPECT_EQ(p.result.plan.blocks.size(), 5u);
}

TEST(PipelineUnfusedPlan, KeepsTheRulesTheCallerDisabled) {
  const Planned p = plan(false, {"remove-identity"});
  EXPECT_EQ(count_ops(p.model.graph, "Identity"), 1u);
  EXPECT_EQ(count_ops(p.model.graph, "Gelu", "dnnf"), 0u);
}

TEST(PipelineUnfusedPlan, BothPlansComputeTheReferenceResult) {
  const Model original = gelu_after_identity();
  RandomInputOptions ri;
  ri.seed = 3;
  const TensorMap inputs = make_random_inputs(original.graph, ri);
  const Tensor want = ReferenceExecutor(original.graph).run(inputs).at(original.graph.outputs[0].name);
  for (bool fusion : {true, false}) {
    Planned p = plan(fusion);
    CpuProgram program(p.model.graph, p.result.plan, {});
    const Tensor got = program.run(inputs).at(original.graph.outputs[0].name);
    const CompareResult c = compare_tensors(got, want, {1e-5, 1e-6});
    EXPECT_TRUE(c.ok) << (fusion ? "fused: " : "unfused: ") << c.message;
  }
}
