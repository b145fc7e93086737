// DNNFusion's two-operator fusion analysis (paper Table 3) as data: for a first
// operator's mapping type and a second's, the fused block's mapping type and the
// verdict (fuse through / profile / break). Printed by `dnnf ops --fusion-table`.
#pragma once

#include <nlohmann/json.hpp>

#include "core/ir/op_registry.h"

namespace dnnf::fusion {

enum class Verdict { Fuse, Profile, Break };
const char* verdict_name(Verdict v);  // "fuse", "profile", "break"

struct FusionCell {
  MappingType first;
  MappingType second;
  MappingType fused;  // meaningful unless verdict == Break
  Verdict verdict;
  const char* why;    // the paper's reason, one line
};

// The cell for `first` followed by (producing into) `second`.
const FusionCell& fusion_cell(MappingType first, MappingType second);
const std::vector<FusionCell>& fusion_table();  // all 25 cells, row-major
nlohmann::json fusion_table_json();

}  // namespace dnnf::fusion
