// Builds the dnnf_api table the runtime hands to generated block kernels.
#pragma once

#include "kernels/abi/dnnf_abi.h"

extern "C" {
// `pool` and `parallel_for` are the host's thread pool; threads = its size (1: serial).
dnnf_api dnnf_make_api(void* pool, dnnf_parallel_for_fn parallel_for, int32_t threads);
}
