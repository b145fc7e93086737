// dnnf limits: the limits in force (name, value, unit, what it bounds), as a table or JSON.
// The global option `--limit NAME=VALUE` (any position, repeatable) and the environment
// variable DNNF_LIMITS="NAME=VALUE,..." set them; see core/util/limits.h.
#include <cstdio>

#include "app/cli/cli.h"
#include "app/cli/commands.h"
#include "core/util/limits.h"

namespace dnnf::cli {

std::vector<std::string> take_limit_options(const std::vector<std::string>& args) {
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string assignment;
    if (args[i] == "--limit") {
      if (i + 1 >= args.size()) throw UsageError("--limit needs NAME=VALUE (see dnnf limits)");
      assignment = args[++i];
    } else if (args[i].rfind("--limit=", 0) == 0) {
      assignment = args[i].substr(8);
    } else {
      rest.push_back(args[i]);
      continue;
    }
    try {
      set_limit(assignment);
    } catch (const Error& e) {
      throw UsageError(std::string("--limit ") + assignment + ": " + e.what());
    }
  }
  return rest;
}

int cmd_limits(const CommandArgs& argv) {
  Args args(argv, {"--json"}, {});
  if (!args.positional().empty()) throw UsageError("limits takes no positional arguments");
  nlohmann::json rows = nlohmann::json::array();
  for (const LimitInfo& l : limit_table())
    rows.push_back({{"name", l.name}, {"value", limits().*(l.field)}, {"unit", l.unit}, {"description", l.what}});
  if (auto out = args.value("--json")) {
    write_json({{"limits", rows}}, *out);
    return 0;
  }
  for (const LimitInfo& l : limit_table())
    std::printf("%-16s %14lld %-9s %s\n", l.name, static_cast<long long>(limits().*(l.field)), l.unit, l.what);
  return 0;
}

}  // namespace dnnf::cli
