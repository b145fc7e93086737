// Builds a NEON bundle's binaries with the aarch64 cross compiler: every source under
// src/ into an object (cached by content, since the runtime and micro-kernels are the
// same in every bundle), then lib/libmodel.so and a static bin/runner. The flags fix
// everything that could vary: no debug info, the staging path mapped to "." so no
// absolute path reaches an object, objects linked in sorted order, so two exports of the
// same model give identical binaries.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/export/bundle_writer.h"

namespace dnnf::exporter {

// $DNNF_AARCH64_CXX if set (may be empty: no cross compiler), else aarch64-linux-gnu-g++
// when it is on PATH; nullopt otherwise.
std::optional<std::string> find_aarch64_compiler();

// The compile flags of every object (also recorded in the manifest), without include
// directories and the path mapping.
const std::vector<std::string>& neon_compile_flags();

struct NeonBuildOptions {
  std::string cxx;              // the compiler program
  std::string cache_dir;        // empty: the kernel cache's folder (codegen::cache_dir)
  int jobs = 0;                 // compilers at once; 0: hardware threads
  std::function<void(size_t done, size_t total)> on_progress;  // may throw to cancel
};

struct NeonBuildStats {
  size_t objects = 0;   // sources compiled or taken from the cache
  size_t cached = 0;    // of which from the cache
  double compile_ms = 0, link_ms = 0;
};

// `library_sources` and `runner_source` are bundle-relative .cpp paths already written.
// Writes lib/libmodel.so and bin/runner into the bundle. Throws dnnf::Error with the
// compiler's first error line.
NeonBuildStats build_neon_binaries(BundleWriter& bundle, const std::vector<std::string>& library_sources,
                                   const std::string& runner_source, const NeonBuildOptions& options);

}  // namespace dnnf::exporter
