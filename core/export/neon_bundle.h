// dnnf export MODEL --target neon -o DIR: an aarch64 bundle (layout in bundle_writer.h)
// whose kernels are the CPU code generator's, built for NEON. The target's part of it:
//   DIR/src/blocks/<kernel>.cpp   the generated C++ of every distinct fused-block kernel
//   DIR/src/runtime/plan.cpp      the plan as data: steps, kernel-argument bindings (arena
//                                 offsets from the static memory plan, weights.bin offsets,
//                                 inputs), inputs and outputs (neon_program.h)
//   DIR/src/runtime/neon_runtime.cpp, plan_table.h   the C API over the plan
//   DIR/src/kernels/{abi,simd,cpu}/, DIR/src/core/runtime/thread_pool.*   the SIMD layer,
//                                 the GEMM/convolution micro-kernels and the thread pool the
//                                 kernels call through dnnf_api, as in the dnnf sources
//   DIR/lib/libmodel.so, DIR/bin/runner (static)   when an aarch64 compiler is found
// Shared by the CLI and the Studio's export dialog; progress may throw to cancel, and a
// cancelled or failed export leaves no DIR.
#pragma once

#include <string>

#include "core/export/bundle_job.h"
#include "core/export/neon_cross_compile.h"

namespace dnnf::exporter {

struct NeonExportOptions {
  bool compile = true;     // false: sources only, even with a compiler
  std::string cxx;         // empty: find_aarch64_compiler()
  std::string cache_dir;   // object cache; empty: the kernel cache's folder
};

struct NeonExportReport {
  BundlePlanSummary plan;
  size_t bundle_bytes = 0, weights_bytes = 0, arena_bytes = 0;
  size_t files = 0;
  size_t interpreted_steps = 0;   // blocks run on the bundle's interpreter (interp.txt)
  bool compiled = false;
  std::string compiler;           // the cross compiler used, or ""
  std::string not_compiled_why;   // when !compiled
  NeonBuildStats build;
};

NeonExportReport export_neon_bundle(const BundleRequest& request, const NeonExportOptions& options = {},
                                    const BundleProgressFn& progress = {});

}  // namespace dnnf::exporter
