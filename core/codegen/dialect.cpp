#include "core/codegen/dialect.h"

#include "core/codegen/emit_context.h"

namespace dnnf::codegen {

namespace {

class CppDialect final : public Dialect {
 public:
  const IxSyntax& ix() const override { return cpp_ix_syntax(); }
  std::string splat(const std::string& scalar) const override { return "splat<T>(" + scalar + ")"; }
  std::string float_literal(double v) const override { return codegen::float_literal(v); }
  std::string bind(const std::string& name, const std::string& expr) const override {
    return "const T " + name + " = " + expr + ";";
  }
  std::string element(int slot, const std::string& address) const override {
    return "(float)b" + std::to_string(slot) + "[" + address + "]";
  }
  std::string index_element(int slot, const std::string& address) const override {
    return "(int64_t)b" + std::to_string(slot) + "[" + address + "]";
  }
  std::string index_cast(const std::string& int_expr) const override { return "(int64_t)" + int_expr; }
  std::string scalar_store(int slot, const std::string& address, const std::string& expr,
                           bool is_float) const override {
    const std::string b = "b" + std::to_string(slot);
    if (is_float) return "store(" + b + " + " + address + ", " + expr + ");";
    return "scatter<T>(" + expr + ", [&](int l, float x) { (void)l; " + b + "[" + address +
           "] = (uint8_t)(x != 0.0f); });";
  }
  std::string int_table(const std::string& name, const std::vector<int64_t>& values) const override {
    std::string s = "static const int32_t " + name + "[] = {";
    for (size_t i = 0; i < values.size(); ++i) s += (i ? "," : "") + std::to_string(values[i]);
    return s + "};\n";
  }
};

}  // namespace

const Dialect& cpp_dialect() {
  static const CppDialect d;
  return d;
}

}  // namespace dnnf::codegen
