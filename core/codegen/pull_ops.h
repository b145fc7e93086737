// The pull table: for each operator dnnf can inline into a generated loop, how its
// output element at a multi-index is computed from its inputs. One-to-One operators
// become arithmetic on their inputs' elements; Reorganize, Shuffle and One-to-Many
// operators only rewrite the index their input is read at (no copy is made).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/codegen/emit_context.h"

namespace dnnf::codegen {

using PullFn = std::function<std::string(EmitContext& cx, Body& body, const Node& node, size_t output,
                                         const std::vector<Ix>& idx)>;
struct PullRow {
  const char* op;
  PullFn pull;
  // Extra support check (attributes, constant inputs); empty = always supported.
  std::function<bool(const Graph&, const Node&, std::string*)> supported;
};

const PullRow* find_pull(const std::string& op_type);
const std::vector<PullRow>& pull_rows();

}  // namespace dnnf::codegen
