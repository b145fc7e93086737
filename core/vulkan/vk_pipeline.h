// Shaders and compute pipelines. GLSL is compiled to SPIR-V with shaderc at plan time
// and the SPIR-V is cached on disk by a hash of the source and the compiler
// ($DNNF_SHADER_CACHE, else $XDG_CACHE_HOME/dnnf/shaders, else ~/.cache/dnnf/shaders),
// so a model's second load compiles nothing.
//
// Every dnnf shader has the same interface: storage buffers at bindings 0..n-1 of set 0
// and a small push-constant block (the stage to run), so one layout shape serves all.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/vulkan/vk_context.h"

namespace dnnf::vk {

constexpr uint32_t kPushConstantBytes = 16;

struct SpirvResult {
  std::vector<uint32_t> words;
  bool cached = false;
};

// Throws dnnf::Error with the compiler's first message when the source is rejected.
// `name` appears in error messages only.
SpirvResult compile_glsl(const std::string& source, const std::string& name);

// The shader cache directory the environment selects (created if missing).
std::string shader_cache_dir();

class ComputePipeline {
 public:
  ComputePipeline(const Context& cx, const std::vector<uint32_t>& spirv, uint32_t buffers);
  ~ComputePipeline();
  ComputePipeline(const ComputePipeline&) = delete;
  ComputePipeline& operator=(const ComputePipeline&) = delete;

  VkPipeline pipeline() const { return pipeline_; }
  VkPipelineLayout layout() const { return layout_; }
  VkDescriptorSetLayout set_layout() const { return set_layout_; }
  uint32_t buffers() const { return buffers_; }

 private:
  const Context& cx_;
  uint32_t buffers_ = 0;
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkPipeline pipeline_ = VK_NULL_HANDLE;
};

}  // namespace dnnf::vk
