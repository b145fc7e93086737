#include "core/export/bundle_manifest.h"

#include "core/util/error.h"

namespace dnnf::exporter {

namespace {

nlohmann::json ports_json(const std::vector<BundlePort>& ports) {
  nlohmann::json out = nlohmann::json::array();
  for (const BundlePort& p : ports) out.push_back({{"name", p.name}, {"dtype", dtype_name(p.dtype)}, {"shape", p.shape}});
  return out;
}

// Inputs need fixed shapes; an output may have dimensions that depend on the data
// (-1: detections after NMS, ...), which the C API's owned outputs carry, but a known rank.
std::vector<BundlePort> ports_of(const Graph& g, const std::vector<ValueInfo>& values, const char* what) {
  const bool output = std::string(what) == "output";
  std::vector<BundlePort> out;
  for (const ValueInfo& v : values) {
    const TensorType* t = g.type_of(v.name);
    if (!t) t = &v.type;
    const std::optional<Shape> shape = t->static_shape();
    check(shape.has_value() || (output && t->has_shape), what, " '", v.name, "' has no fixed shape (",
          output ? "not even a known rank" : "bind its symbolic dimensions with --dim NAME=SIZE",
          "); a bundle's C API needs ", output ? "the rank of every output" : "fixed input shapes");
    check(t->dtype != DType::String && t->dtype != DType::Undefined, what, " '", v.name, "' is of type ",
          dtype_name(t->dtype), ", which a bundle cannot carry");
    std::vector<int64_t> dims;
    for (const Dim& d : t->dims) dims.push_back(d.known() ? d.value : -1);
    out.push_back({v.name, t->dtype, dims});
  }
  return out;
}

}  // namespace

int64_t BundlePort::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    n *= d;
  }
  return n;
}

std::vector<BundlePort> bundle_inputs(const Graph& graph) { return ports_of(graph, graph.inputs, "input"); }
std::vector<BundlePort> bundle_outputs(const Graph& graph) { return ports_of(graph, graph.outputs, "output"); }

nlohmann::json BundleManifest::to_json() const {
  nlohmann::json j;
  j["dnnf_version"] = DNNF_VERSION;
  j["target"] = target;
  j["model"] = {{"file", model_file}, {"sha256", model_sha256}};
  nlohmann::json dims = nlohmann::json::object();
  for (const auto& [name, size] : bound_dims) dims[name] = size;
  j["model"]["bound_dims"] = dims;
  j["plan"] = {{"nodes_before", plan.nodes_before},
               {"nodes_after_rewriting", plan.nodes_after},
               {"fused_layers", plan.fused_layers},
               {"blocks", plan.blocks},
               {"unique_kernels", plan.unique_kernels}};
  j["inputs"] = ports_json(inputs);
  j["outputs"] = ports_json(outputs);
  j["weights"] = weights;
  j["target_details"] = target_details;
  return j;
}

}  // namespace dnnf::exporter
