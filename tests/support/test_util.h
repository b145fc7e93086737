// Helpers shared by the unit tests: temp dirs, building small graphs, running the CLI.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/ir/graph.h"

namespace dnnf::test {

// A fresh temporary directory, removed when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

Node make_node(const std::string& op, std::vector<std::string> inputs, std::vector<std::string> outputs,
               const std::string& name = "");

struct CliResult {
  int exit_code = -1;        // -1 when killed by a signal
  int signal = 0;
  std::string out, err;
};
// Runs the built dnnf CLI with arguments (shell-quoted here).
CliResult run_cli(const std::vector<std::string>& args);

// DNNF_MODELS or the default shared models folder; empty if it does not exist.
std::string shared_models_dir();
std::string test_data_dir();  // tests/ in the source tree

}  // namespace dnnf::test
