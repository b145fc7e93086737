// dnnf peers: set up and report the peer frameworks `dnnf compare` measures against,
// and print the fusion rule tables used when a peer is absent.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "app/cli/cli.h"
#include "app/cli/commands.h"
#include "core/peers/peer_compare.h"
#include "core/peers/peer_env.h"
#include "core/peers/peer_rules.h"
#include "core/peers/timed_process.h"

namespace dnnf::cli {

int cmd_peers(const CommandArgs& argv) {
  Args args(argv, {"--json"}, {"--setup", "--status", "--rules"});
  const peers::PeerEnv env = peers::default_peer_env();
  const int modes = int(args.flag("--setup")) + int(args.flag("--status")) + int(args.flag("--rules"));
  if (modes != 1) throw UsageError("expected one of --setup, --status, --rules");

  if (args.flag("--rules")) {
    if (args.positional().size() > 1) throw UsageError("expected at most one PEER");
    for (const peers::PeerTable& t : peers::peer_tables()) {
      if (!args.positional().empty() && peers::find_peer_table(args.positional()[0]) != &t) continue;
      std::printf("%s\n", peers::format_table(t).c_str());
    }
    if (!args.positional().empty() && !peers::find_peer_table(args.positional()[0]))
      throw UsageError("unknown peer '" + args.positional()[0] + "' (known: " + peers::peer_ids() + ")");
    return 0;
  }

  if (args.flag("--setup")) {
    const std::string script = (std::filesystem::path(env.scripts_dir) / "setup_peers.sh").string();
    std::fprintf(stderr, "running %s (large downloads; the log goes to standard error)\n", script.c_str());
    std::fflush(stderr);
    // The installer's output is the user's progress: pass it through unchanged.
    const std::string log = (std::filesystem::temp_directory_path() / "dnnf-peers-setup.log").string();
    const peers::TimedResult r = peers::run_with_time_limit({"bash", script}, log, log, 4 * 3600.0);
    std::FILE* f = std::fopen(log.c_str(), "r");
    if (f) {
      char buf[4096];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) std::fwrite(buf, 1, n, stderr);
      std::fclose(f);
    }
    if (!r.started || r.exit_code != 0)
      std::fprintf(stderr, "setup finished with problems (%s); see above\n",
                   r.error.empty() ? ("exit code " + std::to_string(r.exit_code)).c_str() : r.error.c_str());
  }

  nlohmann::json j;
  j["venv"] = env.venv;
  j["scripts"] = env.scripts_dir;
  j["cache"] = env.cache_dir;
  j["peers"] = nlohmann::json::array();
  std::printf("peers venv: %s%s\n", env.venv.c_str(), std::filesystem::exists(env.python) ? "" : " (not created)");
  for (const peers::PeerTable& t : peers::peer_tables()) {
    const auto version = peers::installed_peer_version(env, t.id);
    j["peers"].push_back({{"peer", t.id}, {"system", t.system}, {"installed", version.has_value()},
                          {"version", version.value_or("")}});
    std::printf("  %-12s %s\n", t.id.c_str(),
                version ? version->c_str() : "absent: compare emulates it from its rule table");
  }
  if (auto out = args.value("--json")) write_json(j, *out);
  return 0;
}

}  // namespace dnnf::cli
