// Builds a Vulkan program the way `dnnf run --backend vulkan` does: the pipeline options
// from the command line (as for the CPU backend), then shader generation and pipeline
// creation on the device `--device N` selects.
#pragma once

#ifdef DNNF_HAVE_VULKAN

#include <memory>

#include "app/cli/cli.h"
#include "core/pipeline/pipeline.h"
#include "core/vulkan/vk_program.h"

namespace dnnf::cli {

struct CompiledVulkanProgram {
  PipelineResult pipeline;
  std::unique_ptr<vk::VulkanProgram> program;
  size_t split_blocks = 0;  // fused blocks without a shader, run operator by operator
};

// Reads --no-rewrite, --no-fusion, --no-db, --db and --device; rewrites `model` in place.
CompiledVulkanProgram compile_vulkan_program(Model& model, const Args& args);

}  // namespace dnnf::cli

#endif
