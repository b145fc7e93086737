// weights.bin of an export bundle: the constants the kernels read (initializers and the
// values of load-time nodes), concatenated in the order they were added, each at an
// offset that is a multiple of kWeightAlignment (a runtime maps or reads the file into
// one aligned block and points kernels into it). No header: the offsets, shapes and
// types are in the manifest and in the target's plan table.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ir/tensor.h"

namespace dnnf::exporter {

inline constexpr uint64_t kWeightAlignment = 64;

struct WeightEntry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t offset = 0;
  uint64_t bytes = 0;
};

class WeightsWriter {
 public:
  // Appends `t` under `name` (once: a name added again returns the first offset).
  // Throws dnnf::Error for string tensors, which have no fixed-size bytes.
  uint64_t add(const std::string& name, const Tensor& t);
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  const WeightEntry& at(const std::string& name) const;
  const std::vector<WeightEntry>& entries() const { return entries_; }
  // The file's bytes (padded to a multiple of kWeightAlignment).
  const std::string& bytes() const { return bytes_; }
  // [{name, dtype, shape, offset, bytes}] in file order, for the manifest.
  nlohmann::json table() const;

 private:
  std::vector<WeightEntry> entries_;
  std::map<std::string, size_t> index_;
  std::string bytes_;
};

}  // namespace dnnf::exporter
