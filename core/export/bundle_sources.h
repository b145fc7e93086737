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

// What a bundle with interpreted steps adds (kernels/bundle/interp/host_interpreter.h says
// why): the interpreter, dnnf's IR and reference kernels (core/ir, core/ops,
// core/util/{error,limits}, core/runtime/reference_executor), sorted. All C++20,
// standard library only.
std::vector<std::string> interpreter_bundle_sources();

// Whether a bundle source needs -std=c++20 (the interpreter's files) rather than the
// C++17 the rest of a bundle is written in.
bool bundle_source_needs_cxx20(const std::string& bundle_path);

}  // namespace dnnf::exporter
