// dnnf export MODEL --target vulkan -o DIR (called by cmd_export): the Vulkan bundle of
// core/export/vulkan_bundle_export.h with a progress line per stage and a summary.
#include <cstdio>
#include <string>

#include "app/cli/cli.h"
#include "core/export/vulkan_bundle_export.h"

namespace dnnf::cli {

int cmd_export_vulkan(const Args& args) {
  const auto output = args.value("--output");
  if (!output) throw UsageError("expected -o DIR");
  exporter::BundleRequest request;
  request.model_path = args.positional()[0];
  request.output_dir = *output;
  request.bind_dims = parse_dims(args.values("--dim"));
  request.rewrite = !args.flag("--no-rewrite");
  request.fusion = !args.flag("--no-fusion");
  exporter::VulkanBundleOptions options;
  const int64_t local_size = args.int_or("--local-size", options.local_size);
  if (local_size < 1 || local_size > 1024 || (local_size & (local_size - 1)) != 0)
    throw UsageError("--local-size must be a power of two from 1 to 1024");
  options.local_size = int(local_size);
  options.build = !args.flag("--no-compile");

  Progress progress("rewriting");
  std::string stage = "rewriting";
  const exporter::VulkanBundleReport r =
      exporter::export_vulkan_bundle(request, options, [&](const std::string& s, size_t done, size_t total) {
        if (s != stage) {
          stage = s;
          progress.set_label(s == "writing" ? "writing " + *output : s);
        }
        progress.update(done, total);
      });
  progress.finish();

  std::printf("%s: wrote Vulkan bundle %s (%zu bytes): %lld -> %lld nodes after rewriting, %zu fused layers, "
              "%zu steps (%zu blocks split into operators), %zu SPIR-V modules, %zu dispatches, %zu barriers, "
              "arena %llu bytes, weights %llu bytes\n",
              request.model_path.c_str(), output->c_str(), r.bundle_bytes, (long long)r.nodes_before,
              (long long)r.nodes_after, r.fused_layers, r.blocks, r.split_blocks, r.shaders, r.dispatches, r.barriers,
              (unsigned long long)r.arena_bytes, (unsigned long long)r.weights_bytes);
  if (r.host_steps)
    std::printf("  %zu host steps: operators without a shader (shapes known only at run time) run on dnnf's "
                "reference kernels (interp.txt)\n", r.host_steps);
  if (r.built)
    std::printf("  built lib/libmodel.so and bin/runner%s\n", r.binaries_cached ? " (from the cache)" : "");
  else
    std::printf("  %s\n", r.build_note.c_str());
  return 0;
}

}  // namespace dnnf::cli
