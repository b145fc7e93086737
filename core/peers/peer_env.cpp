#include "core/peers/peer_env.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>

namespace dnnf::peers {

namespace fs = std::filesystem;

namespace {

fs::path cache_root() {
  if (const char* d = std::getenv("DNNF_CACHE_DIR")) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME")) return fs::path(x) / "dnnf";
  if (const char* h = std::getenv("HOME")) return fs::path(h) / ".cache" / "dnnf";
  return fs::temp_directory_path() / "dnnf";
}

std::string find_scripts_dir() {
  if (const char* s = std::getenv("DNNF_PEERS_SCRIPTS")) return s;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  for (fs::path dir = ec ? fs::current_path() : exe.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    if (fs::exists(dir / "tools" / "peers" / "peer_common.py")) return (dir / "tools" / "peers").string();
    if (dir == dir.root_path()) break;
  }
  return "tools/peers";
}

// pip normalises names: case-insensitive, '-', '_' and '.' alike.
std::string normalise(std::string s) {
  for (char& c : s) c = c == '-' || c == '.' ? '_' : char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

PeerEnv default_peer_env() {
  PeerEnv env;
  const char* v = std::getenv("DNNF_PEERS_VENV");
  env.venv = v ? v : (cache_root() / "peers-venv").string();
  env.python = (fs::path(env.venv) / "bin" / "python").string();
  env.scripts_dir = find_scripts_dir();
  env.cache_dir = (cache_root() / "peers").string();
  if (const char* t = std::getenv("DNNF_PEERS_TIMEOUT")) env.timeout_seconds = std::max(1.0, std::atof(t));
  return env;
}

std::optional<std::string> package_version(const std::string& venv, const std::string& package) {
  std::error_code ec;
  const fs::path lib = fs::path(venv) / "lib";
  if (!fs::is_directory(lib, ec)) return std::nullopt;
  const std::string want = normalise(package);
  for (const auto& py : fs::directory_iterator(lib, ec)) {
    const fs::path site = py.path() / "site-packages";
    if (!fs::is_directory(site, ec)) continue;
    for (const auto& entry : fs::directory_iterator(site, ec)) {
      const std::string name = entry.path().filename().string();
      const std::string suffix = ".dist-info";
      if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      // "<name>-<version>.dist-info"; the name itself holds no '-'.
      const std::string stem = name.substr(0, name.size() - suffix.size());
      const size_t dash = stem.find('-');
      if (dash != std::string::npos && normalise(stem.substr(0, dash)) == want) return stem.substr(dash + 1);
    }
  }
  return std::nullopt;
}

std::optional<std::string> installed_peer_version(const PeerEnv& env, const std::string& peer) {
  if (!fs::exists(env.python)) return std::nullopt;
  if (peer == "onnxruntime") return package_version(env.venv, "onnxruntime");
  if (peer == "mnn") return package_version(env.venv, "MNN");
  if (peer == "tvm") return package_version(env.venv, "apache-tvm");
  if (peer == "tflite") {
    auto conv = package_version(env.venv, "onnx2tf");
    auto tf = package_version(env.venv, "tensorflow");
    if (!tf) tf = package_version(env.venv, "tensorflow-cpu");
    if (!conv || !tf) return std::nullopt;
    return "onnx2tf " + *conv + ", tensorflow " + *tf;
  }
  return std::nullopt;
}

}  // namespace dnnf::peers
