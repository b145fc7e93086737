#include "core/codegen/glsl/glsl_dialect.h"

#include <cmath>
#include <cstdio>

namespace dnnf::codegen::glsl {

namespace {

class GlslDialect final : public Dialect {
 public:
  const IxSyntax& ix() const override {
    static const IxSyntax s{"", "ix_fdiv", "ix_fmod"};
    return s;
  }
  std::string splat(const std::string& scalar) const override { return "float(" + scalar + ")"; }
  std::string float_literal(double v) const override {
    if (std::isnan(v)) return "dnnf_nan()";
    if (std::isinf(v)) return v > 0 ? "dnnf_inf()" : "(-dnnf_inf())";
    char buf[64];
    // Nine significant digits round-trip every float exactly.
    std::snprintf(buf, sizeof buf, "%.9g", double(float(v)));
    std::string s = buf;
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    s += "f";
    return v < 0 ? "(" + s + ")" : s;
  }
  std::string bind(const std::string& name, const std::string& expr) const override {
    return "float " + name + " = " + expr + ";";
  }
  // Reads go through ld<slot>(), which the shader's buffer declarations define: a
  // storage-buffer read, or a texel fetch (glsl_block.cpp).
  std::string element(int slot, const std::string& address) const override {
    return "ld" + std::to_string(slot) + "(" + address + ")";
  }
  std::string index_element(int slot, const std::string& address) const override {
    return "int(ld" + std::to_string(slot) + "(" + address + "))";
  }
  std::string index_cast(const std::string& int_expr) const override { return int_expr; }
  std::string scalar_store(int slot, const std::string& address, const std::string& expr,
                           bool is_float) const override {
    const std::string b = "b" + std::to_string(slot) + "[" + address + "]";
    return is_float ? b + " = " + expr + ";" : b + " = ((" + expr + ") != 0.0f ? 1.0f : 0.0f);";
  }
  std::string int_table(const std::string& name, const std::vector<int64_t>& values) const override {
    std::string s = "const int " + name + "[" + std::to_string(values.size()) + "] = int[](";
    for (size_t i = 0; i < values.size(); ++i) s += (i ? "," : "") + std::to_string(values[i]);
    return s + ");\n";
  }
};

}  // namespace

const Dialect& glsl_dialect() {
  static const GlslDialect d;
  return d;
}

}  // namespace dnnf::codegen::glsl
