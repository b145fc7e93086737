#include "views/panels/step_details.h"

#include <QStringList>
#include <set>

namespace dnnf::views {

namespace {
QString esc(const std::string& s) { return QString::fromStdString(s).toHtmlEscaped(); }

QString ids(const std::vector<NodeId>& v) {
  QStringList out;
  for (NodeId id : v) out << QString("#%1").arg(id);
  return out.isEmpty() ? QString("–") : out.join(", ");
}

QString row(const QString& k, const QString& v) { return QString("<tr><td><b>%1</b></td><td>%2</td></tr>").arg(k, v); }

QString cost(const CostSnapshot& c) {
  return QString("%1 FLOP, %2 B, %3 nodes").arg(c.flops, 0, 'g', 4).arg(c.bytes, 0, 'g', 4).arg(c.nodes);
}
}  // namespace

QString step_title(const JournalStep* step, size_t position, size_t positions) {
  if (!step) return QString("0/%1 · original graph").arg(positions - 1);
  return QString("%1/%2 · %3 · %4").arg(position).arg(positions - 1).arg(esc(step->stage), esc(step->rule));
}

QString step_details_html(const JournalStep* step, size_t position, size_t positions) {
  QString h = QString("<h3>%1</h3>").arg(step_title(step, position, positions));
  if (!step) return h + "<p>The graph as imported and shape-inferred, before any rewrite.</p>";
  h += "<table cellspacing=4>";
  h += row(step->stage == "rewrite" ? "rule" : "decision", esc(step->rule));
  if (!step->family.empty()) h += row("family", esc(step->family));
  h += row("accepted", step->accepted ? "yes" : "<span style='color:#b00'>no</span>");
  const nlohmann::json& d = step->details;
  if (step->stage == "fusion") {
    if (d.contains("block_type") && d.contains("candidate_type"))
      h += row("mapping types", QString("block %1 × candidate %2")
                                    .arg(esc(d["block_type"].get<std::string>()), esc(d["candidate_type"].get<std::string>())));
    if (d.contains("verdict")) h += row("table verdict", esc(d["verdict"].get<std::string>()));
    if (d.contains("block")) h += row("block", QString::number(d["block"].get<int>()));
    if (d.contains("candidate_op"))
      h += row("candidate", QString("%1 #%2").arg(esc(d["candidate_op"].get<std::string>())).arg(d.value("candidate", NodeId(-1))));
  }
  h += row("reason", esc(step->reason));
  h += row("matched", ids(step->matched));
  h += row("created", ids(step->created));
  h += row("removed", ids(step->removed));
  if (step->cost_before.nodes || step->cost_after.nodes || step->cost_before.flops || step->cost_after.flops) {
    h += row("cost before", cost(step->cost_before));
    h += row("cost after", cost(step->cost_after));
  }
  h += "</table>";
  // Whatever else the stage recorded (profile times, sweep, ...), as it is.
  QStringList extra;
  for (auto it = d.begin(); it != d.end(); ++it) {
    static const std::set<std::string> shown = {"block_type", "candidate_type", "verdict", "block", "candidate_op", "candidate"};
    if (!shown.count(it.key())) extra << QString("%1 = %2").arg(esc(it.key()), esc(it.value().dump()));
  }
  if (!extra.isEmpty()) h += "<p><b>details</b><br>" + extra.join("<br>") + "</p>";
  return h;
}

}  // namespace dnnf::views
