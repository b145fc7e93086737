// A Vulkan instance and one logical device with a compute queue. Devices are listed
// with the properties and limits the code generator must respect (work-group sizes and
// counts, shared memory, subgroup size, timestamps), and one is chosen by `--device N`
// or by type (discrete > integrated > virtual > cpu), so the same code runs on a GPU
// driver and on lavapipe (the CPU driver CI has).
//
// DNNF_VULKAN_VALIDATION=1 enables the Khronos validation layer with a messenger that
// counts (and prints) every error it reports.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "core/vulkan/vk_loader.h"

namespace dnnf::vk {

struct DeviceInfo {
  int index = 0;
  std::string name;
  std::string type;  // "discrete", "integrated", "virtual", "cpu", "other"
  uint32_t api_version = 0;
  uint32_t driver_version = 0;
  uint32_t vendor_id = 0, device_id = 0;
  bool has_compute_queue = false;
  uint32_t max_workgroup_size[3] = {0, 0, 0};
  uint32_t max_workgroup_count[3] = {0, 0, 0};
  uint32_t max_workgroup_invocations = 0;
  uint32_t max_shared_memory = 0;
  uint32_t max_storage_buffers = 0;     // per stage
  uint64_t max_storage_buffer_range = 0;
  uint32_t max_push_constants = 0;
  uint64_t storage_offset_alignment = 0;
  uint32_t max_texel_buffer_elements = 0;
  uint32_t max_sampled_per_stage = 0;   // sampled images and uniform texel buffers
  uint64_t texel_offset_alignment = 0;
  uint32_t subgroup_size = 0;
  bool subgroup_ballot = false;         // subgroupBroadcast in compute shaders
  bool timestamps = false;              // the compute queue has valid timestamp bits
  uint32_t timestamp_bits = 0;          // how many (differences are taken modulo 2^bits)
  float timestamp_period_ns = 0;
  uint64_t device_local_bytes = 0;      // largest device-local heap
  std::string api_string() const;       // "1.3.230"
};

struct ContextOptions {
  int device = -1;           // index in list order; -1 picks by type
  int validation = -1;       // 1 on, 0 off, -1: DNNF_VULKAN_VALIDATION
};

// The devices the loader reports, in its order. Throws dnnf::Error when there is no
// loader or no driver.
std::vector<DeviceInfo> list_devices();

// Which device `options.device` (or the type preference) selects among `devices`.
int choose_device(const std::vector<DeviceInfo>& devices, int requested);

class Context {
 public:
  explicit Context(const ContextOptions& options = {});
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const Functions& vk() const { return f_; }
  VkInstance instance() const { return instance_; }
  VkPhysicalDevice physical_device() const { return physical_; }
  VkDevice device() const { return device_; }
  VkQueue queue() const { return queue_; }
  uint32_t queue_family() const { return queue_family_; }
  const DeviceInfo& info() const { return info_; }
  const VkPhysicalDeviceMemoryProperties& memory_properties() const { return memory_; }
  bool validation() const { return messenger_ != VK_NULL_HANDLE; }
  // Errors (and warnings) the validation layer reported so far.
  size_t validation_errors() const { return errors_.load(); }
  size_t validation_warnings() const { return warnings_.load(); }

 private:
  static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                   VkDebugUtilsMessageTypeFlagsEXT types,
                                                   const VkDebugUtilsMessengerCallbackDataEXT* data, void* self);
  Functions f_;
  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t queue_family_ = 0;
  DeviceInfo info_;
  VkPhysicalDeviceMemoryProperties memory_{};
  std::atomic<size_t> errors_{0}, warnings_{0};
};

}  // namespace dnnf::vk
