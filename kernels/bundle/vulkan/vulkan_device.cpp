#include "vulkan_device.h"

#include <dlfcn.h>

#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace dnnf_bundle {

namespace {

const char* result_name(VkResult r) {
  switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    case VK_ERROR_INVALID_SHADER_NV: return "VK_ERROR_INVALID_SHADER_NV";
    default: return "VkResult error";
  }
}

// Type preference when no device is requested: real GPUs first, the CPU driver last.
int type_rank(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
    default: return 4;
  }
}

}  // namespace

void check_vk(VkResult r, const char* what) {
  if (r != VK_SUCCESS) throw std::runtime_error(std::string(what) + ": " + result_name(r));
}

VulkanDevice::VulkanDevice() {
  try {
    open();
  } catch (...) {
    close();  // the destructor does not run for a half-built object
    throw;
  }
}

void VulkanDevice::open() {
  const char* env = std::getenv("DNNF_VULKAN_LOADER");
  const std::string path = env && *env ? env : "libvulkan.so.1";
  library_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library_) throw std::runtime_error("cannot open the Vulkan loader '" + path + "' (is libvulkan1 installed?)");
  f_.vkGetInstanceProcAddr = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(library_, "vkGetInstanceProcAddr"));
  if (!f_.vkGetInstanceProcAddr) throw std::runtime_error("'" + path + "' has no vkGetInstanceProcAddr");
  f_.vkCreateInstance =
      reinterpret_cast<PFN_vkCreateInstance>(f_.vkGetInstanceProcAddr(VK_NULL_HANDLE, "vkCreateInstance"));
  if (!f_.vkCreateInstance) throw std::runtime_error("the Vulkan loader has no vkCreateInstance");

  VkApplicationInfo app{};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "dnnf bundle";
  app.apiVersion = VK_API_VERSION_1_1;  // the shaders are SPIR-V 1.3 (Vulkan 1.1)
  VkInstanceCreateInfo ici{};
  ici.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  ici.pApplicationInfo = &app;
  const VkResult r = f_.vkCreateInstance(&ici, nullptr, &instance_);
  if (r == VK_ERROR_INCOMPATIBLE_DRIVER) throw std::runtime_error("no Vulkan driver is installed (vkCreateInstance)");
  check_vk(r, "vkCreateInstance");
#define DNNF_BUNDLE_VK_LOAD(name)                                                                     \
  f_.name = reinterpret_cast<PFN_##name>(f_.vkGetInstanceProcAddr(instance_, #name));                 \
  if (!f_.name) throw std::runtime_error("the Vulkan loader has no " #name);
  DNNF_BUNDLE_VK_INSTANCE_FUNCTIONS(DNNF_BUNDLE_VK_LOAD)
#undef DNNF_BUNDLE_VK_LOAD

  uint32_t count = 0;
  check_vk(f_.vkEnumeratePhysicalDevices(instance_, &count, nullptr), "vkEnumeratePhysicalDevices");
  std::vector<VkPhysicalDevice> devices(count);
  if (count) check_vk(f_.vkEnumeratePhysicalDevices(instance_, &count, devices.data()), "vkEnumeratePhysicalDevices");
  if (devices.empty()) throw std::runtime_error("no Vulkan device found");
  // The compute queue family of each device (UINT32_MAX: none).
  std::vector<uint32_t> family(devices.size(), UINT32_MAX);
  for (size_t i = 0; i < devices.size(); ++i) {
    uint32_t n = 0;
    f_.vkGetPhysicalDeviceQueueFamilyProperties(devices[i], &n, nullptr);
    std::vector<VkQueueFamilyProperties> q(n);
    f_.vkGetPhysicalDeviceQueueFamilyProperties(devices[i], &n, q.data());
    for (uint32_t k = 0; k < n && family[i] == UINT32_MAX; ++k)
      if (q[k].queueFlags & VK_QUEUE_COMPUTE_BIT) family[i] = k;
  }
  int chosen = -1;
  if (const char* want = std::getenv("DNNF_VULKAN_DEVICE"); want && *want) {
    char* end = nullptr;
    const long n = std::strtol(want, &end, 10);
    if (*end || n < 0 || size_t(n) >= devices.size())
      throw std::runtime_error("DNNF_VULKAN_DEVICE=" + std::string(want) + ": there are " +
                               std::to_string(devices.size()) + " Vulkan devices (0.." +
                               std::to_string(devices.size() - 1) + ")");
    if (family[size_t(n)] == UINT32_MAX)
      throw std::runtime_error("Vulkan device " + std::to_string(n) + " has no compute queue");
    chosen = int(n);
  } else {
    int best = 99;
    for (size_t i = 0; i < devices.size(); ++i) {
      if (family[i] == UINT32_MAX) continue;
      VkPhysicalDeviceProperties p;
      f_.vkGetPhysicalDeviceProperties(devices[i], &p);
      if (type_rank(p.deviceType) < best) {
        best = type_rank(p.deviceType);
        chosen = int(i);
      }
    }
    if (chosen < 0) throw std::runtime_error("no Vulkan device has a compute queue");
  }
  physical_ = devices[size_t(chosen)];
  queue_family_ = family[size_t(chosen)];
  f_.vkGetPhysicalDeviceProperties(physical_, &props_);
  f_.vkGetPhysicalDeviceMemoryProperties(physical_, &memory_);
  if (props_.apiVersion < VK_API_VERSION_1_1)
    throw std::runtime_error(std::string("Vulkan device '") + props_.deviceName +
                             "' supports Vulkan 1.0 only; the bundle's shaders need 1.1");

  const float priority = 1.0f;
  VkDeviceQueueCreateInfo qci{};
  qci.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
  qci.queueFamilyIndex = queue_family_;
  qci.queueCount = 1;
  qci.pQueuePriorities = &priority;
  VkDeviceCreateInfo dci{};
  dci.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &qci;
  check_vk(f_.vkCreateDevice(physical_, &dci, nullptr, &device_), "vkCreateDevice");
  f_.vkGetDeviceQueue(device_, queue_family_, 0, &queue_);
}

VulkanDevice::~VulkanDevice() { close(); }

void VulkanDevice::close() {
  if (device_) f_.vkDestroyDevice(device_, nullptr);
  if (instance_) f_.vkDestroyInstance(instance_, nullptr);
  if (library_) dlclose(library_);
  device_ = VK_NULL_HANDLE;
  instance_ = VK_NULL_HANDLE;
  library_ = nullptr;
}

std::vector<uint32_t> VulkanDevice::host_visible_memory_types(uint32_t type_bits) const {
  const VkMemoryPropertyFlags need = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  std::vector<uint32_t> local, other;
  for (uint32_t i = 0; i < memory_.memoryTypeCount; ++i) {
    if (!(type_bits & (1u << i)) || (memory_.memoryTypes[i].propertyFlags & need) != need) continue;
    (memory_.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT ? local : other).push_back(i);
  }
  local.insert(local.end(), other.begin(), other.end());
  if (local.empty()) throw std::runtime_error("the Vulkan device has no host-visible coherent memory");
  return local;
}

}  // namespace dnnf_bundle
