// The node inspector: everything about the selected operator (or collapsed block) at
// the current graph state: op, name, mapping type, block, inputs and outputs with
// types, attributes, FLOPs and bytes.
#pragma once

#include <QTextBrowser>

#include "views/graph/display_graph.h"

namespace dnnf::views {

class InspectorPanel : public QTextBrowser {
  Q_OBJECT
 public:
  explicit InspectorPanel(QWidget* parent = nullptr);
  void show_node(const Graph* graph, const DisplayNode* node);
};

}  // namespace dnnf::views
