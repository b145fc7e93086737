// Where the peers live: the peers virtualenv (tools/peers/setup_peers.sh), the peer
// scripts, the result cache, and which peer versions are installed (read from the
// venv's package metadata, so asking costs no Python start-up).
#pragma once

#include <optional>
#include <string>

namespace dnnf::peers {

struct PeerEnv {
  std::string venv;         // $DNNF_PEERS_VENV or <cache>/dnnf/peers-venv
  std::string python;       // <venv>/bin/python
  std::string scripts_dir;  // $DNNF_PEERS_SCRIPTS or <source tree>/tools/peers
  std::string cache_dir;    // <cache>/dnnf/peers
  double timeout_seconds = 900;  // per converter run ($DNNF_PEERS_TIMEOUT)
};

// Defaults from the environment; scripts_dir is searched upwards from the executable.
PeerEnv default_peer_env();

// The installed version of a peer ("1.20.1"; TFLite: "onnx2tf 1.28.8, tensorflow 2.21.0"),
// or nothing when its packages are not in the venv.
std::optional<std::string> installed_peer_version(const PeerEnv& env, const std::string& peer);

// The version of a package installed in the venv (from its *.dist-info directory).
std::optional<std::string> package_version(const std::string& venv, const std::string& package);

}  // namespace dnnf::peers
