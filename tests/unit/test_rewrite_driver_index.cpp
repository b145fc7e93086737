// The rewrite driver keeps one index of the graph (producers, consumers in graph order,
// read counts, subgraph reads) up to date across every applied rewrite instead of
// rebuilding it. These tests check that index against a fresh one after every step on
// real models, and that stepwise journal replay (what the Studio does) reproduces the
// driver's graph exactly, also when it restarts from a copy taken mid-sweep.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/ir/shape_inference.h"
#include "core/onnx_io/onnx_import.h"
#include "tests/support/rule_test_util.h"
#include "tests/support/model_test_util.h"
#include "tests/support/test_util.h"

namespace fs = std::filesystem;
using namespace dnnf;
using dnnf::test::GraphBuilder;

namespace {

std::vector<std::string> index_models() {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(fs::path(test::test_data_dir()) / "models" / "zoo_small"))
    if (e.path().extension() == ".onnx") files.push_back(e.path().string());
  const std::string shared = test::shared_models_dir();
  if (!shared.empty())
    for (const char* m : {"transformer/bert_toy_unfused.onnx", "transformer/gpt2_past.onnx",
                          "transformer/TFBertForQuestionAnswering.onnx", "detect/ultraface-version-RFB-320.onnx",
                          "detect/yolox_nano.onnx", "cnn/light_shufflenet.onnx"})
      if (fs::exists(fs::path(shared) / m)) files.push_back((fs::path(shared) / m).string());
  std::sort(files.begin(), files.end());
  return files;
}

class RewriteIndex : public testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(RewriteIndex, StaysCurrentThroughEveryRewrite) {
  Model m = test::load_inferred(GetParam());
  rewrite::RewriteOptions options;
  options.check_index = true;
  Journal journal;
  rewrite::RewriteSummary s;
  ASSERT_NO_THROW(s = rewrite::run_rewrites(m.graph, &journal, options));
  // The check ran after every step; the same run without it gives the same graph.
  Model again = test::load_inferred(GetParam());
  Journal journal2;
  rewrite::run_rewrites(again.graph, &journal2);
  EXPECT_EQ(journal.to_json(), journal2.to_json());
  test::expect_same_graph(m.graph, again.graph);
  EXPECT_EQ(s.nodes_after, int64_t(m.graph.nodes.size()));
}

INSTANTIATE_TEST_SUITE_P(Models, RewriteIndex, testing::ValuesIn(index_models()), test::model_test_name);

TEST(RewriteIndexSmall, GraphOutputRenamedThroughItsNewProducer) {
  // Identity in front of a graph output: its input's producer is renamed to the output
  // name (the driver's rename path), then Relu(Relu) stays; the index follows.
  GraphBuilder b(13);
  auto x = b.input("x", DType::F32, Shape{2, 3});
  auto r1 = b.node("Relu", {x});
  auto id = b.node("Identity", {r1});
  b.node("Neg", {r1});  // a second reader of the renamed value, dead afterwards
  b.output(id);
  Model m = b.finish();
  const Model before = m;
  rewrite::RewriteOptions options;
  options.check_index = true;
  Journal journal;
  ASSERT_NO_THROW(rewrite::run_rewrites(m.graph, &journal, options));
  ASSERT_FALSE(journal.steps.empty());
  EXPECT_EQ(test::count_ops(m.graph, "Identity"), 0u);
  ASSERT_EQ(m.graph.nodes.size(), 1u);
  EXPECT_EQ(m.graph.nodes[0].op_type, "Relu");
  EXPECT_EQ(m.graph.nodes[0].outputs[0], id);  // the graph output kept its name
  EXPECT_TRUE(test::outputs_agree(before, m));
}

TEST(RewriteReplayer, StepByStepFromMidSweepCopiesMatchesTheDriver) {
  const std::string shared = test::shared_models_dir();
  std::vector<std::string> models = {
      (fs::path(test::test_data_dir()) / "models/zoo_small/bert_base_small.onnx").string()};
  if (!shared.empty()) models.push_back(shared + "/transformer/bert_toy_unfused.onnx");
  for (const std::string& path : models) {
    SCOPED_TRACE(path);
    const Model original = test::load_inferred(path);
    Model driven = original;
    Journal journal;
    rewrite::run_rewrites(driven.graph, &journal);
    ASSERT_GT(journal.steps.size(), 10u);

    // Replay one step at a time; every 7 steps continue on a copy of the graph with a
    // new replayer told the sweep it is in, as the Studio does from its snapshots.
    auto graph = std::make_unique<Graph>(original.graph);
    auto replayer = std::make_unique<rewrite::RewriteReplayer>(*graph);
    for (size_t i = 0; i < journal.steps.size(); ++i) {
      ASSERT_NO_THROW(replayer->apply(journal.steps[i])) << "step " << i;
      if (i % 7 == 6) {
        auto copy = std::make_unique<Graph>(*graph);
        const int64_t sweep = replayer->sweep();
        replayer = std::make_unique<rewrite::RewriteReplayer>(*copy, sweep);
        graph = std::move(copy);
      }
    }
    replayer->finish();
    test::expect_same_graph(*graph, driven.graph);

    // The whole-journal replay gives the same graph too.
    Model replayed = original;
    rewrite::replay_rewrites(replayed.graph, journal);
    test::expect_same_graph(replayed.graph, driven.graph);
  }
}

TEST(RewriteReplayer, StepThatNoLongerMatchesIsAnError) {
  GraphBuilder b(13);
  auto x = b.input("x", DType::F32, Shape{2, 3});
  b.output(b.node("Relu", {b.node("Identity", {x})}));
  Model m = b.finish();
  Journal journal;
  Model driven = m;
  rewrite::run_rewrites(driven.graph, &journal);
  ASSERT_FALSE(journal.steps.empty());
  rewrite::RewriteReplayer replayer(m.graph);
  replayer.apply(journal.steps[0]);
  // The same step again: its root node is gone.
  EXPECT_THROW(replayer.apply(journal.steps[0]), Error);
}
