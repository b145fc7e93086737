// The plan description of a Vulkan bundle (plan.txt): everything the bundle runtime
// needs to replay an inference without dnnf. One device arena holds every value at a
// fixed offset; constants are copied into it from weights.bin at load; each step binds
// one shader's storage buffers to arena ranges (one descriptor set) and runs its
// dispatches in order, each with its push constant (the stage) and work-group counts,
// with a compute-to-compute memory barrier before the dispatches that need one.
//
// This file is compiled both into dnnf (core/export/vulkan_bundle_plan_format.cpp: the
// exporter writes plans, the unit tests read them) and into every bundle (the runtime
// reads it), so it depends on the C++17 standard library only. The format is
// line-based text so a bundle can be read and diffed by eye:
//
//   dnnf-vulkan-plan 1
//   local_size 64                      work-group size baked into every shader
//   shared_bytes 16384                 shared memory the shaders were generated to fit in
//   max_bindings 9                     most storage buffers one shader binds
//   arena_bytes N                      device memory for all values
//   weights_bytes N                    size of weights.bin
//   value ID OFFSET BYTES NAME         a range of the arena (offsets 256-aligned)
//   constant VALUE OFFSET BYTES        value's first BYTES copied from weights.bin at load
//   input VALUE DTYPE RANK DIMS... NAME
//   output VALUE DTYPE RANK DIMS... NAME
//   shader ID FILE BINDINGS            SPIR-V module under shaders/
//   step SHADER N VALUE...             binding k of SHADER is the k-th value's range
//   dispatch STAGE X Y Z BARRIER       of the step above; BARRIER 1: barrier before it
//   copy SRC DST BYTES BARRIER         a step copying SRC's first BYTES into DST: an
//                                      operator that only renames memory (Reshape of an
//                                      int64 tensor, an integer Cast, ...) and has no shader
//
// Version 2 (written only for plans that need it) adds host steps: operators without a
// shader whose shapes are known only at run time (NonZero, TopK, If/Loop, RoiAlign, ...)
// run on the host, on dnnf's reference kernels (kernels/bundle/interp, interp.txt), as
// dnnf's Vulkan backend runs them. The device work between two host steps is one
// command buffer; the host reads shader results (by value name, converted from float32)
// after its fence, and writes what shaders read back into the arena:
//   host K                             interpreted step K of interp.txt
//   upload VALUE ELEMENTS              (after a host step) the interpreter's value of that
//                                      name, ELEMENTS elements, converted to float32 into
//                                      VALUE's range
//   host_output DTYPE RANK DIMS... NAME  an output the interpreter computes; a DIM of "?"
//                                      depends on the data
// Names are percent-encoded (anything but [A-Za-z0-9_.:/-]) so every line splits on
// spaces. Every element on the device is a float32; inputs and outputs of other dtypes
// are converted by the runtime (as dnnf's Vulkan backend does).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dnnf_bundle {

constexpr int kVulkanPlanVersion = 1;
constexpr int kVulkanPlanVersionWithHostSteps = 2;
// The largest minStorageBufferOffsetAlignment the Vulkan spec allows: offsets aligned
// to it suit every device.
constexpr uint64_t kArenaAlignment = 256;

struct PlanValue {
  uint64_t offset = 0;  // bytes into the arena
  uint64_t bytes = 0;   // float32 elements * 4 (at least 4)
  std::string name;
};

struct PlanConstant {
  uint32_t value = 0;
  uint64_t weights_offset = 0;  // bytes into weights.bin
  uint64_t bytes = 0;           // float32 elements * 4, at most the value's bytes
};

struct PlanTensor {  // a model input or output
  uint32_t value = 0;
  std::string dtype;  // "float32", "int64", "bool", ... (plan_dtype_size knows them)
  std::vector<int64_t> dims;  // -1: depends on the data (host outputs only)
  std::string name;
  bool on_host = false;  // computed by the interpreter (no value in the arena)
  int64_t elements() const;  // -1 when a dim depends on the data
};

struct PlanShader {
  std::string file;  // relative to the bundle, e.g. "shaders/3f2a....spv"
  uint32_t bindings = 0;
};

struct PlanDispatch {
  int32_t stage = 0;  // push constant: which stage of the shader runs
  uint32_t groups[3] = {1, 1, 1};
  bool barrier = false;  // memory barrier (compute write -> compute read/write) before it
};

struct PlanCopy {
  uint32_t src = 0, dst = 0;
  uint64_t bytes = 0;
  bool barrier = false;  // memory barrier before it
};

struct PlanUpload {
  uint32_t value = 0;
  uint64_t elements = 0;
};

struct PlanStep {
  bool is_host = false;            // an interpreted step (`host`), with its uploads
  uint32_t host_step = 0;
  std::vector<PlanUpload> uploads;
  bool is_copy = false;            // a buffer copy (`copy`), else a shader's dispatches
  uint32_t shader = 0;
  std::vector<uint32_t> bindings;  // value ids, binding order
  std::vector<PlanDispatch> dispatches;
  PlanCopy copy;
};

struct VulkanPlan {
  uint32_t local_size = 64;
  uint32_t shared_bytes = 0;
  uint32_t max_bindings = 0;
  uint64_t arena_bytes = 0;
  uint64_t weights_bytes = 0;
  std::vector<PlanValue> values;
  std::vector<PlanConstant> constants;
  std::vector<PlanTensor> inputs, outputs;
  std::vector<PlanShader> shaders;
  std::vector<PlanStep> steps;

  size_t dispatch_count() const;
  size_t copy_count() const;
  size_t barrier_count() const;  // before dispatches and copies
  size_t host_step_count() const;
};

// Bytes of one element of a dtype the bundle accepts; 0 for any other name.
size_t plan_dtype_size(const std::string& dtype);

// The text above; deterministic (same plan, same bytes).
std::string write_vulkan_plan(const VulkanPlan& plan);

// Parses and validates (ids in range, ranges inside the arena and weights, known
// dtypes, binding counts matching shaders). Throws std::runtime_error
// "plan.txt line N: ..." naming the problem.
VulkanPlan read_vulkan_plan(const std::string& text);

std::string plan_encode_name(const std::string& name);
std::string plan_decode_name(const std::string& text);  // throws std::runtime_error on a bad escape

}  // namespace dnnf_bundle
