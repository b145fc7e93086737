/* dnnf_model.h: the C API of an exported dnnf model bundle (every target: neon, vulkan).
 *
 * A bundle is a folder written by `dnnf export MODEL --target T -o DIR`; the library
 * built from it (lib/libmodel.so) exposes exactly these functions. Shapes are fixed at
 * export time (symbolic dimensions were bound with --dim, others taken as 1).
 *
 *   dnnf_model* m = dnnf_model_create("path/to/bundle");
 *   if (!m) { fprintf(stderr, "%s\n", dnnf_model_last_error()); return 1; }
 *   const float* in[] = {image};            // one pointer per input, in input order
 *   float* out[] = {scores};                // one pointer per output, caller-allocated
 *   if (dnnf_model_run(m, in, out) != 0) fprintf(stderr, "%s\n", dnnf_model_last_error());
 *   dnnf_model_destroy(m);
 *
 * Element types: most inputs and outputs are float32. An input or output of another
 * type (dnnf_model_input_dtype: "int64" token ids, "bool" masks, ...) is passed through
 * the same pointer array, cast: the library reads and writes its bytes in that type.
 * Arrays are dense, row-major (C order). A model is not reentrant: run one inference at
 * a time per dnnf_model (create several models for concurrent inferences). */
#ifndef DNNF_MODEL_H
#define DNNF_MODEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DNNF_MODEL_API_VERSION 1

typedef struct dnnf_model dnnf_model;

/* Loads the bundle in `bundle_dir` (its weights.bin and whatever the target needs).
 * Returns null on failure; dnnf_model_last_error() says why. */
dnnf_model* dnnf_model_create(const char* bundle_dir);

/* Runs one inference. inputs[i] points at dnnf_model_input_size(m, i) elements of input
 * i; outputs[o] at room for dnnf_model_output_size(m, o) elements. Returns 0 on
 * success, non-zero on failure (dnnf_model_last_error() says why). */
int dnnf_model_run(dnnf_model* model, const float* const* inputs, float* const* outputs);

/* Frees the model (null is fine). */
void dnnf_model_destroy(dnnf_model* model);

/* The message of the last failure in this thread ("" if none); valid until the next
 * call into this library from the same thread. */
const char* dnnf_model_last_error(void);

/* Inputs and outputs, in the order dnnf_model_run takes them. Names are the ONNX value
 * names; indexes out of range give null / -1. */
int dnnf_model_num_inputs(const dnnf_model* model);
int dnnf_model_num_outputs(const dnnf_model* model);
const char* dnnf_model_input_name(const dnnf_model* model, int i);
const char* dnnf_model_output_name(const dnnf_model* model, int i);
const char* dnnf_model_input_dtype(const dnnf_model* model, int i);  /* "float32", "int64", ... */
const char* dnnf_model_output_dtype(const dnnf_model* model, int i);
int dnnf_model_input_rank(const dnnf_model* model, int i);
int dnnf_model_output_rank(const dnnf_model* model, int i);
const int64_t* dnnf_model_input_shape(const dnnf_model* model, int i); /* rank dims */
const int64_t* dnnf_model_output_shape(const dnnf_model* model, int i);
int64_t dnnf_model_input_size(const dnnf_model* model, int i);  /* elements */
int64_t dnnf_model_output_size(const dnnf_model* model, int i);

/* The target the bundle was built for ("neon", "vulkan"). */
const char* dnnf_model_target(void);

#ifdef __cplusplus
}
#endif

#endif /* DNNF_MODEL_H */
