// The interpreter plan of export bundles (interp.txt, kernels/bundle/interp): the text
// round-trips every attribute kind and nested subgraphs, the reader (the same source the
// bundles compile) turns bad or truncated files into one-line errors, and the bundle's
// interpreter runs a plan with imports, weights and an If subgraph like the reference
// executor.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>

#include "core/export/interp_plan_builder.h"
#include "core/runtime/reference_executor.h"
#include "core/util/error.h"
#include "kernels/bundle/interp/host_interpreter.cpp"  // NOLINT: the bundle's interpreter, built into this test
#include "kernels/bundle/interp/interp_plan.h"

namespace dnnf {
namespace {

using dnnf_bundle::InterpPlan;
using dnnf_bundle::read_interp_plan;
using dnnf_bundle::write_interp_plan;

Tensor f32(Shape s, std::vector<float> v) { return Tensor::from_vector(DType::F32, std::move(s), v); }

// A subgraph with its own constant, opset, symbolic and unknown-rank types.
std::shared_ptr<Graph> branch(const std::string& name, float add) {
  auto g = std::make_shared<Graph>();
  g->name = name;
  g->opsets[""] = 17;
  g->initializers["c " + name] = f32({1}, {add});
  Node n;
  n.op_type = "Add";
  n.name = name + "/add";
  n.inputs = {"x", "c " + name};  // "x" comes from the enclosing graph
  n.outputs = {name + "_out"};
  g->add_node(n);
  g->outputs.push_back({name + "_out", TensorType(DType::F32, std::vector<Dim>{Dim::sym("n%")})});
  g->value_types[name + "_out"] = TensorType::unknown_shape(DType::F32);
  return g;
}

InterpPlan every_kind_plan() {
  InterpPlan p;
  p.weights_bytes = 128;
  p.weights.push_back({"w", DType::I64, {2}, 64});
  p.imports.push_back({"x", DType::F32, {3}});
  p.imports.push_back({"cond", DType::Bool, {}});
  p.graph.name = "top graph";
  p.graph.opsets[""] = 17;
  p.graph.opsets["com.microsoft"] = 1;
  Node n;
  n.id = 40;
  n.op_type = "Custom";
  n.domain = "dnnf.test";
  n.name = "node with spaces % and \xc3\xa9";
  n.inputs = {"x", "", "w"};
  n.outputs = {"y", ""};
  n.attrs["f"] = Attribute::from_float(-1.5e-7f);
  n.attrs["i"] = Attribute::from_int(-9007199254740993);
  n.attrs["s"] = Attribute::from_string("");
  n.attrs["s2"] = Attribute::from_string("a b\nc~");
  n.attrs["t"] = Attribute::from_tensor(f32({2, 2}, {1, -2, 3.25f, 1e30f}));
  Tensor strings(DType::String, {2});
  strings.strings() = {"", "two words"};
  Attribute ts;
  ts.kind = Attribute::Kind::Tensors;
  ts.tensors = {strings, Tensor(DType::I8, {0}), Tensor::scalar_i64(7)};
  n.attrs["tensors"] = ts;
  n.attrs["floats"] = Attribute::from_floats({0.1f, -0.0f, 3e38f});
  n.attrs["ints"] = Attribute::from_ints({});
  Attribute ss;
  ss.kind = Attribute::Kind::Strings;
  ss.strings = {"x", "", "%41"};
  n.attrs["strings"] = ss;
  n.attrs["g"] = Attribute::from_graph(branch("then", 1));
  Attribute gs;
  gs.kind = Attribute::Kind::Graphs;
  gs.graphs = {branch("g0", 2), branch("g1", 3)};
  n.attrs["graphs"] = gs;
  p.graph.nodes.push_back(n);
  p.graph.value_types["y"] = TensorType(DType::F32, std::vector<Dim>{Dim(3), Dim::sym("")});
  p.steps = {{0}, {0, 0}};
  return p;
}

TEST(BundleInterpPlan, EveryAttributeKindAndSubgraphsRoundTrip) {
  const InterpPlan p = every_kind_plan();
  const std::string text = write_interp_plan(p);
  const InterpPlan q = read_interp_plan(text);
  EXPECT_EQ(write_interp_plan(q), text);  // and stable
  ASSERT_EQ(q.graph.nodes.size(), 1u);
  const Node& n = q.graph.nodes[0];
  EXPECT_EQ(n.id, 40);
  EXPECT_EQ(n.name, p.graph.nodes[0].name);
  EXPECT_EQ(n.domain, "dnnf.test");
  EXPECT_EQ(n.inputs, (std::vector<std::string>{"x", "", "w"}));
  EXPECT_EQ(n.outputs, (std::vector<std::string>{"y", ""}));
  EXPECT_EQ(n.attrs.at("f").f, -1.5e-7f);
  EXPECT_EQ(n.attrs.at("i").i, -9007199254740993);
  EXPECT_EQ(n.attrs.at("s").s, "");
  EXPECT_EQ(n.attrs.at("s2").s, "a b\nc~");
  EXPECT_EQ(n.attrs.at("t").t.shape(), (Shape{2, 2}));
  EXPECT_EQ(n.attrs.at("t").t.to_f32_vector(), (std::vector<float>{1, -2, 3.25f, 1e30f}));
  const Attribute& ts = n.attrs.at("tensors");
  ASSERT_EQ(ts.tensors.size(), 3u);
  EXPECT_EQ(ts.tensors[0].strings(), (std::vector<std::string>{"", "two words"}));
  EXPECT_EQ(ts.tensors[1].dtype(), DType::I8);
  EXPECT_EQ(ts.tensors[1].numel(), 0);
  EXPECT_EQ(ts.tensors[2].get_i64(0), 7);
  EXPECT_EQ(ts.tensors[2].rank(), 0);
  EXPECT_EQ(n.attrs.at("floats").floats, (std::vector<float>{0.1f, -0.0f, 3e38f}));
  EXPECT_TRUE(std::signbit(n.attrs.at("floats").floats[1]));
  EXPECT_EQ(n.attrs.at("ints").kind, Attribute::Kind::Ints);
  EXPECT_TRUE(n.attrs.at("ints").ints.empty());
  EXPECT_EQ(n.attrs.at("strings").strings, (std::vector<std::string>{"x", "", "%41"}));
  const Graph& then = *n.attrs.at("g").g;
  EXPECT_EQ(then.name, "then");
  EXPECT_EQ(then.opset(""), 17);
  EXPECT_EQ(then.initializers.at("c then").to_f32_vector(), std::vector<float>{1});
  EXPECT_EQ(then.outputs[0].type.dims[0].symbol, "n%");
  EXPECT_FALSE(then.value_types.at("then_out").has_shape);
  ASSERT_EQ(n.attrs.at("graphs").graphs.size(), 2u);
  EXPECT_EQ(n.attrs.at("graphs").graphs[1]->nodes[0].name, "g1/add");
  EXPECT_EQ(q.graph.opset("com.microsoft"), 1);
  EXPECT_EQ(q.graph.value_types.at("y").dims[1].symbol, "");
  EXPECT_FALSE(q.graph.value_types.at("y").dims[1].known());
  EXPECT_EQ(q.weights[0].offset, 64u);
  EXPECT_EQ(q.imports[1].dtype, DType::Bool);
  EXPECT_EQ(q.steps, p.steps);
  // Every line splits on single spaces: no name leaks a space or a line break.
  for (size_t i = 0, j; i < text.size(); i = j + 1) {
    j = text.find('\n', i);
    const std::string line = text.substr(i, j - i);
    EXPECT_EQ(line.find("  "), std::string::npos) << line;
    EXPECT_NE(line.back(), ' ') << line;
  }
}

// The error of reading `text`, which must be one line naming interp.txt.
std::string read_error(const std::string& text) {
  try {
    read_interp_plan(text);
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_EQ(m.rfind("interp.txt", 0), 0u) << m;
    return m;
  }
  return "";
}

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

TEST(BundleInterpPlan, BadPlansAreOneLineErrors) {
  const std::string good = write_interp_plan(every_kind_plan());
  EXPECT_NE(read_error("").find("not a dnnf interpreter plan"), std::string::npos);
  EXPECT_NE(read_error("dnnf-vulkan-plan 1\n").find("not a dnnf interpreter plan"), std::string::npos);
  // One damage to the good plan per row: the text replaced, and what the error must say.
  struct Damage {
    const char *from, *to, *says;
  };
  const Damage damages[] = {
      {"dnnf-interp-plan 1", "dnnf-interp-plan 9", "version 9"},
      {"step 1 0", "step 1 7", "node index 7 out of range"},
      {"weight w int64 64", "weight w int64 120", "outside weights.bin"},
      {" float32 2 2 2 0000803f", " float32 2 2 2 0000803", "needs 16 bytes"},
      {"attr f f", "attr f q", "unknown attribute kind 'q'"},
      {"import x float32", "import x float99", "unknown element type"},
      {"graph then", "graph th%4", "bad escape"},
      {"import x float32 1 3", "import x float32 1 -3", "negative dimension"},
      {"import x float32 1 3", "import x float32 1 3 ", "empty token"},
      {"attr i i -9007199254740993", "attr i i 99999999999999999999", "bad int"},
      // A huge count is refused before anything is allocated.
      {"float32 2 2 2 0000803f", "float32 2 100000000 100000000 0000803f", "needs"},
  };
  for (const Damage& d : damages)
    EXPECT_NE(read_error(replaced(good, d.from, d.to)).find(d.says), std::string::npos) << d.from << " -> " << d.to;
}

TEST(BundleInterpPlan, TruncatedPlansAreOneLineErrorsNotCrashes) {
  const std::string good = write_interp_plan(every_kind_plan());
  const size_t graph_end = good.rfind("\nend\n");  // the top-level graph's last line
  ASSERT_NE(graph_end, std::string::npos);
  for (size_t cut = 0; cut < good.size(); ++cut) {
    const std::string text = good.substr(0, cut);
    try {
      read_interp_plan(text);
      EXPECT_GT(cut, graph_end) << "a plan cut inside its graph was accepted at byte " << cut;
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_EQ(m.find('\n'), std::string::npos) << m;
      EXPECT_EQ(m.rfind("interp.txt", 0), 0u) << m;
    }
  }
}

// Add of an import and a weight, then an If choosing between two subgraphs that read an
// enclosing value: the bundle's interpreter gives what the reference executor gives.
TEST(BundleInterpPlan, InterpreterRunsStepsWithImportsWeightsAndSubgraphs) {
  Graph g;
  g.name = "m";
  g.opsets[""] = 17;
  g.inputs.push_back({"a", TensorType(DType::F32, Shape{3})});
  g.inputs.push_back({"cond", TensorType(DType::Bool, Shape{})});
  g.initializers["w"] = f32({3}, {10, 20, 30});
  Node add;
  add.op_type = "Add";
  add.inputs = {"a", "w"};
  add.outputs = {"x"};
  g.add_node(add);
  Node iff;
  iff.op_type = "If";
  iff.inputs = {"cond"};
  iff.outputs = {"y"};
  iff.attrs["then_branch"] = Attribute::from_graph(branch("then", 1));
  iff.attrs["else_branch"] = Attribute::from_graph(branch("else", -1));
  g.add_node(iff);
  g.outputs.push_back({"y", TensorType::unknown_shape(DType::F32)});
  for (const char* v : {"a", "x"}) g.value_types[v] = TensorType(DType::F32, Shape{3});
  g.value_types["cond"] = TensorType(DType::Bool, Shape{});

  std::map<std::string, Tensor> no_constants;
  exporter::WeightsWriter weights;
  weights.add("unrelated", f32({1}, {0}));
  exporter::InterpPlanBuilder builder(g, no_constants, weights);
  builder.add_step({g.nodes[0].id});
  builder.add_step({g.nodes[1].id});
  EXPECT_TRUE(builder.computes("x"));
  EXPECT_TRUE(builder.computes("y"));
  ASSERT_EQ(builder.imports().size(), 2u);  // a, cond: "x" is computed, "w" a weight
  const std::string text = write_interp_plan(builder.finish());

  auto interp = dnnf_bundle::make_host_interpreter(text, weights.bytes().data(), weights.bytes().size());
  ASSERT_EQ(interp->num_steps(), 2u);
  for (bool cond : {true, false}) {
    const Tensor a = f32({3}, {1, 2, 3});
    int fetched = 0;
    interp->begin_run([&](const std::string& name, const std::string& dtype, const std::vector<int64_t>& shape,
                          void* dst) {
      ++fetched;
      if (name == "a") {
        EXPECT_EQ(dtype, "float32");
        EXPECT_EQ(shape, (std::vector<int64_t>{3}));
        std::memcpy(dst, a.raw(), a.nbytes());
      } else {
        ASSERT_EQ(name, "cond");
        *static_cast<bool*>(dst) = cond;
      }
    });
    interp->run_step(0);
    interp->run_step(1);
    EXPECT_EQ(fetched, 2);
    dnnf_bundle::HostValue y;
    ASSERT_TRUE(interp->value("y", &y));
    EXPECT_EQ(y.dtype, "float32");
    EXPECT_EQ(y.shape, (std::vector<int64_t>{3}));
    Tensor c(DType::Bool, {});
    *c.data<bool>() = cond;
    const TensorMap ref = ReferenceExecutor(g).run({{"a", a}, {"cond", c}});
    ASSERT_EQ(y.bytes, int64_t(ref.at("y").nbytes()));
    EXPECT_EQ(std::memcmp(y.data, ref.at("y").raw(), size_t(y.bytes)), 0);
    EXPECT_FALSE(interp->value("a", &y));  // an import is the target's, not the interpreter's
  }
  // A weights.bin of another size: refused when the model is created.
  EXPECT_THROW(dnnf_bundle::make_host_interpreter(text, weights.bytes().data(), 64), Error);
}

}  // namespace
}  // namespace dnnf
