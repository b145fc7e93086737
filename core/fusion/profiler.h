// Light-weight profiling for the table's "profile" verdicts: is running a block and
// a candidate operator as one kernel faster than running them apart? Answers come
// from the fusion database when known, else from the target's profiler.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/ir/graph.h"

namespace dnnf::fusion {

struct ProfileResult {
  double fused_us = 0;     // latency of block + candidate as one kernel
  double separate_us = 0;  // latency of block and candidate as two kernels
  std::string source;      // "database", "measured", "estimate"
};

class BlockProfiler {
 public:
  virtual ~BlockProfiler() = default;
  virtual std::string target() const = 0;
  // `block` holds the current block's nodes; `candidate` the operator to add.
  virtual ProfileResult compare(const Graph& graph, const std::vector<NodeId>& block, NodeId candidate) = 0;
};

// An analytic stand-in used when no target profiler is attached: roofline latency
// (FLOPs at peak, bytes at bandwidth), the intermediate the fusion saves, and the
// recomputation a broadcast fusion causes.
std::unique_ptr<BlockProfiler> make_estimating_profiler(const std::string& target, double gflops = 50,
                                                        double gbytes_per_s = 10);

// Canonical signature of a candidate (ops, attributes, shapes, layout, target): the
// fusion database key. Equal structures in different models share one entry.
std::string block_signature(const Graph& graph, const std::vector<NodeId>& nodes, const std::string& target);

}  // namespace dnnf::fusion
