// Builds a CPU program the way `dnnf run --backend cpu` and `dnnf bench` both do: the
// pipeline options from the command line, then code generation with progress.
#pragma once

#include <memory>

#include "app/cli/cli.h"
#include "core/pipeline/pipeline.h"
#include "core/runtime/cpu_runtime.h"

namespace dnnf::cli {

struct CompiledCpuProgram {
  PipelineResult pipeline;
  std::unique_ptr<CpuProgram> program;
};

// Reads --no-rewrite, --no-fusion, --no-db, --db and --threads; rewrites `model` in place.
CompiledCpuProgram compile_cpu_program(Model& model, const Args& args);

}  // namespace dnnf::cli
