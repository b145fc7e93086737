// Fast host implementations, over the micro-kernel library, of the heavy operators a
// backend runs outside generated code: blocks whose shapes are known only at run time,
// such as the box and mask heads of Faster/Mask R-CNN, whose row or batch count is the
// number of proposals. The reference kernels compute in double and stay the oracle;
// this table is only for speed, and every entry is checked against them in tests.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "kernels/abi/dnnf_abi.h"

namespace dnnf {

// Runs `node` on `inputs` (nullptr for an absent optional input) with the fast host
// kernel for its operator, or returns nullopt when there is none or the operands are not
// of the form it handles (then the caller runs the reference kernel).
std::optional<std::vector<Tensor>> run_host_fast(const Node& node, const std::vector<const Tensor*>& inputs,
                                                 const dnnf_api& api);

// The operators the table covers, for `dnnf ops` and tests.
std::vector<std::string> host_fast_operators();

}  // namespace dnnf
