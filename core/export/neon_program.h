// What a NEON bundle runs, computed on the host: the generated C++ kernel of every fused
// block, the constants they read (weights.bin), the static memory plan of the arena and
// each kernel argument's binding, as the same CpuProgram would use them. The bundle
// carries no reference kernels, so a block the code generator does not cover makes the
// export fail with a one-line error naming its operator and the reason.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/export/bundle_manifest.h"
#include "core/export/bundle_weights.h"
#include "core/fusion/fusion_plan.h"

namespace dnnf::exporter {

enum class NeonSlotKind { Arena = 0, Weights = 1, Input = 2 };

struct NeonSlot {
  NeonSlotKind kind = NeonSlotKind::Arena;
  bool constant = false;  // bound before the kernel's _prepare (an initializer)
  int64_t offset = 0;     // bytes into the arena or weights.bin, or the input index
  std::string value;      // the graph value (for the plan's comments)
};

struct NeonStep {
  int block_id = 0;
  std::string symbol;             // the kernel's entry point
  std::string label;              // the block's operators, for comments
  std::vector<NeonSlot> slots;    // kernel-argument order
};

struct NeonKernel {
  std::string symbol;
  std::string code;  // as the code generator wrote it
};

struct NeonProgram {
  std::vector<NeonKernel> kernels;  // distinct kernels, in first-use order
  std::vector<NeonStep> steps;      // plan order
  std::vector<BundlePort> inputs, outputs;
  std::vector<NeonSlot> output_sources;  // where each output is after a run
  WeightsWriter weights;
  size_t arena_bytes = 0;
  size_t unplanned_bytes = 0;  // the same buffers without reuse
};

// progress(done, total) once per generated block; may throw to cancel.
// Throws dnnf::Error for a block without a code generator, naming the operator.
NeonProgram build_neon_program(const Graph& graph, const fusion::FusionPlan& plan,
                               const std::function<void(size_t, size_t)>& progress = {});

// src/runtime/plan.cpp: the program as the tables of plan_table.h.
std::string neon_plan_source(const NeonProgram& program, const std::string& model_file);

// A kernel as a bundle source file: #include lines first, the rest inside a namespace of
// its own (helpers of different kernels share names), the entry points still extern "C".
std::string neon_kernel_file(const NeonKernel& kernel);

}  // namespace dnnf::exporter
