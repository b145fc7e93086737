// Helpers for tests parameterised over model files: readable test names, loading with
// shapes inferred, comparing two graph states node by node, and reproducible plans.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "core/ir/graph.h"
#include "core/pipeline/pipeline.h"

namespace dnnf::test {

// The file's stem with every non-alphanumeric character as '_' (a valid gtest name).
std::string model_test_name(const testing::TestParamInfo<std::string>& info);
// onnx_io::load_model, then infer_shapes.
Model load_inferred(const std::string& path);
// Same node order, ids, op types and wiring, and the same initializer names.
void expect_same_graph(const Graph& a, const Graph& b);
// The plan of `m` as it stands (no rewriting), from the analytic estimate and no fusion
// database: reproducible and the same on every machine.
fusion::FusionPlan analytic_plan(Model& m, bool fusion = true, const std::string& target = "cpu");

}  // namespace dnnf::test
