// The kernel headers (kernels/abi/*.h, kernels/simd/*.h) as compiled into dnnf_core.
// Generated kernels include them by bare name ("dnnf_abi.h", "simd.h"); the kernel
// compiler writes these copies into its cache, so no source tree is needed at run time.
// The definition is generated at build time by embed_kernel_headers.cmake.
#pragma once

#include <cstddef>
#include <span>

namespace dnnf::codegen {

struct EmbeddedHeader {
  const char* name;  // file name without directory, e.g. "dnnf_abi.h"
  const char* data;  // file contents (also NUL-terminated)
  size_t size;       // bytes, without the NUL
};

std::span<const EmbeddedHeader> embedded_kernel_headers();

}  // namespace dnnf::codegen
