#include "core/vulkan/vk_pipeline.h"

#include <shaderc/shaderc.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "core/codegen/cache_files.h"
#include "core/codegen/content_hash.h"
#include "core/util/error.h"

namespace dnnf::vk {

namespace {

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

struct ShadercDeleter {
  void operator()(shaderc_compiler* c) const { shaderc_compiler_release(c); }
  void operator()(shaderc_compile_options* o) const { shaderc_compile_options_release(o); }
  void operator()(shaderc_compilation_result* r) const { shaderc_result_release(r); }
};

// The compiler identity that goes into the cache key.
std::string compiler_identity() {
  unsigned version = 0, revision = 0;
  shaderc_get_spv_version(&version, &revision);
  return "shaderc spv " + std::to_string(version) + "." + std::to_string(revision) + " vulkan1.1 O";
}

// One compiler for the whole process: a new one per shader set glslang's built-in
// tables up again each time (about 0.12 s a shader). shaderc.h: shaderc_compile_into_spv
// "may be safely called from multiple threads without explicit synchronization".
shaderc_compiler* shared_compiler() {
  static const std::unique_ptr<shaderc_compiler, ShadercDeleter> compiler(shaderc_compiler_initialize());
  return compiler.get();
}

std::vector<uint32_t> compile_uncached(const std::string& source, const std::string& name) {
  shaderc_compiler* compiler = shared_compiler();
  std::unique_ptr<shaderc_compile_options, ShadercDeleter> options(shaderc_compile_options_initialize());
  check(compiler && options, "cannot initialise the shaderc compiler");
  shaderc_compile_options_set_target_env(options.get(), shaderc_target_env_vulkan, shaderc_env_version_vulkan_1_1);
  shaderc_compile_options_set_optimization_level(options.get(), shaderc_optimization_level_performance);
  std::unique_ptr<shaderc_compilation_result, ShadercDeleter> result(shaderc_compile_into_spv(
      compiler, source.data(), source.size(), shaderc_compute_shader, name.c_str(), "main", options.get()));
  check(result != nullptr, "shaderc returned no result for ", name);
  if (shaderc_result_get_compilation_status(result.get()) != shaderc_compilation_status_success) {
    std::string msg = shaderc_result_get_error_message(result.get());
    if (const size_t nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    fail("shader ", name, " does not compile: ", msg);
  }
  const size_t bytes = shaderc_result_get_length(result.get());
  std::vector<uint32_t> words(bytes / 4);
  std::memcpy(words.data(), shaderc_result_get_bytes(result.get()), words.size() * 4);
  return words;
}

}  // namespace

std::string shader_cache_dir() {
  std::string dir = env_or_empty("DNNF_SHADER_CACHE");
  if (dir.empty() && !env_or_empty("XDG_CACHE_HOME").empty()) dir = env_or_empty("XDG_CACHE_HOME") + "/dnnf/shaders";
  if (dir.empty() && !env_or_empty("HOME").empty()) dir = env_or_empty("HOME") + "/.cache/dnnf/shaders";
  check(!dir.empty(), "no shader cache directory: set DNNF_SHADER_CACHE or HOME");
  codegen::make_directories(dir);
  return dir;
}

SpirvResult compile_glsl(const std::string& source, const std::string& name) {
  const std::string key = codegen::ContentHash().add(compiler_identity()).add(source).hex();
  const std::string path = shader_cache_dir() + "/" + key + ".spv";
  // For engineers reading what the code generator wrote: DNNF_DUMP_GLSL=DIR keeps every
  // shader's source there, named by the same key as its cached SPIR-V.
  if (const std::string dump = env_or_empty("DNNF_DUMP_GLSL"); !dump.empty()) {
    codegen::make_directories(dump);
    codegen::write_file_atomically(dump + "/" + key + ".comp", source);
  }
  SpirvResult r;
  if (auto bytes = codegen::read_file(path); bytes && !bytes->empty() && bytes->size() % 4 == 0) {
    r.words.resize(bytes->size() / 4);
    std::memcpy(r.words.data(), bytes->data(), bytes->size());
    if (r.words[0] == 0x07230203u) {  // the SPIR-V magic: anything else is compiled again
      r.cached = true;
      return r;
    }
  }
  r.words = compile_uncached(source, name);
  codegen::write_file_atomically(path, std::string(reinterpret_cast<const char*>(r.words.data()), r.words.size() * 4));
  return r;
}

ComputePipeline::ComputePipeline(const Context& cx, const std::vector<uint32_t>& spirv, uint32_t buffers,
                                 uint32_t stages, uint32_t texels)
    : cx_(cx), buffers_(buffers) {
  const Functions& f = cx.vk();
  check(buffers <= cx.info().max_storage_buffers, "a shader needs ", buffers, " storage buffers; the device allows ",
        cx.info().max_storage_buffers);
  check(texels <= cx.info().max_sampled_per_stage, "a shader needs ", texels, " texel buffers; the device allows ",
        cx.info().max_sampled_per_stage);
  std::vector<VkDescriptorSetLayoutBinding> bindings(buffers + texels);
  for (uint32_t i = 0; i < buffers + texels; ++i) {
    bindings[i].binding = i;
    bindings[i].descriptorType = i < buffers ? VK_DESCRIPTOR_TYPE_STORAGE_BUFFER : VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
    bindings[i].descriptorCount = 1;
    bindings[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  }
  auto dl = make_info<VkDescriptorSetLayoutCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
  dl.bindingCount = buffers + texels;
  dl.pBindings = bindings.data();
  VkShaderModule module = VK_NULL_HANDLE;
  try {
    check_vk(f.vkCreateDescriptorSetLayout(cx.device(), &dl, nullptr, &set_layout_), "vkCreateDescriptorSetLayout");
    VkPushConstantRange pc{VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushConstantBytes};
    auto pl = make_info<VkPipelineLayoutCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO);
    pl.setLayoutCount = 1;
    pl.pSetLayouts = &set_layout_;
    pl.pushConstantRangeCount = 1;
    pl.pPushConstantRanges = &pc;
    check_vk(f.vkCreatePipelineLayout(cx.device(), &pl, nullptr, &layout_), "vkCreatePipelineLayout");
    auto mi = make_info<VkShaderModuleCreateInfo>(VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO);
    mi.codeSize = spirv.size() * 4;
    mi.pCode = spirv.data();
    check_vk(f.vkCreateShaderModule(cx.device(), &mi, nullptr, &module), "vkCreateShaderModule");
    for (uint32_t d = 0; d < std::max<uint32_t>(stages, 1); ++d) {
      const int32_t stage = int32_t(d);
      const VkSpecializationMapEntry entry{0, 0, sizeof stage};
      VkSpecializationInfo spec{1, &entry, sizeof stage, &stage};
      auto ci = make_info<VkComputePipelineCreateInfo>(VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO);
      ci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
      ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
      ci.stage.module = module;
      ci.stage.pName = "main";
      ci.stage.pSpecializationInfo = &spec;
      ci.layout = layout_;
      VkPipeline p = VK_NULL_HANDLE;
      check_vk(f.vkCreateComputePipelines(cx.device(), VK_NULL_HANDLE, 1, &ci, nullptr, &p),
               "vkCreateComputePipelines");
      pipelines_.push_back(p);
    }
    f.vkDestroyShaderModule(cx.device(), module, nullptr);
  } catch (...) {
    if (module) f.vkDestroyShaderModule(cx.device(), module, nullptr);
    this->~ComputePipeline();
    throw;
  }
}

ComputePipeline::~ComputePipeline() {
  const Functions& f = cx_.vk();
  for (VkPipeline p : pipelines_) f.vkDestroyPipeline(cx_.device(), p, nullptr);
  pipelines_.clear();
  if (layout_) f.vkDestroyPipelineLayout(cx_.device(), layout_, nullptr);
  if (set_layout_) f.vkDestroyDescriptorSetLayout(cx_.device(), set_layout_, nullptr);
  layout_ = VK_NULL_HANDLE;
  set_layout_ = VK_NULL_HANDLE;
}

}  // namespace dnnf::vk
