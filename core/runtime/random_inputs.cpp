#include "core/runtime/random_inputs.h"

#include <random>

#include "core/util/error.h"

namespace dnnf {

Shape concrete_shape(const TensorType& type, const std::map<std::string, int64_t>& bind_dims) {
  check(type.has_shape, "an input has an unknown rank; give it with --input");
  Shape s;
  for (const Dim& d : type.dims) {
    if (d.known()) {
      s.push_back(d.value);
    } else {
      auto it = bind_dims.find(d.symbol);
      s.push_back(it == bind_dims.end() ? 1 : it->second);
    }
  }
  return s;
}

TensorMap make_random_inputs(const Graph& graph, const RandomInputOptions& options) {
  std::mt19937_64 rng(options.seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  TensorMap inputs;
  for (const ValueInfo& in : graph.inputs) {
    check(in.type.dtype != DType::Undefined, "input '", in.name, "' has no element type");
    Tensor t(in.type.dtype, concrete_shape(in.type, options.bind_dims));
    if (t.dtype() == DType::String) {
      for (auto& s : t.strings()) s = "x";
    } else if (dtype_is_float(t.dtype())) {
      for (int64_t i = 0; i < t.numel(); ++i) t.set_f64(i, uniform(rng));
    } else {
      std::uniform_int_distribution<int64_t> ints(0, std::max<int64_t>(options.int_high, 1) - 1);
      for (int64_t i = 0; i < t.numel(); ++i) t.set_i64(i, ints(rng));
    }
    inputs[in.name] = t;
  }
  return inputs;
}

}  // namespace dnnf
