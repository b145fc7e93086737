// Seeded random inputs for a graph: symbolic dims become 1 unless bound, float inputs
// uniform in [-1, 1), integer inputs in [0, int_high) (token ids, indices), bools random.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/ir/graph.h"
#include "core/runtime/reference_executor.h"

namespace dnnf {

struct RandomInputOptions {
  uint64_t seed = 42;
  int64_t int_high = 2;   // exclusive upper bound for integer inputs
  std::map<std::string, int64_t> bind_dims;
};

// Concrete shape of an input type (symbols bound or set to 1).
Shape concrete_shape(const TensorType& type, const std::map<std::string, int64_t>& bind_dims);
TensorMap make_random_inputs(const Graph& graph, const RandomInputOptions& options);

}  // namespace dnnf
