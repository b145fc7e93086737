/* The plan of a NEON bundle as data: what src/runtime/plan.cpp (written by dnnf export)
 * defines and src/runtime/neon_runtime.cpp executes.
 *
 * A run is the steps in order; step s calls one generated block kernel (src/blocks/) with
 * the buffers slots[first_slot .. first_slot + num_slots), in the order the kernel lists
 * them (dnnf_abi.h: inputs, outputs, scratch). A slot is a byte offset into the arena
 * (every value a kernel writes, placed by the static memory plan so that values with
 * disjoint lifetimes share memory), a byte offset into weights.bin, a model input, or a
 * value an interpreted step computed.
 *
 * Interpreted steps (run == 0, host_step >= 0) run graph nodes whose shapes are known only
 * at run time on dnnf's reference kernels (src/kernels/bundle/interp, reading interp.txt),
 * as dnnf's CPU runtime does for the blocks it has no generated code for. Their values
 * cross by name: host_values are the ones generated kernels (or outputs) read from the
 * interpreter, imports the ones the interpreter reads from the arena or the inputs.
 * Bundles without interpreted steps have make_interpreter == 0 and ship no interpreter.
 * This header is compiled as C++ only (plan.cpp, neon_runtime.cpp). */
#ifndef DNNF_PLAN_TABLE_H
#define DNNF_PLAN_TABLE_H

#include <stdint.h>

#include "dnnf_abi.h"
#include "kernels/bundle/interp/host_interpreter.h"

typedef std::unique_ptr<dnnf_bundle::HostInterpreter> (*dnnf_interpreter_factory)(const std::string& plan_text,
                                                                                   const char* weights,
                                                                                   size_t weights_bytes);

#ifdef __cplusplus
extern "C" {
#endif

enum { DNNF_SLOT_ARENA = 0, DNNF_SLOT_WEIGHTS = 1, DNNF_SLOT_INPUT = 2, DNNF_SLOT_HOST = 3 };

typedef struct dnnf_slot {
  int32_t kind;     /* DNNF_SLOT_* */
  int32_t constant; /* 1: a weight the kernel's _prepare may pack */
  int64_t offset;   /* bytes into the arena or weights.bin, the input index, or the host_values index */
} dnnf_slot;

typedef struct dnnf_step {
  void (*run)(const dnnf_kernel_args*);
  void* (*prepare)(const dnnf_kernel_args*);
  void (*release)(void*, const dnnf_api*);
  int32_t first_slot, num_slots;
  int32_t host_step; /* >= 0: interpreted step host_step of interp.txt (run is 0) */
} dnnf_step;

typedef struct dnnf_host_value {
  const char* name;
  int64_t bytes; /* what the reader expects; -1: any (an output of data-dependent shape) */
} dnnf_host_value;

typedef struct dnnf_import {
  const char* name;
  dnnf_slot source; /* arena or input */
} dnnf_import;

typedef struct dnnf_port {
  const char* name;
  const char* dtype; /* "float32", "int64", ... */
  int32_t rank;
  const int64_t* shape; /* -1 for a dimension that depends on the data */
  int64_t numel, bytes; /* -1 when the shape depends on the data */
  dnnf_slot source; /* outputs: where the value is after a run */
} dnnf_port;

typedef struct dnnf_plan {
  const char* model_file;
  int32_t num_steps;
  const dnnf_step* steps;
  const dnnf_slot* slots;
  int32_t num_inputs, num_outputs;
  const dnnf_port* inputs;
  const dnnf_port* outputs;
  int64_t arena_bytes;
  int64_t weights_bytes;
  uint64_t weights_fnv1a; /* FNV-1a 64 of weights.bin: a file from another export is refused */
  dnnf_interpreter_factory make_interpreter; /* 0: no interpreted steps */
  int32_t num_host_values, num_imports;
  const dnnf_host_value* host_values;
  const dnnf_import* imports;
} dnnf_plan;

extern const dnnf_plan dnnf_bundle_plan;

#ifdef __cplusplus
}
#endif

#endif /* DNNF_PLAN_TABLE_H */
