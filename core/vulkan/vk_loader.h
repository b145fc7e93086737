// The Vulkan entry points dnnf uses, loaded at run time from the loader library
// (libvulkan.so.1) instead of linked: a machine without Vulkan still runs every other
// backend, and asking for this one gives a one-line dnnf::Error instead of a binary
// that does not start.
#pragma once

#ifndef VK_NO_PROTOTYPES
#define VK_NO_PROTOTYPES
#endif
#include <vulkan/vulkan.h>

namespace dnnf::vk {

// Entry points resolved without an instance.
#define DNNF_VK_GLOBAL_FUNCTIONS(X)        \
  X(vkCreateInstance)                      \
  X(vkEnumerateInstanceLayerProperties)    \
  X(vkEnumerateInstanceExtensionProperties)

// Entry points resolved through an instance (device-level ones go through the
// loader's trampolines, which is fine for the handful of dispatches per inference).
#define DNNF_VK_INSTANCE_FUNCTIONS(X)        \
  X(vkDestroyInstance)                       \
  X(vkEnumeratePhysicalDevices)              \
  X(vkGetPhysicalDeviceProperties)           \
  X(vkGetPhysicalDeviceProperties2)          \
  X(vkGetPhysicalDeviceQueueFamilyProperties) \
  X(vkGetPhysicalDeviceMemoryProperties)     \
  X(vkCreateDevice)                          \
  X(vkDestroyDevice)                         \
  X(vkGetDeviceQueue)                        \
  X(vkAllocateMemory)                        \
  X(vkFreeMemory)                            \
  X(vkMapMemory)                             \
  X(vkUnmapMemory)                           \
  X(vkCreateBuffer)                          \
  X(vkDestroyBuffer)                         \
  X(vkGetBufferMemoryRequirements)           \
  X(vkBindBufferMemory)                      \
  X(vkCreateBufferView)                      \
  X(vkDestroyBufferView)                     \
  X(vkCreateShaderModule)                    \
  X(vkDestroyShaderModule)                   \
  X(vkCreateDescriptorSetLayout)             \
  X(vkDestroyDescriptorSetLayout)            \
  X(vkCreatePipelineLayout)                  \
  X(vkDestroyPipelineLayout)                 \
  X(vkCreateComputePipelines)                \
  X(vkDestroyPipeline)                       \
  X(vkCreateDescriptorPool)                  \
  X(vkDestroyDescriptorPool)                 \
  X(vkAllocateDescriptorSets)                \
  X(vkUpdateDescriptorSets)                  \
  X(vkCreateCommandPool)                     \
  X(vkDestroyCommandPool)                    \
  X(vkAllocateCommandBuffers)                \
  X(vkBeginCommandBuffer)                    \
  X(vkEndCommandBuffer)                      \
  X(vkCmdBindPipeline)                       \
  X(vkCmdBindDescriptorSets)                 \
  X(vkCmdPushConstants)                      \
  X(vkCmdDispatch)                           \
  X(vkCmdPipelineBarrier)                    \
  X(vkCmdWriteTimestamp)                     \
  X(vkCmdResetQueryPool)                     \
  X(vkCreateQueryPool)                       \
  X(vkDestroyQueryPool)                      \
  X(vkGetQueryPoolResults)                   \
  X(vkQueueSubmit)                           \
  X(vkQueueWaitIdle)                         \
  X(vkCreateFence)                           \
  X(vkDestroyFence)                          \
  X(vkWaitForFences)                         \
  X(vkResetFences)                           \
  X(vkDeviceWaitIdle)

// Optional (VK_EXT_debug_utils, only with validation on).
#define DNNF_VK_DEBUG_FUNCTIONS(X)   \
  X(vkCreateDebugUtilsMessengerEXT) \
  X(vkDestroyDebugUtilsMessengerEXT)

struct Functions {
#define DNNF_VK_DECLARE(name) PFN_##name name = nullptr;
  PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
  DNNF_VK_GLOBAL_FUNCTIONS(DNNF_VK_DECLARE)
  DNNF_VK_INSTANCE_FUNCTIONS(DNNF_VK_DECLARE)
  DNNF_VK_DEBUG_FUNCTIONS(DNNF_VK_DECLARE)
#undef DNNF_VK_DECLARE
};

// The process-wide loader library and its global entry points; loaded once.
// Throws dnnf::Error naming the library when it cannot be opened.
const Functions& global_functions();

// Resolves the instance-level (and debug, when present) entry points into `f`.
// Throws dnnf::Error when a required one is missing.
void load_instance_functions(Functions& f, VkInstance instance);

// A zeroed Vulkan info structure with its sType set.
template <class T>
T make_info(VkStructureType type) {
  T v{};
  v.sType = type;
  return v;
}

// Throws dnnf::Error "<what>: <VkResult name>" unless r is VK_SUCCESS.
void check_vk(VkResult r, const char* what);
const char* result_name(VkResult r);

}  // namespace dnnf::vk
