#include "tests/support/model_test_util.h"

#include <cctype>
#include <filesystem>

#include "core/ir/shape_inference.h"
#include "core/onnx_io/onnx_import.h"

namespace dnnf::test {

std::string model_test_name(const testing::TestParamInfo<std::string>& info) {
  std::string s = std::filesystem::path(info.param).stem().string();
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

Model load_inferred(const std::string& path) {
  Model m = onnx_io::load_model(path);
  infer_shapes(m.graph);
  return m;
}

void expect_same_graph(const Graph& a, const Graph& b) {
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    EXPECT_EQ(a.nodes[i].id, b.nodes[i].id) << i;
    EXPECT_EQ(a.nodes[i].op_type, b.nodes[i].op_type) << i;
    EXPECT_EQ(a.nodes[i].inputs, b.nodes[i].inputs) << i;
    EXPECT_EQ(a.nodes[i].outputs, b.nodes[i].outputs) << i;
  }
  std::vector<std::string> ia, ib;
  for (const auto& [k, t] : a.initializers) ia.push_back(k);
  for (const auto& [k, t] : b.initializers) ib.push_back(k);
  EXPECT_EQ(ia, ib);
}

fusion::FusionPlan analytic_plan(Model& m, bool fusion, const std::string& target) {
  PipelineOptions po;
  po.rewrite = false;
  po.fusion = fusion;
  po.target = target;
  po.use_db = false;
  po.measure = false;
  return run_pipeline(m, po).plan;
}

}  // namespace dnnf::test
