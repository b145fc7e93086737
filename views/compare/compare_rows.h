// The rows of the compare view, in the shape `dnnf compare --json` prints them:
// {system, version, layers, fused_groups, source}. Until the CLI's peer comparison is
// in core, the Studio makes the rows it can compute itself (unfused ONNX and dnnf) and
// can load a full table written by `dnnf compare --json`.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "views/session/studio_session.h"

namespace dnnf::views {

struct CompareRow {
  std::string system;
  std::string version;
  int64_t layers = 0;        // kernels launched per inference (-1: the peer failed)
  int64_t fused_groups = 0;  // of them, kernels holding more than one operator (-1: failed)
  std::string source;        // where the number comes from
  bool operator==(const CompareRow& o) const = default;
};

// dnnf's own row, counted as `dnnf compare` counts it: fused layers of the CPU plan;
// fused groups = blocks of several operators or holding a dnnf composite operator.
CompareRow dnnf_compare_row(const StudioSession& session);

// dnnf's row, then one row per peer from core/peers exactly as `dnnf compare` makes them
// (the peer's tool when installed, else its rule table). Slow when a peer tool runs:
// a worker job (progress, cancel between peers). Without core/peers: dnnf's row only.
std::vector<CompareRow> compare_rows_with_peers(const StudioSession& session, const JobControl& job);

// Reads `dnnf compare --json` output: an array of rows, or an object with "rows".
// Throws dnnf::Error on anything else.
std::vector<CompareRow> compare_rows_from_json(const nlohmann::json& j);

}  // namespace dnnf::views
