#include "core/vulkan/vk_context.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(__SANITIZE_ADDRESS__)
#include <dlfcn.h>
#include <link.h>
#endif

#include "core/util/error.h"

namespace dnnf::vk {

namespace {

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

const char* type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
  }
}

int type_rank(const std::string& type) {
  if (type == "discrete") return 0;
  if (type == "integrated") return 1;
  if (type == "virtual") return 2;
  if (type == "cpu") return 3;
  return 4;
}

bool validation_requested(int option) {
  if (option >= 0) return option != 0;
  const char* e = std::getenv("DNNF_VULKAN_VALIDATION");
  return e && *e && std::strcmp(e, "0") != 0;
}

bool has_layer(const Functions& f, const char* name) {
  uint32_t n = 0;
  if (f.vkEnumerateInstanceLayerProperties(&n, nullptr) != VK_SUCCESS) return false;
  std::vector<VkLayerProperties> layers(n);
  f.vkEnumerateInstanceLayerProperties(&n, layers.data());
  for (const VkLayerProperties& l : layers)
    if (std::strcmp(l.layerName, name) == 0) return true;
  return false;
}

// Sanitizer builds only: keeps every loaded Vulkan driver (libvulkan_*.so) in memory for
// the life of the process. The loader unloads drivers in vkDestroyInstance; what a
// driver allocated for its own globals (lavapipe's LLVM set-up on an AMD EPYC guest:
// 256 bytes per process) is then unreachable, and LeakSanitizer reports it from an
// unknown module that no suppression can name. Kept loaded, it stays reachable.
void keep_drivers_loaded() {
#if defined(__SANITIZE_ADDRESS__)
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void*) {
        if (info->dlpi_name && std::strstr(info->dlpi_name, "libvulkan_"))
          dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);  // marks it, loads nothing
        return 0;
      },
      nullptr);
#endif
}

// An instance (API 1.1: properties2 and subgroup queries are core there).
VkInstance create_instance(Functions& f, bool validation) {
  auto app = make_info<VkApplicationInfo>(VK_STRUCTURE_TYPE_APPLICATION_INFO);
  app.pApplicationName = "dnnf";
  app.pEngineName = "dnnf";
  app.apiVersion = VK_API_VERSION_1_1;
  auto ci = make_info<VkInstanceCreateInfo>(VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
  ci.pApplicationInfo = &app;
  const char* layers[] = {kValidationLayer};
  const char* extensions[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
  if (validation) {
    check(has_layer(f, kValidationLayer), "DNNF_VULKAN_VALIDATION is set but ", kValidationLayer,
          " is not installed (Debian: vulkan-validationlayers)");
    ci.enabledLayerCount = 1;
    ci.ppEnabledLayerNames = layers;
    ci.enabledExtensionCount = 1;
    ci.ppEnabledExtensionNames = extensions;
  }
  VkInstance instance = VK_NULL_HANDLE;
  const VkResult r = f.vkCreateInstance(&ci, nullptr, &instance);
  if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
    fail("no Vulkan driver found (no ICD installed; on Debian install mesa-vulkan-drivers)");
  check_vk(r, "vkCreateInstance");
  keep_drivers_loaded();
  load_instance_functions(f, instance);
  return instance;
}

std::vector<VkPhysicalDevice> physical_devices(const Functions& f, VkInstance instance) {
  uint32_t n = 0;
  const VkResult r = f.vkEnumeratePhysicalDevices(instance, &n, nullptr);
  if (r == VK_ERROR_INITIALIZATION_FAILED || n == 0) return {};
  check_vk(r, "vkEnumeratePhysicalDevices");
  std::vector<VkPhysicalDevice> devices(n);
  check_vk(f.vkEnumeratePhysicalDevices(instance, &n, devices.data()), "vkEnumeratePhysicalDevices");
  devices.resize(n);
  return devices;
}

// The first queue family with compute (a dedicated compute family is preferred).
int compute_family(const Functions& f, VkPhysicalDevice pd, uint32_t* timestamp_bits) {
  uint32_t n = 0;
  f.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, nullptr);
  std::vector<VkQueueFamilyProperties> families(n);
  f.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, families.data());
  int best = -1;
  for (uint32_t i = 0; i < n; ++i) {
    if (!(families[i].queueFlags & VK_QUEUE_COMPUTE_BIT)) continue;
    const bool dedicated = !(families[i].queueFlags & VK_QUEUE_GRAPHICS_BIT);
    if (best < 0 || (dedicated && (families[size_t(best)].queueFlags & VK_QUEUE_GRAPHICS_BIT))) best = int(i);
  }
  if (best >= 0 && timestamp_bits) *timestamp_bits = families[size_t(best)].timestampValidBits;
  return best;
}

DeviceInfo describe(const Functions& f, VkPhysicalDevice pd, int index) {
  auto subgroup = make_info<VkPhysicalDeviceSubgroupProperties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES);
  auto props2 = make_info<VkPhysicalDeviceProperties2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2);
  props2.pNext = &subgroup;
  VkPhysicalDeviceProperties p{};
  f.vkGetPhysicalDeviceProperties(pd, &p);
  if (VK_API_VERSION_MINOR(p.apiVersion) >= 1 || VK_API_VERSION_MAJOR(p.apiVersion) > 1)
    f.vkGetPhysicalDeviceProperties2(pd, &props2);
  DeviceInfo d;
  d.index = index;
  d.name = p.deviceName;
  d.type = type_name(p.deviceType);
  d.api_version = p.apiVersion;
  d.driver_version = p.driverVersion;
  d.vendor_id = p.vendorID;
  d.device_id = p.deviceID;
  const VkPhysicalDeviceLimits& l = p.limits;
  for (int i = 0; i < 3; ++i) {
    d.max_workgroup_size[i] = l.maxComputeWorkGroupSize[i];
    d.max_workgroup_count[i] = l.maxComputeWorkGroupCount[i];
  }
  d.max_workgroup_invocations = l.maxComputeWorkGroupInvocations;
  d.max_shared_memory = l.maxComputeSharedMemorySize;
  d.max_storage_buffers = l.maxPerStageDescriptorStorageBuffers;
  d.max_storage_buffer_range = l.maxStorageBufferRange;
  d.max_push_constants = l.maxPushConstantsSize;
  d.storage_offset_alignment = l.minStorageBufferOffsetAlignment;
  d.max_texel_buffer_elements = l.maxTexelBufferElements;
  d.max_sampled_per_stage = l.maxPerStageDescriptorSampledImages;
  d.texel_offset_alignment = l.minTexelBufferOffsetAlignment;
  d.subgroup_size = subgroup.subgroupSize;
  d.subgroup_ballot = (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_BALLOT_BIT) != 0 &&
                      (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
  d.timestamp_period_ns = l.timestampPeriod;
  uint32_t ts_bits = 0;
  d.has_compute_queue = compute_family(f, pd, &ts_bits) >= 0;
  d.timestamps = ts_bits > 0 && l.timestampPeriod > 0;
  d.timestamp_bits = ts_bits;
  VkPhysicalDeviceMemoryProperties mem{};
  f.vkGetPhysicalDeviceMemoryProperties(pd, &mem);
  for (uint32_t h = 0; h < mem.memoryHeapCount; ++h)
    if (mem.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
      d.device_local_bytes = std::max<uint64_t>(d.device_local_bytes, mem.memoryHeaps[h].size);
  return d;
}

}  // namespace

std::string DeviceInfo::api_string() const {
  return std::to_string(VK_API_VERSION_MAJOR(api_version)) + "." + std::to_string(VK_API_VERSION_MINOR(api_version)) +
         "." + std::to_string(VK_API_VERSION_PATCH(api_version));
}

std::vector<DeviceInfo> list_devices() {
  Functions f = global_functions();
  VkInstance instance = create_instance(f, false);
  std::vector<DeviceInfo> out;
  const std::vector<VkPhysicalDevice> devices = physical_devices(f, instance);
  for (size_t i = 0; i < devices.size(); ++i) out.push_back(describe(f, devices[i], int(i)));
  f.vkDestroyInstance(instance, nullptr);
  return out;
}

int choose_device(const std::vector<DeviceInfo>& devices, int requested) {
  check(!devices.empty(), "no Vulkan device found (no driver reports one; on Debian install mesa-vulkan-drivers)");
  if (requested >= 0) {
    check(requested < int(devices.size()), "--device ", requested, ": there are only ", devices.size(),
          " Vulkan devices (see dnnf devices)");
    check(devices[size_t(requested)].has_compute_queue, "Vulkan device ", requested, " (",
          devices[size_t(requested)].name, ") has no compute queue");
    return requested;
  }
  int best = -1;
  for (const DeviceInfo& d : devices) {
    if (!d.has_compute_queue) continue;
    if (best < 0 || type_rank(d.type) < type_rank(devices[size_t(best)].type)) best = d.index;
  }
  check(best >= 0, "no Vulkan device with a compute queue");
  return best;
}

Context::Context(const ContextOptions& options) {
  f_ = global_functions();
  const bool validation = validation_requested(options.validation);
  instance_ = create_instance(f_, validation);
  try {
    if (validation && f_.vkCreateDebugUtilsMessengerEXT) {
      auto mi = make_info<VkDebugUtilsMessengerCreateInfoEXT>(VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT);
      mi.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
      mi.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
      mi.pfnUserCallback = &Context::on_message;
      mi.pUserData = this;
      check_vk(f_.vkCreateDebugUtilsMessengerEXT(instance_, &mi, nullptr, &messenger_), "vkCreateDebugUtilsMessengerEXT");
    }
    const std::vector<VkPhysicalDevice> devices = physical_devices(f_, instance_);
    std::vector<DeviceInfo> infos;
    for (size_t i = 0; i < devices.size(); ++i) infos.push_back(describe(f_, devices[i], int(i)));
    const int chosen = choose_device(infos, options.device);
    physical_ = devices[size_t(chosen)];
    info_ = infos[size_t(chosen)];
    f_.vkGetPhysicalDeviceMemoryProperties(physical_, &memory_);
    queue_family_ = uint32_t(compute_family(f_, physical_, nullptr));
    const float priority = 1.0f;
    auto qi = make_info<VkDeviceQueueCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
    qi.queueFamilyIndex = queue_family_;
    qi.queueCount = 1;
    qi.pQueuePriorities = &priority;
    auto di = make_info<VkDeviceCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO);
    di.queueCreateInfoCount = 1;
    di.pQueueCreateInfos = &qi;
    check_vk(f_.vkCreateDevice(physical_, &di, nullptr, &device_), "vkCreateDevice");
    f_.vkGetDeviceQueue(device_, queue_family_, 0, &queue_);
  } catch (...) {
    if (messenger_) f_.vkDestroyDebugUtilsMessengerEXT(instance_, messenger_, nullptr);
    f_.vkDestroyInstance(instance_, nullptr);
    throw;
  }
}

Context::~Context() {
  if (device_) {
    f_.vkDeviceWaitIdle(device_);
    f_.vkDestroyDevice(device_, nullptr);
  }
  if (messenger_) f_.vkDestroyDebugUtilsMessengerEXT(instance_, messenger_, nullptr);
  if (instance_) f_.vkDestroyInstance(instance_, nullptr);
}

VKAPI_ATTR VkBool32 VKAPI_CALL Context::on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                   VkDebugUtilsMessageTypeFlagsEXT,
                                                   const VkDebugUtilsMessengerCallbackDataEXT* data, void* self) {
  Context* cx = static_cast<Context*>(self);
  const bool error = severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  (error ? cx->errors_ : cx->warnings_).fetch_add(1);
  std::fprintf(stderr, "vulkan validation %s: %s\n", error ? "error" : "warning",
               data && data->pMessage ? data->pMessage : "(no message)");
  return VK_FALSE;
}

}  // namespace dnnf::vk
