// dnnf inspect MODEL: counts, histograms, parameters, FLOPs, opsets.
#include <cstdio>

#include "app/cli/cli.h"
#include "app/cli/commands.h"
#include "core/analysis/model_stats.h"

namespace dnnf::cli {

int cmd_inspect(const CommandArgs& argv) {
  Args args(argv, {"--json", "--dim"}, {});
  if (args.positional().size() != 1) throw UsageError("expected one MODEL");
  const std::string path = args.positional()[0];
  Model model = load_and_infer(path, parse_dims(args.values("--dim")));
  const ModelStats s = compute_model_stats(model);

  nlohmann::json j;
  j["model"] = path;
  j["ir_version"] = s.ir_version;
  j["opset"] = s.opsets.count("") ? s.opsets.at("") : 0;
  j["opsets"] = s.opsets;
  j["node_count"] = s.node_count;
  j["node_count_recursive"] = s.node_count_recursive;
  j["op_histogram"] = s.op_histogram;
  j["mapping_type_histogram"] = s.mapping_histogram;
  j["parameter_count"] = s.parameter_count;
  j["flops"] = s.flops;
  j["nodes_without_static_shapes"] = s.nodes_without_static_cost;
  nlohmann::json inputs = nlohmann::json::array(), outputs = nlohmann::json::array();
  for (const ValueInfo& v : model.graph.inputs) inputs.push_back({{"name", v.name}, {"type", v.type.str()}});
  for (const ValueInfo& v : model.graph.outputs) outputs.push_back({{"name", v.name}, {"type", v.type.str()}});
  j["inputs"] = inputs;
  j["outputs"] = outputs;

  if (auto out = args.value("--json")) {
    write_json(j, *out);
    if (*out == "-") return 0;
  }
  std::printf("%s\n  ir %lld, opset %lld, %zu nodes (%zu with subgraphs), %lld parameters, %.4g FLOPs\n",
              path.c_str(), (long long)s.ir_version, (long long)j["opset"].get<int64_t>(), s.node_count,
              s.node_count_recursive, (long long)s.parameter_count, s.flops);
  std::printf("  mapping types:");
  for (const auto& [k, v] : s.mapping_histogram) std::printf(" %s %zu;", k.c_str(), v);
  std::printf("\n  ops:");
  for (const auto& [k, v] : s.op_histogram) std::printf(" %s %zu;", k.c_str(), v);
  std::printf("\n");
  for (const ValueInfo& v : model.graph.inputs) std::printf("  input  %s %s\n", v.name.c_str(), v.type.str().c_str());
  for (const ValueInfo& v : model.graph.outputs) std::printf("  output %s %s\n", v.name.c_str(), v.type.str().c_str());
  return 0;
}

}  // namespace dnnf::cli
