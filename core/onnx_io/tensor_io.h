// Tensor files: ONNX TensorProto (.pb) and NumPy (.npy) readers and writers.
#pragma once

#include <string>

#include "core/ir/tensor.h"

namespace dnnf::onnx_io {

// Reads .pb (TensorProto) or .npy by extension (or content sniffing). Throws dnnf::Error.
Tensor read_tensor_file(const std::string& path, std::string* name = nullptr);
Tensor read_tensor_pb(const std::string& path, std::string* name = nullptr);
Tensor read_npy(const std::string& path);
void write_tensor_pb(const Tensor& t, const std::string& name, const std::string& path);
void write_npy(const Tensor& t, const std::string& path);

}  // namespace dnnf::onnx_io
