// dnnf devices: the Vulkan devices the loader reports, with the limits the shader
// generator respects, and which one `dnnf run --backend vulkan` picks by default.
#include <cstdio>

#include "app/cli/cli.h"
#include "app/cli/commands.h"
#include "core/util/error.h"

#ifdef DNNF_HAVE_VULKAN
#include "core/vulkan/vk_context.h"
#endif

namespace dnnf::cli {

int cmd_devices(const CommandArgs& argv) {
  Args args(argv, {"--json"}, {});
  if (!args.positional().empty()) throw UsageError("devices takes no positional arguments");
#ifndef DNNF_HAVE_VULKAN
  fail("this dnnf was built without Vulkan support (needs libvulkan-dev and libshaderc-dev at build time)");
#else
  const std::vector<vk::DeviceInfo> devices = vk::list_devices();
  const int chosen = devices.empty() ? -1 : vk::choose_device(devices, -1);
  nlohmann::json rows = nlohmann::json::array();
  for (const vk::DeviceInfo& d : devices)
    rows.push_back({{"index", d.index},
                    {"name", d.name},
                    {"type", d.type},
                    {"api_version", d.api_string()},
                    {"default", d.index == chosen},
                    {"compute_queue", d.has_compute_queue},
                    {"max_workgroup_size", {d.max_workgroup_size[0], d.max_workgroup_size[1], d.max_workgroup_size[2]}},
                    {"max_workgroup_count", {d.max_workgroup_count[0], d.max_workgroup_count[1], d.max_workgroup_count[2]}},
                    {"max_workgroup_invocations", d.max_workgroup_invocations},
                    {"max_shared_memory", d.max_shared_memory},
                    {"max_storage_buffers", d.max_storage_buffers},
                    {"max_storage_buffer_range", d.max_storage_buffer_range},
                    {"max_texel_buffer_elements", d.max_texel_buffer_elements},
                    {"max_sampled_per_stage", d.max_sampled_per_stage},
                    {"subgroup_size", d.subgroup_size},
                    {"timestamps", d.timestamps},
                    {"timestamp_period_ns", d.timestamp_period_ns},
                    {"device_local_bytes", d.device_local_bytes}});
  if (auto out = args.value("--json")) {
    write_json({{"devices", rows}, {"count", rows.size()}}, *out);
    return devices.empty() ? 1 : 0;
  }
  for (const vk::DeviceInfo& d : devices) {
    std::printf("%c %d: %s (%s, Vulkan %s)\n", d.index == chosen ? '*' : ' ', d.index, d.name.c_str(), d.type.c_str(),
                d.api_string().c_str());
    std::printf("     work group <= %u invocations (%u x %u x %u), groups <= %u x %u x %u, shared %u bytes, "
                "subgroup %u, %u storage buffers, timestamps %s\n",
                d.max_workgroup_invocations, d.max_workgroup_size[0], d.max_workgroup_size[1], d.max_workgroup_size[2],
                d.max_workgroup_count[0], d.max_workgroup_count[1], d.max_workgroup_count[2], d.max_shared_memory,
                d.subgroup_size, d.max_storage_buffers, d.timestamps ? "yes" : "no");
  }
  check(!devices.empty(), "no Vulkan device found (no driver reports one; on Debian install mesa-vulkan-drivers)");
  std::printf("* = default for --backend vulkan (choose another with --device N)\n");
  return 0;
#endif
}

}  // namespace dnnf::cli
