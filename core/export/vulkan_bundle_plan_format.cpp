// The Vulkan bundle's plan format, compiled into dnnf from the very source every bundle
// ships (kernels/bundle/ is embedded, not built into dnnf_kernels), so the exporter's
// writer and the bundle runtime's reader cannot drift apart.
#include "kernels/bundle/vulkan/vulkan_plan.cpp"  // NOLINT(bugprone-suspicious-include)
