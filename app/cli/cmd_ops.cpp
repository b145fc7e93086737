// dnnf ops: the operator table (one row per operator).
#include <cstdio>

#include "app/cli/cli.h"
#include "app/cli/commands.h"
#include "core/ir/op_registry.h"

namespace dnnf::cli {

int cmd_ops(const CommandArgs& argv) {
  Args args(argv, {"--json"}, {});
  if (!args.positional().empty()) throw UsageError("ops takes no positional arguments");
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
