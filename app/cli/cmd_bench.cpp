// dnnf bench MODEL: latency of one backend on seeded random inputs: warm-up runs, then
// timed runs (median and spread), peak activation memory, a per-block profile, and an
// optional Chrome trace (chrome://tracing, Perfetto) of one profiled run.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <numeric>

#include "app/cli/cli.h"
#include "app/cli/commands.h"
#include "app/cli/cpu_program_args.h"
#include "app/cli/vulkan_program_args.h"
#include "core/runtime/random_inputs.h"
#include "core/runtime/thread_pool.h"
#include "core/util/error.h"

namespace dnnf::cli {

namespace {

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * double(v.size() - 1);
  const size_t lo = size_t(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string block_label(const Graph& g, const fusion::FusedBlock& b) {
  std::string s;
  for (size_t i = 0; i < b.nodes.size() && i < 6; ++i) s += (i ? "+" : "") + g.find_node(b.nodes[i])->op_type;
  if (b.nodes.size() > 6) s += "+" + std::to_string(b.nodes.size() - 6) + " more";
  return s;
}

void write_trace(const std::string& path, const Graph& g, const fusion::FusionPlan& plan,
                 const std::vector<double>& us) {
  nlohmann::json events = nlohmann::json::array();
  double t = 0;
  for (size_t i = 0; i < us.size(); ++i) {
    events.push_back({{"name", block_label(g, plan.blocks[i])},
                      {"cat", "block"},
                      {"ph", "X"},
                      {"ts", t},
                      {"dur", us[i]},
                      {"pid", 1},
                      {"tid", 1},
                      {"args", {{"block", plan.blocks[i].id}, {"ops", plan.blocks[i].nodes.size()}}}});
    t += us[i];
  }
  write_json({{"traceEvents", events}, {"displayTimeUnit", "ms"}}, path);
}

// What both backends measure: wall-clock latency of whole runs after a warm-up, and the
// median per-block time of a few profiled runs.
struct BenchTimes {
  std::vector<double> ms;        // one per timed run
  std::vector<double> block_us;  // one per plan block
};

template <typename Program>
BenchTimes time_program(Program& program, const TensorMap& inputs, size_t blocks, int64_t runs, int64_t warmup) {
  BenchTimes t;
  Progress running("benchmarking");
  for (int64_t i = 0; i < warmup; ++i) program.run(inputs);
  for (int64_t i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    program.run(inputs);
    t.ms.push_back(ms_since(t0));
    running.update(size_t(i + 1), size_t(runs));
  }
  running.finish();
  const size_t nprof = size_t(std::min<int64_t>(runs, 5));
  std::vector<std::vector<double>> per_block(blocks);
  std::vector<double> last;
  for (size_t r = 0; r < nprof; ++r) {
    program.run_profiled(inputs, &last);
    for (size_t b = 0; b < last.size(); ++b) per_block[b].push_back(last[b]);
  }
  for (const auto& v : per_block) t.block_us.push_back(percentile(v, 0.5));
  return t;
}

// The JSON fields both backends report: the run, the latency spread and the blocks.
nlohmann::json bench_json(const std::string& path, const Args& args, int64_t runs, int64_t warmup,
                          const BenchTimes& t, const Graph& g, const fusion::FusionPlan& plan) {
  nlohmann::json j;
  j["model"] = path;
  j["fusion"] = !args.flag("--no-fusion");
  j["runs"] = runs;
  j["warmup"] = warmup;
  j["median_ms"] = percentile(t.ms, 0.5);
  j["min_ms"] = *std::min_element(t.ms.begin(), t.ms.end());
  j["max_ms"] = *std::max_element(t.ms.begin(), t.ms.end());
  j["p10_ms"] = percentile(t.ms, 0.1);
  j["p90_ms"] = percentile(t.ms, 0.9);
  nlohmann::json blocks = nlohmann::json::array();
  for (size_t b = 0; b < t.block_us.size(); ++b) {
    // The node names, so a slow block can be found in the model and in the journal.
    nlohmann::json nodes = nlohmann::json::array();
    for (NodeId n : plan.blocks[b].nodes) nodes.push_back(g.find_node(n)->name);
    blocks.push_back({{"id", plan.blocks[b].id}, {"ops", block_label(g, plan.blocks[b])}, {"nodes", nodes},
                      {"us", t.block_us[b]}});
  }
  j["blocks"] = blocks;
  return j;
}

void print_slowest_blocks(const Graph& g, const fusion::FusionPlan& plan, const std::vector<double>& block_us) {
  std::vector<size_t> order(block_us.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return block_us[a] > block_us[b]; });
  const double total = std::max(1e-9, std::accumulate(block_us.begin(), block_us.end(), 0.0));
  std::printf("  slowest blocks:\n");
  for (size_t k = 0; k < std::min<size_t>(8, order.size()); ++k)
    std::printf("  %8.1f us %5.1f%%  block %d  %s\n", block_us[order[k]], 100.0 * block_us[order[k]] / total,
                plan.blocks[order[k]].id, block_label(g, plan.blocks[order[k]]).c_str());
}

#ifdef DNNF_HAVE_VULKAN
// --backend vulkan: wall-clock latency of whole inferences (input upload, every
// submission, host blocks, output download), plus the device time the timestamps
// measure and the dispatches and submissions per inference.
int bench_vulkan(const Args& args, Model& model, const TensorMap& inputs, const std::string& path, int64_t runs,
                 int64_t warmup) {
  const CompiledVulkanProgram compiled = compile_vulkan_program(model, args);
  vk::VulkanProgram& program = *compiled.program;
  const fusion::FusionPlan& plan = compiled.pipeline.plan;
  const BenchTimes times = time_program(program, inputs, plan.blocks.size(), runs, warmup);
  const std::vector<double>& block_us = times.block_us;
  if (auto t = args.value("--trace")) write_trace(*t, model.graph, plan, block_us);
  const double device_ms = std::accumulate(block_us.begin(), block_us.end(), 0.0) / 1000.0;
  const vk::VulkanRuntimeStats& st = program.stats();
  const size_t validation_errors = program.context().validation_errors();
  nlohmann::json j = bench_json(path, args, runs, warmup, times, model.graph, plan);
  j["backend"] = "vulkan";
  j["device"] = st.device;
  j["block_time_ms"] = device_ms;
  j["fused_layers"] = st.blocks;
  j["shader_blocks"] = st.shader_blocks;
  j["host_blocks"] = st.cpu_blocks;
  j["dispatches"] = st.dispatches;
  j["submits"] = st.submits;
  j["unique_shaders"] = st.unique_shaders;
  j["device_bytes"] = st.device_bytes;
  j["validation_errors"] = validation_errors;
  check(validation_errors == 0, "the Vulkan validation layer reported ", validation_errors, " errors");
  if (auto out = args.value("--json")) {
    write_json(j, *out);
    if (*out == "-") return 0;
  }
  std::printf("%s: median %.3f ms (p10 %.3f, p90 %.3f, %lld runs, vulkan on %s, %s), %zu fused layers, "
              "%zu dispatches in %zu submits per inference, %zu blocks on the host, block time %.3f ms\n",
              path.c_str(), j["median_ms"].get<double>(), j["p10_ms"].get<double>(), j["p90_ms"].get<double>(),
              (long long)runs, st.device.c_str(), args.flag("--no-fusion") ? "unfused" : "fused", st.blocks,
              st.dispatches, st.submits, st.cpu_blocks, device_ms);
  print_slowest_blocks(model.graph, plan, block_us);
  return 0;
}
#endif

}  // namespace

int cmd_bench(const CommandArgs& argv) {
  Args args(argv, {"--backend", "--threads", "--runs", "--warmup", "--trace", "--json", "--dim", "--db", "--device"},
            {"--no-fusion", "--no-rewrite", "--no-db"});
  if (args.positional().size() != 1) throw UsageError("expected one MODEL");
  const std::string backend = args.value_or("--backend", "cpu");
  if (backend != "cpu" && backend != "vulkan")
    throw UsageError("unknown backend '" + backend + "' (available: cpu, vulkan)");
  if (args.value("--device") && backend != "vulkan") throw UsageError("--device applies to --backend vulkan");
  const int64_t runs = args.int_or("--runs", 20), warmup = args.int_or("--warmup", 3);
  if (runs < 1 || warmup < 0) throw UsageError("--runs must be at least 1 and --warmup at least 0");
  const std::string path = args.positional()[0];

  RandomInputOptions random;
  random.bind_dims = parse_dims(args.values("--dim"));
  Model model = load_and_infer(path, random.bind_dims);
  const TensorMap inputs = make_random_inputs(model.graph, random);
  if (backend == "vulkan") {
#ifdef DNNF_HAVE_VULKAN
    return bench_vulkan(args, model, inputs, path, runs, warmup);
#else
    fail("this dnnf was built without Vulkan support (needs libvulkan-dev and libshaderc-dev at build time)");
#endif
  }
  const CompiledCpuProgram compiled_program = compile_cpu_program(model, args);
  const PipelineResult& compiled = compiled_program.pipeline;
  CpuProgram& program = *compiled_program.program;
  const int threads = int(args.int_or("--threads", 0));

  const BenchTimes times = time_program(program, inputs, compiled.plan.blocks.size(), runs, warmup);
  const std::vector<double>& block_us = times.block_us;
  if (auto t = args.value("--trace")) write_trace(*t, model.graph, compiled.plan, block_us);

  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  const CpuRuntimeStats& st = program.stats();
  nlohmann::json j = bench_json(path, args, runs, warmup, times, model.graph, compiled.plan);
  j["backend"] = backend;
  j["threads"] = threads > 0 ? threads : default_thread_count();
  j["fused_layers"] = st.blocks;
  j["interpreted_blocks"] = st.interpreted_blocks;
  j["arena_bytes"] = st.arena_bytes;
  j["peak_activation_bytes"] = program.peak_activation_bytes();
  j["peak_rss_kb"] = ru.ru_maxrss;
  if (auto out = args.value("--json")) {
    write_json(j, *out);
    if (*out == "-") return 0;
  }
  std::printf("%s: median %.3f ms (p10 %.3f, p90 %.3f, %lld runs, %d threads, %s), %zu fused layers, "
              "peak activations %.2f MB\n",
              path.c_str(), j["median_ms"].get<double>(), j["p10_ms"].get<double>(), j["p90_ms"].get<double>(),
              (long long)runs, j["threads"].get<int>(), args.flag("--no-fusion") ? "unfused" : "fused", st.blocks,
              double(program.peak_activation_bytes()) / 1e6);
  print_slowest_blocks(model.graph, compiled.plan, block_us);
  return 0;
}

}  // namespace dnnf::cli
