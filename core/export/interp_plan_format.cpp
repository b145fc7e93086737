// The interpreter plan format of export bundles, compiled into dnnf from the very source
// the bundles with interpreted steps ship (kernels/bundle/ is embedded, not built into
// dnnf_kernels), so the exporter's writer and the bundle's reader cannot drift apart.
#include "kernels/bundle/interp/interp_plan.cpp"  // NOLINT(bugprone-suspicious-include)
