#include "tests/support/test_util.h"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

namespace dnnf::test {

TempDir::TempDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() / ("dnnf_test_" + std::to_string(rd()) + std::to_string(::getpid()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Node make_node(const std::string& op, std::vector<std::string> inputs, std::vector<std::string> outputs,
               const std::string& name) {
  Node n;
  n.op_type = op;
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  n.name = name.empty() ? (n.outputs.empty() ? op : n.outputs[0]) : name;
  return n;
}

namespace {
std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}
std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

CliResult run_cli(const std::vector<std::string>& args) {
  TempDir tmp;
  std::string cmd = quote(DNNF_CLI_PATH);
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " >" + quote(tmp.file("out")) + " 2>" + quote(tmp.file("err")) + " </dev/null";
  const int status = std::system(cmd.c_str());
  CliResult r;
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
    // A shell reports a child killed by a signal as 128+N.
    if (r.exit_code > 128) { r.signal = r.exit_code - 128; r.exit_code = -1; }
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
  r.out = slurp(tmp.file("out"));
  r.err = slurp(tmp.file("err"));
  return r;
}

std::string shared_models_dir() {
  const char* env = std::getenv("DNNF_MODELS");
  std::string dir = env ? env : DNNF_DEFAULT_MODELS_DIR;
  return std::filesystem::is_directory(dir) ? dir : std::string();
}

std::string test_data_dir() { return DNNF_TEST_DATA_DIR; }

}  // namespace dnnf::test
