// Shaders and compute pipelines. GLSL is compiled to SPIR-V with shaderc at plan time
// and the SPIR-V is cached on disk by a hash of the source and the compiler
// ($DNNF_SHADER_CACHE, else $XDG_CACHE_HOME/dnnf/shaders, else ~/.cache/dnnf/shaders),
// so a model's second load compiles nothing.
//
// Every dnnf shader has the same interface: storage buffers at bindings 0..n-1 of set 0,
// then uniform texel buffers at n..n+t-1 (reads on CPU drivers, glsl_block.h), and a
// small push-constant block, so one layout shape serves all; the stage to run is
// specialised per pipeline.
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

// One shader module as `stages` pipelines, pipeline(d) specialised to run stage d
// (constant_id 0), sharing one layout of `buffers` storage and `texels` texel bindings.
class ComputePipeline {
 public:
  ComputePipeline(const Context& cx, const std::vector<uint32_t>& spirv, uint32_t buffers, uint32_t stages = 1,
                  uint32_t texels = 0);
  ~ComputePipeline();
  ComputePipeline(const ComputePipeline&) = delete;
  ComputePipeline& operator=(const ComputePipeline&) = delete;

  VkPipeline pipeline(size_t stage = 0) const { return pipelines_.at(stage); }
  VkPipelineLayout layout() const { return layout_; }
  VkDescriptorSetLayout set_layout() const { return set_layout_; }
  uint32_t buffers() const { return buffers_; }

 private:
  const Context& cx_;
  uint32_t buffers_ = 0;
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  std::vector<VkPipeline> pipelines_;
};

}  // namespace dnnf::vk
