#include "core/vulkan/vk_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <string>

#include "core/util/error.h"

namespace dnnf::vk {

const Functions& global_functions() {
  static Functions f;
  static std::string error;
  static std::once_flag once;
  std::call_once(once, [] {
    // DNNF_VULKAN_LOADER lets tests point at a library that does not exist.
    const char* override_path = std::getenv("DNNF_VULKAN_LOADER");
    const char* names[] = {"libvulkan.so.1", "libvulkan.so"};
    void* lib = nullptr;
    if (override_path && *override_path) lib = dlopen(override_path, RTLD_NOW | RTLD_LOCAL);
    else
      for (const char* n : names)
        if ((lib = dlopen(n, RTLD_NOW | RTLD_LOCAL))) break;
    if (!lib) {
      error = std::string("Vulkan loader not found (") + (override_path && *override_path ? override_path : "libvulkan.so.1") +
              "): install libvulkan1 and a driver such as mesa-vulkan-drivers";
      return;
    }
    f.vkGetInstanceProcAddr = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(lib, "vkGetInstanceProcAddr"));
    if (!f.vkGetInstanceProcAddr) {
      error = "the Vulkan loader has no vkGetInstanceProcAddr";
      return;
    }
#define DNNF_VK_LOAD_GLOBAL(name) \
  f.name = reinterpret_cast<PFN_##name>(f.vkGetInstanceProcAddr(nullptr, #name));
    DNNF_VK_GLOBAL_FUNCTIONS(DNNF_VK_LOAD_GLOBAL)
#undef DNNF_VK_LOAD_GLOBAL
    if (!f.vkCreateInstance) error = "the Vulkan loader has no vkCreateInstance";
  });
  check(error.empty(), error);
  return f;
}

void load_instance_functions(Functions& f, VkInstance instance) {
#define DNNF_VK_LOAD_INSTANCE(name)                                                      \
  f.name = reinterpret_cast<PFN_##name>(f.vkGetInstanceProcAddr(instance, #name));       \
  check(f.name != nullptr, "the Vulkan driver does not provide ", #name);
  DNNF_VK_INSTANCE_FUNCTIONS(DNNF_VK_LOAD_INSTANCE)
#undef DNNF_VK_LOAD_INSTANCE
#define DNNF_VK_LOAD_OPTIONAL(name) \
  f.name = reinterpret_cast<PFN_##name>(f.vkGetInstanceProcAddr(instance, #name));
  DNNF_VK_DEBUG_FUNCTIONS(DNNF_VK_LOAD_OPTIONAL)
#undef DNNF_VK_LOAD_OPTIONAL
}

const char* result_name(VkResult r) {
  switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_INCOMPLETE: return "VK_INCOMPLETE";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    default: return "VkResult error";
  }
}

void check_vk(VkResult r, const char* what) {
  if (r != VK_SUCCESS) fail(what, ": ", result_name(r), " (", int(r), ")");
}

}  // namespace dnnf::vk
