// The interpreter plan (kernels/bundle/interp/interp_plan.h) of an export bundle: the
// nodes of the blocks a target has no generated code for, grouped by step, the constants
// they read (added to weights.bin) and the values they read from the target (generated
// kernels' outputs, model inputs), which must have static shapes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/export/bundle_weights.h"
#include "core/ir/graph.h"
#include "kernels/bundle/interp/interp_plan.h"

namespace dnnf::exporter {

class InterpPlanBuilder {
 public:
  // `constants`: the load-time values the target computed at export (shipped as weights).
  // Weights are added to `weights` under weight_prefix + value name (a Vulkan bundle keeps
  // its own float32 copies under the plain names).
  InterpPlanBuilder(const Graph& graph, const std::map<std::string, Tensor>& constants, WeightsWriter& weights,
                    std::string weight_prefix = "");

  // Appends one interpreted step with these nodes (plan order); returns its index.
  size_t add_step(const std::vector<NodeId>& nodes);

  bool empty() const { return plan_.steps.empty(); }
  // Whether an interpreted node computes `value`.
  bool computes(const std::string& value) const { return computed_.count(value) != 0; }
  // The values the interpreted nodes read from the target, in first-read order.
  const std::vector<dnnf_bundle::InterpImport>& imports() const { return plan_.imports; }

  // The plan, its weights_bytes set to the size weights.bin has now (call after every
  // weight of the bundle is added). Throws dnnf::Error for an import without a static
  // shape.
  dnnf_bundle::InterpPlan finish() const;

 private:
  void note_read(const std::string& v, const Node& reader);

  const Graph& g_;
  const std::map<std::string, Tensor>& constants_;
  WeightsWriter& weights_;
  std::string prefix_;
  dnnf_bundle::InterpPlan plan_;
  std::map<std::string, bool> computed_;
  std::map<std::string, bool> known_;  // weights and imports already listed
};

}  // namespace dnnf::exporter
