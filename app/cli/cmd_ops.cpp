// dnnf ops: the operator table (one row per operator).
#include <cstdio>

#include "app/cli/cli.h"
#include "app/cli/commands.h"
#include "core/fusion/mapping_table.h"
#include "core/ir/op_registry.h"

namespace dnnf::cli {

int cmd_ops(const CommandArgs& argv) {
  Args args(argv, {"--json"}, {"--fusion-table"});
  if (!args.positional().empty()) throw UsageError("ops takes no positional arguments");
  if (args.flag("--fusion-table")) {
    if (auto out = args.value("--json")) {
      write_json(fusion::fusion_table_json(), *out);
      return 0;
    }
    std::printf("%-13s %-13s %-13s %-8s %s\n", "first", "second", "fused", "verdict", "why");
    for (const auto& c : fusion::fusion_table())
      std::printf("%-13s %-13s %-13s %-8s %s\n", mapping_type_name(c.first), mapping_type_name(c.second),
                  c.verdict == fusion::Verdict::Break ? "-" : mapping_type_name(c.fused),
                  fusion::verdict_name(c.verdict), c.why);
    return 0;
  }
  const OpRegistry& registry = OpRegistry::instance();
  nlohmann::json rows = nlohmann::json::array();
  for (const OpInfo& op : registry.all()) {
    nlohmann::json props;
    props["associative"] = op.props.associative;
    props["commutative"] = op.props.commutative;
    props["distributes_over"] = op.props.distributes_over;
    if (op.props.identity) props["identity"] = *op.props.identity;
    if (op.props.absorbing) props["absorbing"] = *op.props.absorbing;
    rows.push_back({{"name", op.name},
                    {"domain", op.domain.empty() ? "ai.onnx" : op.domain},
                    {"since_opset", op.since},
                    {"until_opset", op.until},
                    {"family", op.family},
                    {"mapping_type", mapping_type_name(op.mapping)},
                    {"mapping_depends_on_shapes", bool(op.mapping_fn)},
                    {"properties", props},
                    {"has_cost_model", bool(op.cost)},
                    {"summary", op.summary}});
  }
  nlohmann::json j;
  j["operators"] = rows;
  j["count"] = rows.size();
  if (auto out = args.value("--json")) {
    write_json(j, *out);
    return 0;
  }
  std::printf("%-28s %-14s %-13s %-8s %s\n", "operator", "family", "mapping", "opsets", "properties");
  for (const OpInfo& op : registry.all()) {
    std::string props;
    if (op.props.associative) props += "assoc ";
    if (op.props.commutative) props += "comm ";
    for (const auto& d : op.props.distributes_over) props += "distrib/" + d + " ";
    std::printf("%-28s %-14s %-13s %d-%-5d %s\n", op.name.c_str(), op.family.c_str(),
                mapping_type_name(op.mapping), op.since, op.until, props.c_str());
  }
  std::printf("%zu operators\n", registry.all().size());
  return 0;
}

}  // namespace dnnf::cli
