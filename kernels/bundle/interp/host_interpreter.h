// The part of an export bundle that runs graph nodes whose shapes are known only at run
// time, on dnnf's reference kernels (shipped as sources under src/core/), as dnnf's CPU
// runtime does for the blocks it has no generated code for. The target runtime (NEON or
// Vulkan) owns the order: it runs its generated steps and calls run_step for the
// interpreted ones (interp.txt, see interp_plan.h). Values cross by name:
//   - the interpreter asks the target for a value it reads but does not compute (a
//     generated kernel's output, a model input) through the Fetch callback, with the
//     element type and static shape listed in the plan;
//   - the target reads what the interpreter computed with value() (a generated kernel's
//     input, an output of the model, possibly of a data-dependent shape).
//
// This header needs only C++17 and no dnnf header, so target runtimes include it as they
// are; only bundles with interpreted steps compile and link the implementation
// (host_interpreter.cpp and the reference kernels, C++20).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dnnf_bundle {

struct HostValue {
  std::string dtype;            // "float32", "int64", "bool", ...
  std::vector<int64_t> shape;
  const void* data = nullptr;   // dense, row-major; valid until the next begin_run
  int64_t bytes = 0;
};

class HostInterpreter {
 public:
  // fetch(name, dtype, shape, dst): writes value `name` (listed as an import of the plan,
  // with that dtype and shape) into dst; throws std::exception on failure.
  using Fetch = std::function<void(const std::string& name, const std::string& dtype,
                                   const std::vector<int64_t>& shape, void* dst)>;

  virtual ~HostInterpreter() = default;
  virtual size_t num_steps() const = 0;
  // Forgets the previous run's values; `fetch` serves this run's imports.
  virtual void begin_run(Fetch fetch) = 0;
  // Runs interpreted step k (0-based, plan order). Throws std::exception with a message
  // naming the node on failure.
  virtual void run_step(size_t k) = 0;
  // A value computed by an interpreted node in this run; false when there is none.
  virtual bool value(const std::string& name, HostValue* out) const = 0;
};

// Reads interp.txt (plan_text) with the constants it names from weights.bin (the whole
// file, already in memory and kept alive by the caller). Throws std::exception with a
// one-line message ("interp.txt line N: ...") for a bad plan.
std::unique_ptr<HostInterpreter> make_host_interpreter(const std::string& plan_text, const char* weights,
                                                       size_t weights_bytes);

}  // namespace dnnf_bundle
