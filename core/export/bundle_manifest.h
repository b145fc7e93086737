// manifest.json of an export bundle (the layout is described in bundle_writer.h): what
// was exported from what, with which plan, for which inputs and outputs. BundleWriter
// adds "format" and the "files" table (sha256 and size of every other file) on commit.
// Everything here depends only on the model file and the export options: no time, no
// host name, no absolute path, so the same export gives the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ir/graph.h"

namespace dnnf::exporter {

// One input or output of the bundle's C API, with its shape: fixed for inputs; an output's
// dimensions that depend on the data are -1.
struct BundlePort {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  int64_t numel() const;  // -1 when a dimension depends on the data
  bool fixed() const { return numel() >= 0; }
};

struct BundlePlanSummary {
  int64_t nodes_before = 0;   // imported graph
  int64_t nodes_after = 0;    // after rewriting
  size_t fused_layers = 0;    // kernels per inference of the fusion plan
  size_t blocks = 0;          // blocks in the bundle (generated kernels launched)
  size_t unique_kernels = 0;  // distinct kernels (identical blocks share one)
};

struct BundleManifest {
  std::string target;          // "neon", "vulkan"
  std::string model_file;      // the source model's file name, without its folder
  std::string model_sha256;
  std::vector<std::pair<std::string, int64_t>> bound_dims;  // --dim NAME=SIZE, sorted
  BundlePlanSummary plan;
  std::vector<BundlePort> inputs, outputs;
  nlohmann::json weights = nlohmann::json::array();  // WeightsWriter::table()
  nlohmann::json target_details = nlohmann::json::object();  // compiler, flags, arena, ...
  nlohmann::json to_json() const;
};

// The graph's inputs (static shapes) and outputs (known ranks; -1 for dimensions that
// depend on the data). Throws dnnf::Error naming the first one whose shape is not fixed
// (inputs: bind it with --dim) or whose type a bundle cannot carry (strings).
std::vector<BundlePort> bundle_inputs(const Graph& graph);
std::vector<BundlePort> bundle_outputs(const Graph& graph);

}  // namespace dnnf::exporter
