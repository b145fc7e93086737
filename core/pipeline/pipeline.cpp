#include "core/pipeline/pipeline.h"

#include <chrono>
#include <cstdlib>

#include "core/codegen/block_codegen.h"
#include "core/codegen/chains.h"
#include "core/codegen/channel_scale.h"
#include "core/fusion/fusion_db.h"
#include "core/fusion/planner.h"
#include "core/ir/shape_inference.h"
#include "core/onnx_io/onnx_import.h"
#include "core/rewrite/cost_model.h"
#include "core/runtime/cpu_profiler.h"
#include "core/util/error.h"

namespace dnnf {

namespace {
double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// The rewrite options a plan runs with. An unfused plan runs one kernel per operator, so
// the composite rules, which merge a decomposed LayerNorm, GELU, Softmax or attention
// into one kernel, stay off there: they are fusion, done by pattern (the paper's
// unfused baseline, OurB, has every fusion-related optimisation off).
rewrite::RewriteOptions rewrite_options_for(const PipelineOptions& options) {
  rewrite::RewriteOptions o = options.rewrite_options;
  if (!options.fusion)
    for (const auto& rule : rewrite::all_rules())
      if (rule->family() == "composite") o.disabled.push_back(rule->name());
  return o;
}
}  // namespace

Model load_and_infer(const std::string& path, const std::map<std::string, int64_t>& bind_dims) {
  Model model = onnx_io::load_model(path);
  InferOptions options;
  options.bind_dims = bind_dims;
  for (const ValueInfo& in : model.graph.inputs)
    for (const Dim& d : in.type.dims)
      if (!d.known() && !options.bind_dims.count(d.symbol)) options.bind_dims[d.symbol] = 1;
  infer_shapes(model.graph, options);
  return model;
}

bool known_target(const std::string& target) { return target == "cpu" || target == "vulkan"; }

bool PipelineOptions::default_measure() {
  const char* p = std::getenv("DNNF_PROFILER");
  return !(p && std::string(p) == "estimate");
}

PipelineResult run_pipeline(Model& model, const PipelineOptions& options) {
  check(known_target(options.target), "unknown target '", options.target, "' (available: cpu, vulkan)");
  PipelineResult r;
  r.journal.model = model.source_path;
  const auto t0 = std::chrono::steady_clock::now();
  if (options.rewrite) {
    r.summary = rewrite::run_rewrites(model.graph, &r.journal, rewrite_options_for(options));
  } else {
    const CostSnapshot c = rewrite::graph_cost(model.graph);
    r.summary.nodes_before = r.summary.nodes_after = int64_t(model.graph.nodes.size());
    r.summary.flops_before = r.summary.flops_after = c.flops;
  }
  r.rewrite_ms = ms_since(t0);
  if (!options.plan) return r;

  const auto t1 = std::chrono::steady_clock::now();
  fusion::PlannerOptions popts;
  popts.target = options.target;
  popts.enabled = options.fusion;
  const Graph& g = model.graph;
  popts.fusible = [&g](const Node& n, std::string* why) { return codegen::node_supported(g, n, why); };
  popts.operand_in_memory = [&g](const Node& consumer, const std::string& operand) {
    return codegen::operand_in_memory(g, consumer, operand);
  };
  if (options.channel_scaled_conv || options.target == "vulkan")
    popts.reads_through = [&g](const Node& consumer, const std::string& operand) {
      const std::optional<codegen::ChannelScale> cs = codegen::channel_scaled_input(g, consumer);
      return cs && cs->product == operand;
    };
  if (options.chains && options.target == "cpu")
    popts.chains = [&g](const Node& producer, const Node& consumer) {
      return codegen::chain_reason(g, producer, consumer);
    };
  // Measured profiles time CPU kernels; the Vulkan target has no device profiler yet
  // and plans with the analytic estimate.
  std::unique_ptr<fusion::BlockProfiler> estimator = options.measure && options.target == "cpu"
                                                         ? make_cpu_profiler()
                                                         : fusion::make_estimating_profiler(options.target);
  std::unique_ptr<fusion::FusionDatabase> db;
  std::unique_ptr<fusion::BlockProfiler> cached;
  if (options.use_db) {
    db = std::make_unique<fusion::FusionDatabase>(options.db_path.empty() ? fusion::FusionDatabase::default_path()
                                                                          : options.db_path);
    cached = fusion::make_cached_profiler(*db, *estimator);
    popts.profiler = cached.get();
  } else {
    popts.profiler = estimator.get();
  }
  r.plan = fusion::plan_fusion(model.graph, popts, &r.journal);
  r.plan_ms = ms_since(t1);
  if (db) {
    const auto st = db->stats();
    r.db_path = db->path();
    r.db_hits = st.hits;
    r.db_misses = st.misses;
  }
  return r;
}

}  // namespace dnnf
