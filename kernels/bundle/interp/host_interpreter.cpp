// HostInterpreter over dnnf's reference executor: each interpreted node runs through
// run_node (core/runtime/reference_executor.h), the kernels dnnf checks every backend
// against, so these nodes give the reference executor's values exactly.
#include "host_interpreter.h"

#include <cstring>
#include <map>
#include <stdexcept>

#include "core/runtime/reference_executor.h"
#include "core/util/error.h"
#include "interp_plan.h"

namespace dnnf_bundle {

namespace {

class ReferenceInterpreter final : public HostInterpreter {
 public:
  ReferenceInterpreter(const std::string& plan_text, const char* weights, size_t weights_bytes)
      : plan_(read_interp_plan(plan_text)) {
    if (plan_.weights_bytes != weights_bytes)
      dnnf::fail("interp.txt names a ", plan_.weights_bytes, "-byte weights.bin, the bundle's has ", weights_bytes,
                 " bytes (files from different exports?)");
    for (const InterpWeight& w : plan_.weights) {
      dnnf::Tensor t(w.dtype, w.shape);
      if (t.nbytes()) std::memcpy(t.raw(), weights + w.offset, t.nbytes());
      constants_[w.name] = std::move(t);
    }
    for (const InterpImport& im : plan_.imports) imports_[im.name] = &im;
  }

  size_t num_steps() const override { return plan_.steps.size(); }

  void begin_run(Fetch fetch) override {
    env_.clear();
    fetch_ = std::move(fetch);
  }

  void run_step(size_t k) override {
    if (k >= plan_.steps.size())
      dnnf::fail("interpreted step ", k, " does not exist (the plan has ", plan_.steps.size(), ")");
    auto lookup = [this](const std::string& v) { return find(v); };
    for (uint32_t idx : plan_.steps[k]) {
      const dnnf::Node& n = plan_.graph.nodes[idx];
      std::vector<dnnf::Tensor> outs = dnnf::run_node(plan_.graph, n, lookup);
      for (size_t o = 0; o < n.outputs.size() && o < outs.size(); ++o)
        if (!n.outputs[o].empty()) env_[n.outputs[o]] = std::move(outs[o]);
    }
  }

  bool value(const std::string& name, HostValue* out) const override {
    auto it = env_.find(name);
    if (it == env_.end() || imports_.count(name)) return false;
    const dnnf::Tensor& t = it->second;
    if (t.dtype() == dnnf::DType::String) return false;
    out->dtype = dnnf::dtype_name(t.dtype());
    out->shape = t.shape();
    out->data = t.raw();
    out->bytes = int64_t(t.nbytes());
    return true;
  }

 private:
  // A value for a node: computed in this run, a constant, or an import fetched from the
  // target once per run; null when unknown (the kernel names the missing input).
  const dnnf::Tensor* find(const std::string& v) {
    if (auto it = env_.find(v); it != env_.end()) return &it->second;
    if (auto it = constants_.find(v); it != constants_.end()) return &it->second;
    auto im = imports_.find(v);
    if (im == imports_.end()) return nullptr;
    if (!fetch_) dnnf::fail("value '", v, "' is read before a run began");
    dnnf::Tensor t(im->second->dtype, im->second->shape);
    fetch_(v, dnnf::dtype_name(t.dtype()), t.shape(), t.raw());
    return &(env_[v] = std::move(t));
  }

  InterpPlan plan_;
  std::map<std::string, dnnf::Tensor> constants_;
  std::map<std::string, const InterpImport*> imports_;
  std::map<std::string, dnnf::Tensor> env_;
  Fetch fetch_;
};

}  // namespace

std::unique_ptr<HostInterpreter> make_host_interpreter(const std::string& plan_text, const char* weights,
                                                       size_t weights_bytes) {
  return std::make_unique<ReferenceInterpreter>(plan_text, weights, weights_bytes);
}

}  // namespace dnnf_bundle
