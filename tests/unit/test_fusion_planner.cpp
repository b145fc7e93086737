// The fusion planner: every cell of the mapping-type table decides the edge between
// two operators, a diamond that would create a cycle does not fuse, the database makes
// a second run profile nothing, and the journal replays to the same plan.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/codegen/block_codegen.h"
#include "core/codegen/chains.h"
#include "core/fusion/fusion_db.h"
#include "core/fusion/mapping_table.h"
#include "core/fusion/planner.h"
#include "core/ir/shape_inference.h"
#include "core/onnx_io/onnx_import.h"
#include "core/rewrite/driver.h"
#include "tests/support/rule_test_util.h"
#include "tests/support/test_util.h"

using namespace dnnf;
using namespace dnnf::fusion;
using dnnf::test::GraphBuilder;

namespace {

// Appends one operator of the given mapping type reading `x` (any rank >= 1).
std::string op_of_type(GraphBuilder& b, MappingType t, const std::string& x, int k) {
  switch (t) {
    case MappingType::OneToOne: return b.node("Relu", {x});
    case MappingType::OneToMany:
      return b.node("Expand", {x, b.constant("expand_shape" + std::to_string(k), Tensor::vector_i64({2, 1, 1}))});
    case MappingType::ManyToMany: return b.node("Softmax", {x}, {{"axis", Attribute::from_int(-1)}});
    case MappingType::Reorganize:
      return b.node("Reshape", {x, b.constant("reshape_shape" + std::to_string(k), Tensor::vector_i64({-1, 2}))});
    case MappingType::Shuffle: return b.node("Transpose", {x});
  }
  return "";
}

// A profiler with a fixed answer, counting how often it is asked.
class FixedProfiler : public BlockProfiler {
 public:
  explicit FixedProfiler(bool fused_faster) : fused_faster_(fused_faster) {}
  std::string target() const override { return "test"; }
  ProfileResult compare(const Graph&, const std::vector<NodeId>&, NodeId) override {
    ++calls;
    return {fused_faster_ ? 1.0 : 3.0, 2.0, "measured"};
  }
  int calls = 0;

 private:
  bool fused_faster_;
};

const MappingType kTypes[] = {MappingType::OneToOne, MappingType::OneToMany, MappingType::ManyToMany,
                              MappingType::Reorganize, MappingType::Shuffle};

}  // namespace

TEST(FusionTable, HasTwentyFiveCellsAndTwoBreaks) {
  EXPECT_EQ(fusion_table().size(), 25u);
  int breaks = 0;
  for (const auto& c : fusion_table()) breaks += c.verdict == Verdict::Break;
  EXPECT_EQ(breaks, 2);
  EXPECT_EQ(fusion_cell(MappingType::ManyToMany, MappingType::ManyToMany).verdict, Verdict::Break);
  EXPECT_EQ(fusion_cell(MappingType::OneToMany, MappingType::ManyToMany).verdict, Verdict::Break);
  EXPECT_EQ(fusion_cell(MappingType::Shuffle, MappingType::Reorganize).fused, MappingType::Reorganize);
}

TEST(FusionPlanner, EveryTableCellDecidesTheEdge) {
  for (MappingType first : kTypes)
    for (MappingType second : kTypes)
      for (bool fused_faster : {true, false}) {
        const FusionCell& cell = fusion_cell(first, second);
        if (cell.verdict != Verdict::Profile && !fused_faster) continue;
        SCOPED_TRACE(std::string(mapping_type_name(first)) + " -> " + mapping_type_name(second) +
                     (fused_faster ? " (fused faster)" : " (fused slower)"));
        GraphBuilder b;
        const std::string x = b.input("x", DType::F32, Shape{3, 4});
        const std::string a = op_of_type(b, first, x, 0);
        const std::string c = op_of_type(b, second, a, 1);
        b.output(c);
        Model m = b.finish();
        ASSERT_EQ(m.graph.nodes.size(), 2u);
        FixedProfiler profiler(fused_faster);
        PlannerOptions o;
        o.profiler = &profiler;
        Journal j;
        const FusionPlan plan = plan_fusion(m.graph, o, &j);
        const bool together = plan.block_of.at(m.graph.nodes[0].id) == plan.block_of.at(m.graph.nodes[1].id);
        const bool expect = cell.verdict == Verdict::Fuse || (cell.verdict == Verdict::Profile && fused_faster);
        EXPECT_EQ(together, expect);
        EXPECT_EQ(plan.fused_layers(), expect ? 1u : 2u);
        EXPECT_EQ(profiler.calls, cell.verdict == Verdict::Profile ? 1 : 0);
        if (expect) EXPECT_EQ(plan.blocks[0].type, cell.fused);
      }
}

TEST(FusionPlanner, DiamondThatWouldCreateACycleDoesNotFuse) {
  // a = Relu(x); s = Softmax(a); m = MatMul(s, W); c = Add(a, m).
  // {a, s} is one block; putting c in it too would make block -> MatMul -> block.
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{4, 4});
  const std::string a = b.node("Relu", {x});
  const std::string s = b.node("Softmax", {a}, {{"axis", Attribute::from_int(-1)}});
  const std::string mm = b.node("MatMul", {s, b.constant("w", Tensor(DType::F32, {4, 4}))});
  b.output(b.node("Add", {a, mm}));
  Model m = b.finish();
  Journal j;
  const FusionPlan plan = plan_fusion(m.graph, PlannerOptions{}, &j);
  const auto& n = m.graph.nodes;
  EXPECT_EQ(plan.block_of.at(n[0].id), plan.block_of.at(n[1].id));
  EXPECT_NE(plan.block_of.at(n[0].id), plan.block_of.at(n[3].id));
  bool cycle_logged = false;
  for (const auto& st : j.steps) cycle_logged |= !st.accepted && st.reason.find("cycle") != std::string::npos;
  EXPECT_TRUE(cycle_logged);
  // Blocks are in a topological order: every block's inputs come from earlier blocks.
  std::map<std::string, int> produced_by;
  for (const auto& blk : plan.blocks) {
    for (const auto& in : blk.inputs)
      if (produced_by.count(in)) EXPECT_LT(produced_by[in], blk.id);
    for (NodeId id : blk.nodes)
      for (const auto& o : m.graph.find_node(id)->outputs) produced_by[o] = blk.id;
  }
}

// The squeeze-excitation shape of EfficientNet: c = Conv(x); r = Relu(c); the excitation
// GlobalAveragePool(r) -> Conv -> Sigmoid scales r in Mul(r, s). r is read twice, so it is
// written whatever the plan; walking successors first would put Relu with the pool and
// leave c alone, writing c too. Relu walks to its producer first instead.
Model squeeze_excitation(bool relu_read_twice) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1, 4, 8, 8});
  const std::string c = b.node("Conv", {x, b.constant("w", Tensor(DType::F32, {4, 4, 1, 1}))});
  const std::string r = b.node("Relu", {c});
  const std::string p = b.node("GlobalAveragePool", {r});
  const std::string f = b.node("Conv", {p, b.constant("w2", Tensor(DType::F32, {4, 4, 1, 1}))});
  const std::string s = b.node("Sigmoid", {f});
  b.output(relu_read_twice ? b.node("Mul", {r, s}) : s);
  return b.finish();
}

std::string seed_walk(const Journal& j, NodeId seed) {
  for (const auto& st : j.steps)
    if (st.rule == "seed" && st.details.value("candidate", NodeId(-1)) == seed)
      return st.details.value("walk", std::string());
  return "";
}

TEST(FusionPlanner, SeedReadTwiceJoinsItsManyToManyProducerFirst) {
  Model m = squeeze_excitation(true);
  Journal j;
  const FusionPlan plan = plan_fusion(m.graph, PlannerOptions{}, &j);
  const auto& n = m.graph.nodes;  // Conv, Relu, GlobalAveragePool, Conv, Sigmoid, Mul
  ASSERT_EQ(n.size(), 6u);
  EXPECT_EQ(plan.block_of.at(n[0].id), plan.block_of.at(n[1].id));  // Relu is the Conv's epilogue
  EXPECT_NE(plan.block_of.at(n[1].id), plan.block_of.at(n[2].id));
  EXPECT_EQ(seed_walk(j, n[1].id), "predecessors first");
  // The replayed journal gives the same plan.
  const FusionPlan replayed = plan_from_journal(m.graph, j, plan.target);
  for (const auto& node : n) EXPECT_EQ(replayed.block_of.at(node.id), plan.block_of.at(node.id)) << node.op_type;
}

TEST(FusionPlanner, SeedReadOnceKeepsThePapersSuccessorsFirstWalk) {
  Model m = squeeze_excitation(false);
  Journal j;
  const FusionPlan plan = plan_fusion(m.graph, PlannerOptions{}, &j);
  const auto& n = m.graph.nodes;
  ASSERT_EQ(n.size(), 5u);
  EXPECT_EQ(plan.block_of.at(n[1].id), plan.block_of.at(n[2].id));  // Relu feeds the pool in registers
  EXPECT_NE(plan.block_of.at(n[0].id), plan.block_of.at(n[1].id));
  EXPECT_EQ(seed_walk(j, n[1].id), "successors first");
}

// A target that reads a broadcast Mul through (PlannerOptions::reads_through) overrides
// the table's One-to-Many -> Many-to-Many break for that edge only; Many-to-Many +
// Many-to-Many stays broken whatever the hook says.
TEST(FusionPlanner, ReadsThroughOverridesOnlyTheOneToManyBreak) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1, 4, 6, 6});
  const std::string g = b.input("g", DType::F32, Shape{1, 4, 1, 1});
  const std::string p = b.node("Mul", {x, g});
  const std::string c1 = b.node("Conv", {p, b.constant("w1", Tensor(DType::F32, {4, 4, 1, 1}))});
  b.output(b.node("Conv", {c1, b.constant("w2", Tensor(DType::F32, {4, 4, 1, 1}))}));
  Model m = b.finish();
  const auto& n = m.graph.nodes;  // Mul, Conv, Conv
  for (const bool hook : {false, true}) {
    SCOPED_TRACE(hook ? "reads through" : "no hook");
    PlannerOptions o;
    if (hook) o.reads_through = [](const Node& consumer, const std::string&) { return consumer.op_type == "Conv"; };
    Journal j;
    const FusionPlan plan = plan_fusion(m.graph, o, &j);
    EXPECT_EQ(plan.block_of.at(n[0].id) == plan.block_of.at(n[1].id), hook);
    EXPECT_NE(plan.block_of.at(n[1].id), plan.block_of.at(n[2].id));
    bool overridden = false;
    for (const auto& st : j.steps) overridden |= st.accepted && st.reason.rfind("target overrides a break", 0) == 0;
    EXPECT_EQ(overridden, hook);
  }
}

// Pointwise Conv -> Relu -> depthwise Conv -> Relu: the table breaks Many-to-Many +
// Many-to-Many, so there are two blocks, unless the target runs the depthwise Conv per
// channel group of the pointwise one: then one block, a "chain" step says why, and the
// journal replays to the same plan. A Relu output read outside the pair (here: a graph
// output) keeps the blocks apart.
TEST(FusionPlanner, ChainJoinsADepthwiseConvToThePointwiseConvFeedingIt) {
  for (const bool leak : {false, true}) {
    GraphBuilder b;
    const std::string x = b.input("x", DType::F32, Shape{1, 4, 6, 6});
    const std::string e = b.node("Relu", {b.node("Conv", {x, b.constant("w1", Tensor(DType::F32, {8, 4, 1, 1}))})});
    b.output(b.node("Relu", {b.node("Conv", {e, b.constant("w2", Tensor(DType::F32, {8, 1, 3, 3}))},
                                    {{"group", Attribute::from_int(8)}, {"pads", Attribute::from_ints({1, 1, 1, 1})}})}));
    if (leak) b.output(e);
    Model m = b.finish();
    const auto& n = m.graph.nodes;  // Conv, Relu, Conv, Relu
    for (const bool hook : {false, true}) {
      SCOPED_TRACE(std::string(hook ? "chains" : "no hook") + (leak ? ", expanded tensor is an output" : ""));
      PlannerOptions o;
      // As the C++ generator does: a Conv reads its input from memory, so the first Relu
      // is the first Conv's epilogue, not the second's prologue.
      o.operand_in_memory = [](const Node& consumer, const std::string&) { return consumer.op_type == "Conv"; };
      if (hook)
        o.chains = [](const Node& p, const Node& d) {
          return std::string(p.op_type == "Conv" && d.op_type == "Conv" ? "chains" : "");
        };
      Journal j;
      const FusionPlan plan = plan_fusion(m.graph, o, &j);
      const bool joined = plan.block_of.at(n[0].id) == plan.block_of.at(n[2].id);
      EXPECT_EQ(joined, hook && !leak);
      EXPECT_EQ(plan.block_of.at(n[0].id), plan.block_of.at(n[1].id));
      EXPECT_EQ(plan.block_of.at(n[2].id), plan.block_of.at(n[3].id));
      int chain_steps = 0, accepted = 0;
      for (const auto& st : j.steps)
        if (st.rule == "chain") ++chain_steps, accepted += st.accepted;
      EXPECT_EQ(chain_steps, hook ? 1 : 0);
      EXPECT_EQ(accepted, joined ? 1 : 0);
      const FusionPlan replayed = plan_from_journal(m.graph, j, "cpu");
      EXPECT_EQ(replayed.block_of, plan.block_of);
    }
  }
}

// An Add broadcasting a constant bias over the product is One-to-Many by its shapes, yet
// element i of its output reads element i of the product: it may sit between two chained
// Many-to-Many operators. Broadcasting a graph input instead keeps the blocks apart.
TEST(FusionPlanner, ChainTakesABiasAddButNotABroadcastInput) {
  for (const bool bias_is_input : {false, true}) {
    SCOPED_TRACE(bias_is_input ? "bias is a graph input" : "bias is a constant");
    GraphBuilder b;
    const std::string x = b.input("x", DType::F32, Shape{1, 16, 8});
    const std::string bias =
        bias_is_input ? b.input("b", DType::F32, Shape{32}) : b.constant("b", Tensor(DType::F32, {32}));
    const std::string h = b.node("MatMul", {x, b.constant("w1", Tensor(DType::F32, {8, 32}))});
    const std::string e = b.node("Relu", {b.node("Add", {h, bias})});
    b.output(b.node("MatMul", {e, b.constant("w2", Tensor(DType::F32, {32, 4}))}));
    Model m = b.finish();
    const auto& n = m.graph.nodes;  // MatMul, Add, Relu, MatMul
    PlannerOptions o;
    o.operand_in_memory = [](const Node& consumer, const std::string&) { return consumer.op_type == "MatMul"; };
    o.chains = [](const Node& p, const Node& c) {
      return std::string(p.op_type == "MatMul" && c.op_type == "MatMul" ? "chains" : "");
    };
    Journal j;
    const FusionPlan plan = plan_fusion(m.graph, o, &j);
    EXPECT_EQ(plan.block_of.at(n[0].id), plan.block_of.at(n[2].id));
    EXPECT_EQ(plan.block_of.at(n[0].id) == plan.block_of.at(n[3].id), !bias_is_input);
    std::string reason;
    for (const auto& st : j.steps)
      if (st.rule == "chain") reason = st.reason;
    if (bias_is_input) EXPECT_NE(reason.find("not chained: Add"), std::string::npos) << reason;
    else EXPECT_EQ(reason.find("not chained"), std::string::npos) << reason;
    EXPECT_EQ(plan_from_journal(m.graph, j, "cpu").block_of, plan.block_of);
  }
}

// With the C++ target's own hooks, an Attention's block takes in the blocks of its query
// and value projections (two chain steps, one block), not the keys' (read transposed,
// codegen/head_chain.h); the journal replays to the same plan.
TEST(FusionPlanner, AttentionChainsItsQueryAndValueProjections) {
  const int64_t S = 16, H = 2, D = 4, E = H * D;
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{1, S, E});
  std::vector<std::string> proj;
  for (const char* name : {"q", "k", "v"}) {
    const std::string p = b.node("Add", {b.node("MatMul", {x, b.constant(std::string(name) + "w", Tensor(DType::F32, {E, E}))}),
                                         b.constant(std::string(name) + "b", Tensor(DType::F32, {E}))});
    const std::string r = b.node("Reshape", {p, b.constant(std::string(name) + "s", Tensor::vector_i64({1, S, H, D}))});
    const std::vector<int64_t> perm = std::string(name) == "k" ? std::vector<int64_t>{0, 2, 3, 1}
                                                               : std::vector<int64_t>{0, 2, 1, 3};
    proj.push_back(b.node("Transpose", {r}, {{"perm", Attribute::from_ints(perm)}}));
  }
  const std::string att = b.node("Attention", proj, {{"scale", Attribute::from_float(0.5f)}}, 1, "dnnf");
  const std::string merged = b.node("Reshape", {b.node("Transpose", {att}, {{"perm", Attribute::from_ints({0, 2, 1, 3})}}),
                                                b.constant("ms", Tensor::vector_i64({1, S, E}))});
  b.output(b.node("Add", {merged, x}));  // the residual holds x anyway
  Model m = b.finish();
  PlannerOptions o;
  const Graph& g = m.graph;
  o.operand_in_memory = [&g](const Node& c, const std::string& v) { return codegen::operand_in_memory(g, c, v); };
  o.chains = [&g](const Node& p, const Node& c) { return codegen::chain_reason(g, p, c); };
  Journal j;
  const FusionPlan plan = plan_fusion(g, o, &j);
  auto block_of_op = [&](const std::string& out) {
    for (const Node& n : g.nodes)
      if (n.outputs[0] == out) return plan.block_of.at(n.id);
    return -1;
  };
  int accepted = 0;
  for (const auto& st : j.steps) accepted += st.rule == "chain" && st.accepted;
  EXPECT_EQ(accepted, 2);
  std::map<std::string, int> matmul_block;
  for (const Node& n : g.nodes)
    if (n.op_type == "MatMul") matmul_block[n.inputs[1]] = plan.block_of.at(n.id);
  EXPECT_EQ(matmul_block["qw"], block_of_op(att));
  EXPECT_EQ(matmul_block["vw"], block_of_op(att));
  EXPECT_NE(matmul_block["kw"], block_of_op(att));
  EXPECT_EQ(plan_from_journal(g, j, "cpu").block_of, plan.block_of);
}

TEST(FusionPlanner, OutputLimitStopsGrowth) {
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{8});
  const std::string r = b.node("Relu", {x});
  for (int i = 0; i < 5; ++i) b.output(b.node("Neg", {b.node("Exp", {r})}));
  Model m = b.finish();
  PlannerOptions o;
  o.limits.max_block_outputs = 2;
  const FusionPlan plan = plan_fusion(m.graph, o, nullptr);
  for (const auto& blk : plan.blocks) EXPECT_LE(blk.outputs.size(), 2u);
}

TEST(FusionDatabaseTest, SecondRunProfilesNothingAndPlansTheSame) {
  test::TempDir dir;
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{16, 16});
  const std::string mm = b.node("MatMul", {x, b.constant("w", Tensor(DType::F32, {16, 16}))});
  const std::string t = b.node("Transpose", {mm});
  b.output(b.node("Reshape", {t, b.constant("s", Tensor::vector_i64({-1}))}));
  Model m = b.finish();
  FixedProfiler inner(true);
  FusionPlan first, second;
  {
    FusionDatabase db(dir.file("fusion.db"));
    auto cached = make_cached_profiler(db, inner);
    PlannerOptions o;
    o.profiler = cached.get();
    first = plan_fusion(m.graph, o, nullptr);
  }
  const int calls_first = inner.calls;
  EXPECT_GT(calls_first, 0);
  {
    FusionDatabase db(dir.file("fusion.db"));
    EXPECT_GT(db.stats().entries, 0);
    auto cached = make_cached_profiler(db, inner);
    PlannerOptions o;
    o.profiler = cached.get();
    second = plan_fusion(m.graph, o, nullptr);
    EXPECT_EQ(db.stats().misses, 0);
  }
  EXPECT_EQ(inner.calls, calls_first);  // nothing profiled the second time
  ASSERT_EQ(first.blocks.size(), second.blocks.size());
  for (size_t i = 0; i < first.blocks.size(); ++i) EXPECT_EQ(first.blocks[i].nodes, second.blocks[i].nodes);
}

TEST(FusionDatabaseTest, ClearEmptiesIt) {
  test::TempDir dir;
  FusionDatabase db(dir.file("f.db"));
  db.store("sig", "cpu", {1, 2, "measured"});
  EXPECT_EQ(db.stats().entries, 1);
  db.clear();
  EXPECT_EQ(db.stats().entries, 0);
  EXPECT_FALSE(db.lookup("sig").has_value());
}

TEST(FusionJournal, ReplayReproducesThePlanOnBert) {
  const std::string path =
      (std::filesystem::path(test::test_data_dir()) / "models/zoo_small/bert_base_small.onnx").string();
  Model m = onnx_io::load_model(path);
  InferOptions io;
  io.bind_dims = {{"", 1}};
  for (auto& in : m.graph.inputs)
    for (auto& d : in.type.dims)
      if (!d.known()) io.bind_dims[d.symbol] = 1;
  infer_shapes(m.graph, io);
  rewrite::run_rewrites(m.graph, nullptr);
  Journal j;
  const FusionPlan plan = plan_fusion(m.graph, PlannerOptions{}, &j);
  size_t decisions = 0;
  for (const auto& s : j.steps) decisions += s.stage == "fusion";
  EXPECT_GT(decisions, plan.blocks.size() / 2);
  const Journal reread = Journal::from_json(nlohmann::json::parse(j.to_json().dump()));
  const FusionPlan again = plan_from_journal(m.graph, reread, "cpu");
  ASSERT_EQ(again.blocks.size(), plan.blocks.size());
  for (size_t i = 0; i < plan.blocks.size(); ++i) EXPECT_EQ(again.blocks[i].nodes, plan.blocks[i].nodes) << i;
  EXPECT_LT(plan.fused_layers(), m.graph.nodes.size());
}
