#include "views/panels/inspector_panel.h"

#include "views/graph/mapping_colors.h"

namespace dnnf::views {

namespace {
QString esc(const std::string& s) { return QString::fromStdString(s).toHtmlEscaped(); }

QString values(const Graph& g, const std::vector<std::string>& names) {
  QString h;
  for (const std::string& v : names) {
    if (v.empty()) continue;
    const TensorType* t = g.type_of(v);
    h += QString("<li>%1 <i>%2</i>%3</li>").arg(esc(v), t ? esc(t->str()) : QString("?"),
                                                 g.is_constant(v) ? QString(" (constant)") : QString());
  }
  return "<ul>" + h + "</ul>";
}

QString attr_text(const Attribute& a) {
  switch (a.kind) {
    case Attribute::Kind::Int: return QString::number(a.i);
    case Attribute::Kind::Float: return QString::number(a.f);
    case Attribute::Kind::String: return esc(a.s);
    case Attribute::Kind::Ints: {
      QStringList l;
      for (int64_t v : a.ints) l << QString::number(v);
      return "[" + l.join(", ") + "]";
    }
    case Attribute::Kind::Floats: {
      QStringList l;
      for (float v : a.floats) l << QString::number(v);
      return "[" + l.join(", ") + "]";
    }
    default: return "…";
  }
}
}  // namespace

InspectorPanel::InspectorPanel(QWidget* parent) : QTextBrowser(parent) { show_node(nullptr, nullptr); }

void InspectorPanel::show_node(const Graph* graph, const DisplayNode* node) {
  if (!graph || !node) {
    setHtml("<p><i>Select a node in the graph to inspect it.</i></p>");
    return;
  }
  QString h = QString("<h3>%1</h3><p>%2</p>").arg(esc(node->op), esc(node->name));
  h += QString("<p><span style='background:%1'>&nbsp;&nbsp;&nbsp;&nbsp;</span> %2</p>")
           .arg(mapping_color(node->type).name(), mapping_label(node->type));
  if (node->block >= 0) h += QString("<p>fused block %1</p>").arg(node->block);
  h += QString("<p>%1 FLOP · %2 bytes read + written</p>").arg(node->cost.flops, 0, 'g', 4).arg(node->cost.bytes, 0, 'g', 4);
  if (!node->members.empty()) {
    h += "<p><b>operators in the block</b></p><ul>";
    for (NodeId id : node->members)
      if (const Node* n = graph->find_node(id)) h += QString("<li>%1</li>").arg(esc(n->label()));
    h += "</ul>";
  } else if (const Node* n = graph->find_node(node->id)) {
    h += QString("<p>node #%1</p><p><b>inputs</b></p>%2<p><b>outputs</b></p>%3")
             .arg(n->id).arg(values(*graph, n->inputs), values(*graph, n->outputs));
    if (!n->attrs.empty()) {
      h += "<p><b>attributes</b></p><ul>";
      for (const auto& [k, a] : n->attrs) h += QString("<li>%1 = %2</li>").arg(esc(k), attr_text(a));
      h += "</ul>";
    }
  }
  setHtml(h);
}

}  // namespace dnnf::views
