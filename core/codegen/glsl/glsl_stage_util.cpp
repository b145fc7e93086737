#include "core/codegen/glsl/glsl_stage_util.h"

namespace dnnf::codegen::glsl::stage_util {

int64_t product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t d : v) p *= d;
  return p;
}

std::string decode(const std::vector<std::string>& names, const std::vector<int64_t>& extents,
                   const std::string& from, int indent) {
  const std::string pad(size_t(indent), ' ');
  if (names.empty()) return "";
  std::string s = pad + "int r_ = " + from + ";\n";
  for (size_t i = names.size(); i-- > 0;)
    s += pad + "const int " + names[i] + " = r_ % " + str(extents[i]) + "; r_ /= " + str(extents[i]) + ";\n";
  return s;
}

ConvShapes conv_shapes(const EmitContext& cx, const Node& n) {
  ConvShapes c;
  c.xs = cx.shape_of(n.inputs[0]);
  c.ws = cx.shape_of(n.inputs[1]);
  c.ys = cx.shape_of(n.outputs[0]);
  const int64_t nsp = int64_t(c.xs.size()) - 2;
  c.w = ops::convgeo::read_window(n, nsp, std::vector<int64_t>(c.ws.begin() + 2, c.ws.end()));
  ops::convgeo::resolve_all(n, c.w, Shape(c.xs.begin() + 2, c.xs.end()), false);
  return c;
}

void store_epilogue(EmitContext& cx, Body& body, const Stage& s, const Idx& idx, const std::string& anchor_expr,
                    bool store_anchor) {
  cx.preset(body, s.value, idx, anchor_expr);
  if (store_anchor) body.lines.push_back(cx.store(s.value, ix_linear(idx, row_major_strides(cx.shape_of(s.value))), anchor_expr));
  for (const std::string& e : s.epilogue) {
    std::string source;
    const auto t = transposed_store_address(cx, s, e, idx, &source);
    const std::string v = cx.value_at(body, t ? source : e, idx);
    body.lines.push_back(cx.store(e, t ? *t : ix_linear(idx, row_major_strides(cx.shape_of(e))), v));
  }
}

std::string element_guard(const std::string& var, int64_t total, int local_size) {
  return "  const int " + var + " = dnnf_group() * " + str(local_size) + " + dnnf_lid();\n  if (" + var + " >= " +
         str(total) + ") return;\n";
}

}  // namespace dnnf::codegen::glsl::stage_util
