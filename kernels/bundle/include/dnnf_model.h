/* dnnf_model.h: the C API of an exported dnnf model bundle (every target: neon, vulkan).
 *
 * A bundle is a folder written by `dnnf export MODEL --target T -o DIR`; the library
 * built from it (lib/libmodel.so) exposes exactly these functions. Input shapes are fixed
 * at export time (symbolic dimensions were bound with --dim, others taken as 1); so are
 * output shapes, except where an output's size depends on the data (detections after
 * non-maximum suppression in faster_rcnn, ...: see "Outputs the library allocates" below).
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

/* 2: dnnf_model_run_owned, dnnf_model_output_data, dnnf_model_output_shape_is_fixed
 * (outputs the library allocates; every version-1 call is unchanged). */
#define DNNF_MODEL_API_VERSION 2

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

/* ---- Outputs the library allocates (API version 2) ------------------------------------
 * A model whose output shapes depend on the data (detections after non-maximum
 * suppression, ...) cannot be given caller-sized output buffers: run it with
 * dnnf_model_run_owned, then read each output's shape and data. Every model can be run
 * this way; dnnf_model_run (caller-allocated) needs every output shape to be fixed.
 *
 *   if (dnnf_model_run_owned(m, in) != 0) fprintf(stderr, "%s\n", dnnf_model_last_error());
 *   for (int o = 0; o < dnnf_model_num_outputs(m); ++o) {
 *     const int64_t* shape = dnnf_model_output_shape(m, o);  // this run's shape
 *     int64_t n = dnnf_model_output_size(m, o);               // this run's element count
 *     const void* data = dnnf_model_output_data(m, o);        // dnnf_model_output_dtype elements
 *   }
 *
 * The data stays valid until the next run on this model or dnnf_model_destroy. Before a
 * successful dnnf_model_run_owned, a data-dependent output's shape has -1 for the dims
 * that depend on the data and its size is -1. */

/* 1 when output o has the same shape in every run, 0 when its shape is known only after
 * a run, -1 for an index out of range. */
int dnnf_model_output_shape_is_fixed(const dnnf_model* model, int o);

/* Runs one inference into output buffers the model owns. inputs as for dnnf_model_run.
 * Returns 0 on success, non-zero on failure (dnnf_model_last_error() says why). */
int dnnf_model_run_owned(dnnf_model* model, const float* const* inputs);

/* Output o of the last successful dnnf_model_run_owned; null before one, after a
 * failed run, after a dnnf_model_run, or for an index out of range. */
const void* dnnf_model_output_data(const dnnf_model* model, int o);

/* The target the bundle was built for ("neon", "vulkan"). */
const char* dnnf_model_target(void);

#ifdef __cplusplus
}
#endif

#endif /* DNNF_MODEL_H */
