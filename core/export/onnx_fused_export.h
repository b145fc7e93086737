// Export of a compiled model as ONNX: the rewritten graph with every fused block of
// more than one operator written as one call of a model-local function, so that the
// fusion plan survives in a standard file (ONNX runtimes inline the functions again).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/pipeline/pipeline.h"

namespace dnnf::exporter {

struct FusedExportOptions {
  std::string function_domain = "dnnf.fused";  // domain of the fused functions
  std::string source_name;  // source model, recorded without its directory
  std::string source_hash;  // content hash of the source model file (hash_model_file)
};

struct FusedExportStats {
  size_t calls = 0;        // fused blocks written as one function call
  size_t functions = 0;    // distinct function bodies (identical blocks share one)
  size_t graph_nodes = 0;  // nodes of the exported main graph (calls included)
  size_t bytes = 0;        // size of the serialized model
};

// Serializes `model` (rewritten, shapes inferred) with `result.plan` applied. The bytes
// depend only on the model, the plan and the options (no time, no absolute path), so
// the same input gives the same file. Throws dnnf::Error naming the problem, e.g. a
// plan that refers to nodes the graph does not have.
std::string serialize_fused_model(const Model& model, const PipelineResult& result,
                                  const FusedExportOptions& options = {}, FusedExportStats* stats = nullptr);

// Writes the same bytes to `path` atomically (temporary file + rename).
FusedExportStats save_fused_model(const Model& model, const PipelineResult& result, const std::string& path,
                                  const FusedExportOptions& options = {});

// Rewrite rules whose results are operators of dnnf's own "dnnf" domain (the composite
// family: dnnf.Gelu, dnnf.Attention, ...). Other ONNX consumers cannot run those, so a
// portable export disables these rules; a kept one is listed in the file's metadata
// ("dnnf.dnnf_domain_ops").
std::vector<std::string> rules_creating_dnnf_ops();

// Content hash (32 hex digits, not cryptographic) of a file's bytes, for provenance.
std::string hash_model_file(const std::string& path);

}  // namespace dnnf::exporter
