// The Vulkan side of a bundle's runtime: the loader opened at run time
// (libvulkan.so.1, or $DNNF_VULKAN_LOADER), so the library links against nothing but
// libc/libdl and a machine without Vulkan gets an error message instead of a library
// that does not load; one instance, one device with a compute queue (the first
// discrete GPU, else integrated, virtual, CPU; $DNNF_VULKAN_DEVICE=N picks the N-th).
// Failures throw std::runtime_error with a one-line message.
#pragma once

#ifndef VK_NO_PROTOTYPES
#define VK_NO_PROTOTYPES
#endif
#include <vulkan/vulkan.h>

#include <string>
#include <vector>

namespace dnnf_bundle {

#define DNNF_BUNDLE_VK_INSTANCE_FUNCTIONS(X)  \
  X(vkDestroyInstance)                        \
  X(vkEnumeratePhysicalDevices)               \
  X(vkGetPhysicalDeviceProperties)            \
  X(vkGetPhysicalDeviceQueueFamilyProperties) \
  X(vkGetPhysicalDeviceMemoryProperties)      \
  X(vkCreateDevice)                           \
  X(vkDestroyDevice)                          \
  X(vkGetDeviceQueue)                         \
  X(vkAllocateMemory)                         \
  X(vkFreeMemory)                             \
  X(vkMapMemory)                              \
  X(vkCreateBuffer)                           \
  X(vkDestroyBuffer)                          \
  X(vkGetBufferMemoryRequirements)            \
  X(vkBindBufferMemory)                       \
  X(vkCreateShaderModule)                     \
  X(vkDestroyShaderModule)                    \
  X(vkCreateDescriptorSetLayout)              \
  X(vkDestroyDescriptorSetLayout)             \
  X(vkCreatePipelineLayout)                   \
  X(vkDestroyPipelineLayout)                  \
  X(vkCreateComputePipelines)                 \
  X(vkDestroyPipeline)                        \
  X(vkCreateDescriptorPool)                   \
  X(vkDestroyDescriptorPool)                  \
  X(vkAllocateDescriptorSets)                 \
  X(vkUpdateDescriptorSets)                   \
  X(vkCreateCommandPool)                      \
  X(vkDestroyCommandPool)                     \
  X(vkAllocateCommandBuffers)                 \
  X(vkBeginCommandBuffer)                     \
  X(vkEndCommandBuffer)                       \
  X(vkCmdBindPipeline)                        \
  X(vkCmdBindDescriptorSets)                  \
  X(vkCmdPushConstants)                       \
  X(vkCmdDispatch)                            \
  X(vkCmdCopyBuffer)                          \
  X(vkCmdPipelineBarrier)                     \
  X(vkQueueSubmit)                            \
  X(vkCreateFence)                            \
  X(vkDestroyFence)                           \
  X(vkWaitForFences)                          \
  X(vkResetFences)                            \
  X(vkDeviceWaitIdle)

struct VulkanFunctions {
  PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
  PFN_vkCreateInstance vkCreateInstance = nullptr;
#define DNNF_BUNDLE_VK_DECLARE(name) PFN_##name name = nullptr;
  DNNF_BUNDLE_VK_INSTANCE_FUNCTIONS(DNNF_BUNDLE_VK_DECLARE)
#undef DNNF_BUNDLE_VK_DECLARE
};

// Throws "<what>: <VkResult>" unless r is VK_SUCCESS.
void check_vk(VkResult r, const char* what);

class VulkanDevice {
 public:
  VulkanDevice();
  ~VulkanDevice();
  VulkanDevice(const VulkanDevice&) = delete;
  VulkanDevice& operator=(const VulkanDevice&) = delete;

  const VulkanFunctions& vk() const { return f_; }
  VkDevice device() const { return device_; }
  VkQueue queue() const { return queue_; }
  uint32_t queue_family() const { return queue_family_; }
  const VkPhysicalDeviceProperties& properties() const { return props_; }
  const VkPhysicalDeviceLimits& limits() const { return props_.limits; }
  // The host-visible, coherent memory types among `type_bits`, device-local first (a
  // discrete GPU without resizable BAR has little of those: the others are fallbacks).
  std::vector<uint32_t> host_visible_memory_types(uint32_t type_bits) const;

 private:
  void open();
  void close();
  void* library_ = nullptr;
  VulkanFunctions f_;
  VkInstance instance_ = VK_NULL_HANDLE;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties props_{};
  VkPhysicalDeviceMemoryProperties memory_{};
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t queue_family_ = 0;
};

}  // namespace dnnf_bundle
