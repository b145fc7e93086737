// The dnnf sub-commands; each lives in its own cmd_<name>.cpp and is listed in main.cpp.
#pragma once

#include <string>
#include <vector>

namespace dnnf::cli {

using CommandArgs = std::vector<std::string>;

int cmd_inspect(const CommandArgs& args);
int cmd_run(const CommandArgs& args);
int cmd_conformance(const CommandArgs& args);
int cmd_ops(const CommandArgs& args);
int cmd_optimize(const CommandArgs& args);
int cmd_rules(const CommandArgs& args);
int cmd_db(const CommandArgs& args);
int cmd_compare(const CommandArgs& args);
int cmd_peers(const CommandArgs& args);
int cmd_bench(const CommandArgs& args);
int cmd_devices(const CommandArgs& args);
int cmd_export(const CommandArgs& args);
int cmd_limits(const CommandArgs& args);

// Applies and removes the global option --limit NAME=VALUE (any position, repeatable);
// throws UsageError on a bad one. Defined in cmd_limits.cpp.
std::vector<std::string> take_limit_options(const std::vector<std::string>& args);

}  // namespace dnnf::cli
