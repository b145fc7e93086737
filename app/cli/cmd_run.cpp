// dnnf run MODEL: runs a model on a backend with given or seeded random inputs,
// writes outputs, and with --check compares against the reference executor.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "app/cli/cli.h"
#include "app/cli/commands.h"
#include "core/onnx_io/tensor_io.h"
#include "app/cli/cpu_program_args.h"
#include "app/cli/vulkan_program_args.h"
#include "core/runtime/compare.h"
#include "core/runtime/cpu_runtime.h"
#include "core/runtime/random_inputs.h"
#include "core/runtime/reference_executor.h"
#include "core/util/error.h"

namespace dnnf::cli {

namespace {

TensorMap read_inputs(const Graph& graph, const std::vector<std::string>& specs,
                      const RandomInputOptions& random) {
  TensorMap given;
  for (const std::string& spec : specs) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos) throw UsageError("--input needs NAME=FILE, got '" + spec + "'");
    const std::string name = spec.substr(0, eq);
    check(graph.is_graph_input(name), "the model has no input named '", name, "'");
    given[name] = onnx_io::read_tensor_file(spec.substr(eq + 1));
  }
  TensorMap inputs = make_random_inputs(graph, random);
  for (auto& [name, t] : given) inputs[name] = t;
  return inputs;
}

std::string safe_file_name(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) c = '_';
  return s.empty() ? "output" : s;
}

nlohmann::json summary_of(const Tensor& t) {
  nlohmann::json j;
  j["dtype"] = dtype_name(t.dtype());
  j["shape"] = t.shape();
  if (t.dtype() != DType::String && t.numel() > 0) {
    double sum = 0, mn = INFINITY, mx = -INFINITY;
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double v = t.get_f64(i);
      sum += v;
      mn = std::min(mn, v);
      mx = std::max(mx, v);
    }
    j["sum"] = sum;
    j["min"] = mn;
    j["max"] = mx;
  }
  return j;
}

// "Conv+Relu" style summary of a block's operators.
std::string describe_block(const Graph& g, const fusion::FusedBlock& b) {
  std::string s;
  for (NodeId id : b.nodes) {
    if (s.size() > 60) return s + "+...";
    s += (s.empty() ? "" : "+") + g.find_node(id)->op_type;
  }
  return s;
}

}  // namespace

int cmd_run(const CommandArgs& argv) {
  Args args(argv, {"--backend", "--input", "--output", "--json", "--seed", "--dim", "--format",
                   "--int-high", "--rtol", "--atol", "--threads", "--db", "--device"},
            {"--check", "--check-all", "--no-fusion", "--no-rewrite", "--no-db", "--profile"});
  if (args.positional().size() != 1) throw UsageError("expected one MODEL");
  const std::string backend = args.value_or("--backend", "reference");
  if (backend != "reference" && backend != "cpu" && backend != "vulkan")
    throw UsageError("unknown backend '" + backend + "' (available: reference, cpu, vulkan)");
  if (args.value("--device") && backend != "vulkan") throw UsageError("--device applies to --backend vulkan");
  const std::string format = args.value_or("--format", "npy");
  if (format != "npy" && format != "pb") throw UsageError("--format is npy or pb");

  RandomInputOptions random;
  random.seed = uint64_t(args.int_or("--seed", 42));
  random.int_high = args.int_or("--int-high", 2);
  random.bind_dims = parse_dims(args.values("--dim"));
  Model model = load_and_infer(args.positional()[0], random.bind_dims);
  const TensorMap inputs = read_inputs(model.graph, args.values("--input"), random);

  // The reference run of the unchanged model is both the reference backend and the
  // oracle of --check.
  if (args.flag("--check-all")) {
    // Every value becomes an output, so --check names the first operator that diverges
    // (this keeps intermediates in memory, which limits fusion).
    std::set<std::string> seen;
    for (const ValueInfo& o : model.graph.outputs) seen.insert(o.name);
    for (const Node& n : model.graph.nodes)
      for (const std::string& v : n.outputs)
        if (!v.empty() && !seen.count(v) && model.graph.type_of(v)) {
          seen.insert(v);
          model.graph.outputs.push_back({v, *model.graph.type_of(v)});
        }
  }
  const Model original = model;
  nlohmann::json backend_json, vulkan_json;
  TensorMap outputs;
  double ms = 0;
  if (backend == "vulkan") {
#ifdef DNNF_HAVE_VULKAN
    const CompiledVulkanProgram compiled = compile_vulkan_program(model, args);
    vk::VulkanProgram& program = *compiled.program;
    const auto t0 = std::chrono::steady_clock::now();
    outputs = program.run(inputs);
    ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const vk::VulkanRuntimeStats& st = program.stats();
    vulkan_json = {{"device", st.device},
                   {"fused_layers", st.blocks},
                   {"shader_blocks", st.shader_blocks},
                   {"host_blocks", st.cpu_blocks},
                   {"dispatches", st.dispatches},
                   {"submits", st.submits},
                   {"unique_shaders", st.unique_shaders},
                   {"compiled_shaders", st.compiled_shaders},
                   {"merged_epilogues", st.merged_epilogues},
                   {"device_bytes", st.device_bytes},
                   {"weight_bytes", st.weight_bytes},
                   {"rewrite_ms", compiled.pipeline.rewrite_ms},
                   {"plan_ms", compiled.pipeline.plan_ms},
                   {"generate_ms", st.generate_ms},
                   {"compile_ms", st.compile_ms},
                   {"pipeline_ms", st.pipeline_ms},
                   {"validation_errors", program.context().validation_errors()},
                   {"host", st.cpu_reasons}};
    if (args.flag("--profile")) {
      // A second run with a timestamp after every dispatch: device time per block.
      std::vector<double> block_us;
      program.run_profiled(inputs, &block_us);
      vulkan_json["block_us"] = block_us;
      std::vector<size_t> order(block_us.size());
      for (size_t k = 0; k < order.size(); ++k) order[k] = k;
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return block_us[a] > block_us[b]; });
      double total = 0;
      for (double us : block_us) total += us;
      std::printf("profile: %.1f us over %zu blocks; slowest:\n", total, block_us.size());
      for (size_t k = 0; k < std::min<size_t>(5, order.size()); ++k)
        std::printf("  block %zu: %.1f us (%s)\n", order[k], block_us[order[k]],
                    describe_block(model.graph, compiled.pipeline.plan.blocks[order[k]]).c_str());
    }
    // With DNNF_VULKAN_VALIDATION=1 the layer's messages are printed as they come; any
    // error fails the run.
    const size_t validation_errors = program.context().validation_errors();
    vulkan_json["validation"] = program.context().validation();
    vulkan_json["validation_errors"] = validation_errors;
    check(validation_errors == 0, "the Vulkan validation layer reported ", validation_errors, " errors");
#else
    fail("this dnnf was built without Vulkan support (needs libvulkan-dev and libshaderc-dev at build time)");
#endif
  } else if (backend == "reference") {
    Progress progress("running");
    RunOptions options;
    options.on_node = [&](size_t done, size_t total) { progress.update(done, total); };
    const auto t0 = std::chrono::steady_clock::now();
    outputs = ReferenceExecutor(model.graph).run(inputs, options);
    ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  } else {
    const CompiledCpuProgram compiled_program = compile_cpu_program(model, args);
    const PipelineResult& compiled = compiled_program.pipeline;
    CpuProgram& program = *compiled_program.program;
    const auto t0 = std::chrono::steady_clock::now();
    outputs = program.run(inputs);
    ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const CpuRuntimeStats& st = program.stats();
    backend_json = {{"fused_layers", st.blocks},
                    {"generated_blocks", st.generated_blocks},
                    {"interpreted_blocks", st.interpreted_blocks},
                    {"unique_kernels", st.unique_kernels},
                    {"compiled_kernels", st.compiled_kernels},
                    {"merged_epilogues", st.merged_epilogues},
                    {"arena_bytes", st.arena_bytes},
                    {"unplanned_bytes", st.unplanned_bytes},
                    {"rewrite_ms", compiled.rewrite_ms},
                    {"plan_ms", compiled.plan_ms},
                    {"generate_ms", st.generate_ms},
                    {"compile_ms", st.compile_ms},
                    {"prepare_ms", st.prepare_ms},
                    {"interpreted", st.interpreted_reasons}};
  }

  nlohmann::json j;
  j["model"] = args.positional()[0];
  j["backend"] = backend;
  j["latency_ms"] = ms;
  if (!backend_json.is_null()) j["cpu"] = backend_json;
  if (!vulkan_json.is_null()) j["vulkan"] = vulkan_json;
  nlohmann::json outs = nlohmann::json::object();
  for (const ValueInfo& o : model.graph.outputs) outs[o.name] = summary_of(outputs.at(o.name));
  j["outputs"] = outs;

  if (auto dir = args.value("--output")) {
    std::filesystem::create_directories(*dir);
    for (const ValueInfo& o : model.graph.outputs) {
      const std::string base = (std::filesystem::path(*dir) / safe_file_name(o.name)).string();
      if (format == "npy") onnx_io::write_npy(outputs.at(o.name), base + ".npy");
      else onnx_io::write_tensor_pb(outputs.at(o.name), o.name, base + ".pb");
    }
  }

  int status = 0;
  if (args.flag("--check") || args.flag("--check-all")) {
    // Shaders accumulate in float32 in another order than the CPU kernels: looser defaults.
    const bool gpu = backend == "vulkan";
    const Tolerance tol{args.double_or("--rtol", gpu ? 1e-3 : 1e-4), args.double_or("--atol", gpu ? 1e-4 : 1e-5)};
    const TensorMap expected = ReferenceExecutor(original.graph).run(inputs);
    nlohmann::json checks = nlohmann::json::object();
    std::string worst;
    for (const ValueInfo& o : model.graph.outputs) {
      const CompareResult r = compare_tensors(outputs.at(o.name), expected.at(o.name), tol);
      checks[o.name] = {{"ok", r.ok}, {"max_abs_error", r.max_abs_error}, {"max_rel_error", r.max_rel_error}};
      if (!r.ok && worst.empty()) worst = "output '" + o.name + "': " + r.message;
    }
    j["check"] = {{"ok", worst.empty()}, {"rtol", tol.rtol}, {"atol", tol.atol}, {"outputs", checks}};
    if (!worst.empty()) {
      std::fprintf(stderr, "dnnf run: check failed against the reference executor: %s\n", worst.c_str());
      status = 1;
    }
  }
  if (auto out = args.value("--json")) {
    write_json(j, *out);
    if (*out == "-") return status;
  }
  std::printf("%s: %zu outputs in %.1f ms (%s backend)%s\n", args.positional()[0].c_str(),
              model.graph.outputs.size(), ms, backend.c_str(),
              args.flag("--check") ? (status == 0 ? ", check passed" : ", CHECK FAILED") : "");
  if (!backend_json.is_null())
    std::printf("  cpu: %zu fused layers (%zu generated, %zu on reference kernels), %zu kernels (%zu compiled now), "
                "arena %zu bytes (%zu without reuse)\n",
                backend_json["fused_layers"].get<size_t>(), backend_json["generated_blocks"].get<size_t>(),
                backend_json["interpreted_blocks"].get<size_t>(), backend_json["unique_kernels"].get<size_t>(),
                backend_json["compiled_kernels"].get<size_t>(), backend_json["arena_bytes"].get<size_t>(),
                backend_json["unplanned_bytes"].get<size_t>());
  if (!vulkan_json.is_null()) {
    std::printf("  vulkan: %s: %zu fused layers (%zu shaders, %zu on the host), %zu dispatches in %zu submits, "
                "%zu pipelines (%zu shaders compiled now)\n",
                vulkan_json["device"].get<std::string>().c_str(), vulkan_json["fused_layers"].get<size_t>(),
                vulkan_json["shader_blocks"].get<size_t>(), vulkan_json["host_blocks"].get<size_t>(),
                vulkan_json["dispatches"].get<size_t>(), vulkan_json["submits"].get<size_t>(),
                vulkan_json["unique_shaders"].get<size_t>(), vulkan_json["compiled_shaders"].get<size_t>());
    for (const auto& why : vulkan_json["host"]) std::printf("    on the host: %s\n", why.get<std::string>().c_str());
  }
  for (const ValueInfo& o : model.graph.outputs) {
    const Tensor& t = outputs.at(o.name);
    std::printf("  %s %s%s\n", o.name.c_str(), dtype_name(t.dtype()), shape_str(t.shape()).c_str());
  }
  return status;
}

}  // namespace dnnf::cli
