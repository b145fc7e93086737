// Whole-model rewriting: every shared and small zoo model keeps its outputs (rtol 1e-4)
// after all rules; the journal replays to the same graph and survives JSON.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/ir/shape_inference.h"
#include "core/onnx_io/onnx_import.h"
#include "tests/support/rule_test_util.h"
#include "tests/support/model_test_util.h"
#include "tests/support/test_util.h"

namespace fs = std::filesystem;
using namespace dnnf;

namespace {

std::vector<std::string> model_files() {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(fs::path(test::test_data_dir()) / "models" / "zoo_small"))
    if (e.path().extension() == ".onnx") files.push_back(e.path().string());
  const std::string shared = test::shared_models_dir();
  if (!shared.empty())
    for (const char* sub : {"cnn", "detect", "transformer"})
      for (const auto& e : fs::directory_iterator(fs::path(shared) / sub))
        if (e.path().extension() == ".onnx") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

class RewriteModel : public testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(RewriteModel, OutputsUnchangedAfterAllRules) {
  const Model original = test::load_inferred(GetParam());
  test::RuleRun r = test::run_all_rules(original);
  EXPECT_LE(r.summary.nodes_after, r.summary.nodes_before);
  EXPECT_LE(r.summary.flops_after, r.summary.flops_before * (1 + 1e-9));
  EXPECT_TRUE(test::outputs_agree(original, r.after, 1e-4, 1e-5));
}

INSTANTIATE_TEST_SUITE_P(All, RewriteModel, testing::ValuesIn(model_files()), test::model_test_name);

TEST(RewriteJournal, ReplayReproducesTheRewrittenGraph) {
  std::vector<std::string> models = {
      (fs::path(test::test_data_dir()) / "models/zoo_small/efficientnet_b0_small.onnx").string(),
      (fs::path(test::test_data_dir()) / "models/zoo_small/bert_base_small.onnx").string()};
  const std::string shared = test::shared_models_dir();
  if (!shared.empty()) {
    models.push_back(shared + "/transformer/bert_toy_unfused.onnx");
    models.push_back(shared + "/detect/ultraface-version-RFB-320.onnx");
  }
  for (const std::string& path : models) {
    SCOPED_TRACE(path);
    const Model original = test::load_inferred(path);
    test::RuleRun r = test::run_all_rules(original);
    ASSERT_FALSE(r.journal.steps.empty());
    // Through JSON, as the CLI writes it and the Studio reads it.
    const Journal reread = Journal::from_json(nlohmann::json::parse(r.journal.to_json().dump()));
    ASSERT_EQ(reread.steps.size(), r.journal.steps.size());
    Model replayed = original;
    rewrite::replay_rewrites(replayed.graph, reread);
    test::expect_same_graph(replayed.graph, r.after.graph);
  }
}

TEST(RewriteJournal, MalformedJournalIsAnError) {
  EXPECT_THROW(Journal::from_json(nlohmann::json::parse(R"({"format":"other"})")), Error);
  EXPECT_THROW(Journal::from_json(nlohmann::json::parse(R"({"format":"dnnf-journal-1","steps":[{"stage":1}]})")),
               Error);
}
