#include "views/graph/mapping_colors.h"

namespace dnnf::views {

QColor mapping_color(MappingType type) {
  // Light fills that keep black text readable; hue order follows fusion impedance
  // (green fuses with anything, red with little).
  switch (type) {
    case MappingType::OneToOne: return QColor(0xb7, 0xe4, 0xc7);
    case MappingType::Reorganize: return QColor(0xbd, 0xd7, 0xee);
    case MappingType::Shuffle: return QColor(0xd7, 0xc4, 0xec);
    case MappingType::OneToMany: return QColor(0xff, 0xe0, 0x9e);
    case MappingType::ManyToMany: return QColor(0xf4, 0xb6, 0xb0);
  }
  return Qt::lightGray;
}

QString mapping_label(MappingType type) { return QString::fromUtf8(mapping_type_name(type)); }

std::vector<MappingType> all_mapping_types() {
  return {MappingType::OneToOne, MappingType::Reorganize, MappingType::Shuffle, MappingType::OneToMany,
          MappingType::ManyToMany};
}

}  // namespace dnnf::views
