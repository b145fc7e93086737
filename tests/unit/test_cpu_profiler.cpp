// The CPU profiler behind "profile" verdicts: it times real generated kernels, and
// falls back to the analytic estimate (saying so) when no kernel can be generated.
#include <gtest/gtest.h>

#include "core/runtime/cpu_profiler.h"
#include "tests/support/rule_test_util.h"

namespace dnnf {
namespace {

TEST(CpuProfiler, TimesTheFusedAndTheSeparateKernels) {
  test::GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{64, 96});
  Tensor w(DType::F32, {96, 128});
  for (int64_t k = 0; k < w.numel(); ++k) w.set_f64(k, 0.01 * double(k % 13));
  const std::string m = b.node("MatMul", {x, b.constant("w", w)});
  const std::string y = b.node("Add", {m, b.constant("bias", Tensor(DType::F32, {128}))});
  b.output(y);
  const Model model = b.finish();
  auto profiler = make_cpu_profiler();
  const fusion::ProfileResult r = profiler->compare(model.graph, {model.graph.nodes[0].id}, model.graph.nodes[1].id);
  EXPECT_EQ(r.source, "measured");
  EXPECT_GT(r.fused_us, 0.0);
  EXPECT_GT(r.separate_us, 0.0);
}

// Verdicts are timed on one thread by its CPU clock (load on the machine does not move
// them), and stored under their own target so that wall-clock verdicts of older
// databases are not reused; more threads mean wall-clock timing under plain "cpu".
TEST(CpuProfiler, OneThreadByDefaultUnderItsOwnDatabaseTarget) {
  EXPECT_EQ(make_cpu_profiler()->target(), "cpu/1t-cputime");
  CpuProfilerOptions two;
  two.threads = 2;
  EXPECT_EQ(make_cpu_profiler(two)->target(), "cpu");
}

TEST(CpuProfiler, FallsBackToTheEstimateWithoutAKernel) {
  test::GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{3, 8});
  const std::string e = b.node("Exp", {x});
  b.node("TopK", {e, b.constant("k", Tensor::vector_i64({2}))}, {{"axis", Attribute::from_int(1)}}, 2);
  b.output("TopK_1");
  const Model model = b.finish();
  auto profiler = make_cpu_profiler();
  const fusion::ProfileResult r = profiler->compare(model.graph, {model.graph.nodes[0].id}, model.graph.nodes[1].id);
  EXPECT_NE(r.source.find("estimate"), std::string::npos) << r.source;
  EXPECT_NE(r.source.find("TopK"), std::string::npos) << r.source;
}

}  // namespace
}  // namespace dnnf
