// Tests of the shape, slice/concat and gather/scatter rows: numerics against hand values,
// shape inference (static, symbolic and unknown), opset-dependent attribute/input forms,
// mapping types, and bad inputs that must raise dnnf::Error.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/ir/op_registry.h"
#include "core/ir/shape_inference.h"
#include "core/util/error.h"

namespace {

using namespace dnnf;

Tensor f32(Shape s, const std::vector<float>& v) { return Tensor::from_vector(DType::F32, std::move(s), v); }
Tensor i64(Shape s, const std::vector<int64_t>& v) { return Tensor::from_vector(DType::I64, std::move(s), v); }
Tensor i32(Shape s, const std::vector<int32_t>& v) { return Tensor::from_vector(DType::I32, std::move(s), v); }
Tensor bools(Shape s, const std::vector<int>& v) { return Tensor::from_vector(DType::Bool, std::move(s), v); }
Tensor f16(Shape s, const std::vector<float>& v) { return Tensor::from_vector(DType::F16, std::move(s), v); }
Tensor strs(Shape s, const std::vector<std::string>& v) {
  Tensor t(DType::String, std::move(s));
  for (size_t i = 0; i < v.size(); ++i) t.strings()[i] = v[i];
  return t;
}
Tensor iota_f32(Shape s) {
  Tensor t(DType::F32, s);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = float(i);
  return t;
}

using Attrs = std::map<std::string, Attribute>;
Attribute I(int64_t v) { return Attribute::from_int(v); }
Attribute F(float v) { return Attribute::from_float(v); }
Attribute S(std::string v) { return Attribute::from_string(std::move(v)); }
Attribute Is(std::vector<int64_t> v) { return Attribute::from_ints(std::move(v)); }
Attribute Fs(std::vector<float> v) { return Attribute::from_floats(std::move(v)); }

Node make_node(const std::string& op, size_t n_in, const std::vector<bool>& present, const Attrs& attrs,
               size_t num_outputs) {
  Node n;
  n.op_type = op;
  n.name = op + "_t";
  n.attrs = attrs;
  for (size_t i = 0; i < n_in; ++i) n.inputs.push_back(present[i] ? "in" + std::to_string(i) : "");
  for (size_t i = 0; i < num_outputs; ++i) n.outputs.push_back("out" + std::to_string(i));
  return n;
}

const OpInfo& row(const std::string& op, int64_t opset) {
  const OpInfo* info = OpRegistry::instance().find("", op, opset);
  if (!info) throw Error("no row for " + op);
  return *info;
}

// Shape function with explicit types and (optionally) known values.
std::vector<TensorType> infer_op(const std::string& op, const std::vector<TensorType>& types,
                                 const std::vector<const Tensor*>& values = {}, const Attrs& attrs = {},
                                 int64_t opset = 17, size_t num_outputs = 1) {
  std::vector<bool> present;
  for (const auto& t : types) present.push_back(t.dtype != DType::Undefined);
  Node n = make_node(op, types.size(), present, attrs, num_outputs);
  Graph g;
  std::vector<const Tensor*> vals = values;
  vals.resize(types.size(), nullptr);
  InferContext ctx{n, g, opset, types, vals};
  return row(op, opset).shape(ctx);
}

// Runs the kernel, and checks the shape function (all input values known, and with
// only types known) agrees with the kernel's output dtype and shape.
std::vector<Tensor> run_op(const std::string& op, const std::vector<Tensor>& ins, const Attrs& attrs = {},
                           int64_t opset = 17, size_t num_outputs = 1) {
  std::vector<bool> present;
  std::vector<const Tensor*> ptrs;
  std::vector<TensorType> types;
  for (const auto& t : ins) {
    present.push_back(t.defined());
    ptrs.push_back(t.defined() ? &t : nullptr);
    types.push_back(t.defined() ? TensorType(t.dtype(), t.shape()) : TensorType());
  }
  Node n = make_node(op, ins.size(), present, attrs, num_outputs);
  const OpInfo& info = row(op, opset);
  KernelContext kc{n, opset, ptrs, {}};
  std::vector<Tensor> outs = info.kernel(kc);
  Graph g;
  InferContext ic{n, g, opset, types, ptrs};
  std::vector<TensorType> inferred = info.shape(ic);
  for (size_t i = 0; i < outs.size() && i < inferred.size(); ++i) {
    EXPECT_EQ(inferred[i].dtype, outs[i].dtype()) << op << " output " << i;
    if (inferred[i].is_static()) {
      EXPECT_EQ(*inferred[i].static_shape(), outs[i].shape()) << op << " output " << i;
    }
  }
  // Types only: whatever is known must agree too.
  InferContext ic2{n, g, opset, types, std::vector<const Tensor*>(ins.size(), nullptr)};
  std::vector<TensorType> loose = info.shape(ic2);
  for (size_t i = 0; i < outs.size() && i < loose.size(); ++i) {
    EXPECT_EQ(loose[i].dtype, outs[i].dtype()) << op << " output " << i;
    if (loose[i].has_shape) {
      EXPECT_EQ(loose[i].rank(), outs[i].rank()) << op << " output " << i;
      for (int64_t d = 0; d < loose[i].rank() && d < outs[i].rank(); ++d)
        if (loose[i].dims[size_t(d)].known()) {
          EXPECT_EQ(loose[i].dims[size_t(d)].value, outs[i].dim(d)) << op;
        }
    }
  }
  return outs;
}

Tensor run1(const std::string& op, const std::vector<Tensor>& ins, const Attrs& attrs = {}, int64_t opset = 17) {
  return run_op(op, ins, attrs, opset, 1).at(0);
}

std::vector<double> vals(const Tensor& t) {
  std::vector<double> v;
  for (int64_t i = 0; i < t.numel(); ++i) v.push_back(t.get_f64(i));
  return v;
}

void expect_near(const Tensor& t, const std::vector<double>& want, double tol = 1e-5) {
  ASSERT_EQ(t.numel(), int64_t(want.size())) << shape_str(t.shape());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(t.get_f64(int64_t(i)), want[i], tol) << "at " << i;
}

TensorType sym_type(DType dt, std::vector<Dim> dims) { return TensorType(dt, std::move(dims)); }

// ===================================================================================
// Reshape family
// ===================================================================================

TEST(OpsShapeReshape, ZeroCopiesAndMinusOneInfers) {
  Tensor x = iota_f32({2, 3, 4});
  Tensor y = run1("Reshape", {x, i64({2}, {0, -1})});
  EXPECT_EQ(y.shape(), (Shape{2, 12}));
  EXPECT_EQ(vals(y), vals(x));
  EXPECT_EQ(run1("Reshape", {x, i64({3}, {4, 0, -1})}).shape(), (Shape{4, 3, 2}));
}

TEST(OpsShapeReshape, AllowZeroKeepsLiteralZero) {
  Tensor x(DType::F32, {0, 3});
  Tensor y = run1("Reshape", {x, i64({2}, {3, 0})}, {{"allowzero", I(1)}}, 14);
  EXPECT_EQ(y.shape(), (Shape{3, 0}));
  // Without allowzero the 0 copies dim 1 (= 3): 0 elements into [3,3] is an error.
  EXPECT_THROW(run1("Reshape", {x, i64({2}, {3, 0})}, {}, 14), Error);
}

TEST(OpsShapeReshape, AttributeFormBeforeOpset5) {
  Tensor y = run1("Reshape", {iota_f32({6})}, {{"shape", Is({3, -1})}}, 4);
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
}

TEST(OpsShapeReshape, IncompatibleSizeIsError) {
  EXPECT_THROW(run1("Reshape", {iota_f32({2, 3}), i64({2}, {4, 2})}), Error);
  EXPECT_THROW(run1("Reshape", {iota_f32({2, 3}), i64({2}, {-1, 4})}), Error);
  EXPECT_THROW(run1("Reshape", {iota_f32({2, 3}), i64({2}, {-1, -1})}), Error);
  Tensor target = i64({2}, {4, 2});
  EXPECT_THROW(infer_op("Reshape", {TensorType(DType::F32, Shape{2, 3}), TensorType(DType::I64, Shape{2})},
                        {nullptr, &target}),
               Error);
}

TEST(OpsShapeReshape, SymbolicBatchGivesSymbolicDim) {
  Tensor target = i64({2}, {-1, 768});
  auto t = infer_op("Reshape", {sym_type(DType::F32, {Dim::sym("batch"), 128, 768}), TensorType(DType::I64, Shape{2})},
                    {nullptr, &target});
  ASSERT_EQ(t[0].rank(), 2);
  EXPECT_FALSE(t[0].dims[0].known());
  EXPECT_EQ(t[0].dims[0].symbol, "batch*128");
  EXPECT_EQ(t[0].dims[1].value, 768);
  // Splitting heads back: [batch*128, 768] -> [-1, 128, 12, 64] recovers "batch".
  Tensor t2 = i64({4}, {-1, 128, 12, 64});
  auto u = infer_op("Reshape", {t[0], TensorType(DType::I64, Shape{4})}, {nullptr, &t2});
  EXPECT_EQ(u[0].dims[0].symbol, "batch");
  EXPECT_EQ(u[0].dims[3].value, 64);
  // 0 copies a symbolic dim.
  Tensor t3 = i64({3}, {0, 0, -1});
  auto v = infer_op("Reshape", {sym_type(DType::F32, {Dim::sym("b"), Dim::sym("s"), 12, 64}),
                                TensorType(DType::I64, Shape{3})},
                    {nullptr, &t3});
  EXPECT_EQ(v[0].dims[0].symbol, "b");
  EXPECT_EQ(v[0].dims[1].symbol, "s");
  EXPECT_EQ(v[0].dims[2].value, 768);
  // Unknown target values but known length: rank only.
  auto w = infer_op("Reshape", {sym_type(DType::F32, {Dim::sym("b"), 4}), TensorType(DType::I64, Shape{3})});
  EXPECT_EQ(w[0].rank(), 3);
  EXPECT_FALSE(w[0].dims[0].known());
}

TEST(OpsShapeReshape, ShapeSubgraphFoldsThroughInference) {
  // x[batch, 8, 4] -> Shape -> Gather(0) -> Unsqueeze -> Concat([.., 32]) -> Reshape.
  Graph g;
  g.opsets[""] = 17;
  g.inputs.push_back({"x", sym_type(DType::F32, {Dim::sym("batch"), 8, 4})});
  g.initializers["zero"] = Tensor::scalar_i64(0);
  g.initializers["ax0"] = i64({1}, {0});
  g.initializers["c32"] = i64({1}, {32});
  g.initializers["target"] = i64({2}, {-1, 32});
  auto add = [&](const std::string& op, std::vector<std::string> in, std::string out, Attrs a = {}) {
    Node n;
    n.op_type = op;
    n.name = out;
    n.inputs = std::move(in);
    n.outputs = {std::move(out)};
    n.attrs = std::move(a);
    g.add_node(n);
  };
  add("Shape", {"x"}, "s");
  add("Gather", {"s", "zero"}, "b", {{"axis", I(0)}});
  add("Reshape", {"x", "target"}, "y");
  add("Flatten", {"x"}, "f", {{"axis", I(1)}});
  g.outputs.push_back({"y", TensorType()});
  g.outputs.push_back({"f", TensorType()});
  infer_shapes(g);
  EXPECT_EQ(g.value_types["s"].str(), "int64[3]");
  EXPECT_EQ(g.value_types["b"].rank(), 0);
  EXPECT_EQ(g.value_types["y"].dims[0].symbol, "batch");
  EXPECT_EQ(g.value_types["y"].dims[1].value, 32);
  EXPECT_EQ(g.value_types["f"].dims[0].symbol, "batch");
  EXPECT_EQ(g.value_types["f"].dims[1].value, 32);
}

TEST(OpsShapeReshape, StringsAreReshaped) {
  Tensor y = run1("Reshape", {strs({4}, {"a", "b", "c", "d"}), i64({2}, {2, 2})});
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(y.strings()[3], "d");
}

TEST(OpsShapeFlatten, AxesIncludingNegative) {
  Tensor x = iota_f32({2, 3, 4, 5});
  EXPECT_EQ(run1("Flatten", {x}).shape(), (Shape{2, 60}));
  EXPECT_EQ(run1("Flatten", {x}, {{"axis", I(0)}}).shape(), (Shape{1, 120}));
  EXPECT_EQ(run1("Flatten", {x}, {{"axis", I(-1)}}).shape(), (Shape{24, 5}));
  EXPECT_EQ(run1("Flatten", {x}, {{"axis", I(4)}}).shape(), (Shape{120, 1}));
  EXPECT_THROW(run1("Flatten", {x}, {{"axis", I(5)}}), Error);
}

TEST(OpsShapeSqueeze, AxesAttrAndInput) {
  Tensor x = iota_f32({1, 3, 1, 2});
  EXPECT_EQ(run1("Squeeze", {x}, {{"axes", Is({0, -2})}}, 11).shape(), (Shape{3, 2}));
  EXPECT_EQ(run1("Squeeze", {x, i64({1}, {-4})}, {}, 13).shape(), (Shape{3, 1, 2}));
  EXPECT_EQ(run1("Squeeze", {x}, {}, 13).shape(), (Shape{3, 2}));
  EXPECT_THROW(run1("Squeeze", {x, i64({1}, {1})}, {}, 13), Error);
  auto t = infer_op("Squeeze", {TensorType(DType::F32, Shape{1, 3, 1, 2}), TensorType(DType::I64, Shape{1})});
  EXPECT_EQ(t[0].rank(), 3);
}

TEST(OpsShapeUnsqueeze, NegativeAndUnsortedAxes) {
  Tensor x = iota_f32({3, 4});
  EXPECT_EQ(run1("Unsqueeze", {x}, {{"axes", Is({0})}}, 11).shape(), (Shape{1, 3, 4}));
  EXPECT_EQ(run1("Unsqueeze", {x, i64({2}, {-1, 0})}, {}, 13).shape(), (Shape{1, 3, 4, 1}));
  EXPECT_EQ(run1("Unsqueeze", {x, i64({3}, {3, 1, 0})}, {}, 13).shape(), (Shape{1, 1, 3, 1, 4}));
  EXPECT_THROW(run1("Unsqueeze", {x, i64({2}, {0, 0})}, {}, 13), Error);
  EXPECT_THROW(run1("Unsqueeze", {x, i64({1}, {5})}, {}, 13), Error);
}

TEST(OpsShapeTranspose, PermAndDefault) {
  Tensor x = iota_f32({2, 3});
  Tensor y = run1("Transpose", {x});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(vals(y), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  Tensor z = run1("Transpose", {iota_f32({2, 3, 4})}, {{"perm", Is({1, 2, 0})}});
  EXPECT_EQ(z.shape(), (Shape{3, 4, 2}));
  // z[i][j][k] = x[k][i][j] = k*12 + i*4 + j
  EXPECT_EQ(z.get_f64((1 * 4 + 2) * 2 + 1), 12 + 4 + 2);
  EXPECT_THROW(run1("Transpose", {x}, {{"perm", Is({0, 0})}}), Error);
  EXPECT_THROW(run1("Transpose", {x}, {{"perm", Is({0})}}), Error);
  auto t = infer_op("Transpose", {sym_type(DType::F32, {Dim::sym("n"), 3, 5})}, {}, {{"perm", Is({2, 0, 1})}});
  EXPECT_EQ(t[0].dims[1].symbol, "n");
  EXPECT_EQ(row("Transpose", 17).mapping, MappingType::Shuffle);
}

TEST(OpsShapeShape, StartEndAndSize) {
  Tensor x(DType::F32, {2, 3, 4, 5});
  EXPECT_EQ(run1("Shape", {x}).to_i64_vector(), (std::vector<int64_t>{2, 3, 4, 5}));
  EXPECT_EQ(run1("Shape", {x}, {{"start", I(1)}, {"end", I(-1)}}, 15).to_i64_vector(),
            (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(run1("Shape", {x}, {{"start", I(-10)}, {"end", I(10)}}, 15).numel(), 4);
  EXPECT_EQ(run1("Shape", {x}, {{"start", I(3)}, {"end", I(1)}}, 15).numel(), 0);
  auto t = infer_op("Shape", {sym_type(DType::F32, {Dim::sym("b"), 7})});
  EXPECT_EQ(t[0].str(), "int64[2]");
  EXPECT_EQ(run1("Size", {x}).get_i64(0), 120);
  EXPECT_EQ(row("Shape", 17).mapping, MappingType::ManyToMany);
}

TEST(OpsShapeDropout, InferenceIsIdentityWithTrueMask) {
  Tensor x = f32({3}, {1, -2, 3});
  auto out = run_op("Dropout", {x, f32({}, {0.5f})}, {}, 13, 2);
  EXPECT_EQ(vals(out[0]), vals(x));
  EXPECT_EQ(out[1].dtype(), DType::Bool);
  EXPECT_EQ(vals(out[1]), (std::vector<double>{1, 1, 1}));
  // Training with ratio 0 is also the identity.
  auto t = run_op("Dropout", {x, f32({}, {0.0f}), bools({}, {1})}, {}, 13, 2);
  EXPECT_EQ(vals(t[0]), vals(x));
  // Training with a ratio drops and rescales.
  Tensor big(DType::F32, {1000});
  for (int64_t i = 0; i < 1000; ++i) big.data<float>()[i] = 1.0f;
  auto d = run_op("Dropout", {big, f32({}, {0.5f}), bools({}, {1})}, {{"seed", I(3)}}, 13, 2);
  int kept = 0;
  for (int64_t i = 0; i < 1000; ++i) {
    double v = d[0].get_f64(i);
    EXPECT_TRUE(v == 0.0 || v == 2.0);
    kept += d[1].get_f64(i) != 0;
    EXPECT_EQ(v != 0, d[1].get_f64(i) != 0);
  }
  EXPECT_GT(kept, 400);
  EXPECT_LT(kept, 600);
}

TEST(OpsShapeConstant, AllValueForms) {
  EXPECT_EQ(vals(run1("Constant", {}, {{"value", Attribute::from_tensor(f32({2}, {1, 2}))}})),
            (std::vector<double>{1, 2}));
  EXPECT_EQ(run1("Constant", {}, {{"value_float", F(2.5f)}}).get_f64(0), 2.5);
  EXPECT_EQ(run1("Constant", {}, {{"value_floats", Fs({1, 2, 3})}}).shape(), (Shape{3}));
  EXPECT_EQ(run1("Constant", {}, {{"value_int", I(7)}}).dtype(), DType::I64);
  EXPECT_EQ(run1("Constant", {}, {{"value_ints", Is({4, 5})}}).to_i64_vector(), (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(run1("Constant", {}, {{"value_string", S("hi")}}).strings()[0], "hi");
  Attribute sv;
  sv.kind = Attribute::Kind::Strings;
  sv.strings = {"a", "b"};
  EXPECT_EQ(run1("Constant", {}, {{"value_strings", sv}}).strings()[1], "b");
  EXPECT_THROW(run1("Constant", {}, {{"sparse_value", Attribute::from_tensor(f32({1}, {1}))}}), Error);
  EXPECT_THROW(run1("Constant", {}, {}), Error);
}

TEST(OpsShapeConstantOfShape, FillsValueAndDefault) {
  Tensor y = run1("ConstantOfShape", {i64({2}, {2, 3})}, {{"value", Attribute::from_tensor(i32({1}, {7}))}});
  EXPECT_EQ(y.dtype(), DType::I32);
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(vals(y), std::vector<double>(6, 7));
  Tensor z = run1("ConstantOfShape", {i64({1}, {0})});
  EXPECT_EQ(z.dtype(), DType::F32);
  EXPECT_EQ(z.numel(), 0);
  EXPECT_THROW(run1("ConstantOfShape", {i64({1}, {-2})}), Error);
  auto t = infer_op("ConstantOfShape", {TensorType(DType::I64, Shape{3})});
  EXPECT_EQ(t[0].rank(), 3);
}

TEST(OpsShapeRange, IntAndFloat) {
  EXPECT_EQ(run1("Range", {i64({}, {10}), i64({}, {4}), i64({}, {-3})}).to_i64_vector(),
            (std::vector<int64_t>{10, 7}));
  expect_near(run1("Range", {f32({}, {1}), f32({}, {2}), f32({}, {0.3f})}), {1, 1.3, 1.6, 1.9});
  EXPECT_EQ(run1("Range", {i32({}, {5}), i32({}, {1}), i32({}, {1})}).numel(), 0);
  EXPECT_THROW(run1("Range", {i64({}, {0}), i64({}, {4}), i64({}, {0})}), Error);
  EXPECT_EQ(row("Range", 17).mapping, MappingType::OneToMany);
}

TEST(OpsShapeEyeLike, OffDiagonalAndDtype) {
  Tensor y = run1("EyeLike", {Tensor(DType::I32, {3, 4})}, {{"k", I(1)}, {"dtype", I(1)}});
  EXPECT_EQ(y.dtype(), DType::F32);
  EXPECT_EQ(vals(y), (std::vector<double>{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}));
  EXPECT_THROW(run1("EyeLike", {Tensor(DType::F32, {3})}), Error);
}

TEST(OpsShapeDepthToSpace, DcrAndCrd) {
  // [1, 8, 1, 1] with blocksize 2: C' = 2.
  Tensor x = iota_f32({1, 8, 1, 1});
  Tensor dcr = run1("DepthToSpace", {x}, {{"blocksize", I(2)}, {"mode", S("DCR")}});
  EXPECT_EQ(dcr.shape(), (Shape{1, 2, 2, 2}));
  // DCR: out[c][i][j] = x[(i*2 + j)*2 + c]
  EXPECT_EQ(vals(dcr), (std::vector<double>{0, 2, 4, 6, 1, 3, 5, 7}));
  Tensor crd = run1("DepthToSpace", {x}, {{"blocksize", I(2)}, {"mode", S("CRD")}});
  // CRD: out[c][i][j] = x[c*4 + i*2 + j]
  EXPECT_EQ(vals(crd), (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7}));
  // SpaceToDepth inverts DCR.
  Tensor back = run1("SpaceToDepth", {dcr}, {{"blocksize", I(2)}});
  EXPECT_EQ(vals(back), vals(x));
  EXPECT_THROW(run1("DepthToSpace", {iota_f32({1, 6, 1, 1})}, {{"blocksize", I(2)}}), Error);
  EXPECT_THROW(run1("SpaceToDepth", {iota_f32({1, 1, 3, 2})}, {{"blocksize", I(2)}}), Error);
  auto t = infer_op("DepthToSpace", {sym_type(DType::F32, {1, 8, Dim::sym("h"), 3})}, {}, {{"blocksize", I(2)}});
  EXPECT_EQ(t[0].dims[2].symbol, "h*2");
  EXPECT_EQ(t[0].dims[3].value, 6);
}

TEST(OpsShapeExpand, BidirectionalBroadcast) {
  Tensor x = f32({3, 1}, {1, 2, 3});
  Tensor y = run1("Expand", {x, i64({3}, {2, 1, 2})});
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(vals(y), (std::vector<double>{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}));
  EXPECT_EQ(run1("Expand", {x, i64({1}, {1})}).shape(), (Shape{3, 1}));
  EXPECT_THROW(run1("Expand", {x, i64({2}, {2, 2})}), Error);
  Tensor sh = i64({2}, {1, 4});
  auto t = infer_op("Expand", {sym_type(DType::F32, {Dim::sym("n"), 1}), TensorType(DType::I64, Shape{2})},
                    {nullptr, &sh});
  EXPECT_EQ(t[0].dims[0].symbol, "n");
  EXPECT_EQ(t[0].dims[1].value, 4);
  EXPECT_EQ(row("Expand", 17).mapping, MappingType::OneToMany);
}

TEST(OpsShapeTile, RepeatsAndBadRepeats) {
  Tensor x = f32({2, 2}, {1, 2, 3, 4});
  Tensor y = run1("Tile", {x, i64({2}, {1, 2})});
  EXPECT_EQ(y.shape(), (Shape{2, 4}));
  EXPECT_EQ(vals(y), (std::vector<double>{1, 2, 1, 2, 3, 4, 3, 4}));
  EXPECT_THROW(run1("Tile", {x, i64({1}, {2})}), Error);
  EXPECT_THROW(run1("Tile", {x, i64({2}, {1, -1})}), Error);
}

TEST(OpsShapeTrilu, UpperLowerWithK) {
  Tensor x = iota_f32({3, 3});
  for (int64_t i = 0; i < 9; ++i) x.data<float>()[i] += 1;
  EXPECT_EQ(vals(run1("Trilu", {x})), (std::vector<double>{1, 2, 3, 0, 5, 6, 0, 0, 9}));
  EXPECT_EQ(vals(run1("Trilu", {x, i64({}, {-1})}, {{"upper", I(0)}})),
            (std::vector<double>{0, 0, 0, 4, 0, 0, 7, 8, 0}));
  EXPECT_EQ(vals(run1("Trilu", {x, i64({}, {1})})), (std::vector<double>{0, 2, 3, 0, 0, 6, 0, 0, 0}));
  EXPECT_EQ(row("Trilu", 17).mapping, MappingType::OneToOne);
}

// ===================================================================================
// Slice / Split / Concat / Pad
// ===================================================================================

TEST(OpsShapeSlice, EdgeCases) {
  Tensor x = iota_f32({10});
  auto sl = [&](std::vector<int64_t> s, std::vector<int64_t> e, std::vector<int64_t> st) {
    return vals(run1("Slice", {x, i64({int64_t(s.size())}, s), i64({int64_t(e.size())}, e), Tensor(),
                               i64({int64_t(st.size())}, st)}));
  };
  EXPECT_EQ(sl({2}, {5}, {1}), (std::vector<double>{2, 3, 4}));
  EXPECT_EQ(sl({-3}, {std::numeric_limits<int64_t>::max()}, {1}), (std::vector<double>{7, 8, 9}));
  EXPECT_EQ(sl({-100}, {2}, {1}), (std::vector<double>{0, 1}));
  EXPECT_EQ(sl({20}, {30}, {1}), (std::vector<double>{}));
  EXPECT_EQ(sl({8}, {1}, {-3}), (std::vector<double>{8, 5, 2}));
  EXPECT_EQ(sl({-1}, {std::numeric_limits<int64_t>::min()}, {-1}),
            (std::vector<double>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(sl({100}, {-100}, {-4}), (std::vector<double>{9, 5, 1}));
  EXPECT_EQ(sl({0}, {10}, {4}), (std::vector<double>{0, 4, 8}));
  EXPECT_THROW(sl({0}, {10}, {0}), Error);
}

TEST(OpsShapeSlice, AxesNegativeAndOldAttrs) {
  Tensor x = iota_f32({3, 4});
  Tensor y = run1("Slice", {x, i64({1}, {1}), i64({1}, {3}), i64({1}, {-1})});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(vals(y), (std::vector<double>{1, 2, 5, 6, 9, 10}));
  Tensor z = run1("Slice", {x}, {{"starts", Is({1, 0})}, {"ends", Is({2, 1000})}}, 9);
  EXPECT_EQ(z.shape(), (Shape{1, 4}));
  EXPECT_EQ(vals(z), (std::vector<double>{4, 5, 6, 7}));
  EXPECT_THROW(run1("Slice", {x, i64({2}, {0, 0}), i64({2}, {1, 1}), i64({2}, {1, -1})}), Error);
  EXPECT_THROW(run1("Slice", {x, i64({1}, {0}), i64({1}, {1}), i64({1}, {2})}), Error);
  // Symbolic dim kept for a whole-axis slice, unknown otherwise.
  Tensor s0 = i64({2}, {0, 1}), e0 = i64({2}, {std::numeric_limits<int64_t>::max(), 3}), a0 = i64({2}, {0, 1});
  auto t = infer_op("Slice", {sym_type(DType::F32, {Dim::sym("n"), 4}), TensorType(DType::I64, Shape{2}),
                              TensorType(DType::I64, Shape{2}), TensorType(DType::I64, Shape{2})},
                    {nullptr, &s0, &e0, &a0});
  EXPECT_EQ(t[0].dims[0].symbol, "n");
  EXPECT_EQ(t[0].dims[1].value, 2);
}

TEST(OpsShapeSplit, UnevenAndExplicit) {
  Tensor x = iota_f32({7});
  auto parts = run_op("Split", {x}, {{"num_outputs", I(3)}}, 18, 3);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(vals(parts[0]), (std::vector<double>{0, 1, 2}));
  EXPECT_EQ(vals(parts[1]), (std::vector<double>{3, 4, 5}));
  EXPECT_EQ(vals(parts[2]), (std::vector<double>{6}));
  auto ex = run_op("Split", {x, i64({2}, {2, 5})}, {}, 13, 2);
  EXPECT_EQ(ex[1].shape(), (Shape{5}));
  auto old = run_op("Split", {iota_f32({2, 4})}, {{"axis", I(-1)}, {"split", Is({1, 3})}}, 11, 2);
  EXPECT_EQ(vals(old[1]), (std::vector<double>{1, 2, 3, 5, 6, 7}));
  auto eq = run_op("Split", {iota_f32({6})}, {}, 13, 3);
  EXPECT_EQ(eq[2].shape(), (Shape{2}));
  EXPECT_THROW(run_op("Split", {x}, {}, 13, 3), Error);  // 7 not divisible before opset 18
  EXPECT_THROW(run_op("Split", {x, i64({2}, {2, 2})}, {}, 13, 2), Error);
  EXPECT_THROW(run_op("Split", {x, i64({3}, {2, 2, 3})}, {}, 13, 2), Error);
}

TEST(OpsShapeConcat, ValuesAndErrors) {
  Tensor a = f32({2, 1}, {1, 2}), b = f32({2, 2}, {3, 4, 5, 6});
  Tensor y = run1("Concat", {a, b}, {{"axis", I(-1)}});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(vals(y), (std::vector<double>{1, 3, 4, 2, 5, 6}));
  EXPECT_THROW(run1("Concat", {a, f32({2}, {1, 2})}, {{"axis", I(0)}}), Error);
  EXPECT_THROW(run1("Concat", {a, f32({3, 1}, {1, 2, 3})}, {{"axis", I(1)}}), Error);
  EXPECT_THROW(infer_op("Concat", {TensorType(DType::F32, Shape{2, 1}), TensorType(DType::F32, Shape{2})}, {},
                        {{"axis", I(0)}}),
               Error);
  auto t = infer_op("Concat", {sym_type(DType::F32, {Dim::sym("n"), 3}), sym_type(DType::F32, {Dim::sym("n"), 5})},
                    {}, {{"axis", I(1)}});
  EXPECT_EQ(t[0].dims[0].symbol, "n");
  EXPECT_EQ(t[0].dims[1].value, 8);
  Tensor s = run1("Concat", {strs({1}, {"x"}), strs({2}, {"y", "z"})}, {{"axis", I(0)}});
  EXPECT_EQ(s.strings()[2], "z");
}

TEST(OpsShapePad, ModesAndNegativePads) {
  Tensor x = f32({4}, {1, 2, 3, 4});
  auto pad = [&](const std::string& mode, std::vector<int64_t> p) {
    return vals(run1("Pad", {x, i64({2}, p), f32({}, {9})}, {{"mode", S(mode)}}, 13));
  };
  EXPECT_EQ(pad("constant", {2, 1}), (std::vector<double>{9, 9, 1, 2, 3, 4, 9}));
  EXPECT_EQ(pad("reflect", {2, 2}), (std::vector<double>{3, 2, 1, 2, 3, 4, 3, 2}));
  EXPECT_EQ(pad("reflect", {5, 0}), (std::vector<double>{2, 3, 4, 3, 2, 1, 2, 3, 4}));
  EXPECT_EQ(pad("edge", {2, 1}), (std::vector<double>{1, 1, 1, 2, 3, 4, 4}));
  EXPECT_EQ(pad("wrap", {2, 1}), (std::vector<double>{3, 4, 1, 2, 3, 4, 1}));
  EXPECT_EQ(pad("constant", {-1, 1}), (std::vector<double>{2, 3, 4, 9}));
  // 2-D reflect: rows [[1,2],[3,4]] padded by one row on top.
  Tensor y = run1("Pad", {f32({2, 2}, {1, 2, 3, 4}), i64({4}, {1, 0, 0, 0})}, {{"mode", S("reflect")}}, 13);
  EXPECT_EQ(vals(y), (std::vector<double>{3, 4, 1, 2, 3, 4}));
  // Attribute form and axes input (opset 18).
  EXPECT_EQ(vals(run1("Pad", {x}, {{"pads", Is({1, 0})}, {"value", F(-1)}}, 2)),
            (std::vector<double>{-1, 1, 2, 3, 4}));
  Tensor z = run1("Pad", {f32({2, 2}, {1, 2, 3, 4}), i64({2}, {1, 1}), Tensor(), i64({1}, {-1})}, {}, 18);
  EXPECT_EQ(z.shape(), (Shape{2, 4}));
  EXPECT_EQ(vals(z), (std::vector<double>{0, 1, 2, 0, 0, 3, 4, 0}));
  EXPECT_THROW(run1("Pad", {x, i64({1}, {1})}, {}, 13), Error);
  EXPECT_THROW(run1("Pad", {x, i64({2}, {1, 1})}, {{"mode", S("mirror")}}, 13), Error);
}

// ===================================================================================
// Resize / Upsample
// ===================================================================================

Tensor resize(const Tensor& x, const std::vector<float>& scales, const Attrs& attrs, int64_t opset = 19) {
  return run1("Resize", {x, Tensor(), f32({int64_t(scales.size())}, scales)}, attrs, opset);
}

TEST(OpsShapeResize, NearestModes) {
  Tensor x = f32({1, 3}, {1, 2, 3});
  Attrs a{{"mode", S("nearest")}, {"coordinate_transformation_mode", S("asymmetric")}};
  EXPECT_EQ(vals(resize(x, {1, 2}, a)), (std::vector<double>{1, 1, 2, 2, 3, 3}));
  a["nearest_mode"] = S("round_prefer_ceil");
  EXPECT_EQ(vals(resize(x, {1, 2}, a)), (std::vector<double>{1, 2, 2, 3, 3, 3}));
  a["nearest_mode"] = S("ceil");
  EXPECT_EQ(vals(resize(x, {1, 2}, a)), (std::vector<double>{1, 2, 2, 3, 3, 3}));
  // half_pixel + round_prefer_floor downsample by 2 of [1..4]: x = 2o + 0.5 -> 0, 2
  Tensor y = resize(f32({1, 4}, {1, 2, 3, 4}), {1, 0.5f}, {{"mode", S("nearest")}});
  EXPECT_EQ(vals(y), (std::vector<double>{1, 3}));
}

TEST(OpsShapeResize, LinearHandValues) {
  Tensor x = f32({1, 2}, {1, 2});
  expect_near(resize(x, {1, 2}, {{"mode", S("linear")}}), {1, 1.25, 1.75, 2});
  expect_near(resize(x, {1, 2}, {{"mode", S("linear")}, {"coordinate_transformation_mode", S("align_corners")}}),
              {1, 4.0 / 3, 5.0 / 3, 2});
  expect_near(resize(x, {1, 2}, {{"mode", S("linear")}, {"coordinate_transformation_mode", S("asymmetric")}}),
              {1, 1.5, 2, 2});
  // 2-D bilinear, half_pixel, 2x2 -> 4x4, centre values.
  Tensor y = resize(f32({2, 2}, {1, 2, 3, 4}), {2, 2}, {{"mode", S("linear")}});
  EXPECT_EQ(y.shape(), (Shape{4, 4}));
  EXPECT_NEAR(y.get_f64(0), 1.0, 1e-6);
  EXPECT_NEAR(y.get_f64(1 * 4 + 1), 1.75, 1e-6);  // x=0.25 both axes: 1 + .25*1 + .25*2
  EXPECT_NEAR(y.get_f64(15), 4.0, 1e-6);
}

TEST(OpsShapeResize, CubicAndExcludeOutside) {
  // Cubic reproduces constants, and align_corners hits the end points exactly.
  Tensor c = resize(f32({1, 4}, {5, 5, 5, 5}), {1, 1.5f}, {{"mode", S("cubic")}});
  for (double v : vals(c)) EXPECT_NEAR(v, 5.0, 1e-6);
  Tensor d = resize(f32({1, 4}, {0, 1, 2, 3}), {1, 0.5f},
                    {{"mode", S("cubic")}, {"coordinate_transformation_mode", S("align_corners")}});
  expect_near(d, {0, 3});
  // Cubic at x = 0.5 between 1 and 2 on [0,1,2,3] with A=-0.75: symmetric weights
  // c(1.5)=-0.09375, c(0.5)=0.59375 -> 0*-.09375 + 1*.59375 + 2*.59375 + 3*-.09375 = 1.5
  Tensor e = run1("Resize", {f32({4}, {0, 1, 2, 3}), Tensor(), Tensor(), i64({1}, {8})},
                  {{"mode", S("cubic")}, {"coordinate_transformation_mode", S("asymmetric")}});
  // x = 0.5: positions -1(->0), 0, 1, 2 -> 0*-.09375 + 0*.59375 + 1*.59375 + 2*-.09375
  EXPECT_NEAR(e.get_f64(1), 0.40625, 1e-6);
  EXPECT_NEAR(e.get_f64(3), 1.5, 1e-6);
  // exclude_outside at the border: x=0.5 with neighbour -1 excluded renormalizes.
  Tensor f = run1("Resize", {f32({4}, {0, 1, 2, 3}), Tensor(), Tensor(), i64({1}, {8})},
                  {{"mode", S("cubic")}, {"coordinate_transformation_mode", S("asymmetric")},
                   {"exclude_outside", I(1)}});
  const double w0 = 0.59375, w1 = 0.59375, w2 = -0.09375;  // positions 0, 1, 2
  EXPECT_NEAR(f.get_f64(1), (0 * w0 + 1 * w1 + 2 * w2) / (w0 + w1 + w2), 1e-6);
}

TEST(OpsShapeResize, TfCropAndResizeExtrapolates) {
  Tensor x = f32({4}, {1, 2, 3, 4});
  Tensor y = run1("Resize", {x, f32({2}, {0.5f, 1.5f}), Tensor(), i64({1}, {4})},
                  {{"mode", S("linear")}, {"coordinate_transformation_mode", S("tf_crop_and_resize")},
                   {"extrapolation_value", F(10)}});
  expect_near(y, {2.5, 3.5, 10, 10});
}

TEST(OpsShapeResize, SizesAxesAndAspectPolicy) {
  Tensor x = iota_f32({1, 1, 4, 6});
  Tensor y = run1("Resize", {x, Tensor(), Tensor(), i64({2}, {2, 2})},
                  {{"mode", S("nearest")}, {"axes", Is({2, 3})}, {"keep_aspect_ratio_policy", S("not_larger")}}, 18);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 1, 2}));  // scale min(2/4, 2/6) = 1/3 -> [int(1.33+.5), int(2+.5)]
  Tensor z = run1("Resize", {x, Tensor(), Tensor(), i64({2}, {2, 2})},
                  {{"mode", S("nearest")}, {"axes", Is({2, 3})}, {"keep_aspect_ratio_policy", S("not_smaller")}}, 18);
  EXPECT_EQ(z.shape(), (Shape{1, 1, 2, 3}));  // scale max = 1/2 -> [2, 3]
  EXPECT_THROW(run1("Resize", {x, Tensor(), f32({4}, {1, 1, 2, 2}), i64({4}, {1, 1, 8, 12})}, {}, 13), Error);
  EXPECT_THROW(run1("Resize", {x, Tensor(), f32({3}, {1, 1, 2})}, {}, 13), Error);
  auto t = infer_op("Resize", {sym_type(DType::F32, {Dim::sym("n"), 3, 8, 8}), TensorType(), TensorType(DType::F32, Shape{4})},
                    {}, {}, 13);
  EXPECT_EQ(t[0].rank(), 4);
  Tensor sc = f32({4}, {1, 1, 2, 2});
  auto u = infer_op("Resize", {sym_type(DType::F32, {Dim::sym("n"), 3, 8, 8}), TensorType(), TensorType(DType::F32, Shape{4})},
                    {nullptr, nullptr, &sc}, {}, 13);
  EXPECT_EQ(u[0].dims[0].symbol, "n");
  EXPECT_EQ(u[0].dims[2].value, 16);
  EXPECT_EQ(row("Resize", 13).mapping, MappingType::OneToMany);
}

TEST(OpsShapeResize, UpsampleForms) {
  Tensor x = f32({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor y = run1("Upsample", {x, f32({4}, {1, 1, 2, 3})}, {{"mode", S("nearest")}}, 9);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 6}));
  EXPECT_EQ(vals(y), (std::vector<double>{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}));
  Tensor z = run1("Upsample", {x}, {{"mode", S("linear")}, {"scales", Fs({1, 1, 1, 2})}}, 7);
  expect_near(z, {1, 1.5, 2, 2, 3, 3.5, 4, 4});
}

// ===================================================================================
// Other data-movement ops
// ===================================================================================

TEST(OpsShapeReverseSequence, TimeAndBatchMajor) {
  Tensor x = iota_f32({3, 2});  // [time, batch]
  Tensor y = run1("ReverseSequence", {x, i64({2}, {3, 2})});
  // batch 0: t 0..2 reversed -> 4, 2, 0; batch 1: first 2 reversed -> 3, 1, 5
  EXPECT_EQ(vals(y), (std::vector<double>{4, 3, 2, 1, 0, 5}));
  Tensor z = run1("ReverseSequence", {iota_f32({2, 3}), i64({2}, {1, 3})}, {{"batch_axis", I(0)}, {"time_axis", I(1)}});
  EXPECT_EQ(vals(z), (std::vector<double>{0, 1, 2, 5, 4, 3}));
  EXPECT_THROW(run1("ReverseSequence", {x, i64({2}, {4, 1})}), Error);
}

TEST(OpsShapeCompress, AxisAndFlattened) {
  Tensor x = iota_f32({3, 2});
  Tensor y = run1("Compress", {x, bools({3}, {0, 1, 1})}, {{"axis", I(0)}});
  EXPECT_EQ(vals(y), (std::vector<double>{2, 3, 4, 5}));
  Tensor z = run1("Compress", {x, bools({2}, {0, 1})}, {{"axis", I(-1)}});
  EXPECT_EQ(vals(z), (std::vector<double>{1, 3, 5}));
  Tensor f = run1("Compress", {x, bools({5}, {1, 0, 0, 0, 1})});
  EXPECT_EQ(vals(f), (std::vector<double>{0, 4}));
  EXPECT_THROW(run1("Compress", {x, bools({4}, {0, 0, 0, 1})}, {{"axis", I(0)}}), Error);
}

TEST(OpsShapeNonZero, Indices) {
  Tensor y = run1("NonZero", {f32({2, 2}, {1, 0, 1, 1})});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(y.to_i64_vector(), (std::vector<int64_t>{0, 1, 1, 0, 0, 1}));
  auto t = infer_op("NonZero", {TensorType(DType::F32, Shape{2, 2})});
  EXPECT_EQ(t[0].dims[0].value, 2);
  EXPECT_FALSE(t[0].dims[1].known());
}

TEST(OpsShapeOneHot, AxisAndNegativeIndices) {
  Tensor y = run1("OneHot", {i64({3}, {0, -1, 5}), f32({}, {3}), f32({2}, {0, 1})});
  EXPECT_EQ(y.shape(), (Shape{3, 3}));
  EXPECT_EQ(vals(y), (std::vector<double>{1, 0, 0, 0, 0, 1, 0, 0, 0}));
  Tensor z = run1("OneHot", {i64({2}, {1, 2}), i64({}, {3}), i32({2}, {-1, 7})}, {{"axis", I(0)}});
  EXPECT_EQ(z.shape(), (Shape{3, 2}));
  EXPECT_EQ(vals(z), (std::vector<double>{-1, -1, 7, -1, -1, 7}));
}

TEST(OpsShapeUnique, SortedUnsortedAndAxis) {
  Tensor x = f32({6}, {2, 1, 1, 3, 4, 3});
  auto s = run_op("Unique", {x}, {}, 17, 4);
  EXPECT_EQ(vals(s[0]), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(s[1].to_i64_vector(), (std::vector<int64_t>{1, 0, 3, 4}));
  EXPECT_EQ(s[2].to_i64_vector(), (std::vector<int64_t>{1, 0, 0, 2, 3, 2}));
  EXPECT_EQ(s[3].to_i64_vector(), (std::vector<int64_t>{2, 1, 2, 1}));
  auto u = run_op("Unique", {x}, {{"sorted", I(0)}}, 17, 4);
  EXPECT_EQ(vals(u[0]), (std::vector<double>{2, 1, 3, 4}));
  EXPECT_EQ(u[2].to_i64_vector(), (std::vector<int64_t>{0, 1, 1, 2, 3, 2}));
  Tensor m = f32({3, 2}, {1, 0, 0, 1, 1, 0});
  auto a = run_op("Unique", {m}, {{"axis", I(0)}}, 17, 4);
  EXPECT_EQ(a[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(vals(a[0]), (std::vector<double>{0, 1, 1, 0}));
  EXPECT_EQ(a[3].to_i64_vector(), (std::vector<int64_t>{1, 2}));
}

// ===================================================================================
// Gather / Scatter
// ===================================================================================

TEST(OpsShapeGather, NegativeIndicesAndAxis) {
  Tensor x = iota_f32({3, 2});
  Tensor y = run1("Gather", {x, i64({2}, {-1, 0})});
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(vals(y), (std::vector<double>{4, 5, 0, 1}));
  Tensor z = run1("Gather", {x, i32({2, 2}, {1, 0, 1, 1})}, {{"axis", I(-1)}});
  EXPECT_EQ(z.shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(vals(z), (std::vector<double>{1, 0, 1, 1, 3, 2, 3, 3, 5, 4, 5, 5}));
  Tensor s = run1("Gather", {iota_f32({3}), i64({}, {1})});
  EXPECT_EQ(s.rank(), 0);
  Tensor strings = run1("Gather", {strs({3}, {"a", "b", "c"}), i64({2}, {2, -3})});
  EXPECT_EQ(strings.strings()[0], "c");
  EXPECT_EQ(strings.strings()[1], "a");
  Tensor h = run1("Gather", {f16({3}, {1, 2, 3}), i64({1}, {2})});
  EXPECT_EQ(h.get_f64(0), 3.0);
}

TEST(OpsShapeGather, OutOfRangeIsError) {
  Tensor x = iota_f32({3, 2});
  EXPECT_THROW(run1("Gather", {x, i64({1}, {3})}), Error);
  EXPECT_THROW(run1("Gather", {x, i64({1}, {-4})}), Error);
  EXPECT_THROW(run1("Gather", {x, i64({1}, {0})}, {{"axis", I(2)}}), Error);
  EXPECT_THROW(run1("Gather", {x, f32({1}, {0})}), Error);
}

TEST(OpsShapeGatherElements, AxisAndNegative) {
  Tensor x = f32({2, 2}, {1, 2, 3, 4});
  Tensor y = run1("GatherElements", {x, i64({2, 2}, {0, 0, 1, 0})}, {{"axis", I(1)}});
  EXPECT_EQ(vals(y), (std::vector<double>{1, 1, 4, 3}));
  Tensor z = run1("GatherElements", {x, i64({1, 2}, {-1, 0})}, {{"axis", I(0)}});
  EXPECT_EQ(vals(z), (std::vector<double>{3, 2}));
  EXPECT_THROW(run1("GatherElements", {x, i64({1, 2}, {2, 0})}), Error);
}

TEST(OpsShapeGatherND, BatchDims) {
  Tensor x = iota_f32({2, 2, 2});
  Tensor y = run1("GatherND", {x, i64({2, 1}, {1, 0})}, {{"batch_dims", I(1)}});
  // batch 0 picks x[0][1] = [2,3]; batch 1 picks x[1][0] = [4,5]
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(vals(y), (std::vector<double>{2, 3, 4, 5}));
  Tensor z = run1("GatherND", {x, i64({2, 3}, {0, 1, 1, 1, 0, -1})});
  EXPECT_EQ(vals(z), (std::vector<double>{3, 5}));
  Tensor w = run1("GatherND", {f32({2, 2}, {0, 1, 2, 3}), i64({2, 2}, {0, 0, 1, 1})});
  EXPECT_EQ(vals(w), (std::vector<double>{0, 3}));
  EXPECT_THROW(run1("GatherND", {x, i64({1, 4}, {0, 0, 0, 0})}), Error);
  EXPECT_THROW(run1("GatherND", {x, i64({1, 1}, {2})}), Error);
}

TEST(OpsShapeScatter, ElementsReductions) {
  Tensor x = f32({1, 5}, {1, 2, 3, 4, 5});
  Tensor idx = i64({1, 2}, {1, 1});
  Tensor upd = f32({1, 2}, {1.1f, 2.1f});
  expect_near(run1("ScatterElements", {x, idx, upd}, {{"axis", I(1)}, {"reduction", S("add")}}, 16),
              {1, 5.2, 3, 4, 5});
  expect_near(run1("ScatterElements", {x, idx, upd}, {{"axis", I(1)}, {"reduction", S("mul")}}, 16),
              {1, 2 * 1.1 * 2.1, 3, 4, 5});
  expect_near(run1("ScatterElements", {x, idx, upd}, {{"axis", I(1)}, {"reduction", S("max")}}, 18),
              {1, 2.1, 3, 4, 5});
  expect_near(run1("ScatterElements", {x, idx, upd}, {{"axis", I(1)}, {"reduction", S("min")}}, 18),
              {1, 1.1, 3, 4, 5});
  expect_near(run1("ScatterElements", {x, i64({1, 2}, {-1, 0}), upd}, {{"axis", I(1)}}, 13), {2.1, 2, 3, 4, 1.1});
  expect_near(run1("Scatter", {x, i64({1, 1}, {3}), f32({1, 1}, {9})}, {{"axis", I(1)}}, 9), {1, 2, 3, 9, 5});
  EXPECT_THROW(run1("ScatterElements", {x, i64({1, 2}, {5, 0}), upd}, {{"axis", I(1)}}, 13), Error);
  EXPECT_THROW(run1("ScatterElements", {x, idx, upd}, {{"axis", I(1)}, {"reduction", S("max")}}, 16), Error);
  EXPECT_EQ(row("ScatterElements", 18).mapping, MappingType::ManyToMany);
}

// The destination of every update is computed while copying (no offset table): checked
// against a naive loop over the update's coordinates for each axis of a rank-3 tensor,
// with indices smaller than data in every dim, negative indices, and int32 indices.
TEST(OpsShapeScatter, ElementsAlongEveryAxisMatchANaiveScatter) {
  const Shape ds = {3, 4, 5}, is = {2, 3, 4};
  std::vector<float> data(60), upd(24);
  for (size_t k = 0; k < data.size(); ++k) data[k] = float(k);
  for (size_t k = 0; k < upd.size(); ++k) upd[k] = 100.0f + float(k);
  for (int64_t axis = 0; axis < 3; ++axis) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    std::vector<int64_t> index(24);
    for (size_t k = 0; k < index.size(); ++k) index[k] = int64_t((k * 7 + 3) % size_t(ds[size_t(axis)])) - (k % 3 == 0 ? ds[size_t(axis)] : 0);
    std::vector<double> want(data.begin(), data.end());
    for (int64_t a = 0; a < 2; ++a)
      for (int64_t b = 0; b < 3; ++b)
        for (int64_t c = 0; c < 4; ++c) {
          const int64_t i = (a * 3 + b) * 4 + c;
          int64_t co[3] = {a, b, c};
          co[axis] = index[size_t(i)] < 0 ? index[size_t(i)] + ds[size_t(axis)] : index[size_t(i)];
          want[size_t((co[0] * 4 + co[1]) * 5 + co[2])] = upd[size_t(i)];
        }
    const Tensor idx = i64(is, index);
    for (const Tensor& ix : {idx, idx.cast(DType::I32)})
      expect_near(run1("ScatterElements", {f32(ds, data), ix, f32(is, upd)}, {{"axis", I(axis)}}, 13), want);
  }
}

TEST(OpsShapeScatter, NDWithReduction) {
  Tensor x = f32({4}, {1, 2, 3, 4});
  Tensor idx = i64({3, 1}, {1, 3, 1});
  Tensor upd = f32({3}, {10, 20, 30});
  expect_near(run1("ScatterND", {x, idx, upd}, {{"reduction", S("add")}}, 16), {1, 42, 3, 24});
  expect_near(run1("ScatterND", {x, idx, upd}, {{"reduction", S("mul")}}, 16), {1, 600, 3, 80});
  expect_near(run1("ScatterND", {x, i64({1, 1}, {-2}), f32({1}, {7})}, {}, 13), {1, 2, 7, 4});
  // Slices: data [2,2], index [1] replaces a row.
  expect_near(run1("ScatterND", {f32({2, 2}, {1, 2, 3, 4}), i64({1, 1}, {1}), f32({1, 2}, {8, 9})}, {}, 13),
              {1, 2, 8, 9});
  EXPECT_THROW(run1("ScatterND", {x, i64({1, 1}, {4}), f32({1}, {7})}, {}, 13), Error);
  EXPECT_THROW(run1("ScatterND", {x, idx, f32({2}, {1, 2})}, {}, 13), Error);
}

TEST(OpsShapeLimits, HugeOutputsAreErrorsNotCrashes) {
  const int64_t big = int64_t(1) << 40;
  EXPECT_THROW(run1("Tile", {iota_f32({2}), i64({1}, {big})}), Error);
  EXPECT_THROW(run1("Tile", {iota_f32({2}), i64({1}, {std::numeric_limits<int64_t>::max()})}), Error);
  EXPECT_THROW(run1("Expand", {iota_f32({1}), i64({2}, {big, big})}), Error);
  EXPECT_THROW(run1("Pad", {iota_f32({2}), i64({2}, {0, big})}, {}, 13), Error);
  EXPECT_THROW(run1("Pad", {iota_f32({2}), i64({2}, {-3, 0})}, {}, 13), Error);
  EXPECT_THROW(run1("Range", {f32({}, {0}), f32({}, {1}), f32({}, {1e-30f})}), Error);
  EXPECT_THROW(run1("Range", {i64({}, {std::numeric_limits<int64_t>::min()}),
                              i64({}, {std::numeric_limits<int64_t>::max()}), i64({}, {1})}),
               Error);
  EXPECT_THROW(run1("OneHot", {i64({1}, {0}), f32({}, {1e30f}), f32({2}, {0, 1})}), Error);
  EXPECT_THROW(resize(iota_f32({2}), {1e20f}, {}), Error);
  EXPECT_THROW(run1("DepthToSpace", {iota_f32({1, 4, 1, 1})}, {{"blocksize", I(int64_t(1) << 33)}}), Error);
  // Extreme steps are legal and take one element.
  Tensor x = iota_f32({5});
  EXPECT_EQ(vals(run1("Slice", {x, i64({1}, {1}), i64({1}, {5}), Tensor(),
                                i64({1}, {std::numeric_limits<int64_t>::max()})})),
            (std::vector<double>{1}));
  EXPECT_EQ(vals(run1("Slice", {x, i64({1}, {-1}), i64({1}, {std::numeric_limits<int64_t>::min()}), Tensor(),
                                i64({1}, {std::numeric_limits<int64_t>::min()})})),
            (std::vector<double>{4}));
}

TEST(OpsShapeRegistry, MappingTypesAndSummaries) {
  const std::map<std::string, MappingType> want = {
      {"Reshape", MappingType::Reorganize},  {"Flatten", MappingType::Reorganize},
      {"Squeeze", MappingType::Reorganize},  {"Unsqueeze", MappingType::Reorganize},
      {"Identity", MappingType::Reorganize}, {"Dropout", MappingType::Reorganize},
      {"DepthToSpace", MappingType::Shuffle}, {"SpaceToDepth", MappingType::Shuffle},
      {"Slice", MappingType::OneToOne},      {"Split", MappingType::OneToOne},
      {"Concat", MappingType::OneToOne},     {"Pad", MappingType::OneToOne},
      {"Tile", MappingType::OneToMany},      {"Gather", MappingType::OneToMany},
      {"GatherElements", MappingType::OneToMany}, {"GatherND", MappingType::OneToMany},
      {"Upsample", MappingType::OneToMany},  {"OneHot", MappingType::OneToMany},
      {"ConstantOfShape", MappingType::OneToMany}, {"EyeLike", MappingType::OneToMany},
      {"Size", MappingType::ManyToMany},     {"ScatterND", MappingType::ManyToMany},
      {"NonZero", MappingType::ManyToMany},  {"Unique", MappingType::ManyToMany}};
  for (const auto& [op, m] : want) {
    const OpInfo& info = row(op, 18);
    EXPECT_EQ(info.mapping, m) << op;
    EXPECT_FALSE(info.summary.empty()) << op;
    EXPECT_TRUE(info.cost != nullptr) << op;
  }
  // Data movement costs no flops; bytes come from static shapes.
  Node n;
  n.op_type = "Transpose";
  OpCost c = row("Transpose", 17).cost(n, {TensorType(DType::F32, Shape{2, 3})}, {TensorType(DType::F32, Shape{3, 2})});
  EXPECT_EQ(c.flops, 0);
  EXPECT_EQ(c.bytes, 48);
}

}  // namespace
