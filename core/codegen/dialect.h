// The spelling of generated code. The data-flow walk (EmitContext::value_at, the pull
// table, the index algebra) is shared by the CPU kernels and the Vulkan shaders; only
// how a scalar, a buffer access, a local or an integer index is written differs:
// C++ over kernels/simd/simd.h (T may be a SIMD vector) or scalar GLSL.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/codegen/index_expr.h"

namespace dnnf::codegen {

class Dialect {
 public:
  virtual ~Dialect() = default;
  // Integer index syntax (literal suffix, floor division helpers).
  virtual const IxSyntax& ix() const = 0;
  // A scalar float expression broadcast to the element type T.
  virtual std::string splat(const std::string& scalar) const = 0;
  // An exact float literal (a scalar, not yet broadcast).
  virtual std::string float_literal(double v) const = 0;
  // Declares a named local holding a T expression.
  virtual std::string bind(const std::string& name, const std::string& expr) const = 0;
  // Buffer `slot`'s element at `address` as a scalar float, and as an integer index.
  virtual std::string element(int slot, const std::string& address) const = 0;
  virtual std::string index_element(int slot, const std::string& address) const = 0;
  // An integer expression of the index type (e.g. a table entry) used as an index.
  virtual std::string index_cast(const std::string& int_expr) const = 0;
  // Stores a T value at one element (no vector lanes); non-float buffers hold 1/0.
  virtual std::string scalar_store(int slot, const std::string& address, const std::string& expr,
                                   bool is_float) const = 0;
  // A file-scope table of integers named `name`.
  virtual std::string int_table(const std::string& name, const std::vector<int64_t>& values) const = 0;
};

// The CPU kernels' C++ (what every generated kernel so far is written in).
const Dialect& cpp_dialect();

}  // namespace dnnf::codegen
