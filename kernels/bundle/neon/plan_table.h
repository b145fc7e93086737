/* The plan of a NEON bundle as data: what src/runtime/plan.cpp (written by dnnf export)
 * defines and src/runtime/neon_runtime.cpp executes.
 *
 * A run is the steps in order; step s calls one generated block kernel (src/blocks/) with
 * the buffers slots[first_slot .. first_slot + num_slots), in the order the kernel lists
 * them (dnnf_abi.h: inputs, outputs, scratch). A slot is a byte offset into the arena
 * (every value a kernel writes, placed by the static memory plan so that values with
 * disjoint lifetimes share memory), a byte offset into weights.bin, or a model input. */
#ifndef DNNF_PLAN_TABLE_H
#define DNNF_PLAN_TABLE_H

#include <stdint.h>

#include "dnnf_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { DNNF_SLOT_ARENA = 0, DNNF_SLOT_WEIGHTS = 1, DNNF_SLOT_INPUT = 2 };

typedef struct dnnf_slot {
  int32_t kind;     /* DNNF_SLOT_* */
  int32_t constant; /* 1: a weight the kernel's _prepare may pack */
  int64_t offset;   /* bytes into the arena or weights.bin, or the input index */
} dnnf_slot;

typedef struct dnnf_step {
  void (*run)(const dnnf_kernel_args*);
  void* (*prepare)(const dnnf_kernel_args*);
  void (*release)(void*, const dnnf_api*);
  int32_t first_slot, num_slots;
} dnnf_step;

typedef struct dnnf_port {
  const char* name;
  const char* dtype; /* "float32", "int64", ... */
  int32_t rank;
  const int64_t* shape;
  int64_t numel, bytes;
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
} dnnf_plan;

extern const dnnf_plan dnnf_bundle_plan;

#ifdef __cplusplus
}
#endif

#endif /* DNNF_PLAN_TABLE_H */
