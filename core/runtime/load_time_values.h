// Values known before any input arrives (fusion::load_time_nodes: operators whose
// inputs are all constants), computed once with the reference kernels. The CPU runtime
// keeps them beside the weights; the export bundles ship them in weights.bin.
#pragma once

#include "core/runtime/reference_executor.h"

namespace dnnf {

TensorMap compute_load_time_values(const Graph& graph);

}  // namespace dnnf
