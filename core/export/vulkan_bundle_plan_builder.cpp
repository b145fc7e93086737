#include "core/export/vulkan_bundle_plan_builder.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "core/codegen/content_hash.h"
#include "core/codegen/glsl/glsl_block.h"
#include "core/export/interp_plan_builder.h"
#include "core/runtime/load_time_values.h"
#include "core/runtime/reference_executor.h"
#include "core/util/error.h"

namespace dnnf::exporter {

namespace {

using dnnf_bundle::kArenaAlignment;

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// Why `block` has no shader within `limits`, or "" when it has one.
std::string shader_problem(const Graph& g, const fusion::FusedBlock& block, const codegen::glsl::Target& target,
                           const VulkanBundleLimits& limits, std::optional<codegen::glsl::ShaderKernel>* out) {
  std::string why;
  auto k = codegen::glsl::generate_shader(g, block, target, &why);
  if (!k) return why.empty() ? "no shader" : why;
  // The bundle binds storage buffers only (its target never asks for texel reads).
  check(k->texel_views.empty(), "a bundle shader with texel buffer views");
  for (const codegen::KernelBuffer& b : k->buffers)
    if (uint64_t(b.numel()) * 4 > limits.max_buffer_range)
      return "'" + b.value + "' (" + std::to_string(uint64_t(b.numel()) * 4) +
             " bytes) is larger than the storage-buffer range every device guarantees (" +
             std::to_string(limits.max_buffer_range) + " bytes)";
  if (out) *out = std::move(k);
  return "";
}

// Multi-operator blocks without a shader are split into their operators (as dnnf's
// Vulkan backend does); a single operator without one runs on the host.
fusion::FusionPlan split_plan(const Graph& g, const fusion::FusionPlan& plan, const codegen::glsl::Target& target,
                              const VulkanBundleLimits& limits, size_t* split) {
  fusion::FusionPlan out = plan;
  out.blocks.clear();
  *split = 0;
  for (const fusion::FusedBlock& b : plan.blocks) {
    if (b.nodes.size() < 2 || shader_problem(g, b, target, limits, nullptr).empty()) {
      out.blocks.push_back(b);
      continue;
    }
    ++*split;
    for (NodeId id : b.nodes) {
      fusion::FusedBlock single;
      single.nodes = {id};
      single.type = b.type;
      out.blocks.push_back(single);
    }
  }
  if (*split > 0) fusion::finish_plan(g, out);
  return out;
}

// `on_host`: an output the interpreter computes, whose dims may depend on the data (-1).
dnnf_bundle::PlanTensor plan_tensor(const Graph& g, const std::string& name, const char* kind, bool on_host = false) {
  const TensorType* t = g.type_of(name);
  check(t && (t->is_static() || (on_host && t->has_shape)), "model ", kind, " '", name,
        "' has no static shape (bind its dims with --dim NAME=N)");
  dnnf_bundle::PlanTensor p;
  p.dtype = dtype_name(t->dtype);
  check(dnnf_bundle::plan_dtype_size(p.dtype) != 0, "model ", kind, " '", name, "' has dtype ", p.dtype,
        ", which a Vulkan bundle does not carry (it takes float32/64, integers and bool)");
  for (const Dim& d : t->dims) p.dims.push_back(d.known() ? d.value : -1);
  p.name = name;
  p.on_host = on_host;
  return p;
}

class Builder {
 public:
  Builder(const Graph& g, const VulkanBundleLimits& limits) : g_(g), limits_(limits) {
    target_.local_size = limits.local_size;
    target_.shared_bytes = limits.shared_bytes;
    c_.plan.local_size = uint32_t(limits.local_size);
    // Shaders were generated to fit this much shared memory; the runtime checks the device.
    c_.plan.shared_bytes = uint32_t(limits.shared_bytes);
  }

  VulkanBundleContent build(const fusion::FusionPlan& input_plan) {
    compute_load_time_values();
    interp_.emplace(g_, constants_, c_.weights, "host:");
    const fusion::FusionPlan plan = split_plan(g_, input_plan, target_, limits_, &c_.split_blocks);
    std::map<std::string, uint32_t> shader_ids;  // by source hash
    for (const fusion::FusedBlock& b : plan.blocks) {
      std::optional<codegen::glsl::ShaderKernel> k;
      const std::string why = shader_problem(g_, b, target_, limits_, &k);
      if (!why.empty()) {
        const Node* n = g_.find_node(b.nodes.front());
        // A copy needs its input in the arena; one the host computes stays on the host.
        const std::string& in = n->inputs.empty() ? std::string() : n->inputs[0];
        if (b.nodes.size() == 1 && renames_memory(*n) &&
            (written_.count(in) || constant_value(in) || g_.is_graph_input(in))) {
          flush_host_nodes();
          add_copy(*n);
          continue;
        }
        // No shader: the host runs it (consecutive ones as one host step).
        host_nodes_.insert(host_nodes_.end(), b.nodes.begin(), b.nodes.end());
        continue;
      }
      flush_host_nodes();
      add_step(*k, b, shader_ids);
    }
    flush_host_nodes();
    c_.blocks = plan.blocks.size();
    add_model_tensors();
    if (!interp_->empty()) {
      for (const dnnf_bundle::InterpImport& im : interp_->imports()) {
        check(written_.count(im.name) || g_.is_graph_input(im.name), "value '", im.name,
              "' read on the host is produced by no shader");
        value_id(im.name, shape_numel(im.shape));
      }
      c_.interp = interp_->finish();  // after every weight: it records weights.bin's size
    }
    c_.plan.weights_bytes = c_.weights.bytes().size();
    return std::move(c_);
  }

 private:
  const Tensor* constant_value(const std::string& v) const {
    if (auto it = constants_.find(v); it != constants_.end()) return &it->second;
    if (auto it = g_.initializers.find(v); it != g_.initializers.end()) return &it->second;
    return nullptr;
  }

  // Values known before any input: computed here once, shipped as weights.
  void compute_load_time_values() {
    constants_ = dnnf::compute_load_time_values(g_);
    c_.load_time_values = constants_.size();
  }

  // The arena range of `name` (created on first use, 256-aligned).
  uint32_t value_id(const std::string& name, int64_t elements) {
    const uint64_t bytes = std::max<uint64_t>(4, uint64_t(std::max<int64_t>(elements, 0)) * 4);
    if (auto it = value_ids_.find(name); it != value_ids_.end()) {
      check(c_.plan.values[it->second].bytes >= bytes, "value '", name, "' is bound with different sizes");
      return it->second;
    }
    dnnf_bundle::PlanValue v;
    v.offset = align_up(c_.plan.arena_bytes, kArenaAlignment);
    v.bytes = bytes;
    v.name = name;
    c_.plan.arena_bytes = v.offset + v.bytes;
    c_.plan.values.push_back(v);
    const uint32_t id = uint32_t(c_.plan.values.size() - 1);
    value_ids_[name] = id;
    // A constant is filled from weights.bin at load.
    if (const Tensor* t = constant_value(name)) add_constant(id, name, *t);
    return id;
  }

  // Shaders read every element as a float32, whatever the constant's type.
  void add_constant(uint32_t id, const std::string& name, const Tensor& t) {
    if (t.numel() == 0) return;
    Tensor f(DType::F32, t.shape());
    if (t.dtype() == DType::F32) std::memcpy(f.raw(), t.raw(), t.nbytes());
    else
      for (int64_t i = 0; i < t.numel(); ++i) f.set_f64(i, t.get_f64(i));
    const uint64_t offset = c_.weights.add(name, f);
    c_.plan.constants.push_back({id, offset, uint64_t(f.nbytes())});
  }

  // An operator whose output has the elements of its input in the same order, as the
  // device stores them (float32): a view (Reshape, Flatten, Squeeze, Unsqueeze,
  // Identity) or a Cast between integer types or from an integer type to a float. dnnf's
  // Vulkan backend runs these on the host when they carry int64 data; a bundle copies.
  bool renames_memory(const Node& n) const {
    static const std::set<std::string> views = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"};
    if (n.inputs.empty() || n.inputs[0].empty() || n.outputs.size() != 1) return false;
    const TensorType* in = g_.type_of(n.inputs[0]);
    const TensorType* out = g_.type_of(n.outputs[0]);
    if (!in || !out || !in->is_static() || !out->is_static() || in->numel_or(-1) != out->numel_or(-1)) return false;
    if (views.count(n.op_type)) return true;
    auto integer = [](DType t) { return t != DType::Bool && t != DType::String && t != DType::Undefined && !dtype_is_float(t); };
    return n.op_type == "Cast" && integer(in->dtype) && (integer(out->dtype) || out->dtype == DType::F32 ||
                                                          out->dtype == DType::F64);
  }

  // The host nodes collected since the last device step, as one host step.
  void flush_host_nodes() {
    if (host_nodes_.empty()) return;
    dnnf_bundle::PlanStep step;
    step.is_host = true;
    step.host_step = uint32_t(interp_->add_step(host_nodes_));
    host_nodes_.clear();
    c_.plan.steps.push_back(step);
    last_host_step_ = c_.plan.steps.size() - 1;
    // A new command buffer starts after it: nothing recorded before is pending.
    dirty_written_.clear();
    dirty_read_.clear();
  }

  // A device step reads `name`, which a host step computed: the last host step (which ran
  // after it was computed, and right before this command buffer) writes it to the arena.
  void upload_if_host_value(const std::string& name, uint32_t id, int64_t elements) {
    if (!interp_->computes(name) || uploaded_.count(name)) return;
    uploaded_.insert(name);
    c_.plan.steps[last_host_step_].uploads.push_back({id, uint64_t(elements)});
  }

  void add_copy(const Node& n) {
    const std::string& from = n.inputs[0];
    const std::string& to = n.outputs[0];
    if (!written_.count(from) && !constant_value(from) && !g_.is_graph_input(from))
      fail("value '", from, "' read by ", n.op_type, " (node '", n.name, "') is produced by no shader");
    const int64_t elements = g_.type_of(to)->numel_or(0);
    dnnf_bundle::PlanStep step;
    step.is_copy = true;
    step.copy.src = value_id(from, elements);
    step.copy.dst = value_id(to, elements);
    step.copy.bytes = uint64_t(elements) * 4;
    written_.insert(to);
    step.copy.barrier = needs_barrier({step.copy.src}, {step.copy.dst});
    c_.plan.steps.push_back(step);
  }

  // Whether an operation reading `reads` and writing `writes` must wait for what ran
  // since the last barrier (read after write, write after write or after read); if so,
  // that barrier is now the last one. Records the operation.
  bool needs_barrier(const std::set<uint32_t>& reads, const std::set<uint32_t>& writes) {
    bool hazard = false;
    for (uint32_t v : reads) hazard = hazard || dirty_written_.count(v);
    for (uint32_t v : writes) hazard = hazard || dirty_written_.count(v) || dirty_read_.count(v);
    if (hazard) {
      dirty_written_.clear();
      dirty_read_.clear();
    }
    dirty_read_.insert(reads.begin(), reads.end());
    dirty_written_.insert(writes.begin(), writes.end());
    return hazard;
  }

  void add_step(codegen::glsl::ShaderKernel& k, const fusion::FusedBlock& b,
                std::map<std::string, uint32_t>& shader_ids) {
    const std::string hash = codegen::ContentHash().add(k.source).hex();
    auto [it, fresh] = shader_ids.emplace(hash, uint32_t(c_.plan.shaders.size()));
    if (fresh) {
      c_.plan.shaders.push_back({"shaders/" + hash.substr(0, 16) + ".spv", uint32_t(k.buffers.size())});
      c_.shader_sources.push_back(std::move(k.source));
      c_.plan.max_bindings = std::max(c_.plan.max_bindings, uint32_t(k.buffers.size()));
    }
    dnnf_bundle::PlanStep step;
    step.shader = it->second;
    std::set<uint32_t> reads, writes;
    for (const codegen::KernelBuffer& kb : k.buffers) {
      if (kb.role == codegen::BufferRole::Input && !written_.count(kb.value) && !constant_value(kb.value) &&
          !g_.is_graph_input(kb.value) && !interp_->computes(kb.value)) {
        const Node* n = g_.find_node(b.nodes.front());
        fail("value '", kb.value, "' read by ", n->op_type, " (node '", n->name, "') is produced by no shader");
      }
      const uint32_t id = value_id(kb.value, kb.numel());
      if (kb.role == codegen::BufferRole::Input) upload_if_host_value(kb.value, id, kb.numel());
      step.bindings.push_back(id);
      if (kb.role == codegen::BufferRole::Input) {
        reads.insert(id);
      } else {
        writes.insert(id);
        written_.insert(kb.value);
      }
    }
    for (size_t d = 0; d < k.dispatches.size(); ++d) {
      const int64_t groups = k.dispatches[d].groups;
      if (groups <= 0) continue;  // an empty stage (zero-sized tensor)
      dnnf_bundle::PlanDispatch pd;
      pd.stage = int32_t(d);
      pd.groups[0] = uint32_t(std::min<int64_t>(groups, limits_.max_group_count));
      const int64_t y = (groups + pd.groups[0] - 1) / pd.groups[0];
      check(y <= int64_t(limits_.max_group_count), "a dispatch of ", groups, " work groups exceeds ",
            limits_.max_group_count, " x ", limits_.max_group_count);
      pd.groups[1] = uint32_t(y);
      // Stages of one shader depend on each other through its buffers (a write after
      // write at least); across steps a barrier is needed only for a hazard on a range
      // touched since the last one.
      pd.barrier = needs_barrier(reads, writes);
      step.dispatches.push_back(pd);
    }
    c_.plan.steps.push_back(std::move(step));
  }

  void add_model_tensors() {
    for (const ValueInfo& in : g_.inputs) {
      dnnf_bundle::PlanTensor t = plan_tensor(g_, in.name, "input");
      t.value = value_id(in.name, t.elements());
      c_.plan.inputs.push_back(t);
    }
    for (const ValueInfo& o : g_.outputs) {
      if (interp_->computes(o.name)) {
        c_.plan.outputs.push_back(plan_tensor(g_, o.name, "output", true));
        continue;
      }
      dnnf_bundle::PlanTensor t = plan_tensor(g_, o.name, "output");
      check(written_.count(o.name) || constant_value(o.name) || g_.is_graph_input(o.name), "model output '", o.name,
            "' is produced by no shader");
      t.value = value_id(o.name, t.elements());
      c_.plan.outputs.push_back(t);
    }
  }

  const Graph& g_;
  VulkanBundleLimits limits_;
  codegen::glsl::Target target_;
  VulkanBundleContent c_;
  TensorMap constants_;
  std::map<std::string, uint32_t> value_ids_;
  std::set<std::string> written_;                // values some shader writes
  std::set<uint32_t> dirty_written_, dirty_read_;  // since the last barrier
  std::optional<InterpPlanBuilder> interp_;      // nodes without a shader, run on the host
  std::vector<NodeId> host_nodes_;               // not yet in a host step
  size_t last_host_step_ = 0;                    // index in c_.plan.steps
  std::set<std::string> uploaded_;
};

}  // namespace

VulkanBundleContent build_vulkan_bundle_plan(const Graph& graph, const fusion::FusionPlan& plan,
                                             const VulkanBundleLimits& limits) {
  check(limits.local_size > 0 && (limits.local_size & (limits.local_size - 1)) == 0 && limits.local_size <= 1024,
        "work-group size ", limits.local_size, " is not a power of two up to 1024");
  return Builder(graph, limits).build(plan);
}

}  // namespace dnnf::exporter
