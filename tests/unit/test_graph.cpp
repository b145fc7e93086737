// Graph IR: topological sort, cycles, undefined values, dead-code removal.
#include <gtest/gtest.h>

#include "core/ir/graph.h"
#include "core/util/error.h"

using namespace dnnf;

namespace {
Node make(const std::string& op, std::vector<std::string> in, std::vector<std::string> out) {
  Node n;
  n.op_type = op;
  n.name = out.empty() ? op : out[0];
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  return n;
}
}  // namespace

TEST(GraphIr, TopoSortReordersStably) {
  Graph g;
  g.inputs.push_back({"x", TensorType(DType::F32, Shape{2})});
  g.add_node(make("Relu", {"a"}, {"b"}));
  g.add_node(make("Neg", {"x"}, {"a"}));
  g.outputs.push_back({"b", {}});
  g.topo_sort();
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[0].op_type, "Neg");
  EXPECT_EQ(g.nodes[1].op_type, "Relu");
  EXPECT_EQ(g.nodes[0].id, 1);  // ids stay with their nodes
}

TEST(GraphIr, CycleIsAnErrorNamingANode) {
  Graph g;
  g.add_node(make("Relu", {"b"}, {"a"}));
  g.add_node(make("Neg", {"a"}, {"b"}));
  try {
    g.topo_sort();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cycle"), std::string::npos);
  }
}

TEST(GraphIr, UndefinedInputIsAnError) {
  Graph g;
  g.add_node(make("Relu", {"missing"}, {"a"}));
  EXPECT_THROW(g.topo_sort(), Error);
}

TEST(GraphIr, DeadNodesAndUnusedConstantsAreRemoved) {
  Graph g;
  g.inputs.push_back({"x", TensorType(DType::F32, Shape{2})});
  g.initializers["w"] = Tensor(DType::F32, {2});
  g.add_node(make("Relu", {"x"}, {"a"}));
  g.add_node(make("Add", {"x", "w"}, {"dead"}));
  g.outputs.push_back({"a", {}});
  EXPECT_EQ(g.remove_dead_nodes(), 1u);
  EXPECT_EQ(g.nodes.size(), 1u);
  EXPECT_TRUE(g.initializers.empty());
}

TEST(GraphIr, TensorSizeLimitIsEnforcedBeforeAllocating) {
  EXPECT_THROW(Tensor(DType::F32, Shape{int64_t(1) << 40}), Error);
}

TEST(GraphIr, HalfConversionRoundTrips) {
  for (float f : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f}) {
    EXPECT_EQ(half_to_float(float_to_half(f)), f) << f;
  }
}
