// Numeric comparison of tensors with a relative and an absolute tolerance:
// |a - b| <= atol + rtol * |b| elementwise (b is the reference), NaNs must match.
#pragma once

#include <string>

#include "core/ir/tensor.h"

namespace dnnf {

struct Tolerance {
  double rtol = 1e-3;
  double atol = 1e-7;
};

struct CompareResult {
  bool ok = true;
  std::string message;       // first problem, for printing
  double max_abs_error = 0;
  double max_rel_error = 0;
  int64_t worst_index = -1;
  int64_t mismatches = 0;
};

CompareResult compare_tensors(const Tensor& actual, const Tensor& expected, const Tolerance& tol);

}  // namespace dnnf
