// ONNX export: dnnf::Model -> ModelProto bytes / file (valid for onnx.checker).
#pragma once

#include <string>

#include "core/ir/graph.h"

namespace dnnf::onnx_io {

std::string serialize_model(const Model& model);
// Writes atomically (temporary file + rename). Throws dnnf::Error.
void save_model(const Model& model, const std::string& path);

}  // namespace dnnf::onnx_io
