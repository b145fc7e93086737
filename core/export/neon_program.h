// What a NEON bundle runs, computed on the host: the generated C++ kernel of every fused
// block, the constants they read (weights.bin), the static memory plan of the arena and
// each kernel argument's binding, as the same CpuProgram would use them. A block the code
// generator does not cover (shapes known only at run time: NonZero, TopK, If/Loop, ...)
// becomes an interpreted step, as in CpuProgram: its nodes go into the interpreter plan
// (interp.txt) and run on dnnf's reference kernels, which such a bundle ships as sources.
// Models without one ship no interpreter.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/export/bundle_manifest.h"
#include "core/export/bundle_weights.h"
#include "core/fusion/fusion_plan.h"
#include "kernels/bundle/interp/interp_plan.h"

namespace dnnf::exporter {

// Host: a value an interpreted node computes (offset: its index in host_values).
enum class NeonSlotKind { Arena = 0, Weights = 1, Input = 2, Host = 3 };

struct NeonSlot {
  NeonSlotKind kind = NeonSlotKind::Arena;
  bool constant = false;  // bound before the kernel's _prepare (an initializer)
  int64_t offset = 0;     // bytes into the arena or weights.bin, or the input index
  std::string value;      // the graph value (for the plan's comments)
};

struct NeonStep {
  int block_id = 0;
  int host_step = -1;             // >= 0: an interpreted step (no symbol, no slots)
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
  // Interpreted steps (interp.has_value() when there is at least one): the plan, the
  // values generated kernels or outputs read from it (Host slots index these, with the
  // bytes a kernel expects; -1: any size, an output of data-dependent shape), and where
  // each value it imports lives.
  std::optional<dnnf_bundle::InterpPlan> interp;
  std::vector<std::pair<std::string, int64_t>> host_values;
  std::vector<std::pair<std::string, NeonSlot>> imports;
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
