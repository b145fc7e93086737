#include "core/runtime/graph_compare.h"

#include <algorithm>

#include "core/runtime/random_inputs.h"
#include "core/runtime/reference_executor.h"

namespace dnnf {

CompareResult compare_graph_outputs(const Graph& reference, const Graph& candidate, const Tolerance& tol,
                                    uint64_t seed) {
  CompareResult result;
  RandomInputOptions ro;
  ro.seed = seed;
  const TensorMap inputs = make_random_inputs(reference, ro);
  TensorMap candidate_inputs;
  for (const ValueInfo& v : candidate.inputs) {
    auto it = inputs.find(v.name);
    if (it == inputs.end()) {
      result.ok = false;
      result.message = "input '" + v.name + "' is missing in the reference graph";
      return result;
    }
    candidate_inputs[v.name] = it->second;
  }
  if (reference.outputs.size() != candidate.outputs.size()) {
    result.ok = false;
    result.message = "output counts differ";
    return result;
  }
  const TensorMap expected = ReferenceExecutor(reference).run(inputs);
  const TensorMap actual = ReferenceExecutor(candidate).run(candidate_inputs);
  for (size_t i = 0; i < reference.outputs.size(); ++i) {
    const CompareResult r =
        compare_tensors(actual.at(candidate.outputs[i].name), expected.at(reference.outputs[i].name), tol);
    result.max_abs_error = std::max(result.max_abs_error, r.max_abs_error);
    result.max_rel_error = std::max(result.max_rel_error, r.max_rel_error);
    if (!r.ok && result.ok) {
      result = r;
      result.message = "output '" + reference.outputs[i].name + "': " + r.message;
    }
  }
  return result;
}

}  // namespace dnnf
