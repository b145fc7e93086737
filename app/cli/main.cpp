// dnnf: the command-line face of the engine. Exit codes: 0 success, 1 error (one line
// on stderr naming the problem), 2 usage error.
#include <cstdio>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "app/cli/cli.h"
#include "app/cli/commands.h"
#include "core/util/error.h"
#include "core/util/limits.h"

namespace {

struct Command {
  const char* name;
  int (*run)(const dnnf::cli::CommandArgs&);
  const char* usage;
};

const Command kCommands[] = {
    {"inspect", dnnf::cli::cmd_inspect, "inspect MODEL [--json FILE] [--dim NAME=SIZE]..."},
    {"run", dnnf::cli::cmd_run,
     "run MODEL [--backend reference|cpu|vulkan] [--device N] [--profile] [--no-fusion] [--no-rewrite] [--threads N] [--input NAME=FILE.pb|FILE.npy]... "
     "[--output DIR] [--check] [--check-all] [--rtol X] [--atol X] [--seed N] [--dim NAME=SIZE]... [--json FILE]"},
    {"conformance", dnnf::cli::cmd_conformance,
     "conformance DIR... [--filter TEXT] [--json FILE] [--quiet]"},
    {"ops", dnnf::cli::cmd_ops, "ops [--fusion-table] [--json FILE]"},
    {"db", dnnf::cli::cmd_db, "db (--path | --stats | --clear) [--db FILE] [--json FILE]"},
    {"optimize", dnnf::cli::cmd_optimize,
     "optimize MODEL [--stage rewrite|fusion] [--target cpu|vulkan] [--no-rewrite] [--no-fusion] [--db FILE] [--no-db] [--verify] [--journal FILE] [--output FILE.onnx] [--json FILE] "
     "[--disable-rule NAME]... [--only-rule NAME]..."},
    {"rules", dnnf::cli::cmd_rules, "rules [--json FILE]"},
    {"limits", dnnf::cli::cmd_limits, "limits [--json FILE]   (set with --limit NAME=VALUE before or after any command)"},
    {"compare", dnnf::cli::cmd_compare,
     "compare MODEL [--peers tflite,mnn,onnxruntime,tvm|all] [--source auto|tool|rules] [--timeout SECONDS] [--no-cache] "
     "[--no-measure] [--no-db] [--dim NAME=SIZE]... [--json FILE]"},
    {"peers", dnnf::cli::cmd_peers, "peers (--setup | --status | --rules [PEER]) [--json FILE]"},
    {"devices", dnnf::cli::cmd_devices, "devices [--json FILE]"},
    {"bench", dnnf::cli::cmd_bench,
     "bench MODEL [--backend cpu|vulkan] [--device N] [--threads N] [--no-fusion] [--no-rewrite] [--runs N] [--warmup N] "
     "[--trace FILE.json] [--json FILE] [--dim NAME=SIZE]..."},
    {"export", dnnf::cli::cmd_export,
     "export MODEL --target onnx -o FILE [--no-rewrite] [--no-fusion] [--keep-dnnf-ops] [--db FILE] [--no-db] [--dim NAME=SIZE]...\n"
     "       export MODEL --target neon -o DIR [--no-rewrite] [--no-fusion] [--no-compile] [--dim NAME=SIZE]...\n"
     "       export MODEL --target vulkan -o DIR [--local-size N] [--no-rewrite] [--no-fusion] [--no-compile] "
     "[--dim NAME=SIZE]..."},
};

void print_help() {
  std::printf("dnnf %s: DNNFusion operator-fusion compiler\n\nusage:\n", DNNF_VERSION);
  for (const Command& c : kCommands) std::printf("  dnnf %s\n", c.usage);
  std::printf("\n--json - writes the JSON object to standard output.\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // The global --limit NAME=VALUE options (and DNNF_LIMITS) apply to every command.
  try {
    args = dnnf::cli::take_limit_options(args);
    (void)dnnf::limits();  // reads DNNF_LIMITS now, so a bad value is reported here
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dnnf: %s\n", e.what());
    return 2;
  }
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_help();
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::printf("dnnf %s\n", DNNF_VERSION);
    return 0;
  }
  for (const Command& c : kCommands) {
    if (args[0] != c.name) continue;
    const dnnf::cli::CommandArgs rest(args.begin() + 1, args.end());
    try {
      return c.run(rest);
    } catch (const dnnf::cli::UsageError& e) {
      std::fprintf(stderr, "dnnf %s: %s\nusage: dnnf %s\n", c.name, e.what(), c.usage);
      return 2;
    } catch (const dnnf::Error& e) {
      std::fprintf(stderr, "dnnf %s: error: %s\n", c.name, e.what());
      return 1;
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "dnnf %s: error: out of memory\n", c.name);
      return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "dnnf %s: internal error: %s\n", c.name, e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "dnnf: unknown command '%s' (see dnnf --help)\n", args[0].c_str());
  return 2;
}
