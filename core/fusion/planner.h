// The fusion-plan generator (paper Listing 1): seeds are One-to-One operators with
// the smallest intermediate results; each block grows through successors, then
// predecessors, asking the mapping-type table on every edge (against the block's
// current fused type), checking constraints, and profiling "profile" verdicts.
#pragma once

#include <functional>

#include "core/fusion/fusion_plan.h"
#include "core/fusion/profiler.h"
#include "core/journal/journal.h"

namespace dnnf::fusion {

struct PlannerOptions {
  std::string target = "cpu";
  TargetLimits limits;
  BlockProfiler* profiler = nullptr;  // nullptr: an estimating profiler is used
  bool enabled = true;                // false: one block per operator
  // A "profile" edge fuses when the fused kernel is at most this much slower than the
  // two apart: fusing also keeps the intermediate out of memory (the peak activation
  // memory and the traffic other threads compete for), and differences this small are
  // within a profile's repeatability. Measured on BERT-base: the FFN's MatMul with its
  // bias + GELU epilogue profiled 16.9 ms against 16.6 ms apart, and leaving it unfused
  // kept a 1.5 MB intermediate live at the plan's busiest step.
  double profile_tolerance = 0.05;
  // The target's code generator: operators it cannot put in a kernel run alone
  // (never seeded, never added). Empty: every operator is fusible.
  std::function<bool(const Node&, std::string* why)> fusible;
  // The target's code generator keeps this operand of this operator in memory (a GEMM
  // or convolution reads it packed), so fusing its producer in saves no memory traffic:
  // such edges are not taken, and the producer stays free to become the epilogue of its
  // own producer. Empty: the table's verdicts stand.
  std::function<bool(const Node& consumer, const std::string& operand)> operand_in_memory;
  // Whether the target reads `operand` of `consumer` through its producer without the
  // producer's output in memory (a pointwise Conv reading Mul(x, per-channel s) as x with
  // scaled weights). Such an edge fuses even where the table breaks (One-to-Many ->
  // Many-to-Many): the break is for the consumer's contiguous reads, which stay.
  std::function<bool(const Node& consumer, const std::string& operand)> reads_through;
  // Why the target runs `consumer` one group at a time of `producer`, whose output
  // (through element-wise ops) it reads, or "" when it does not: a depthwise Conv per
  // channel group of a pointwise Conv, a MatMul per row block of a MatMul. The table
  // breaks Many-to-Many + Many-to-Many; such a pair's blocks are joined after growth (see
  // Planner::chain_blocks): the tensor between them then never exists whole. Empty: no
  // chains.
  std::function<std::string(const Node& producer, const Node& consumer)> chains;
};

// The graph must be shape-inferred. Every decision goes to `journal` (stage "fusion").
FusionPlan plan_fusion(const Graph& graph, const PlannerOptions& options, Journal* journal = nullptr);

// Rebuilds a plan from the fusion steps of a journal (for checking and the Studio).
FusionPlan plan_from_journal(const Graph& graph, const Journal& journal, const std::string& target);

}  // namespace dnnf::fusion
