// Whole-model statistics for `dnnf inspect`: counts, histograms, parameters, FLOPs.
#pragma once

#include <map>
#include <string>

#include "core/ir/graph.h"

namespace dnnf {

struct ModelStats {
  size_t node_count = 0;            // top-level nodes
  size_t node_count_recursive = 0;  // including If/Loop/Scan bodies
  std::map<std::string, size_t> op_histogram;
  std::map<std::string, size_t> mapping_histogram;  // by mapping type name
  int64_t parameter_count = 0;      // elements of all initializers (+ Constant nodes)
  double flops = 0;                 // sum of per-node costs (static shapes only)
  size_t nodes_without_static_cost = 0;
  std::map<std::string, int64_t> opsets;
  int64_t ir_version = 0;
};

// The graph must have gone through infer_shapes.
ModelStats compute_model_stats(const Model& model);

}  // namespace dnnf
