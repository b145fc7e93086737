// Helpers shared by the peer-emulation tests: constant tensors for hand-built graphs,
// running one peer's table, and reading how often a rule fired.
#pragma once

#include <cstdint>
#include <string>

#include "core/ir/graph.h"
#include "core/peers/peer_emulator.h"

namespace dnnf::test {

// An F32 tensor of `shape` holding v + 0.01 * (i % period); period 1 gives all v.
Tensor filled_tensor(const Shape& shape, float v, int64_t period);
// The emulation of `peer`'s table (the peer must exist) on `model`.
peers::Emulation emulate_peer(const Model& model, const std::string& peer);
// How often `rule` fired in `e` (0 when never).
int64_t rule_hits(const peers::Emulation& e, const std::string& rule);

}  // namespace dnnf::test
