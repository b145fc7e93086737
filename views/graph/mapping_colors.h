// The colour of each DNNFusion mapping type (paper Table 2), shared by the graph view,
// its legend and the panels, so the same type always looks the same.
#pragma once

#include <QColor>
#include <QString>
#include <vector>

#include "core/ir/op_registry.h"

namespace dnnf::views {

QColor mapping_color(MappingType type);
QString mapping_label(MappingType type);  // "One-to-One", ...
std::vector<MappingType> all_mapping_types();

}  // namespace dnnf::views
