// Helpers for tests parameterised over model files: readable test names, loading with
// shapes inferred, and comparing two graph states node by node.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "core/ir/graph.h"

namespace dnnf::test {

// The file's stem with every non-alphanumeric character as '_' (a valid gtest name).
std::string model_test_name(const testing::TestParamInfo<std::string>& info);
// onnx_io::load_model, then infer_shapes.
Model load_inferred(const std::string& path);
// Same node order, ids, op types and wiring, and the same initializer names.
void expect_same_graph(const Graph& a, const Graph& b);

}  // namespace dnnf::test
