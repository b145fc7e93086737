// Turns a fused plan into the plan description of a Vulkan bundle
// (kernels/bundle/vulkan/vulkan_plan.h): one GLSL shader per fused block (identical
// blocks share one), the device arena layout, the constants for weights.bin, and the
// dispatch list with barriers only where a dispatch touches what an earlier one wrote
// since the last barrier.
//
// The bundle has to run on devices dnnf never saw, so shaders are generated for the
// limits every Vulkan device guarantees (16 KB shared memory, 128 MB per storage-buffer
// range, 65535 work groups per dimension) and a fixed work-group size. Operators that
// only rename memory (an int64 Reshape, an integer Cast) become buffer copies; other
// operators without a shader (shapes known only at run time: NonZero, TopK, If, Loop,
// ...) run on the host, as in dnnf's Vulkan backend: host steps of the interpreter plan
// (interp.txt), between the command buffers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <optional>

#include "core/export/bundle_weights.h"
#include "core/fusion/fusion_plan.h"
#include "core/ir/graph.h"
#include "kernels/bundle/interp/interp_plan.h"
#include "kernels/bundle/vulkan/vulkan_plan.h"

namespace dnnf::exporter {

struct VulkanBundleLimits {
  int local_size = 32;                         // a power of two <= 128 (the guaranteed minimum);
                                               // 32: see VulkanBundleOptions::local_size
  int64_t shared_bytes = 16384;                // maxComputeSharedMemorySize minimum
  uint64_t max_buffer_range = uint64_t(1) << 27;  // maxStorageBufferRange minimum
  uint32_t max_group_count = 65535;            // maxComputeWorkGroupCount minimum
};

struct VulkanBundleContent {
  dnnf_bundle::VulkanPlan plan;
  WeightsWriter weights;                    // weights.bin: every constant a shader reads, as float32
                                            // (and, as "host:NAME", those host steps read, as they are)
  std::optional<dnnf_bundle::InterpPlan> interp;  // the host steps' nodes, when there is one
  std::vector<std::string> shader_sources;  // GLSL, indexed like plan.shaders
  size_t blocks = 0;                        // steps (fused blocks after splitting)
  size_t split_blocks = 0;                  // fused blocks split into their operators
  size_t load_time_values = 0;              // values computed now and stored as weights
};

// Throws dnnf::Error naming the value when a model input/output has a dtype or shape the
// bundle cannot carry.
VulkanBundleContent build_vulkan_bundle_plan(const Graph& graph, const fusion::FusionPlan& plan,
                                             const VulkanBundleLimits& limits = {});

}  // namespace dnnf::exporter
