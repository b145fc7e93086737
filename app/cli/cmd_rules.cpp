// dnnf rules: the rewrite rules (name, family, description), as a table or JSON.
#include <cstdio>

#include "app/cli/cli.h"
#include "app/cli/commands.h"
#include "core/rewrite/driver.h"

namespace dnnf::cli {

int cmd_rules(const CommandArgs& argv) {
  Args args(argv, {"--json"}, {});
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : rewrite::all_rules())
    rows.push_back({{"name", r->name()}, {"family", r->family()}, {"description", r->description()},
                    {"roots", r->roots()}});
  if (auto out = args.value("--json")) {
    write_json({{"rules", rows}, {"count", rows.size()}}, *out);
    return 0;
  }
  for (const auto& r : rewrite::all_rules())
    std::printf("%-34s %-13s %s\n", r->name().c_str(), r->family().c_str(), r->description().c_str());
  std::printf("%zu rules\n", rewrite::all_rules().size());
  return 0;
}

}  // namespace dnnf::cli
