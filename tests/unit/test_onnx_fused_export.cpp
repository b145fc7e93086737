// Fused ONNX export: fused blocks become calls of model-local functions (identical
// blocks share one, blocks differing in an attribute do not), constants stay
// initializers passed as call inputs, the file re-imports (dnnf inlines the calls) to a
// graph that computes what the original does, and the bytes are reproducible.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/export/onnx_export_job.h"
#include "core/export/onnx_fused_export.h"
#include "core/ir/shape_inference.h"
#include "core/onnx_io/onnx_export.h"
#include "core/onnx_io/onnx_import.h"
#include "core/onnx_io/onnx_proto_detail.h"
#include "core/util/error.h"
#include "tests/support/rule_test_util.h"
#include "tests/support/test_util.h"

using namespace dnnf;
using dnnf::test::GraphBuilder;
using dnnf::test::TempDir;

namespace {

struct ChainModel {
  Model model;
  std::vector<std::string> outputs;  // one per chain
};

// Three independent chains Mul(x, s) -> Add(b) -> LeakyRelu(alpha) -> Tanh; the first
// two are identical up to names, the third differs only in LeakyRelu's alpha.
ChainModel chain_model() {
  GraphBuilder b;
  ChainModel m;
  const float alphas[] = {0.1f, 0.1f, 0.3f};
  for (int k = 0; k < 3; ++k) {
    const std::string ks = std::to_string(k);
    const std::string x = b.input("x" + ks, DType::F32, Shape{2, 16});
    std::vector<float> sv(16), bv(16);
    for (int i = 0; i < 16; ++i) {
      sv[size_t(i)] = 0.5f + 0.1f * float(i + k);
      bv[size_t(i)] = -0.4f + 0.05f * float(i - k);
    }
    const std::string s = b.constant("scale" + ks, Tensor::from_vector(DType::F32, Shape{16}, sv));
    const std::string bias = b.constant("bias" + ks, Tensor::from_vector(DType::F32, Shape{16}, bv));
    const std::string mul = b.node("Mul", {x, s});
    const std::string add = b.node("Add", {mul, bias});
    const std::string act = b.node("LeakyRelu", {add}, {{"alpha", Attribute::from_float(alphas[k])}});
    const std::string out = b.node("Tanh", {act});
    b.output(out);
    m.outputs.push_back(out);
  }
  m.model = b.finish();
  return m;
}

PipelineOptions deterministic_options() {
  PipelineOptions o;
  o.measure = false;  // the analytic estimate: the same plan on every run
  o.use_db = false;
  return o;
}

onnx::ModelProto parse(const std::string& bytes) {
  onnx::ModelProto mp;
  EXPECT_TRUE(mp.ParseFromString(bytes));
  return mp;
}

const onnx::NodeProto* call_producing(const onnx::ModelProto& mp, const std::string& value) {
  for (const auto& n : mp.graph().node())
    for (const auto& o : n.output())
      if (o == value) return &n;
  return nullptr;
}

const onnx::FunctionProto* function_named(const onnx::ModelProto& mp, const std::string& name) {
  for (const auto& f : mp.functions())
    if (f.name() == name) return &f;
  return nullptr;
}

std::string metadata(const onnx::ModelProto& mp, const std::string& key) {
  for (const auto& kv : mp.metadata_props())
    if (kv.key() == key) return kv.value();
  return "<missing>";
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST(OnnxFusedExport, BlocksBecomeSharedFunctionCalls) {
  const ChainModel cm = chain_model();
  Model model = cm.model;
  const PipelineResult result = run_pipeline(model, deterministic_options());
  size_t multi_blocks = 0, fused_nodes = 0;
  for (const auto& b : result.plan.blocks)
    if (b.nodes.size() > 1) ++multi_blocks, fused_nodes += b.nodes.size();
  ASSERT_GE(multi_blocks, 3u) << "each chain should fuse";

  exporter::FusedExportStats stats;
  const onnx::ModelProto mp = parse(exporter::serialize_fused_model(model, result, {}, &stats));
  EXPECT_EQ(stats.calls, multi_blocks);
  EXPECT_EQ(size_t(mp.graph().node_size()), model.graph.nodes.size() - fused_nodes + multi_blocks);
  EXPECT_EQ(stats.graph_nodes, size_t(mp.graph().node_size()));
  EXPECT_GE(mp.ir_version(), 8);

  bool imports_domain = false;
  for (const auto& os : mp.opset_import()) imports_domain |= os.domain() == "dnnf.fused" && os.version() == 1;
  EXPECT_TRUE(imports_domain);

  const onnx::NodeProto* c0 = call_producing(mp, cm.outputs[0]);
  const onnx::NodeProto* c1 = call_producing(mp, cm.outputs[1]);
  const onnx::NodeProto* c2 = call_producing(mp, cm.outputs[2]);
  ASSERT_TRUE(c0 && c1 && c2);
  for (const auto* c : {c0, c1, c2}) {
    EXPECT_EQ(c->domain(), "dnnf.fused");
    EXPECT_NE(c->doc_string().find("LeakyRelu"), std::string::npos) << c->doc_string();
  }
  // Identical chains share a body; the chain with another alpha has its own.
  EXPECT_EQ(c0->op_type(), c1->op_type());
  EXPECT_NE(c0->op_type(), c2->op_type());
  EXPECT_EQ(stats.functions, size_t(mp.functions_size()));
  EXPECT_LT(stats.functions, stats.calls);

  // Constants stay initializers and reach the body as call inputs.
  std::set<std::string> initializers;
  for (const auto& t : mp.graph().initializer()) initializers.insert(t.name());
  EXPECT_TRUE(initializers.count("scale2") && initializers.count("bias2"));
  bool passes_scale = false;
  for (const auto& in : c2->input()) passes_scale |= in == "scale2";
  EXPECT_TRUE(passes_scale);

  const onnx::FunctionProto* f2 = function_named(mp, c2->op_type());
  ASSERT_NE(f2, nullptr);
  EXPECT_EQ(f2->domain(), "dnnf.fused");
  EXPECT_EQ(f2->input_size(), c2->input_size());
  EXPECT_EQ(f2->output_size(), c2->output_size());
  ASSERT_EQ(f2->opset_import_size(), 1);
  EXPECT_EQ(f2->opset_import(0).domain(), "");
  EXPECT_EQ(f2->opset_import(0).version(), 17);
  float alpha = -1;
  for (const auto& n : f2->node())
    if (n.op_type() == "LeakyRelu")
      for (const auto& a : n.attribute())
        if (a.name() == "alpha") alpha = a.f();
  EXPECT_FLOAT_EQ(alpha, 0.3f);

  EXPECT_EQ(metadata(mp, "dnnf.fused_layers"), std::to_string(result.plan.fused_layers()));
  EXPECT_EQ(metadata(mp, "dnnf.fused_calls"), std::to_string(multi_blocks));
  EXPECT_EQ(metadata(mp, "dnnf.nodes_before"), std::to_string(result.summary.nodes_before));
  EXPECT_NE(metadata(mp, "dnnf.version"), "<missing>");
  EXPECT_EQ(metadata(mp, "dnnf.rewrites").front(), '{');
}

TEST(OnnxFusedExport, ReimportComputesTheOriginalOutputs) {
  const ChainModel cm = chain_model();
  Model model = cm.model;
  const PipelineResult result = run_pipeline(model, deterministic_options());
  const std::string bytes = exporter::serialize_fused_model(model, result);

  Model again = onnx_io::parse_model(bytes, "", "exported.onnx");
  for (const Node& n : again.graph.nodes) EXPECT_NE(n.domain, "dnnf.fused") << n.label();
  EXPECT_EQ(again.graph.nodes.size(), model.graph.nodes.size());
  infer_shapes(again.graph);
  EXPECT_TRUE(test::outputs_agree(cm.model, again));

  // A re-imported export exports again (its stale domain import is not in the way).
  const PipelineResult second = run_pipeline(again, deterministic_options());
  EXPECT_NO_THROW(exporter::serialize_fused_model(again, second));
}

TEST(OnnxFusedExport, SameInputGivesSameBytes) {
  const ChainModel cm = chain_model();
  Model a = cm.model, b = cm.model;
  const PipelineResult ra = run_pipeline(a, deterministic_options());
  const PipelineResult rb = run_pipeline(b, deterministic_options());
  exporter::FusedExportOptions o;
  o.source_name = "/some/dir/chains.onnx";
  o.source_hash = "0123";
  const std::string first = exporter::serialize_fused_model(a, ra, o);
  EXPECT_EQ(first, exporter::serialize_fused_model(a, ra, o));
  EXPECT_EQ(first, exporter::serialize_fused_model(b, rb, o));
  const onnx::ModelProto mp = parse(first);
  EXPECT_EQ(metadata(mp, "dnnf.source_model"), "chains.onnx");  // no directory
  EXPECT_EQ(first.find("/some/dir"), std::string::npos);
}

TEST(OnnxFusedExport, SaveIsAtomicAndRefusesForeignPlans) {
  const ChainModel cm = chain_model();
  Model model = cm.model;
  const PipelineResult result = run_pipeline(model, deterministic_options());
  TempDir dir;
  const std::string path = dir.file("out.onnx");
  const exporter::FusedExportStats st = exporter::save_fused_model(model, result, path);
  const std::string bytes = read_file(path);
  EXPECT_EQ(bytes, exporter::serialize_fused_model(model, result));
  EXPECT_EQ(st.bytes, bytes.size());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_THROW(exporter::save_fused_model(model, result, dir.file("missing/out.onnx")), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("missing")));

  // The hash is of the file's bytes.
  EXPECT_EQ(exporter::hash_model_file(path).size(), 32u);
  EXPECT_EQ(exporter::hash_model_file(path), exporter::hash_model_file(path));

  // A plan made for another graph names nodes this one lacks.
  GraphBuilder other;
  const std::string x = other.input("x", DType::F32, Shape{4});
  other.output(other.node("Relu", {x}));
  const Model small = other.finish();
  try {
    exporter::serialize_fused_model(small, result);
    FAIL() << "a foreign plan was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("another graph"), std::string::npos) << e.what();
  }
}

TEST(OnnxFusedExport, PortableUnlessDnnfOpsAreKept) {
  // x * 0.5 * (1 + Erf(x / sqrt(2))): gelu-from-erf turns it into dnnf.Gelu.
  GraphBuilder b;
  const std::string x = b.input("x", DType::F32, Shape{2, 8});
  const std::string e = b.node("Erf", {b.node("Div", {x, b.scalar("sqrt2", 1.4142135f)})});
  const std::string m = b.node("Mul", {x, b.node("Add", {e, b.scalar("one", 1.0f)})});
  b.output(b.node("Mul", {m, b.scalar("half", 0.5f)}));
  const Model original = b.finish();

  for (bool keep : {false, true}) {
    SCOPED_TRACE(keep ? "kept" : "portable");
    Model model = original;
    PipelineOptions o = deterministic_options();
    if (!keep) o.rewrite_options.disabled = exporter::rules_creating_dnnf_ops();
    const PipelineResult result = run_pipeline(model, o);
    const onnx::ModelProto mp = parse(exporter::serialize_fused_model(model, result));
    size_t dnnf_nodes = 0;
    for (const auto& n : mp.graph().node()) dnnf_nodes += n.domain() == "dnnf";
    for (const auto& f : mp.functions())
      for (const auto& n : f.node()) dnnf_nodes += n.domain() == "dnnf";
    EXPECT_EQ(dnnf_nodes > 0, keep);
    EXPECT_EQ(metadata(mp, "dnnf.dnnf_domain_ops"), keep ? "Gelu" : "<missing>");
    Model again = onnx_io::parse_model(exporter::serialize_fused_model(model, result), "", "gelu.onnx");
    infer_shapes(again.graph);
    EXPECT_TRUE(test::outputs_agree(original, again));
  }
}

// The job behind `dnnf export --target onnx` and the Studio's export dialog: it writes
// what serialize_fused_model makes of the same pipeline, reports every stage, and a
// job cancelled by its progress callback (the Studio's cancel) leaves no file behind.
TEST(OnnxFusedExport, ExportJobWritesFileOrNothing) {
  const ChainModel cm = chain_model();
  TempDir dir;
  const std::string source = dir.file("chains.onnx");
  onnx_io::save_model(cm.model, source);
  exporter::OnnxExportRequest request;
  request.model_path = source;
  request.output_path = dir.file("chains.fused.onnx");
  request.use_db = false;
  request.measure = false;
  std::vector<std::string> stages;
  const exporter::OnnxExportReport r = exporter::export_onnx_model(request, [&](const std::string& s, size_t, size_t) {
    if (stages.empty() || stages.back() != s) stages.push_back(s);
  });
  EXPECT_EQ(stages, (std::vector<std::string>{"rewriting", "planning fusion", "writing"}));
  const std::string bytes = read_file(request.output_path);
  EXPECT_EQ(r.stats.bytes, bytes.size());
  EXPECT_EQ(r.stats.calls, 3u);  // one fused call per chain
  EXPECT_EQ(r.nodes_before, int64_t(cm.model.graph.nodes.size()));
  EXPECT_EQ(metadata(parse(bytes), "dnnf.source_model"), "chains.onnx");
  Model again = onnx_io::parse_model(bytes, "", "chains.fused.onnx");
  infer_shapes(again.graph);
  EXPECT_TRUE(test::outputs_agree(cm.model, again));

  for (const char* cancel_at : {"planning fusion", "writing"}) {
    SCOPED_TRACE(cancel_at);
    exporter::OnnxExportRequest cancelled = request;
    cancelled.output_path = dir.file(std::string("cancelled-") + cancel_at + ".onnx");
    EXPECT_THROW(exporter::export_onnx_model(cancelled, [&](const std::string& s, size_t, size_t) {
      if (s == cancel_at) throw Error("cancelled");
    }), Error);
    EXPECT_FALSE(std::filesystem::exists(cancelled.output_path));
    EXPECT_FALSE(std::filesystem::exists(cancelled.output_path + ".tmp"));
  }
  exporter::OnnxExportRequest missing = request;
  missing.model_path = dir.file("absent.onnx");
  missing.output_path = dir.file("absent.fused.onnx");
  EXPECT_THROW(exporter::export_onnx_model(missing), Error);
  EXPECT_FALSE(std::filesystem::exists(missing.output_path));
}

TEST(OnnxFusedExport, CheckerAcceptsExport) {
  if (std::system("/usr/bin/python3 -c 'import onnx' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "/usr/bin/python3 with onnx is not available";
  const ChainModel cm = chain_model();
  Model model = cm.model;
  const PipelineResult result = run_pipeline(model, deterministic_options());
  TempDir dir;
  const std::string path = dir.file("fused.onnx");
  exporter::save_fused_model(model, result, path);
  const std::string log = dir.file("check.log");
  const std::string cmd = "/usr/bin/python3 -c \"import onnx,sys; onnx.checker.check_model(sys.argv[1], "
                          "full_check=True)\" '" + path + "' >'" + log + "' 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << read_file(log);
}

TEST(OnnxFusedExport, CliTargets) {
  // The CLI plans with the analytic estimate here (no kernel compiles); restored after.
  struct EstimateProfiler {
    std::string saved;
    bool had = false;
    EstimateProfiler() {
      if (const char* p = std::getenv("DNNF_PROFILER")) had = true, saved = p;
      setenv("DNNF_PROFILER", "estimate", 1);
    }
    ~EstimateProfiler() { had ? setenv("DNNF_PROFILER", saved.c_str(), 1) : unsetenv("DNNF_PROFILER"); }
  } estimate;
  TempDir dir;
  const ChainModel cm = chain_model();
  const std::string src = dir.file("chains.onnx");
  onnx_io::save_model(cm.model, src);
  const std::string out = dir.file("chains.fused.onnx");
  auto r = test::run_cli({"export", src, "--target", "onnx", "-o", out, "--no-db"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("fused blocks as calls"), std::string::npos) << r.out;
  const onnx::ModelProto mp = parse(read_file(out));
  EXPECT_GT(mp.functions_size(), 0);
  EXPECT_EQ(metadata(mp, "dnnf.source_model"), "chains.onnx");
  EXPECT_EQ(metadata(mp, "dnnf.source_hash"), exporter::hash_model_file(src));

  // The neon and vulkan bundles have their own tests (test_export_neon, export_vulkan.sh).
  r = test::run_cli({"export", src, "--target", "tpu", "-o", dir.file("x")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown --target 'tpu'"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("x")));
  r = test::run_cli({"export", src, "--target", "onnx"});
  EXPECT_EQ(r.exit_code, 2);
  r = test::run_cli({"export", dir.file("nope.onnx"), "--target", "onnx", "-o", dir.file("y")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir.file("y")));
}
