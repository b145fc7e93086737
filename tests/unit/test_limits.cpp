// Limits (core/util/limits.h): parsing NAME=VALUE, and every limit refusing what is over
// it with one line naming the limit, its value and the offending tensor, file or node.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>


#include "core/ir/graph.h"
#include "core/ir/shape_inference.h"
#include "core/journal/journal.h"
#include "core/onnx_io/onnx_import.h"
#include "core/onnx_io/onnx_proto_detail.h"
#include "core/onnx_io/tensor_io.h"
#include "core/runtime/memory_plan.h"
#include "core/util/error.h"
#include "core/util/limits.h"
#include "tests/support/test_util.h"

namespace fs = std::filesystem;
using namespace dnnf;

namespace {

// Sets limits for one test and puts the previous ones back at its end.
class LimitsGuard {
 public:
  explicit LimitsGuard(const std::string& assignments) : saved_(limits()) {
    Limits l = saved_;
    apply_limit_list(assignments, l);
    set_limits(l);
  }
  ~LimitsGuard() { set_limits(saved_); }

 private:
  Limits saved_;
};

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
}

// Runs fn, expects a one-line dnnf::Error holding every needle.
void expect_error(const std::function<void()>& fn, const std::vector<std::string>& needles) {
  try {
    fn();
    ADD_FAILURE() << "expected a dnnf::Error containing '" << needles.front() << "'";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "multi-line message: " << msg;
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << "'" << n << "' not in: " << msg;
  }
}

void set_type(onnx::ValueInfoProto* v, const std::string& name, const std::vector<int64_t>& dims) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  auto* s = t->mutable_shape();
  for (int64_t d : dims) s->add_dim()->set_dim_value(d);
}

onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, const std::vector<std::string>& in,
                          const std::vector<std::string>& out) {
  auto* n = g->add_node();
  n->set_op_type(op);
  for (const auto& i : in) n->add_input(i);
  for (const auto& o : out) n->add_output(o);
  return n;
}

onnx::ModelProto base_model() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* os = m.add_opset_import();
  os->set_domain("");
  os->set_version(13);
  m.mutable_graph()->set_name("g");
  return m;
}

std::string serialize(const onnx::ModelProto& m) {
  std::string s;
  m.SerializeToString(&s);
  return s;
}

// x[2,3] -> Relu -> y, with an unused [n] float initializer "w" (n values 0.5).
onnx::ModelProto relu_model(int64_t n_weights = 4) {
  onnx::ModelProto m = base_model();
  auto* g = m.mutable_graph();
  set_type(g->add_input(), "x", {2, 3});
  set_type(g->add_output(), "y", {2, 3});
  add_node(g, "Relu", {"x"}, {"y"});
  auto* w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(n_weights);
  for (int64_t i = 0; i < n_weights; ++i) w->add_float_data(0.5f);
  return m;
}

// x -> If(then: If(then: ... Identity(x))) -> y, `depth` Ifs nested (subgraphs at
// depths 1..depth below the main graph).
onnx::ModelProto nested_if_model(int depth) {
  onnx::ModelProto m = base_model();
  auto* g = m.mutable_graph();
  set_type(g->add_input(), "x", {2});
  auto* c = g->add_input();
  c->set_name("c");
  c->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::BOOL);
  c->mutable_type()->mutable_tensor_type()->mutable_shape();
  set_type(g->add_output(), "y", {2});
  onnx::GraphProto* outer = g;
  std::string out = "y";
  for (int level = 1; level <= depth; ++level) {
    auto* iff = add_node(outer, "If", {"c"}, {out});
    onnx::GraphProto* branch = nullptr;
    for (const char* name : {"then_branch", "else_branch"}) {
      auto* a = iff->add_attribute();
      a->set_name(name);
      a->set_type(onnx::AttributeProto::GRAPH);
      auto* sg = a->mutable_g();
      sg->set_name(std::string(name) + std::to_string(level));
      const std::string sub_out = "o" + std::to_string(level) + name;
      set_type(sg->add_output(), sub_out, {2});
      if (std::string(name) == "else_branch" || level == depth) {
        add_node(sg, "Identity", {"x"}, {sub_out});
      } else {
        branch = sg;
        out = sub_out;
      }
    }
    if (!branch) break;
    outer = branch;
  }
  return m;
}

}  // namespace

TEST(Limits, ParsesNamesValuesAndSuffixes) {
  Limits l;
  apply_limit_list("tensor-elements=1000,plan-memory=512M,subgraph-depth=3", l);
  EXPECT_EQ(l.tensor_elements, 1000);
  EXPECT_EQ(l.plan_memory, int64_t(512) << 20);
  EXPECT_EQ(l.subgraph_depth, 3);
  apply_limit_list("model-file=2G,tensor-file=4k,journal-file=1T,external-data=7", l);
  EXPECT_EQ(l.model_file, int64_t(2) << 30);
  EXPECT_EQ(l.tensor_file, 4096);
  EXPECT_EQ(l.journal_file, int64_t(1) << 40);
  EXPECT_EQ(l.external_data, 7);

  Limits untouched;
  expect_error([&] { apply_limit_list("bogus=1", untouched); }, {"unknown limit 'bogus'", "tensor-elements"});
  expect_error([&] { apply_limit_list("tensor-elements", untouched); }, {"'tensor-elements' is not NAME=VALUE"});
  for (const char* bad : {"tensor-elements=0", "tensor-elements=-5", "tensor-elements=12x",
                          "tensor-elements=", "tensor-elements=1.5", "tensor-elements=K"})
    expect_error([&] { apply_limit_list(bad, untouched); }, {"limit tensor-elements"});
  expect_error([&] { apply_limit_list("plan-memory=99999999999T", untouched); }, {"too large"});
  EXPECT_EQ(untouched.tensor_elements, Limits().tensor_elements);

  // Every field has exactly one row, and limit_value reads the limits in force.
  std::vector<std::string> names;
  for (const LimitInfo& info : limit_table()) names.push_back(info.name);
  EXPECT_EQ(names.size(), 7u);
  LimitsGuard guard("journal-file=1234");
  EXPECT_EQ(limit_value("journal-file"), 1234);
  EXPECT_EQ(limits().journal_file, 1234);
}

TEST(Limits, TensorElementsForConstantsInputsAndInferredShapes) {
  LimitsGuard guard("tensor-elements=100");
  expect_error([] { Tensor(DType::F32, Shape{10, 11}); },
               {"has 110 elements (float32)", "tensor-elements=100", "--limit tensor-elements=N"});
  EXPECT_NO_THROW(Tensor(DType::F32, Shape{10, 10}));

  // An initializer over the limit is refused by name before its data is converted.
  expect_error([] { onnx_io::parse_model(serialize(relu_model(101)), "", "big_w.onnx"); },
               {"big_w.onnx", "initializer 'w'", "101 elements", "tensor-elements=100"});
  EXPECT_NO_THROW(onnx_io::parse_model(serialize(relu_model(100)), "", "ok.onnx"));

  // A graph input, and an inferred value (broadcast [10,1] + [1,20]), over the limit.
  {
    onnx::ModelProto m = base_model();
    auto* g = m.mutable_graph();
    set_type(g->add_input(), "a", {10, 1});
    set_type(g->add_input(), "b", {1, 20});
    set_type(g->add_output(), "s", {10, 20});
    add_node(g, "Add", {"a", "b"}, {"s"})->set_name("the_add");
    Model model = onnx_io::parse_model(serialize(m), "", "bcast.onnx");
    expect_error([&] { infer_shapes(model.graph); }, {"the_add", "output 's'", "200 elements", "tensor-elements=100"});
    g->mutable_input(0)->Clear();
    set_type(g->mutable_input(0), "a", {10, 11});
    Model model2 = onnx_io::parse_model(serialize(m), "", "in.onnx");
    expect_error([&] { infer_shapes(model2.graph); }, {"graph input 'a'", "110 elements", "tensor-elements=100"});
  }
  // Dims whose product overflows int64 count as over the limit (no wrap-around).
  {
    Graph g;
    g.inputs.push_back({"x", TensorType(DType::F32, std::vector<Dim>{Dim(int64_t(1) << 40), Dim(int64_t(1) << 40)})});
    g.outputs.push_back({"x", g.inputs[0].type});
    EXPECT_EQ(g.inputs[0].type.numel_or(0), INT64_MAX);
    expect_error([&] { infer_shapes(g); }, {"graph input 'x'", "tensor-elements=100"});
  }
}

TEST(Limits, PlanMemoryCountsArenaAndWeights) {
  LimitsGuard guard("plan-memory=1K");
  EXPECT_NO_THROW(check_plan_memory(1000, 24, "plan 'p'"));
  expect_error([] { check_plan_memory(1000, 25, "the CPU plan of graph 'g'"); },
               {"the CPU plan of graph 'g'", "1025 bytes", "arena 1000", "weights 25", "plan-memory=1024 bytes"});
  // The arena itself comes from the memory plan: two 600-byte buffers alive together.
  const MemoryPlan mp = plan_memory({{0, 600, 0, 1}, {1, 600, 1, 2}});
  EXPECT_GT(mp.arena_bytes, 1024u);
  expect_error([&] { check_plan_memory(mp.arena_bytes, 0, "plan"); }, {"plan-memory=1024"});
}

TEST(Limits, SubgraphDepthForNestedIfAndFunctions) {
  const std::string three_deep = serialize(nested_if_model(3));
  {
    LimitsGuard guard("subgraph-depth=3");
    const Model m = onnx_io::parse_model(three_deep, "", "if3.onnx");
    EXPECT_EQ(count_nodes_recursive(m.graph), 7u);  // 3 Ifs, 4 Identities
  }
  {
    LimitsGuard guard("subgraph-depth=2");
    expect_error([&] { onnx_io::parse_model(three_deep, "", "if3.onnx"); },
                 {"if3.onnx", "subgraphs nest 3 levels deep", "subgraph-depth=2 levels"});
  }
  // A local function calling itself is stopped by the same limit.
  onnx::ModelProto m = base_model();
  auto* os = m.add_opset_import();
  os->set_domain("custom");
  os->set_version(1);
  auto* g = m.mutable_graph();
  set_type(g->add_input(), "x", {2});
  set_type(g->add_output(), "y", {2});
  add_node(g, "Loopy", {"x"}, {"y"})->set_domain("custom");
  auto* f = m.add_functions();
  f->set_name("Loopy");
  f->set_domain("custom");
  f->add_input("X");
  f->add_output("Y");
  auto* fo = f->add_opset_import();
  fo->set_domain("custom");
  fo->set_version(1);
  auto* call = f->add_node();
  call->set_op_type("Loopy");
  call->set_domain("custom");
  call->add_input("X");
  call->add_output("Y");
  LimitsGuard guard("subgraph-depth=5");
  expect_error([&] { onnx_io::parse_model(serialize(m), "", "recursive.onnx"); },
               {"recursive.onnx", "local function 'Loopy'", "6 levels deep", "subgraph-depth=5"});
}

TEST(Limits, FileSizes) {
  test::TempDir dir;
  // Model files (both the mapped path and parse_model on bytes).
  const std::string model_bytes = serialize(relu_model());
  const std::string model = dir.file("m.onnx");
  write_bytes(model, model_bytes);
  {
    LimitsGuard guard("model-file=16");
    expect_error([&] { onnx_io::load_model(model); },
                 {"m.onnx", std::to_string(model_bytes.size()) + " bytes", "model-file=16 bytes"});
    expect_error([&] { onnx_io::parse_model(model_bytes, "", "bytes.onnx"); }, {"bytes.onnx", "model-file=16"});
    onnx_io::ImportOptions bigger;
    bigger.max_file_bytes = int64_t(model_bytes.size());  // a caller's own limit wins
    EXPECT_NO_THROW(onnx_io::load_model(model, bigger));
  }
  EXPECT_NO_THROW(onnx_io::load_model(model));

  // Tensor files (.npy and .pb).
  const Tensor t = Tensor::from_vector<float>(DType::F32, Shape{16}, std::vector<float>(16, 1.0f));
  onnx_io::write_npy(t, dir.file("t.npy"));
  onnx_io::write_tensor_pb(t, "t", dir.file("t.pb"));
  {
    LimitsGuard guard("tensor-file=32");
    expect_error([&] { onnx_io::read_npy(dir.file("t.npy")); }, {"t.npy", "tensor-file=32 bytes"});
    expect_error([&] { onnx_io::read_tensor_file(dir.file("t.pb")); }, {"t.pb", "tensor-file=32 bytes"});
  }
  EXPECT_EQ(onnx_io::read_npy(dir.file("t.npy")).numel(), 16);

  // Journals.
  Journal j;
  j.model = "m.onnx";
  j.steps.push_back(JournalStep{});
  j.steps.back().stage = "rewrite";
  j.steps.back().rule = "some_rule";
  j.save(dir.file("j.json"));
  {
    LimitsGuard guard("journal-file=20");
    expect_error([&] { Journal::load(dir.file("j.json")); }, {"journal '", "j.json", "journal-file=20 bytes"});
  }
  EXPECT_EQ(Journal::load(dir.file("j.json")).steps.size(), 1u);

  // External data: a 64-byte weights file next to the model.
  onnx::ModelProto m = relu_model(0);
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->set_dims(0, 16);
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* loc = w->add_external_data();
  loc->set_key("location");
  loc->set_value("w.bin");
  write_bytes(dir.file("w.bin"), std::string(64, '\0'));
  write_bytes(dir.file("ext.onnx"), serialize(m));
  {
    LimitsGuard guard("external-data=63");
    expect_error([&] { onnx_io::load_model(dir.file("ext.onnx")); },
                 {"initializer 'w'", "w.bin", "is 64 bytes", "external-data=63 bytes"});
  }
  EXPECT_EQ(onnx_io::load_model(dir.file("ext.onnx")).graph.initializers.at("w").numel(), 16);
}
