// dnnf export MODEL --target onnx -o FILE: runs the pipeline with dnnf optimize's
// defaults (less the rewrites into dnnf-only operators, see --keep-dnnf-ops) and writes
// the rewritten graph with each fused block as one ONNX function call
// (core/export/onnx_export_job, shared with the Studio's export dialog).
// dnnf export MODEL --target neon -o DIR writes an aarch64 bundle (core/export/neon_bundle):
// generated kernels, runtime, weights, C API, CMakeLists.txt, and lib/libmodel.so plus a
// static bin/runner when aarch64-linux-gnu-g++ is there.
#include <cstdio>
#include <string>

#include "app/cli/cli.h"
#include "app/cli/commands.h"
#include "core/export/neon_bundle.h"
#include "core/export/onnx_export_job.h"

namespace dnnf::cli {

int cmd_export_vulkan(const Args& args);  // --target vulkan

namespace {

// "-o FILE" is the conventional spelling; Args only knows "--" options.
CommandArgs expand_short_options(const CommandArgs& argv) {
  CommandArgs out = argv;
  for (std::string& a : out)
    if (a == "-o") a = "--output";
  return out;
}

int export_neon(const Args& args, const std::string& output) {
  exporter::BundleRequest request;
  request.model_path = args.positional()[0];
  request.output_dir = output;
  request.bind_dims = parse_dims(args.values("--dim"));
  request.rewrite = !args.flag("--no-rewrite");
  request.fusion = !args.flag("--no-fusion");
  exporter::NeonExportOptions options;
  options.compile = !args.flag("--no-compile");
  Progress progress("rewriting (sweeps)");
  std::string stage = "rewriting";
  const exporter::NeonExportReport r =
      exporter::export_neon_bundle(request, options, [&](const std::string& s, size_t done, size_t total) {
        if (s != stage) {
          stage = s;
          progress.set_label(s);
        }
        progress.update(done, total);
      });
  progress.finish();
  std::printf("%s: wrote NEON bundle %s (%zu files, %zu bytes; weights %zu bytes, arena %zu bytes): "
              "%lld -> %lld nodes after rewriting, %zu blocks as %zu generated kernels\n",
              request.model_path.c_str(), output.c_str(), r.files, r.bundle_bytes, r.weights_bytes, r.arena_bytes,
              (long long)r.plan.nodes_before, (long long)r.plan.nodes_after, r.plan.blocks, r.plan.unique_kernels);
  if (r.interpreted_steps)
    std::printf("%zu blocks (shapes known only at run time) are interpreted steps on dnnf's reference kernels "
                "(interp.txt)\n", r.interpreted_steps);
  if (r.compiled)
    std::printf("built lib/libmodel.so and bin/runner with %s (%zu objects, %zu from the cache)\n", r.compiler.c_str(),
                r.build.objects, r.build.cached);
  else
    std::printf("sources only, no binaries: %s; build them with the bundle's CMakeLists.txt\n",
                r.not_compiled_why.c_str());
  return 0;
}

}  // namespace

int cmd_export(const CommandArgs& argv) {
  Args args(expand_short_options(argv), {"--target", "--output", "--dim", "--db", "--local-size"},
            {"--no-rewrite", "--no-fusion", "--no-db", "--keep-dnnf-ops", "--no-compile"});
  if (args.positional().size() != 1) throw UsageError("expected one MODEL");
  const auto target = args.value("--target");
  if (!target) throw UsageError("--target is required (available: onnx, neon, vulkan)");
  if (*target == "vulkan") return cmd_export_vulkan(args);  // cmd_export_vulkan.cpp
  if (*target != "onnx" && *target != "neon")
    throw UsageError("unknown --target '" + *target + "' (available: onnx, neon, vulkan)");
  const auto output = args.value("--output");
  if (!output) throw UsageError(*target == "onnx" ? "expected -o FILE" : "expected -o DIR");
  if (*target == "neon") return export_neon(args, *output);

  exporter::OnnxExportRequest request;
  request.model_path = args.positional()[0];
  request.output_path = *output;
  request.bind_dims = parse_dims(args.values("--dim"));
  request.rewrite = !args.flag("--no-rewrite");
  request.fusion = !args.flag("--no-fusion");
  request.use_db = !args.flag("--no-db");
  request.db_path = args.value_or("--db", "");
  request.keep_dnnf_ops = args.flag("--keep-dnnf-ops");
  Progress progress("rewriting (sweeps)");
  std::string stage = "rewriting";
  const exporter::OnnxExportReport r =
      exporter::export_onnx_model(request, [&](const std::string& s, size_t done, size_t total) {
        if (s != stage) {
          stage = s;
          progress.set_label(s == "writing" ? "writing " + *output : s);
        }
        progress.update(done, total);
      });
  progress.finish();

  std::printf("%s: wrote %s (%zu bytes): %lld -> %lld nodes after rewriting, %zu fused layers, "
              "%zu fused blocks as calls of %zu functions, %zu nodes in the main graph\n",
              request.model_path.c_str(), output->c_str(), r.stats.bytes, (long long)r.nodes_before,
              (long long)r.nodes_after, r.fused_layers, r.stats.calls, r.stats.functions, r.stats.graph_nodes);
  return 0;
}

}  // namespace dnnf::cli
