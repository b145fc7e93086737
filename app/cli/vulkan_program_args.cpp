#include "app/cli/vulkan_program_args.h"

#ifdef DNNF_HAVE_VULKAN

namespace dnnf::cli {

CompiledVulkanProgram compile_vulkan_program(Model& model, const Args& args) {
  PipelineOptions popts;
  popts.rewrite = !args.flag("--no-rewrite");
  popts.fusion = !args.flag("--no-fusion");
  popts.use_db = !args.flag("--no-db");
  popts.db_path = args.value_or("--db", "");
  popts.channel_scaled_conv = true;  // the shaders read Conv(x * s) as x with scaled weights
  popts.chains = false;              // nor do they run Many-to-Many pairs one group at a time
  vk::VulkanRuntimeOptions ropts;
  ropts.context.device = int(args.int_or("--device", -1));
  // Fail on a missing device before the (long) optimisation of a large model.
  const std::vector<vk::DeviceInfo> devices = vk::list_devices();
  const vk::DeviceInfo device = devices[size_t(vk::choose_device(devices, ropts.context.device))];
  CompiledVulkanProgram out;
  out.pipeline = run_pipeline(model, popts);
  // Blocks the shaders do not cover (Attention) run operator by operator on the device
  // rather than whole on the host.
  out.pipeline.plan = vk::split_blocks_without_shader(model.graph, out.pipeline.plan, device, &out.split_blocks);
  Progress progress("generating shaders");
  ropts.on_progress = [&](const std::string& phase, size_t done, size_t total) {
    progress.set_label(phase == "compile" ? "compiling shaders" : "generating shaders");
    progress.update(done, total);
  };
  out.program = std::make_unique<vk::VulkanProgram>(model.graph, out.pipeline.plan, ropts);
  return out;
}

}  // namespace dnnf::cli

#endif
