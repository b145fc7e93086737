// dnnf db: where the fusion database lives, what it holds, and clearing it.
#include <cstdio>

#include "app/cli/cli.h"
#include "app/cli/commands.h"
#include "core/fusion/fusion_db.h"

namespace dnnf::cli {

int cmd_db(const CommandArgs& argv) {
  Args args(argv, {"--db", "--json"}, {"--path", "--stats", "--clear"});
  const int chosen = int(args.flag("--path")) + int(args.flag("--stats")) + int(args.flag("--clear"));
  if (chosen != 1 || !args.positional().empty()) throw UsageError("give exactly one of --path, --stats, --clear");
  const std::string path = args.value_or("--db", fusion::FusionDatabase::default_path());
  if (args.flag("--path")) {
    std::printf("%s\n", path.c_str());
    return 0;
  }
  fusion::FusionDatabase db(path);
  if (args.flag("--clear")) {
    db.clear();
    std::printf("cleared %s\n", path.c_str());
    return 0;
  }
  const auto st = db.stats();
  const std::string integrity = db.integrity_check();
  nlohmann::json j = {{"path", path}, {"entries", st.entries}, {"per_target", st.per_target}, {"integrity", integrity}};
  if (auto out = args.value("--json")) {
    write_json(j, *out);
    return 0;
  }
  std::printf("%s: %lld entries, integrity %s\n", path.c_str(), (long long)st.entries, integrity.c_str());
  for (const auto& [t, n] : st.per_target) std::printf("  %s: %lld\n", t.c_str(), (long long)n);
  return 0;
}

}  // namespace dnnf::cli
