// Shared helpers of the ONNX importer, exporter and tensor files: TensorProto <->
// Tensor conversion (every dtype, raw and typed fields, external data, sparse),
// bounded protobuf parsing and file reading. Internal to core/onnx_io, the ONNX-writing
// core/export and their tests: it exposes protobuf types, so nothing else should include it.
#pragma once

#include <cstdint>
#include <string>

#include <google/protobuf/message_lite.h>

// onnx_pb.h defines ONNX_API and picks the -ml classes (Debian ships only those).
#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#include <onnx/onnx_pb.h>

#include "core/ir/graph.h"
#include "core/ir/tensor.h"

namespace dnnf::onnx_io::detail {

// Pieces of the exporter (onnx_export.cpp), for exporters that assemble their own
// ModelProto (core/export): one node with its attributes (subgraphs recursively), a
// whole model as serialize_model writes it, and the size-checked serialization.
void node_to_proto(const Node& node, onnx::NodeProto* out);
void model_to_proto(const Model& model, onnx::ModelProto* out);
std::string serialize_model_proto(const onnx::ModelProto& mp);

// Converts a TensorProto to a Tensor. `what` names the tensor in messages (e.g.
// "initializer 'w'"). External data is resolved relative to `base_dir`; an empty
// base_dir refuses external data. Checks the element count against the size limit
// before allocating and the data length against the element count.
Tensor tensor_from_proto(const onnx::TensorProto& tp, const std::string& base_dir,
                         const std::string& what);

// Dense tensor from a SparseTensorProto (values + linear or coordinate indices).
Tensor tensor_from_sparse_proto(const onnx::SparseTensorProto& sp, const std::string& base_dir,
                                const std::string& what);

// Writes `t` into `out` (numeric data as raw_data, strings as string_data).
void tensor_to_proto(const Tensor& t, const std::string& name, onnx::TensorProto* out);

// Parses a message from memory with protobuf's total-bytes limit raised to its maximum
// (2 GiB) so that models over 64 MiB load. Returns false on malformed input.
bool parse_message(const void* data, size_t size, google::protobuf::MessageLite* msg);

// Reads a whole file. Throws dnnf::Error naming the file when it is missing, is a
// directory, cannot be read, or is larger than max_bytes; max_bytes 0 takes the value of
// the named limit (core/util/limits.h, e.g. "tensor-file"), and with no name, no limit.
std::string read_file(const std::string& path, int64_t max_bytes, const std::string& limit_name);

// A read-only view of a whole file: memory-mapped when possible, else read into memory.
// Same checks and messages as read_file.
class MappedFile {
 public:
  MappedFile(const std::string& path, int64_t max_bytes, const std::string& limit_name);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const char* data() const { return map_ ? static_cast<const char*>(map_) : bytes_.data(); }
  size_t size() const { return map_ ? map_size_ : bytes_.size(); }

 private:
  void* map_ = nullptr;
  size_t map_size_ = 0;
  std::string bytes_;
};

// Writes bytes to `path` via `path.tmp` + rename. Throws dnnf::Error naming the file.
void write_file_atomic(const std::string& path, const std::string& bytes);

// Name of an ONNX element type code for messages ("complex64", "float8e4m3fn", ...).
std::string onnx_type_name(int32_t code);

}  // namespace dnnf::onnx_io::detail
