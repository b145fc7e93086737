// The C API of a Vulkan bundle (include/dnnf_model.h) over its plan.txt: at create, one
// device arena (host-visible memory, so inputs and outputs are copies through the
// mapping) filled with the constants of weights.bin, one compute pipeline per SPIR-V
// module, one descriptor set per step, and one command buffer recorded once with every
// dispatch and the barriers the plan asks for. An inference converts the inputs into
// the arena, submits that command buffer, waits on a fence and converts the outputs.
// A plan with host steps (version 2) has one command buffer per stretch of device steps
// between them; after each fence the interpreter (kernels/bundle/interp, interp.txt)
// runs the host step, reading shader results from the mapped arena and writing back the
// values later shaders read. Its outputs may have shapes known only after the run.
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "dnnf_model.h"
#include "kernels/bundle/interp/host_interpreter.h"
#include "vulkan_device.h"
#include "vulkan_plan.h"

namespace dnnf_bundle {

// Defined only in bundles with host steps (they ship the interpreter's sources); weak, so
// the other bundles link without it and never call it.
__attribute__((weak)) std::unique_ptr<HostInterpreter> make_host_interpreter(const std::string& plan_text,
                                                                           const char* weights,
                                                                           size_t weights_bytes);

namespace {

constexpr uint32_t kPushConstantBytes = 16;  // the shaders' push block: int stage (+ padding)

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string("cannot read ") + what + " '" + path + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

template <class T>
T info(VkStructureType type) {
  T v{};
  v.sType = type;
  return v;
}

// `n` elements of `dtype` at `src` as floats into `dst`, and back (the device computes
// in float32; integers convert exactly up to 2^24, as in dnnf's Vulkan backend).
template <class T>
void widen(const void* src, float* dst, int64_t n) {
  const auto* p = static_cast<const unsigned char*>(src);
  for (int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, p + size_t(i) * sizeof(T), sizeof(T));
    dst[i] = float(v);
  }
}

template <class T>
void narrow(const float* src, void* dst, int64_t n) {
  auto* p = static_cast<unsigned char*>(dst);
  for (int64_t i = 0; i < n; ++i) {
    const T v = T(src[i]);
    std::memcpy(p + size_t(i) * sizeof(T), &v, sizeof(T));
  }
}

void to_floats(const std::string& dtype, const void* src, float* dst, int64_t n) {
  if (dtype == "float32") std::memcpy(dst, src, size_t(n) * sizeof(float));
  else if (dtype == "float64") widen<double>(src, dst, n);
  else if (dtype == "int8") widen<int8_t>(src, dst, n);
  else if (dtype == "int16") widen<int16_t>(src, dst, n);
  else if (dtype == "int32") widen<int32_t>(src, dst, n);
  else if (dtype == "int64") widen<int64_t>(src, dst, n);
  else if (dtype == "uint8") widen<uint8_t>(src, dst, n);
  else if (dtype == "uint16") widen<uint16_t>(src, dst, n);
  else if (dtype == "uint32") widen<uint32_t>(src, dst, n);
  else if (dtype == "uint64") widen<uint64_t>(src, dst, n);
  else if (dtype == "bool")
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<const unsigned char*>(src)[i] ? 1.0f : 0.0f;
  else throw std::runtime_error("dtype " + dtype + " cannot be converted");
}

void from_floats(const std::string& dtype, const float* src, void* dst, int64_t n) {
  if (dtype == "float32") std::memcpy(dst, src, size_t(n) * sizeof(float));
  else if (dtype == "float64") narrow<double>(src, dst, n);
  else if (dtype == "int8") narrow<int8_t>(src, dst, n);
  else if (dtype == "int16") narrow<int16_t>(src, dst, n);
  else if (dtype == "int32") narrow<int32_t>(src, dst, n);
  else if (dtype == "int64") narrow<int64_t>(src, dst, n);
  else if (dtype == "uint8") narrow<uint8_t>(src, dst, n);
  else if (dtype == "uint16") narrow<uint16_t>(src, dst, n);
  else if (dtype == "uint32") narrow<uint32_t>(src, dst, n);
  else if (dtype == "uint64") narrow<uint64_t>(src, dst, n);
  else if (dtype == "bool")
    for (int64_t i = 0; i < n; ++i) static_cast<unsigned char*>(dst)[i] = src[i] != 0.0f ? 1 : 0;
  else throw std::runtime_error("dtype " + dtype + " cannot be converted");
}

}  // namespace

class VulkanModel {
 public:
  explicit VulkanModel(const std::string& dir) : plan_(read_vulkan_plan(read_file(dir + "/plan.txt", "the plan"))) {
    try {
      check_limits();
      create_arena();
      load_weights(dir);
      if (plan_.host_step_count() > 0) load_interpreter(dir);
      create_pipelines(dir);
      create_descriptor_sets();
      record();
    } catch (...) {
      release();  // the destructor does not run for a half-built object
      throw;
    }
  }

  ~VulkanModel() { release(); }

  VulkanModel(const VulkanModel&) = delete;
  VulkanModel& operator=(const VulkanModel&) = delete;

  const VulkanPlan& plan() const { return plan_; }

  // One inference. outputs[o] receives output o (caller-sized); with `owned`, outputs
  // are instead resized to this run's data and `shapes` receives this run's shapes.
  void run(const float* const* inputs, float* const* outputs, std::vector<std::vector<unsigned char>>* owned = nullptr,
           std::vector<std::vector<int64_t>>* shapes = nullptr) {
    if (!inputs && !plan_.inputs.empty()) throw std::runtime_error("dnnf_model_run: inputs is null");
    if (!owned && !outputs) throw std::runtime_error("dnnf_model_run: outputs is null");
    for (size_t i = 0; i < plan_.inputs.size(); ++i) {
      const PlanTensor& t = plan_.inputs[i];
      if (!inputs[i]) throw std::runtime_error("dnnf_model_run: input " + std::to_string(i) + " ('" + t.name + "') is null");
      to_floats(t.dtype, inputs[i], arena_at(t.value), t.elements());
    }
    if (!owned)
      for (size_t o = 0; o < plan_.outputs.size(); ++o) {
        if (plan_.outputs[o].elements() < 0)
          throw std::runtime_error("dnnf_model_run: output '" + plan_.outputs[o].name +
                                   "' has a shape that depends on the data: run with dnnf_model_run_owned");
        if (!outputs[o])
          throw std::runtime_error("dnnf_model_run: output " + std::to_string(o) + " ('" + plan_.outputs[o].name +
                                   "') is null");
      }
    if (interp_) begin_host_run();
    for (const Segment& seg : segments_) {
      if (seg.cmd) submit_and_wait(seg.cmd);
      if (seg.host_step >= 0) run_host_step(plan_.steps[size_t(seg.host_step)]);
    }
    if (owned) {
      owned->resize(plan_.outputs.size());
      shapes->resize(plan_.outputs.size());
    }
    for (size_t o = 0; o < plan_.outputs.size(); ++o) {
      const PlanTensor& t = plan_.outputs[o];
      const size_t esize = plan_dtype_size(t.dtype);
      if (t.on_host) {
        HostValue v;
        if (!interp_ || !interp_->value(t.name, &v))
          throw std::runtime_error("output '" + t.name + "' was not computed by the host steps");
        if (v.dtype != t.dtype) throw std::runtime_error("output '" + t.name + "' is " + v.dtype + ", not " + t.dtype);
        if (owned) {
          (*shapes)[o] = v.shape;
          (*owned)[o].assign(static_cast<const unsigned char*>(v.data), static_cast<const unsigned char*>(v.data) + v.bytes);
        } else {
          if (v.bytes != t.elements() * int64_t(esize))
            throw std::runtime_error("output '" + t.name + "' has " + std::to_string(v.bytes) + " bytes, not " +
                                     std::to_string(t.elements() * int64_t(esize)));
          if (v.bytes) std::memcpy(outputs[o], v.data, size_t(v.bytes));
        }
        continue;
      }
      void* dst = outputs ? outputs[o] : nullptr;
      if (owned) {
        (*shapes)[o] = t.dims;
        (*owned)[o].resize(size_t(t.elements()) * esize);
        dst = (*owned)[o].data();
      }
      from_floats(t.dtype, arena_at(t.value), dst, t.elements());
    }
  }

 private:
  // Destroys what was created (in reverse order); safe to call twice.
  void release() {
    const VulkanFunctions& f = dev_.vk();
    VkDevice d = dev_.device();
    f.vkDeviceWaitIdle(d);
    if (fence_) f.vkDestroyFence(d, fence_, nullptr);
    if (command_pool_) f.vkDestroyCommandPool(d, command_pool_, nullptr);
    if (descriptor_pool_) f.vkDestroyDescriptorPool(d, descriptor_pool_, nullptr);
    for (Pipeline& p : pipelines_) {
      if (p.pipeline) f.vkDestroyPipeline(d, p.pipeline, nullptr);
      if (p.layout) f.vkDestroyPipelineLayout(d, p.layout, nullptr);
      if (p.set_layout) f.vkDestroyDescriptorSetLayout(d, p.set_layout, nullptr);
    }
    if (buffer_) f.vkDestroyBuffer(d, buffer_, nullptr);
    if (memory_) f.vkFreeMemory(d, memory_, nullptr);
    fence_ = VK_NULL_HANDLE;
    command_pool_ = VK_NULL_HANDLE;
    command_buffer_ = VK_NULL_HANDLE;
    segments_.clear();
    descriptor_pool_ = VK_NULL_HANDLE;
    pipelines_.clear();
    buffer_ = VK_NULL_HANDLE;
    memory_ = VK_NULL_HANDLE;
    mapped_ = nullptr;
  }

  struct Pipeline {
    VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
    VkPipelineLayout layout = VK_NULL_HANDLE;
    VkPipeline pipeline = VK_NULL_HANDLE;
  };

  float* arena_at(uint32_t value) { return reinterpret_cast<float*>(mapped_ + plan_.values[value].offset); }

  // The plan was generated for limits every Vulkan device guarantees; say which one a
  // device falls short of rather than failing somewhere inside the driver.
  void check_limits() const {
    const VkPhysicalDeviceLimits& l = dev_.limits();
    const std::string device = std::string("Vulkan device '") + dev_.properties().deviceName + "'";
    auto need = [&](uint64_t have, uint64_t want, const char* limit) {
      if (have < want)
        throw std::runtime_error(device + ": " + limit + " is " + std::to_string(have) + ", the bundle needs " +
                                 std::to_string(want));
    };
    need(l.maxComputeWorkGroupInvocations, plan_.local_size, "maxComputeWorkGroupInvocations");
    need(l.maxComputeWorkGroupSize[0], plan_.local_size, "maxComputeWorkGroupSize[0]");
    need(l.maxComputeSharedMemorySize, plan_.shared_bytes, "maxComputeSharedMemorySize");
    need(l.maxPerStageDescriptorStorageBuffers, plan_.max_bindings, "maxPerStageDescriptorStorageBuffers");
    need(l.maxPushConstantsSize, kPushConstantBytes, "maxPushConstantsSize");
    uint64_t range = 0;
    for (const PlanStep& s : plan_.steps)
      for (uint32_t v : s.bindings) range = std::max<uint64_t>(range, plan_.values[v].bytes);
    need(l.maxStorageBufferRange, range, "maxStorageBufferRange");
    for (const PlanStep& s : plan_.steps)
      for (const PlanDispatch& d : s.dispatches)
        for (int k = 0; k < 3; ++k) need(l.maxComputeWorkGroupCount[k], d.groups[k], "maxComputeWorkGroupCount");
  }

  void create_arena() {
    const VulkanFunctions& f = dev_.vk();
    auto bi = info<VkBufferCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
    bi.size = std::max<uint64_t>(plan_.arena_bytes, kArenaAlignment);
    bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    check_vk(f.vkCreateBuffer(dev_.device(), &bi, nullptr, &buffer_), "vkCreateBuffer");
    VkMemoryRequirements req;
    f.vkGetBufferMemoryRequirements(dev_.device(), buffer_, &req);
    VkResult r = VK_ERROR_OUT_OF_DEVICE_MEMORY;
    for (uint32_t type : dev_.host_visible_memory_types(req.memoryTypeBits)) {
      auto ai = info<VkMemoryAllocateInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
      ai.allocationSize = req.size;
      ai.memoryTypeIndex = type;
      r = f.vkAllocateMemory(dev_.device(), &ai, nullptr, &memory_);
      if (r == VK_SUCCESS) break;
    }
    if (r != VK_SUCCESS)
      throw std::runtime_error("cannot allocate " + std::to_string(req.size) + " bytes of Vulkan memory for the model");
    check_vk(f.vkBindBufferMemory(dev_.device(), buffer_, memory_, 0), "vkBindBufferMemory");
    void* p = nullptr;
    check_vk(f.vkMapMemory(dev_.device(), memory_, 0, VK_WHOLE_SIZE, 0, &p), "vkMapMemory");
    mapped_ = static_cast<char*>(p);
  }

  void load_weights(const std::string& dir) {
    const std::string weights = read_file(dir + "/weights.bin", "the weights");
    if (weights.size() != plan_.weights_bytes)
      throw std::runtime_error("weights.bin has " + std::to_string(weights.size()) + " bytes, the plan expects " +
                               std::to_string(plan_.weights_bytes));
    for (const PlanConstant& c : plan_.constants)
      std::memcpy(mapped_ + plan_.values[c.value].offset, weights.data() + c.weights_offset, c.bytes);
  }

  void create_pipelines(const std::string& dir) {
    const VulkanFunctions& f = dev_.vk();
    VkDevice d = dev_.device();
    pipelines_.resize(plan_.shaders.size());
    for (size_t i = 0; i < plan_.shaders.size(); ++i) {
      const PlanShader& s = plan_.shaders[i];
      const std::string code = read_file(dir + "/" + s.file, "the shader");
      uint32_t magic = 0;
      if (code.size() >= 4) std::memcpy(&magic, code.data(), 4);
      if (code.size() % 4 != 0 || magic != 0x07230203u)
        throw std::runtime_error("'" + s.file + "' is not a SPIR-V module");
      std::vector<uint32_t> words(code.size() / 4);
      std::memcpy(words.data(), code.data(), code.size());
      Pipeline& p = pipelines_[i];
      std::vector<VkDescriptorSetLayoutBinding> bindings(s.bindings);
      for (uint32_t b = 0; b < s.bindings; ++b) {
        bindings[b].binding = b;
        bindings[b].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        bindings[b].descriptorCount = 1;
        bindings[b].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
      }
      auto li = info<VkDescriptorSetLayoutCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
      li.bindingCount = s.bindings;
      li.pBindings = bindings.data();
      check_vk(f.vkCreateDescriptorSetLayout(d, &li, nullptr, &p.set_layout), "vkCreateDescriptorSetLayout");
      VkPushConstantRange push{VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushConstantBytes};
      auto pli = info<VkPipelineLayoutCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO);
      pli.setLayoutCount = 1;
      pli.pSetLayouts = &p.set_layout;
      pli.pushConstantRangeCount = 1;
      pli.pPushConstantRanges = &push;
      check_vk(f.vkCreatePipelineLayout(d, &pli, nullptr, &p.layout), "vkCreatePipelineLayout");
      auto mi = info<VkShaderModuleCreateInfo>(VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO);
      mi.codeSize = code.size();
      mi.pCode = words.data();
      VkShaderModule module = VK_NULL_HANDLE;
      check_vk(f.vkCreateShaderModule(d, &mi, nullptr, &module), ("vkCreateShaderModule (" + s.file + ")").c_str());
      auto ci = info<VkComputePipelineCreateInfo>(VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO);
      ci.stage = info<VkPipelineShaderStageCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO);
      ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
      ci.stage.module = module;
      ci.stage.pName = "main";
      ci.layout = p.layout;
      const VkResult r = f.vkCreateComputePipelines(d, VK_NULL_HANDLE, 1, &ci, nullptr, &p.pipeline);
      f.vkDestroyShaderModule(d, module, nullptr);
      check_vk(r, ("vkCreateComputePipelines (" + s.file + ")").c_str());
    }
  }

  void create_descriptor_sets() {
    const VulkanFunctions& f = dev_.vk();
    VkDevice d = dev_.device();
    uint32_t descriptors = 0, sets = 0;
    for (const PlanStep& s : plan_.steps) {
      descriptors += uint32_t(s.bindings.size());
      sets += s.is_copy || s.is_host ? 0 : 1;
    }
    if (sets == 0) return;
    VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, std::max(descriptors, 1u)};
    auto pi = info<VkDescriptorPoolCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO);
    pi.maxSets = sets;
    pi.poolSizeCount = 1;
    pi.pPoolSizes = &size;
    check_vk(f.vkCreateDescriptorPool(d, &pi, nullptr, &descriptor_pool_), "vkCreateDescriptorPool");
    sets_.resize(plan_.steps.size());
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      const PlanStep& s = plan_.steps[i];
      if (s.is_copy || s.is_host) continue;
      auto ai = info<VkDescriptorSetAllocateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO);
      ai.descriptorPool = descriptor_pool_;
      ai.descriptorSetCount = 1;
      ai.pSetLayouts = &pipelines_[s.shader].set_layout;
      check_vk(f.vkAllocateDescriptorSets(d, &ai, &sets_[i]), "vkAllocateDescriptorSets");
      std::vector<VkDescriptorBufferInfo> infos(s.bindings.size());
      std::vector<VkWriteDescriptorSet> writes(s.bindings.size());
      for (size_t k = 0; k < infos.size(); ++k) {
        const PlanValue& v = plan_.values[s.bindings[k]];
        infos[k] = {buffer_, v.offset, v.bytes};
        writes[k] = info<VkWriteDescriptorSet>(VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET);
        writes[k].dstSet = sets_[i];
        writes[k].dstBinding = uint32_t(k);
        writes[k].descriptorCount = 1;
        writes[k].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        writes[k].pBufferInfo = &infos[k];
      }
      f.vkUpdateDescriptorSets(d, uint32_t(writes.size()), writes.data(), 0, nullptr);
    }
  }

  // Everything before (shaders and copies) happens before, and is visible to, what
  // follows in `dst_stage`.
  void barrier(VkPipelineStageFlags dst_stage, VkAccessFlags dst_access) {
    auto mb = info<VkMemoryBarrier>(VK_STRUCTURE_TYPE_MEMORY_BARRIER);
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    mb.dstAccessMask = dst_access;
    dev_.vk().vkCmdPipelineBarrier(command_buffer_,
                                   VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, dst_stage, 0,
                                   1, &mb, 0, nullptr, 0, nullptr);
  }
  void barrier_between_steps() {
    barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                VK_ACCESS_TRANSFER_WRITE_BIT);
  }

  void submit_and_wait(VkCommandBuffer cmd) {
    const VulkanFunctions& f = dev_.vk();
    auto si = info<VkSubmitInfo>(VK_STRUCTURE_TYPE_SUBMIT_INFO);
    si.commandBufferCount = 1;
    si.pCommandBuffers = &cmd;
    check_vk(f.vkResetFences(dev_.device(), 1, &fence_), "vkResetFences");
    check_vk(f.vkQueueSubmit(dev_.queue(), 1, &si, fence_), "vkQueueSubmit");
    check_vk(f.vkWaitForFences(dev_.device(), 1, &fence_, VK_TRUE, UINT64_MAX), "vkWaitForFences");
  }

  // The interpreter reads and writes the arena through the mapping, by value name.
  void load_interpreter(const std::string& dir) {
    if (!make_host_interpreter)
      throw std::runtime_error("the plan has host steps, but this library was built without the interpreter");
    const std::string weights = read_file(dir + "/weights.bin", "the weights");
    interp_ = make_host_interpreter(read_file(dir + "/interp.txt", "the interpreter plan"), weights.data(),
                                    weights.size());
    for (size_t i = 0; i < plan_.values.size(); ++i) value_by_name_[plan_.values[i].name] = uint32_t(i);
  }

  void begin_host_run() {
    interp_->begin_run([this](const std::string& name, const std::string& dtype, const std::vector<int64_t>& shape,
                              void* dst) {
      auto it = value_by_name_.find(name);
      if (it == value_by_name_.end()) throw std::runtime_error("the host reads '" + name + "', which is not in the arena");
      int64_t n = 1;
      for (int64_t d : shape) n *= d;
      if (uint64_t(n) * 4 > plan_.values[it->second].bytes)
        throw std::runtime_error("value '" + name + "' is larger than its arena range");
      from_floats(dtype, arena_at(it->second), dst, n);
    });
  }

  void run_host_step(const PlanStep& st) {
    interp_->run_step(st.host_step);
    for (const PlanUpload& u : st.uploads) {
      const PlanValue& pv = plan_.values[u.value];
      HostValue v;
      if (!interp_->value(pv.name, &v)) throw std::runtime_error("value '" + pv.name + "' was not computed on the host");
      int64_t n = 1;
      for (int64_t d : v.shape) n *= d;
      if (uint64_t(n) != u.elements)
        throw std::runtime_error("value '" + pv.name + "' has " + std::to_string(n) + " elements, the shaders read " +
                                 std::to_string(u.elements));
      to_floats(v.dtype, v.data, arena_at(u.value), n);
    }
  }

  // Stretches of device steps between host steps, each recorded once as a command
  // buffer (null when empty) followed by the host step (or -1 at the end).
  void record() {
    const VulkanFunctions& f = dev_.vk();
    VkDevice d = dev_.device();
    auto fi = info<VkFenceCreateInfo>(VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
    check_vk(f.vkCreateFence(d, &fi, nullptr, &fence_), "vkCreateFence");
    if (plan_.steps.empty()) return;  // outputs are inputs or constants
    auto ci = info<VkCommandPoolCreateInfo>(VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
    ci.queueFamilyIndex = dev_.queue_family();
    check_vk(f.vkCreateCommandPool(d, &ci, nullptr, &command_pool_), "vkCreateCommandPool");
    size_t first = 0;
    for (size_t i = 0; i <= plan_.steps.size(); ++i) {
      if (i < plan_.steps.size() && !plan_.steps[i].is_host) continue;
      Segment seg;
      if (i > first) seg.cmd = record_steps(first, i);
      seg.host_step = i < plan_.steps.size() ? int(i) : -1;
      if (seg.cmd || seg.host_step >= 0) segments_.push_back(seg);
      first = i + 1;
    }
  }

  // Device steps [first, end) as one command buffer.
  VkCommandBuffer record_steps(size_t first, size_t end) {
    const VulkanFunctions& f = dev_.vk();
    VkDevice d = dev_.device();
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    auto ai = info<VkCommandBufferAllocateInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
    ai.commandPool = command_pool_;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    check_vk(f.vkAllocateCommandBuffers(d, &ai, &cmd), "vkAllocateCommandBuffers");
    command_buffer_ = cmd;  // barrier() records into it
    auto bi = info<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
    check_vk(f.vkBeginCommandBuffer(cmd, &bi), "vkBeginCommandBuffer");
    int bound = -1;
    for (size_t i = first; i < end; ++i) {
      const PlanStep& s = plan_.steps[i];
      if (s.is_copy) {
        if (s.copy.barrier) barrier_between_steps();
        const VkBufferCopy region{plan_.values[s.copy.src].offset, plan_.values[s.copy.dst].offset, s.copy.bytes};
        if (region.size > 0) f.vkCmdCopyBuffer(cmd, buffer_, buffer_, 1, &region);
        continue;
      }
      const Pipeline& p = pipelines_[s.shader];
      if (int(s.shader) != bound) {
        f.vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p.pipeline);
        bound = int(s.shader);
      }
      f.vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout, 0, 1, &sets_[i], 0, nullptr);
      for (const PlanDispatch& dp : s.dispatches) {
        if (dp.barrier) barrier_between_steps();
        const int32_t push[kPushConstantBytes / 4] = {dp.stage, 0, 0, 0};
        f.vkCmdPushConstants(cmd, p.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushConstantBytes, push);
        f.vkCmdDispatch(cmd, dp.groups[0], dp.groups[1], dp.groups[2]);
      }
    }
    barrier(VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);  // results visible after the fence
    check_vk(f.vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
    return cmd;
  }

  struct Segment {
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    int host_step = -1;  // index into plan_.steps
  };

  VulkanPlan plan_;
  VulkanDevice dev_;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  char* mapped_ = nullptr;
  std::vector<Pipeline> pipelines_;
  VkDescriptorPool descriptor_pool_ = VK_NULL_HANDLE;
  std::vector<VkDescriptorSet> sets_;
  VkCommandPool command_pool_ = VK_NULL_HANDLE;
  VkCommandBuffer command_buffer_ = VK_NULL_HANDLE;  // the one being recorded
  std::vector<Segment> segments_;
  VkFence fence_ = VK_NULL_HANDLE;
  std::unique_ptr<HostInterpreter> interp_;
  std::map<std::string, uint32_t> value_by_name_;
};

}  // namespace dnnf_bundle

struct dnnf_model {
  std::unique_ptr<dnnf_bundle::VulkanModel> impl;
  // Outputs of dnnf_model_run_owned and their shapes in that run; valid after a
  // successful one until the next run.
  std::vector<std::vector<unsigned char>> owned;
  std::vector<std::vector<int64_t>> owned_shapes;
  bool owned_valid = false;
};

namespace {

thread_local std::string g_last_error;

const dnnf_bundle::PlanTensor* input_at(const dnnf_model* m, int i) {
  if (!m || i < 0 || size_t(i) >= m->impl->plan().inputs.size()) return nullptr;
  return &m->impl->plan().inputs[size_t(i)];
}

const dnnf_bundle::PlanTensor* output_at(const dnnf_model* m, int i) {
  if (!m || i < 0 || size_t(i) >= m->impl->plan().outputs.size()) return nullptr;
  return &m->impl->plan().outputs[size_t(i)];
}

}  // namespace

extern "C" {

dnnf_model* dnnf_model_create(const char* bundle_dir) {
  g_last_error.clear();
  if (!bundle_dir) {
    g_last_error = "dnnf_model_create: bundle_dir is null";
    return nullptr;
  }
  try {
    auto m = std::make_unique<dnnf_model>();
    m->impl = std::make_unique<dnnf_bundle::VulkanModel>(bundle_dir);
    return m.release();
  } catch (const std::exception& e) {
    g_last_error = std::string(bundle_dir) + ": " + e.what();
    return nullptr;
  }
}

int dnnf_model_run(dnnf_model* model, const float* const* inputs, float* const* outputs) {
  g_last_error.clear();
  if (!model) {
    g_last_error = "dnnf_model_run: model is null";
    return 1;
  }
  model->owned_valid = false;
  try {
    model->impl->run(inputs, outputs);
    return 0;
  } catch (const std::exception& e) {
    g_last_error = e.what();
    return 1;
  }
}

int dnnf_model_run_owned(dnnf_model* model, const float* const* inputs) {
  g_last_error.clear();
  if (!model) {
    g_last_error = "dnnf_model_run_owned: model is null";
    return 1;
  }
  model->owned_valid = false;
  try {
    model->impl->run(inputs, nullptr, &model->owned, &model->owned_shapes);
    model->owned_valid = true;
    return 0;
  } catch (const std::exception& e) {
    g_last_error = e.what();
    return 1;
  }
}

const void* dnnf_model_output_data(const dnnf_model* m, int o) {
  if (!output_at(m, o) || !m->owned_valid) return nullptr;
  return m->owned[size_t(o)].data();
}

int dnnf_model_output_shape_is_fixed(const dnnf_model* m, int o) {
  const auto* t = output_at(m, o);
  return t ? (t->elements() >= 0 ? 1 : 0) : -1;
}

void dnnf_model_destroy(dnnf_model* model) { delete model; }

const char* dnnf_model_last_error(void) { return g_last_error.c_str(); }

int dnnf_model_num_inputs(const dnnf_model* m) { return m ? int(m->impl->plan().inputs.size()) : -1; }
int dnnf_model_num_outputs(const dnnf_model* m) { return m ? int(m->impl->plan().outputs.size()) : -1; }
const char* dnnf_model_input_name(const dnnf_model* m, int i) {
  const auto* t = input_at(m, i);
  return t ? t->name.c_str() : nullptr;
}
const char* dnnf_model_output_name(const dnnf_model* m, int i) {
  const auto* t = output_at(m, i);
  return t ? t->name.c_str() : nullptr;
}
const char* dnnf_model_input_dtype(const dnnf_model* m, int i) {
  const auto* t = input_at(m, i);
  return t ? t->dtype.c_str() : nullptr;
}
const char* dnnf_model_output_dtype(const dnnf_model* m, int i) {
  const auto* t = output_at(m, i);
  return t ? t->dtype.c_str() : nullptr;
}
int dnnf_model_input_rank(const dnnf_model* m, int i) {
  const auto* t = input_at(m, i);
  return t ? int(t->dims.size()) : -1;
}
int dnnf_model_output_rank(const dnnf_model* m, int i) {
  const auto* t = output_at(m, i);
  return t ? int(t->dims.size()) : -1;
}
const int64_t* dnnf_model_input_shape(const dnnf_model* m, int i) {
  const auto* t = input_at(m, i);
  return t ? t->dims.data() : nullptr;
}
// After a successful dnnf_model_run_owned: that run's shape (data-dependent outputs).
const int64_t* dnnf_model_output_shape(const dnnf_model* m, int i) {
  const auto* t = output_at(m, i);
  if (t && m->owned_valid && t->elements() < 0) return m->owned_shapes[size_t(i)].data();
  return t ? t->dims.data() : nullptr;
}
int64_t dnnf_model_input_size(const dnnf_model* m, int i) {
  const auto* t = input_at(m, i);
  return t ? t->elements() : -1;
}
int64_t dnnf_model_output_size(const dnnf_model* m, int i) {
  const auto* t = output_at(m, i);
  if (t && m->owned_valid && t->elements() < 0) {
    int64_t n = 1;
    for (int64_t d : m->owned_shapes[size_t(i)]) n *= d;
    return n;
  }
  return t ? t->elements() : -1;
}
const char* dnnf_model_target(void) { return "vulkan"; }

}  // extern "C"
