#include "core/runtime/compare.h"

#include <cmath>
#include <sstream>

namespace dnnf {

CompareResult compare_tensors(const Tensor& actual, const Tensor& expected, const Tolerance& tol) {
  CompareResult r;
  if (actual.shape() != expected.shape()) {
    r.ok = false;
    r.message = "shape " + shape_str(actual.shape()) + " != expected " + shape_str(expected.shape());
    return r;
  }
  if (actual.dtype() != expected.dtype()) {
    r.ok = false;
    r.message = std::string("element type ") + dtype_name(actual.dtype()) + " != expected " +
                dtype_name(expected.dtype());
    return r;
  }
  if (actual.dtype() == DType::String) {
    for (int64_t i = 0; i < actual.numel(); ++i)
      if (actual.strings()[size_t(i)] != expected.strings()[size_t(i)]) {
        ++r.mismatches;
        if (r.ok) {
          r.ok = false;
          r.worst_index = i;
          r.message = "string mismatch at " + std::to_string(i);
        }
      }
    return r;
  }
  const bool exact = !dtype_is_float(actual.dtype());
  double worst_excess = 0;
  for (int64_t i = 0; i < actual.numel(); ++i) {
    const double a = actual.get_f64(i), e = expected.get_f64(i);
    if (std::isnan(a) || std::isnan(e)) {
      if (std::isnan(a) != std::isnan(e)) {
        ++r.mismatches;
        if (r.ok) { r.worst_index = i; worst_excess = INFINITY; }
        r.ok = false;
      }
      continue;
    }
    if (std::isinf(a) || std::isinf(e)) {
      if (a != e) {
        ++r.mismatches;
        if (r.ok || worst_excess < INFINITY) { r.worst_index = i; worst_excess = INFINITY; }
        r.ok = false;
      }
      continue;
    }
    const double diff = std::fabs(a - e);
    const double allowed = exact ? 0 : tol.atol + tol.rtol * std::fabs(e);
    r.max_abs_error = std::max(r.max_abs_error, diff);
    if (e != 0) r.max_rel_error = std::max(r.max_rel_error, diff / std::fabs(e));
    if (diff > allowed) {
      ++r.mismatches;
      r.ok = false;
      if (diff - allowed > worst_excess) {
        worst_excess = diff - allowed;
        r.worst_index = i;
      }
    }
  }
  if (!r.ok) {
    std::ostringstream os;
    os.precision(9);
    os << r.mismatches << " of " << actual.numel() << " elements differ; worst at index "
       << r.worst_index << ": got " << actual.get_f64(r.worst_index) << ", expected "
       << expected.get_f64(r.worst_index) << " (max abs error " << r.max_abs_error << ")";
    r.message = os.str();
  }
  return r;
}

}  // namespace dnnf
