// ONNX import: protobuf ModelProto -> dnnf::Model. IR versions 3..10, opsets 7..21
// (newer single-op conformance models load too), external data files next to the
// model, initializers listed as graph inputs (IR < 4) treated as constants.
#pragma once

#include <string>

#include "core/ir/graph.h"

namespace dnnf::onnx_io {

struct ImportOptions {
  // Old IR lists initializers among graph inputs; ONNX lets a caller override them.
  // dnnf treats them as constants unless this is set.
  bool initializers_as_inputs = false;
  // Refuse files larger than this (bytes); 0 = the process limit model-file
  // (core/util/limits.h: dnnf --limit model-file=N, DNNF_LIMITS).
  int64_t max_file_bytes = 0;
};

// Throws dnnf::Error with a one-line message naming the file and the problem.
Model load_model(const std::string& path, const ImportOptions& options = {});
Model parse_model(const std::string& bytes, const std::string& base_dir,
                  const std::string& name_for_errors, const ImportOptions& options = {});

}  // namespace dnnf::onnx_io
