// The Vulkan runtime: a fusion plan as compute shaders (one per fused block, identical
// blocks sharing one pipeline), with descriptor sets, pipelines and weights set up at
// load and one command buffer per inference with a barrier between dispatches and a
// timestamp after each. Blocks the GLSL generator does not cover run on the reference
// kernels on the host (values are downloaded before and uploaded after them); each
// such block splits the inference into one more submission and says why in the stats.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/codegen/glsl/glsl_stages.h"
#include "core/fusion/fusion_plan.h"
#include "core/runtime/reference_executor.h"
#include "core/vulkan/vk_context.h"

namespace dnnf::vk {

struct VulkanRuntimeOptions {
  ContextOptions context;
  // GEMM shader shape; unset: by device type (CPU drivers: rows, broadcast when the
  // device has subgroupBroadcast; GPUs: tiles). Tests pin each on whatever device exists.
  std::optional<codegen::glsl::GemmShape> gemm;
  // dnnf.Attention as a shader; unset: on GPUs only (CPU drivers run it on the host).
  std::optional<bool> attention_shader;
  // Inputs read through uniform texel buffers; unset: on CPU drivers only.
  std::optional<bool> texel_reads;
  // Progress of the long phases: ("generate"|"compile", done, total).
  std::function<void(const std::string&, size_t, size_t)> on_progress;
};

struct VulkanRuntimeStats {
  std::string device;            // name (type)
  size_t blocks = 0;             // fused blocks of the plan
  size_t shader_blocks = 0;      // blocks running as shaders
  size_t cpu_blocks = 0;         // blocks running on the reference kernels
  size_t dispatches = 0;         // vkCmdDispatch per inference
  size_t submits = 0;            // command buffers submitted per inference
  size_t unique_shaders = 0;     // pipelines (identical blocks share)
  size_t compiled_shaders = 0;   // compiled now (the rest came from the SPIR-V cache)
  size_t merged_epilogues = 0;
  size_t device_bytes = 0;       // device memory reserved
  size_t weight_bytes = 0;       // constants uploaded at load
  double generate_ms = 0, compile_ms = 0, pipeline_ms = 0;
  std::vector<std::string> cpu_reasons;  // one line per block on the reference kernels
};

// The plan with every multi-operator block that has no shader on `device` (an
// Attention row longer than shared memory holds, a shader over the storage-buffer
// limit) split into its operators,
// which then run as shaders one by one instead of the whole block on the host. Blocks
// are renumbered (fusion::finish_plan). Sets *split to the number of blocks split.
fusion::FusionPlan split_blocks_without_shader(const Graph& graph, const fusion::FusionPlan& plan,
                                               const DeviceInfo& device, size_t* split = nullptr);

class VulkanProgram {
 public:
  // `graph` must outlive the program. Throws dnnf::Error when there is no Vulkan device.
  VulkanProgram(const Graph& graph, const fusion::FusionPlan& plan, const VulkanRuntimeOptions& options = {});
  ~VulkanProgram();
  VulkanProgram(const VulkanProgram&) = delete;
  VulkanProgram& operator=(const VulkanProgram&) = delete;

  TensorMap run(const TensorMap& inputs);
  // Same, and each block's time in microseconds (plan order): device timestamps for
  // shader blocks (0 where the queue has none), wall time for host blocks.
  TensorMap run_profiled(const TensorMap& inputs, std::vector<double>* block_us);
  const VulkanRuntimeStats& stats() const;
  const Context& context() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dnnf::vk
