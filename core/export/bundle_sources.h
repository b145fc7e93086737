// The source files export bundles ship, embedded into dnnf at build time
// (bundle_embed_sources.cmake, listed in core/CMakeLists.txt): kernels/bundle/** (C API
// header, runner, target runtimes), kernels/abi, kernels/simd, kernels/cpu and the
// thread pool. Paths are relative to the dnnf source tree ("kernels/cpu/gemm.cpp"), and
// a bundle keeps them under src/ so that their #include lines work unchanged.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dnnf::exporter {

struct BundleSource {
  const char* path;  // relative to the source tree, '/' separated
  const char* data;
  size_t size;
  std::string_view text() const { return {data, size}; }
};

// Sorted by path.
std::span<const BundleSource> bundle_sources();

// The file at `path`; throws dnnf::Error if it was not embedded.
std::string_view bundle_source(const std::string& path);

// Paths of the embedded files under `folder` ("kernels/cpu/"), sorted.
std::vector<std::string> bundle_sources_under(const std::string& folder);

}  // namespace dnnf::exporter
