// `dnnf compare`: one row per system for a model: dnnf first (fused layers of its CPU
// plan), then each peer measured with its own tool when installed (source "tool") or
// estimated from its rule table (source "rules"). A peer whose converter fails, crashes
// or runs past the time limit gives a failed row with the error, never an exception.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ir/graph.h"
#include "core/peers/peer_env.h"

namespace dnnf::peers {

struct CompareRow {
  std::string system;
  std::string version;
  int64_t layers = -1;        // -1 on a failed row
  int64_t fused_groups = -1;
  std::string source;         // "dnnf", "tool", "rules"
  std::string error;          // non-empty: the row failed
  std::string note;           // why emulated, cache hit, ...
  nlohmann::json detail;      // rules rows: rule hits and single-operator kernels by op type
  nlohmann::json to_json() const;
};

enum class PeerMode {
  Auto,      // the tool when installed, else the rules
  Tool,      // the tool only (a missing tool is a failed row)
  Rules,     // the rules only
};

// Runs one peer's script on `model_path` (cached per model hash + peer version).
CompareRow run_peer_tool(const std::string& peer, const std::string& model_path, const std::string& model_hash,
                         const PeerEnv& env, bool use_cache = true);
// Estimates a peer from its rule table on an inferred model.
CompareRow emulate_peer(const std::string& peer, const Model& model);
// A peer row according to `mode`.
CompareRow peer_row(const std::string& peer, const std::string& model_path, const std::string& model_hash,
                    const Model& model, const PeerEnv& env, PeerMode mode, bool use_cache = true);

// Content hash of a file (32 hex digits).
std::string file_hash(const std::string& path);

// Parses "tflite,mnn,onnxruntime,tvm" (also "ort", "all"). Throws dnnf::Error on an unknown peer.
std::vector<std::string> parse_peer_list(const std::string& spec);

}  // namespace dnnf::peers
