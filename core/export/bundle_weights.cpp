#include "core/export/bundle_weights.h"

#include "core/util/error.h"

namespace dnnf::exporter {

uint64_t WeightsWriter::add(const std::string& name, const Tensor& t) {
  if (auto it = index_.find(name); it != index_.end()) return entries_[it->second].offset;
  check(t.dtype() != DType::String, "constant '", name, "' is a string tensor, which a bundle cannot hold");
  WeightEntry e;
  e.name = name;
  e.dtype = t.dtype();
  e.shape = t.shape();
  e.offset = bytes_.size();
  e.bytes = t.nbytes();
  if (e.bytes) bytes_.append(static_cast<const char*>(t.raw()), e.bytes);
  bytes_.resize((bytes_.size() + kWeightAlignment - 1) / kWeightAlignment * kWeightAlignment, '\0');
  index_[name] = entries_.size();
  entries_.push_back(std::move(e));
  return entries_.back().offset;
}

const WeightEntry& WeightsWriter::at(const std::string& name) const {
  auto it = index_.find(name);
  check(it != index_.end(), "constant '", name, "' is not in weights.bin");
  return entries_[it->second];
}

nlohmann::json WeightsWriter::table() const {
  nlohmann::json out = nlohmann::json::array();
  for (const WeightEntry& e : entries_)
    out.push_back({{"name", e.name}, {"dtype", dtype_name(e.dtype)}, {"shape", e.shape}, {"offset", e.offset},
                   {"bytes", e.bytes}});
  return out;
}

}  // namespace dnnf::exporter
