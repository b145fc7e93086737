// `dnnf export MODEL --target vulkan -o DIR`: the model planned as for every bundle
// (bundle_job.h), one GLSL shader per fused block compiled to SPIR-V (shaders/*.spv,
// identical blocks share one), plan.txt (kernels/bundle/vulkan/vulkan_plan.h),
// weights.bin (float32), the runtime sources (kernels/bundle/vulkan: the C API over
// the Vulkan loader, which it opens at run time), the runner, a CMakeLists.txt and
// manifest.json. When a host C++ compiler and the Vulkan headers are present,
// lib/libmodel.so and bin/runner are built too, with fixed flags and paths mapped away,
// so two exports of one model are byte-identical. Those two files do not depend on the
// model and are cached under the kernel cache after the first build.
//
// Operators dnnf's Vulkan backend runs on the host (no shader) are not in a bundle: the
// export fails naming the operator.
#pragma once

#include <string>

#include "core/export/bundle_job.h"

namespace dnnf::exporter {

struct VulkanBundleOptions {
  // Work-group size baked into the shaders (a power of two; <= 128 runs everywhere). 32,
  // the size dnnf's Vulkan backend picks on CPU devices: lavapipe runs a work group on one
  // thread and switches invocations at every barrier(), so bert_base_small's runner took
  // 27 ms at 64 against 7.6-10.5 ms at 32 (dnnf bench --backend vulkan: 8.6 ms). On GPUs
  // 32 is one NVIDIA warp / half an AMD wave; --local-size 256 suits a GPU-only target.
  int local_size = 32;
  bool build = true;    // build lib/ and bin/ when a compiler and the Vulkan headers exist
};

struct VulkanBundleReport {
  size_t blocks = 0, split_blocks = 0, shaders = 0, dispatches = 0, barriers = 0;
  size_t host_steps = 0;  // stretches of operators run on the host (interp.txt)
  uint64_t arena_bytes = 0, weights_bytes = 0;
  size_t bundle_bytes = 0;
  bool built = false;          // lib/libmodel.so and bin/runner were built
  bool binaries_cached = false;  // ... or copied from an earlier export's identical build
  std::string build_note;      // why not, when they were not
  int64_t nodes_before = 0, nodes_after = 0;
  size_t fused_layers = 0;
};

// Throws dnnf::Error naming the problem; nothing is left at request.output_dir then.
VulkanBundleReport export_vulkan_bundle(const BundleRequest& request, const VulkanBundleOptions& options = {},
                                        const BundleProgressFn& progress = {});

}  // namespace dnnf::exporter
