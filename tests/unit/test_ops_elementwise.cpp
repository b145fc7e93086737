// Tests of the element-wise, activation and quantisation rows: numerics per op family,
// broadcasting, integer division/modulo sign rules, Cast, Softmax axis semantics across
// opsets, quantisation rounding, mapping types, math properties and bad inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/ir/op_registry.h"
#include "core/ir/shape_inference.h"
#include "core/runtime/reference_executor.h"
#include "core/util/error.h"

namespace {

using namespace dnnf;

Tensor f32(Shape s, const std::vector<float>& v) { return Tensor::from_vector(DType::F32, std::move(s), v); }
Tensor f64(Shape s, const std::vector<double>& v) { return Tensor::from_vector(DType::F64, std::move(s), v); }
Tensor i64(Shape s, const std::vector<int64_t>& v) { return Tensor::from_vector(DType::I64, std::move(s), v); }
Tensor i32(Shape s, const std::vector<int32_t>& v) { return Tensor::from_vector(DType::I32, std::move(s), v); }
Tensor i8(Shape s, const std::vector<int>& v) { return Tensor::from_vector(DType::I8, std::move(s), v); }
Tensor u8(Shape s, const std::vector<int>& v) { return Tensor::from_vector(DType::U8, std::move(s), v); }
Tensor bools(Shape s, const std::vector<int>& v) { return Tensor::from_vector(DType::Bool, std::move(s), v); }
Tensor strs(Shape s, const std::vector<std::string>& v) {
  Tensor t(DType::String, std::move(s));
  for (size_t i = 0; i < v.size(); ++i) t.strings()[i] = v[i];
  return t;
}

using Attrs = std::map<std::string, Attribute>;

// Runs one operator row's kernel directly, and checks that its shape function agrees
// with the kernel's outputs (dtype and static shape).
std::vector<Tensor> run_op(const std::string& op, const std::vector<Tensor>& ins, const Attrs& attrs = {},
                           int64_t opset = 17, size_t num_outputs = 1) {
  Node n;
  n.op_type = op;
  n.name = op + "_t";
  n.attrs = attrs;
  std::vector<const Tensor*> ptrs;
  std::vector<TensorType> types;
  for (size_t i = 0; i < ins.size(); ++i) {
    const bool present = ins[i].defined();
    n.inputs.push_back(present ? "in" + std::to_string(i) : "");
    ptrs.push_back(present ? &ins[i] : nullptr);
    types.push_back(present ? TensorType(ins[i].dtype(), ins[i].shape()) : TensorType());
  }
  for (size_t i = 0; i < num_outputs; ++i) n.outputs.push_back("out" + std::to_string(i));
  const OpInfo* info = OpRegistry::instance().find("", op, opset);
  if (!info) throw Error("no row for " + op);
  KernelContext kc{n, opset, ptrs, {}};
  std::vector<Tensor> outs = info->kernel(kc);
  Graph g;
  g.opsets[""] = opset;
  std::vector<const Tensor*> values(ins.size(), nullptr);
  InferContext ic{n, g, opset, types, values};
  const std::vector<TensorType> inferred = info->shape(ic);
  EXPECT_EQ(inferred.size(), outs.size()) << op;
  for (size_t i = 0; i < std::min(inferred.size(), outs.size()); ++i) {
    EXPECT_EQ(inferred[i].dtype, outs[i].dtype()) << op << " output " << i;
    const auto s = inferred[i].static_shape();
    EXPECT_TRUE(s.has_value()) << op << " output " << i;
    if (s) EXPECT_EQ(*s, outs[i].shape()) << op << " output " << i;
  }
  return outs;
}

Tensor run1(const std::string& op, const std::vector<Tensor>& ins, const Attrs& attrs = {}, int64_t opset = 17) {
  return run_op(op, ins, attrs, opset).at(0);
}

void expect_values(const Tensor& t, const Shape& shape, const std::vector<double>& want, double tol = 1e-5) {
  ASSERT_EQ(t.shape(), shape);
  ASSERT_EQ(size_t(t.numel()), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const double got = t.get_f64(int64_t(i));
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got)) << "element " << i << " got " << got;
    } else if (std::isinf(want[i])) {
      EXPECT_EQ(got, want[i]) << "element " << i;
    } else {
      EXPECT_NEAR(got, want[i], tol * std::max(1.0, std::fabs(want[i]))) << "element " << i;
    }
  }
}

std::vector<int64_t> ints_of(const Tensor& t) { return t.to_i64_vector(); }

Attribute aint(int64_t v) { return Attribute::from_int(v); }
Attribute aflt(float v) { return Attribute::from_float(v); }
Attribute astr(const std::string& v) { return Attribute::from_string(v); }

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

}  // namespace

// ---- unary ---------------------------------------------------------------------------------

TEST(OpsEltwiseUnary, MathFunctions) {
  const Tensor x = f32({4}, {0.25f, 0.5f, 1.0f, 2.0f});
  expect_values(run1("Exp", {x}), {4}, {std::exp(0.25), std::exp(0.5), std::exp(1.0), std::exp(2.0)});
  expect_values(run1("Log", {x}), {4}, {std::log(0.25), std::log(0.5), 0.0, std::log(2.0)});
  expect_values(run1("Sqrt", {x}), {4}, {0.5, std::sqrt(0.5), 1.0, std::sqrt(2.0)});
  expect_values(run1("Reciprocal", {x}), {4}, {4.0, 2.0, 1.0, 0.5});
  expect_values(run1("Sin", {x}), {4}, {std::sin(0.25), std::sin(0.5), std::sin(1.0), std::sin(2.0)});
  expect_values(run1("Cos", {x}), {4}, {std::cos(0.25), std::cos(0.5), std::cos(1.0), std::cos(2.0)});
  expect_values(run1("Tan", {x}), {4}, {std::tan(0.25), std::tan(0.5), std::tan(1.0), std::tan(2.0)});
  expect_values(run1("Atan", {x}), {4}, {std::atan(0.25), std::atan(0.5), std::atan(1.0), std::atan(2.0)});
  expect_values(run1("Sinh", {x}), {4}, {std::sinh(0.25), std::sinh(0.5), std::sinh(1.0), std::sinh(2.0)});
  expect_values(run1("Cosh", {x}), {4}, {std::cosh(0.25), std::cosh(0.5), std::cosh(1.0), std::cosh(2.0)});
  expect_values(run1("Asinh", {x}), {4}, {std::asinh(0.25), std::asinh(0.5), std::asinh(1.0), std::asinh(2.0)});
  expect_values(run1("Erf", {x}), {4}, {std::erf(0.25), std::erf(0.5), std::erf(1.0), std::erf(2.0)});
  const Tensor u = f32({3}, {-0.5f, 0.0f, 0.5f});
  expect_values(run1("Asin", {u}), {3}, {std::asin(-0.5), 0.0, std::asin(0.5)});
  expect_values(run1("Acos", {u}), {3}, {std::acos(-0.5), std::acos(0.0), std::acos(0.5)});
  expect_values(run1("Atanh", {u}), {3}, {std::atanh(-0.5), 0.0, std::atanh(0.5)});
  expect_values(run1("Acosh", {f32({2}, {1.0f, 3.0f})}), {2}, {0.0, std::acosh(3.0)});
  // double inputs stay double
  const Tensor d = run1("Exp", {f64({1}, {1.0})});
  EXPECT_EQ(d.dtype(), DType::F64);
  EXPECT_DOUBLE_EQ(d.data<double>()[0], std::exp(1.0));
}

TEST(OpsEltwiseUnary, RoundingAndSign) {
  const Tensor x = f32({8}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.4f, -2.6f});
  expect_values(run1("Round", {x}), {8}, {0, 2, 2, -0.0, -2, -2, 2, -3});
  expect_values(run1("Floor", {x}), {8}, {0, 1, 2, -1, -2, -3, 2, -3});
  expect_values(run1("Ceil", {x}), {8}, {1, 2, 3, -0.0, -1, -2, 3, -2});
  expect_values(run1("Sign", {f32({4}, {-3.f, 0.f, 2.f, float(kNaN)})}), {4}, {-1, 0, 1, kNaN});
  EXPECT_EQ(ints_of(run1("Sign", {i64({3}, {-7, 0, 9})})), (std::vector<int64_t>{-1, 0, 1}));
  EXPECT_EQ(ints_of(run1("Abs", {i32({3}, {-7, 0, 9})})), (std::vector<int64_t>{7, 0, 9}));
  EXPECT_EQ(ints_of(run1("Neg", {i8({3}, {-7, 0, 9})})), (std::vector<int64_t>{7, 0, -9}));
  expect_values(run1("Abs", {f32({2}, {-1.5f, 2.f})}), {2}, {1.5, 2});
}

TEST(OpsEltwiseUnary, PredicatesAndLogic) {
  const Tensor x = f32({4}, {1.f, float(kNaN), float(kInf), float(-kInf)});
  EXPECT_EQ(ints_of(run1("IsNaN", {x})), (std::vector<int64_t>{0, 1, 0, 0}));
  EXPECT_EQ(ints_of(run1("IsInf", {x})), (std::vector<int64_t>{0, 0, 1, 1}));
  EXPECT_EQ(ints_of(run1("IsInf", {x}, {{"detect_negative", aint(0)}})), (std::vector<int64_t>{0, 0, 1, 0}));
  EXPECT_EQ(ints_of(run1("IsInf", {x}, {{"detect_positive", aint(0)}})), (std::vector<int64_t>{0, 0, 0, 1}));
  EXPECT_EQ(ints_of(run1("Not", {bools({3}, {1, 0, 1})})), (std::vector<int64_t>{0, 1, 0}));
  EXPECT_EQ(ints_of(run1("BitwiseNot", {i32({2}, {0, 5})}, {}, 18)), (std::vector<int64_t>{-1, -6}));
  EXPECT_EQ(ints_of(run1("BitwiseNot", {u8({2}, {0, 5})}, {}, 18)), (std::vector<int64_t>{255, 250}));
}

TEST(OpsEltwiseUnary, HalfInputsComputeThroughF32) {
  const Tensor h = f32({3}, {1.f, 4.f, 9.f}).cast(DType::F16);
  const Tensor y = run1("Sqrt", {h});
  EXPECT_EQ(y.dtype(), DType::F16);
  expect_values(y, {3}, {1, 2, 3});
}

// ---- binary arithmetic ------------------------------------------------------------------------

TEST(OpsEltwiseBinary, AddSubMulDivBroadcast) {
  const Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b = f32({3}, {10, 20, 30});
  expect_values(run1("Add", {a, b}), {2, 3}, {11, 22, 33, 14, 25, 36});
  expect_values(run1("Sub", {a, b}), {2, 3}, {-9, -18, -27, -6, -15, -24});
  expect_values(run1("Mul", {a, b}), {2, 3}, {10, 40, 90, 40, 100, 180});
  expect_values(run1("Div", {b, a}), {2, 3}, {10, 10, 10, 2.5, 4, 5});
  // both sides broadcast: [2,1] x [1,3] -> [2,3]
  expect_values(run1("Add", {f32({2, 1}, {1, 2}), f32({1, 3}, {10, 20, 30})}), {2, 3}, {11, 21, 31, 12, 22, 32});
  // scalar on either side
  expect_values(run1("Sub", {f32({}, {1}), a}), {2, 3}, {0, -1, -2, -3, -4, -5});
  // rank-0 with rank-0
  expect_values(run1("Mul", {f32({}, {3}), f32({}, {4})}), {}, {12});
  // integer types wrap like C
  EXPECT_EQ(ints_of(run1("Add", {u8({2}, {250, 1}), u8({2}, {10, 1})})), (std::vector<int64_t>{4, 2}));
}

TEST(OpsEltwiseBinary, BroadcastPathMatchesFastPath) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-2.f, 2.f);
  std::vector<float> av(5 * 7 * 9), bv(7);
  for (float& v : av) v = dist(rng);
  for (float& v : bv) v = dist(rng);
  const Tensor a = f32({5, 7, 9}, av);
  const Tensor b = f32({7, 1}, bv);
  const Tensor y = run1("Mul", {a, b});
  ASSERT_EQ(y.shape(), (Shape{5, 7, 9}));
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t j = 0; j < 7; ++j)
      for (int64_t k = 0; k < 9; ++k) {
        const int64_t o = (i * 7 + j) * 9 + k;
        ASSERT_FLOAT_EQ(y.data<float>()[o], av[size_t(o)] * bv[size_t(j)]);
      }
  // explicitly expanded b through the same-shape fast path gives identical numbers
  std::vector<float> bfull(av.size());
  for (size_t o = 0; o < bfull.size(); ++o) bfull[o] = bv[(o / 9) % 7];
  const Tensor y2 = run1("Mul", {a, f32({5, 7, 9}, bfull)});
  for (int64_t o = 0; o < y.numel(); ++o) ASSERT_EQ(y.data<float>()[o], y2.data<float>()[o]);
}

TEST(OpsEltwiseBinary, IntegerDivisionTruncates) {
  const Tensor a = i32({4}, {7, -7, 7, -7});
  const Tensor b = i32({4}, {2, 2, -2, -2});
  EXPECT_EQ(ints_of(run1("Div", {a, b})), (std::vector<int64_t>{3, -3, -3, 3}));
  EXPECT_EQ(ints_of(run1("Div", {i64({1}, {std::numeric_limits<int64_t>::min()}), i64({1}, {-1})})),
            (std::vector<int64_t>{std::numeric_limits<int64_t>::min()}));
  EXPECT_THROW(run1("Div", {i32({1}, {1}), i32({1}, {0})}), Error);
  // float division by zero follows IEEE
  expect_values(run1("Div", {f32({2}, {1, -1}), f32({2}, {0, 0})}), {2}, {kInf, -kInf});
}

TEST(OpsEltwiseBinary, ModSignRules) {
  const Tensor a = i64({4}, {-4, 7, 5, -5});
  const Tensor b = i64({4}, {3, -3, -3, 3});
  // fmod=0: Python rule, result takes the divisor's sign
  EXPECT_EQ(ints_of(run1("Mod", {a, b})), (std::vector<int64_t>{2, -2, -1, 1}));
  // fmod=1: C rule, result takes the dividend's sign
  EXPECT_EQ(ints_of(run1("Mod", {a, b}, {{"fmod", aint(1)}})), (std::vector<int64_t>{-1, 1, 2, -2}));
  expect_values(run1("Mod", {f32({2}, {-4.5f, 4.5f}), f32({2}, {2.f, -2.f})}, {{"fmod", aint(1)}}), {2},
                {-0.5, 0.5});
  expect_values(run1("Mod", {f32({2}, {-4.5f, 4.5f}), f32({2}, {2.f, -2.f})}), {2}, {1.5, -1.5});
  EXPECT_EQ(ints_of(run1("Mod", {u8({2}, {7, 200}), u8({1}, {6})})), (std::vector<int64_t>{1, 2}));
  EXPECT_THROW(run1("Mod", {i32({1}, {1}), i32({1}, {0})}), Error);
}

TEST(OpsEltwiseBinary, PowMixedTypes) {
  expect_values(run1("Pow", {f32({3}, {1, 2, 3}), f32({3}, {4, 5, 6})}), {3}, {1, 32, 729});
  const Tensor ip = run1("Pow", {i64({3}, {1, 2, 3}), f32({3}, {4, 5, 6})});
  EXPECT_EQ(ip.dtype(), DType::I64);
  EXPECT_EQ(ints_of(ip), (std::vector<int64_t>{1, 32, 729}));
  const Tensor fp = run1("Pow", {f32({3}, {1.5f, 2, -2}), i32({1}, {2})});
  EXPECT_EQ(fp.dtype(), DType::F32);
  expect_values(fp, {3}, {2.25, 4, 4});
  EXPECT_EQ(ints_of(run1("Pow", {i32({3}, {-2, 3, 2}), i32({3}, {3, 2, -1})})), (std::vector<int64_t>{-8, 9, 0}));
  expect_values(run1("Pow", {f32({2}, {4, 9}), f32({}, {0.5f})}), {2}, {2, 3});
}

TEST(OpsEltwiseBinary, LogicBitwiseAndCompare) {
  const Tensor p = bools({4}, {0, 0, 1, 1});
  const Tensor q = bools({4}, {0, 1, 0, 1});
  EXPECT_EQ(ints_of(run1("And", {p, q})), (std::vector<int64_t>{0, 0, 0, 1}));
  EXPECT_EQ(ints_of(run1("Or", {p, q})), (std::vector<int64_t>{0, 1, 1, 1}));
  EXPECT_EQ(ints_of(run1("Xor", {p, q})), (std::vector<int64_t>{0, 1, 1, 0}));
  EXPECT_EQ(ints_of(run1("And", {bools({2, 2}, {1, 1, 0, 1}), bools({2}, {1, 0})})),
            (std::vector<int64_t>{1, 0, 0, 0}));
  const Tensor a = i32({3}, {12, 10, 7});
  const Tensor b = i32({3}, {10, 6, 1});
  EXPECT_EQ(ints_of(run1("BitwiseAnd", {a, b}, {}, 18)), (std::vector<int64_t>{8, 2, 1}));
  EXPECT_EQ(ints_of(run1("BitwiseOr", {a, b}, {}, 18)), (std::vector<int64_t>{14, 14, 7}));
  EXPECT_EQ(ints_of(run1("BitwiseXor", {a, b}, {}, 18)), (std::vector<int64_t>{6, 12, 6}));
  const Tensor s = Tensor::from_vector(DType::U32, {3}, std::vector<int>{16, 4, 1});
  const Tensor k = Tensor::from_vector(DType::U32, {3}, std::vector<int>{1, 2, 40});
  EXPECT_EQ(ints_of(run1("BitShift", {s, k}, {{"direction", astr("LEFT")}})), (std::vector<int64_t>{32, 16, 0}));
  EXPECT_EQ(ints_of(run1("BitShift", {s, k}, {{"direction", astr("RIGHT")}})), (std::vector<int64_t>{8, 1, 0}));
  EXPECT_THROW(run1("BitShift", {s, k}, {{"direction", astr("UP")}}), Error);
  EXPECT_THROW(run1("BitShift", {a, b}, {{"direction", astr("LEFT")}}), Error);  // signed refused

  const Tensor x = f32({2, 2}, {1, 2, 3, 4});
  const Tensor y = f32({2}, {2, 3});
  EXPECT_EQ(ints_of(run1("Equal", {x, y})), (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(ints_of(run1("Equal", {x, f32({2}, {1, 4})})), (std::vector<int64_t>{1, 0, 0, 1}));
  EXPECT_EQ(ints_of(run1("Greater", {x, y})), (std::vector<int64_t>{0, 0, 1, 1}));
  EXPECT_EQ(ints_of(run1("GreaterOrEqual", {x, y})), (std::vector<int64_t>{0, 0, 1, 1}));
  EXPECT_EQ(ints_of(run1("Less", {x, y})), (std::vector<int64_t>{1, 1, 0, 0}));
  EXPECT_EQ(ints_of(run1("LessOrEqual", {x, f32({2}, {1, 3})})), (std::vector<int64_t>{1, 1, 0, 0}));
  EXPECT_EQ(run1("Less", {x, y}).dtype(), DType::Bool);
  EXPECT_EQ(ints_of(run1("Equal", {strs({3}, {"a", "b", "c"}), strs({1}, {"b"})}, {}, 19)),
            (std::vector<int64_t>{0, 1, 0}));
  EXPECT_EQ(ints_of(run1("Greater", {u8({2}, {200, 3}), u8({2}, {100, 4})})), (std::vector<int64_t>{1, 0}));
}

TEST(OpsEltwiseBinary, VariadicMaxMinSumMean) {
  const Tensor a = f32({3}, {3, 2, 1});
  const Tensor b = f32({3}, {1, 4, 4});
  const Tensor c = f32({1}, {2});
  expect_values(run1("Max", {a, b, c}), {3}, {3, 4, 4});
  expect_values(run1("Min", {a, b, c}), {3}, {1, 2, 1});
  expect_values(run1("Sum", {a, b, c}), {3}, {6, 8, 7});
  expect_values(run1("Mean", {a, b, c}), {3}, {2, 8.0 / 3, 7.0 / 3});
  expect_values(run1("Sum", {a}), {3}, {3, 2, 1});
  expect_values(run1("Max", {f32({2}, {1, float(kNaN)}), f32({2}, {float(kNaN), 0})}), {2}, {kNaN, kNaN});
  EXPECT_EQ(ints_of(run1("Max", {i8({2}, {-5, 7}), i8({2}, {-6, 8})})), (std::vector<int64_t>{-5, 8}));
  EXPECT_EQ(ints_of(run1("Min", {u8({2}, {200, 7}), u8({2}, {100, 8})})), (std::vector<int64_t>{100, 7}));
  expect_values(run1("Sum", {f32({2, 1}, {1, 2}), f32({3}, {10, 20, 30})}), {2, 3}, {11, 21, 31, 12, 22, 32});
}

TEST(OpsEltwiseBinary, LegacyBroadcastAxis) {
  // opset 6: B of shape [3] aligned at axis 1 of A [2,3,2]
  const Tensor a = f32({2, 3, 2}, {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1});
  const Tensor b = f32({3}, {1, 2, 3});
  expect_values(run1("Add", {a, b}, {{"broadcast", aint(1)}, {"axis", aint(1)}}, 6), {2, 3, 2},
                {1, 1, 2, 2, 3, 3, 2, 2, 3, 3, 4, 4});
}

TEST(OpsEltwiseBinary, BadInputsThrow) {
  EXPECT_THROW(run1("Add", {f32({2, 3}, {1, 2, 3, 4, 5, 6}), f32({4}, {1, 2, 3, 4})}), Error);
  EXPECT_THROW(run1("Mul", {f32({2}, {1, 2}), i32({2}, {1, 2})}), Error);
  EXPECT_THROW(run1("And", {f32({1}, {1}), f32({1}, {1})}), Error);
  EXPECT_THROW(run1("Not", {f32({1}, {1})}), Error);
  EXPECT_THROW(run1("Exp", {i32({1}, {1})}), Error);
  EXPECT_THROW(run1("Where", {f32({1}, {1}), f32({1}, {1}), f32({1}, {2})}), Error);
  EXPECT_THROW(run1("Where", {bools({2}, {1, 0}), f32({3}, {1, 2, 3}), f32({1}, {2})}), Error);
  EXPECT_THROW(run1("Add", {f32({1}, {1})}), Error);  // missing input
  // shape inference refuses mismatched static shapes as well
  Node n;
  n.op_type = "Add";
  n.name = "bad";
  n.inputs = {"a", "b"};
  n.outputs = {"c"};
  Graph g;
  const OpInfo* info = OpRegistry::instance().find("", "Add", 17);
  ASSERT_NE(info, nullptr);
  InferContext ic{n, g, 17, {TensorType(DType::F32, Shape{2, 3}), TensorType(DType::F32, Shape{2})}, {nullptr, nullptr}};
  EXPECT_THROW(info->shape(ic), Error);
}

TEST(OpsEltwiseBinary, MappingTypesAndProps) {
  const OpRegistry& r = OpRegistry::instance();
  Node n;
  n.op_type = "Add";
  const TensorType full(DType::F32, Shape{2, 3});
  const TensorType row(DType::F32, Shape{3});
  EXPECT_EQ(r.mapping_of(n, {full, full}, {full}), MappingType::OneToOne);
  EXPECT_EQ(r.mapping_of(n, {full, row}, {full}), MappingType::OneToMany);
  n.op_type = "Where";
  EXPECT_EQ(r.mapping_of(n, {TensorType(DType::Bool, Shape{2, 3}), full, full}, {full}), MappingType::OneToOne);
  EXPECT_EQ(r.mapping_of(n, {TensorType(DType::Bool, Shape{1}), full, full}, {full}), MappingType::OneToMany);

  const OpInfo* add = r.find("", "Add", 17);
  const OpInfo* mul = r.find("", "Mul", 17);
  const OpInfo* sub = r.find("", "Sub", 17);
  const OpInfo* div = r.find("", "Div", 17);
  ASSERT_TRUE(add && mul && sub && div);
  EXPECT_TRUE(add->props.associative && add->props.commutative);
  EXPECT_EQ(add->props.identity.value_or(-1.0), 0.0);
  EXPECT_EQ(mul->props.identity.value_or(-1.0), 1.0);
  EXPECT_EQ(mul->props.absorbing.value_or(-1.0), 0.0);
  EXPECT_EQ(mul->props.distributes_over, (std::vector<std::string>{"Add", "Sub"}));
  EXPECT_FALSE(sub->props.identity.has_value());
  EXPECT_FALSE(div->props.identity.has_value());
  EXPECT_FALSE(sub->props.commutative);
  EXPECT_TRUE(r.find("", "Max", 17)->props.associative);
  EXPECT_TRUE(r.find("", "Equal", 17)->props.commutative);
  EXPECT_FALSE(r.find("", "Equal", 17)->props.associative);
  EXPECT_EQ(r.find("", "Relu", 17)->mapping, MappingType::OneToOne);
  EXPECT_EQ(r.find("", "Softmax", 17)->mapping, MappingType::ManyToMany);
  EXPECT_EQ(r.find("", "Cast", 17)->mapping, MappingType::OneToOne);
  EXPECT_EQ(r.find("", "Swish", 17), nullptr);  // introduced in opset 24
  EXPECT_NE(r.find("", "Swish", 24), nullptr);
}

// ---- Where / Cast / Clip ----------------------------------------------------------------------

TEST(OpsEltwiseWhere, BroadcastsAllInputs) {
  const Tensor c = bools({2, 1}, {1, 0});
  const Tensor x = f32({3}, {1, 2, 3});
  const Tensor y = f32({}, {-1});
  expect_values(run1("Where", {c, x, y}), {2, 3}, {1, 2, 3, -1, -1, -1});
  EXPECT_EQ(ints_of(run1("Where", {bools({3}, {1, 0, 1}), i64({3}, {1, 2, 3}), i64({3}, {7, 8, 9})})),
            (std::vector<int64_t>{1, 8, 3}));
  const Tensor s = run1("Where", {bools({2}, {0, 1}), strs({2}, {"a", "b"}), strs({1}, {"z"})});
  EXPECT_EQ(s.strings(), (std::vector<std::string>{"z", "b"}));
}

TEST(OpsEltwiseCast, HalfRoundTripAndRounding) {
  const Tensor x = f32({5}, {1.0f, -2.5f, 0.099975586f, 65504.f, 1.0f / 3.0f});
  const Tensor h = run1("Cast", {x}, {{"to", aint(10)}});
  EXPECT_EQ(h.dtype(), DType::F16);
  const Tensor back = run1("Cast", {h}, {{"to", aint(1)}});
  EXPECT_EQ(back.dtype(), DType::F32);
  // exactly representable values survive; 1/3 rounds to the nearest half (0.33325195)
  expect_values(back, {5}, {1.0, -2.5, 0.099975586, 65504.0, 0.333251953125}, 1e-9);
  const Tensor bf = run1("Cast", {f32({1}, {1.0f})}, {{"to", aint(16)}});
  EXPECT_EQ(bf.dtype(), DType::BF16);
  EXPECT_EQ(bf.data<uint16_t>()[0], 0x3F80);
  const Tensor d = run1("Cast", {h}, {{"to", aint(11)}});
  EXPECT_EQ(d.dtype(), DType::F64);
  EXPECT_DOUBLE_EQ(d.data<double>()[1], -2.5);
}

TEST(OpsEltwiseCast, IntegersBoolAndStrings) {
  EXPECT_EQ(ints_of(run1("Cast", {f32({4}, {2.7f, -2.7f, 0.f, 1e20f})}, {{"to", aint(6)}})),
            (std::vector<int64_t>{2, -2, 0, std::numeric_limits<int32_t>::max()}));
  EXPECT_EQ(ints_of(run1("Cast", {f32({3}, {0.f, 0.5f, -2.f})}, {{"to", aint(9)}})), (std::vector<int64_t>{0, 1, 1}));
  EXPECT_EQ(ints_of(run1("Cast", {i32({2}, {300, -1})}, {{"to", aint(2)}})), (std::vector<int64_t>{44, 255}));
  const Tensor s = run1("Cast", {f32({5}, {0.9767611f, 0.039187793f, 1e-5f, 100.f, -1.5e20f})}, {{"to", aint(8)}});
  EXPECT_EQ(s.strings(), (std::vector<std::string>{"0.9767611", "0.039187793", "1e-05", "100.0", "-1.5e+20"}));
  EXPECT_EQ(run1("Cast", {i64({2}, {-12, 7})}, {{"to", aint(8)}}).strings(), (std::vector<std::string>{"-12", "7"}));
  const Tensor f = run1("Cast", {strs({5}, {"0.5", "NaN", "INF", "-INF", "+INF"})}, {{"to", aint(1)}});
  expect_values(f, {5}, {0.5, kNaN, kInf, -kInf, kInf});
  EXPECT_EQ(ints_of(run1("Cast", {strs({2}, {"42", "-3"})}, {{"to", aint(7)}})), (std::vector<int64_t>{42, -3}));
  // the opset 1 form names the type
  EXPECT_EQ(run1("Cast", {i32({1}, {1})}, {{"to", astr("FLOAT")}}, 5).dtype(), DType::F32);
  // float8 targets are refused by name
  try {
    run1("Cast", {f32({1}, {1})}, {{"to", aint(17)}}, 19);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("float8"), std::string::npos) << e.what();
  }
  EXPECT_THROW(run1("Cast", {strs({1}, {"abc"})}, {{"to", aint(1)}}), Error);
  const Tensor cl = run1("CastLike", {f32({2}, {1.5f, -1.5f}), i64({0}, {})}, {}, 15);
  EXPECT_EQ(cl.dtype(), DType::I64);
  EXPECT_EQ(ints_of(cl), (std::vector<int64_t>{1, -1}));
}

TEST(OpsEltwiseClip, AttributesInputsAndIntegers) {
  const Tensor x = f32({5}, {-3, -1, 0, 1, 3});
  expect_values(run1("Clip", {x}, {{"min", aflt(-1.5f)}, {"max", aflt(2.f)}}, 6), {5}, {-1.5, -1, 0, 1, 2});
  expect_values(run1("Clip", {x, f32({}, {-1.5f}), f32({}, {2.f})}, {}, 13), {5}, {-1.5, -1, 0, 1, 2});
  expect_values(run1("Clip", {x, Tensor(), f32({}, {0.5f})}, {}, 13), {5}, {-3, -1, 0, 0.5, 0.5});
  expect_values(run1("Clip", {x, f32({}, {0.f})}, {}, 13), {5}, {0, 0, 0, 1, 3});
  expect_values(run1("Clip", {x}, {}, 13), {5}, {-3, -1, 0, 1, 3});
  // min > max yields max everywhere
  expect_values(run1("Clip", {x, f32({}, {2.f}), f32({}, {1.f})}, {}, 13), {5}, {1, 1, 1, 1, 1});
  EXPECT_EQ(ints_of(run1("Clip", {i8({4}, {-128, -5, 5, 127}), i8({}, {-10}), i8({}, {10})}, {}, 13)),
            (std::vector<int64_t>{-10, -5, 5, 10}));
  expect_values(run1("Clip", {f32({1}, {float(kNaN)}), f32({}, {0.f}), f32({}, {1.f})}, {}, 13), {1}, {kNaN});
  EXPECT_THROW(run1("Clip", {x, i8({}, {0})}, {}, 13), Error);
}

// ---- activations ---------------------------------------------------------------------------------

TEST(OpsEltwiseActivation, PointwiseFormulas) {
  const std::vector<float> xs = {-3.f, -0.5f, 0.f, 0.7f, 4.f};
  const Tensor x = f32({5}, xs);
  auto ref = [&](auto f) {
    std::vector<double> v;
    for (float a : xs) v.push_back(f(double(a)));
    return v;
  };
  auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  expect_values(run1("Relu", {x}), {5}, ref([](double v) { return std::max(v, 0.0); }));
  EXPECT_EQ(ints_of(run1("Relu", {i32({3}, {-4, 0, 5})}, {}, 14)), (std::vector<int64_t>{0, 0, 5}));
  expect_values(run1("LeakyRelu", {x}, {{"alpha", aflt(0.1f)}}), {5}, ref([](double v) { return v < 0 ? 0.1 * v : v; }));
  expect_values(run1("LeakyRelu", {x}), {5}, ref([](double v) { return v < 0 ? 0.01 * v : v; }));
  expect_values(run1("Sigmoid", {x}), {5}, ref(sig));
  expect_values(run1("Sigmoid", {f32({2}, {-100.f, 100.f})}), {2}, {std::exp(-100.0), 1.0});
  expect_values(run1("HardSigmoid", {x}), {5}, ref([](double v) { return std::clamp(0.2 * v + 0.5, 0.0, 1.0); }));
  expect_values(run1("HardSwish", {x}), {5}, ref([](double v) { return v * std::clamp(v / 6 + 0.5, 0.0, 1.0); }));
  expect_values(run1("Tanh", {x}), {5}, ref([](double v) { return std::tanh(v); }));
  expect_values(run1("Elu", {x}, {{"alpha", aflt(2.f)}}), {5}, ref([](double v) { return v < 0 ? 2 * (std::exp(v) - 1) : v; }));
  const double sa = 1.6732632423543772, sg = 1.0507009873554805;
  expect_values(run1("Selu", {x}), {5}, ref([&](double v) { return v <= 0 ? sg * (sa * std::exp(v) - sa) : sg * v; }));
  expect_values(run1("Celu", {x}, {{"alpha", aflt(2.f)}}), {5},
                ref([](double v) { return std::max(0.0, v) + std::min(0.0, 2 * (std::exp(v / 2) - 1)); }));
  expect_values(run1("Gelu", {x}, {}, 20), {5}, ref([](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }));
  expect_values(run1("Gelu", {x}, {{"approximate", astr("tanh")}}, 20), {5}, ref([](double v) {
                  return 0.5 * v * (1 + std::tanh(std::sqrt(2 / 3.14159265358979323846) * (v + 0.044715 * v * v * v)));
                }));
  EXPECT_THROW(run1("Gelu", {x}, {{"approximate", astr("fast")}}, 20), Error);
  auto softplus = [](double v) { return std::log1p(std::exp(v)); };
  expect_values(run1("Softplus", {x}), {5}, ref(softplus));
  expect_values(run1("Softplus", {f32({1}, {100.f})}), {1}, {100.0});  // no overflow
  expect_values(run1("Mish", {x}, {}, 18), {5}, ref([&](double v) { return v * std::tanh(softplus(v)); }));
  expect_values(run1("Softsign", {x}), {5}, ref([](double v) { return v / (1 + std::fabs(v)); }));
  expect_values(run1("ThresholdedRelu", {x}, {{"alpha", aflt(0.5f)}}), {5}, ref([](double v) { return v > 0.5 ? v : 0.0; }));
  expect_values(run1("Shrink", {x}, {{"lambd", aflt(0.6f)}, {"bias", aflt(0.1f)}}), {5},
                ref([](double v) { return v < -0.6 ? v + 0.1 : (v > 0.6 ? v - 0.1 : 0.0); }));
  EXPECT_EQ(ints_of(run1("Shrink", {i32({3}, {-5, 0, 5})}, {{"lambd", aflt(1.f)}, {"bias", aflt(1.f)}})),
            (std::vector<int64_t>{-4, 0, 4}));
  expect_values(run1("Swish", {x}, {{"alpha", aflt(1.5f)}}, 24), {5}, ref([&](double v) { return v * sig(1.5 * v); }));
}

TEST(OpsEltwiseActivation, PReluBroadcastsSlope) {
  const Tensor x = f32({2, 3}, {-1, 2, -3, 4, -5, 6});
  expect_values(run1("PRelu", {x, f32({3}, {0.1f, 0.2f, 0.3f})}), {2, 3}, {-0.1, 2, -0.9, 4, -1.0, 6});
  expect_values(run1("PRelu", {x, f32({1}, {0.5f})}), {2, 3}, {-0.5, 2, -1.5, 4, -2.5, 6});
  EXPECT_THROW(run1("PRelu", {x, f32({2}, {0.1f, 0.2f})}), Error);
  EXPECT_THROW(run1("PRelu", {f32({3}, {1, 2, 3}), f32({2, 3}, {1, 1, 1, 1, 1, 1})}), Error);
}

TEST(OpsEltwiseSoftmax, AxisSemanticsOpset11VsOpset13) {
  std::vector<float> v(2 * 3 * 4);
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(std::sin(double(i)) * 2.0);
  const Tensor x = f32({2, 3, 4}, v);
  const Attrs axis1 = {{"axis", aint(1)}};
  const Tensor y11 = run1("Softmax", {x}, axis1, 11);
  const Tensor y13 = run1("Softmax", {x}, axis1, 13);
  const float* a = y11.data<float>();
  const float* b = y13.data<float>();
  // opset 11: coerced to [2, 12]; each row of 12 sums to 1
  for (int i = 0; i < 2; ++i) {
    double s = 0;
    for (int j = 0; j < 12; ++j) s += a[i * 12 + j];
    EXPECT_NEAR(s, 1.0, 1e-5);
  }
  // opset 13: along dimension 1 only; each (i, :, k) column sums to 1
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 4; ++k) {
      double s = 0, m = -1e30;
      for (int j = 0; j < 3; ++j) m = std::max(m, double(v[size_t((i * 3 + j) * 4 + k)]));
      for (int j = 0; j < 3; ++j) s += std::exp(double(v[size_t((i * 3 + j) * 4 + k)]) - m);
      for (int j = 0; j < 3; ++j) {
        const int o = (i * 3 + j) * 4 + k;
        EXPECT_NEAR(b[o], std::exp(double(v[size_t(o)]) - m) / s, 1e-6);
      }
    }
  EXPECT_GT(std::fabs(a[0] - b[0]), 1e-3);
  // default axes: 1 before opset 13 (whole row of 12), -1 from 13 on
  const Tensor d11 = run1("Softmax", {x}, {}, 11);
  const Tensor d13 = run1("Softmax", {x}, {}, 13);
  for (int64_t i = 0; i < x.numel(); ++i) EXPECT_FLOAT_EQ(d11.data<float>()[i], a[i]);
  double s = 0;
  for (int k = 0; k < 4; ++k) s += d13.data<float>()[k];
  EXPECT_NEAR(s, 1.0, 1e-5);
  // LogSoftmax = log(Softmax)
  const Tensor l13 = run1("LogSoftmax", {x}, axis1, 13);
  for (int64_t i = 0; i < x.numel(); ++i) EXPECT_NEAR(l13.data<float>()[i], std::log(b[i]), 1e-5);
  // large inputs do not overflow
  expect_values(run1("Softmax", {f32({3}, {1000.f, 1000.f, -1000.f})}, {}, 13), {3}, {0.5, 0.5, 0.0});
  EXPECT_THROW(run1("Softmax", {x}, {{"axis", aint(3)}}, 13), Error);
}

TEST(OpsEltwiseSoftmax, HardmaxFirstMaximum) {
  const Tensor x = f32({2, 3}, {1, 3, 3, 2, 0, -1});
  expect_values(run1("Hardmax", {x}, {}, 13), {2, 3}, {0, 1, 0, 1, 0, 0});
  // opset 11 axis 0 coerces to [1, 6]: the single first maximum of all six
  expect_values(run1("Hardmax", {x}, {{"axis", aint(0)}}, 11), {2, 3}, {0, 1, 0, 0, 0, 0});
  expect_values(run1("Hardmax", {x}, {{"axis", aint(0)}}, 13), {2, 3}, {0, 1, 1, 1, 0, 0});
}

// ---- quantisation -----------------------------------------------------------------------------------

TEST(OpsEltwiseQuantize, PerTensorRoundsHalfToEvenAndSaturates) {
  const Tensor x = f32({6}, {0.f, 2.5f, 3.5f, -2.5f, 1000.f, -1000.f});
  const Tensor y = run1("QuantizeLinear", {x, f32({}, {1.f}), u8({}, {10})}, {}, 13);
  EXPECT_EQ(y.dtype(), DType::U8);
  EXPECT_EQ(ints_of(y), (std::vector<int64_t>{10, 12, 14, 8, 255, 0}));
  const Tensor s = run1("QuantizeLinear", {x, f32({}, {2.f}), i8({}, {0})}, {}, 13);
  EXPECT_EQ(s.dtype(), DType::I8);
  EXPECT_EQ(ints_of(s), (std::vector<int64_t>{0, 1, 2, -1, 127, -128}));
  // no zero point: uint8
  EXPECT_EQ(run1("QuantizeLinear", {x, f32({}, {1.f})}, {}, 13).dtype(), DType::U8);
  // output_dtype without zero point (opset 21)
  EXPECT_EQ(run1("QuantizeLinear", {x, f32({}, {1.f})}, {{"output_dtype", aint(3)}}, 21).dtype(), DType::I8);
}

TEST(OpsEltwiseQuantize, PerAxisAndBlocked) {
  const Tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor scale = f32({3}, {1.f, 2.f, 4.f});
  const Tensor zp = u8({3}, {0, 10, 100});
  const Tensor q = run1("QuantizeLinear", {x, scale, zp}, {{"axis", aint(1)}}, 13);
  EXPECT_EQ(ints_of(q), (std::vector<int64_t>{1, 11, 101, 4, 12, 102}));
  const Tensor dq = run1("DequantizeLinear", {q, scale, zp}, {{"axis", aint(1)}}, 13);
  expect_values(dq, {2, 3}, {1, 2, 4, 4, 4, 8});
  // axis 0 per-row scale
  const Tensor d0 = run1("DequantizeLinear", {i8({2, 3}, {1, -2, 3, 4, 5, -6}), f32({2}, {0.5f, 2.f})}, {{"axis", aint(0)}}, 13);
  expect_values(d0, {2, 3}, {0.5, -1, 1.5, 8, 10, -12});
  // blocked: block_size 2 along axis 1 of a [1,4] input, scale [1,2]
  const Tensor xb = f32({1, 4}, {2, 4, 30, 60});
  const Tensor sb = f32({1, 2}, {2.f, 30.f});
  const Tensor qb = run1("QuantizeLinear", {xb, sb, i8({1, 2}, {0, 0})}, {{"axis", aint(1)}, {"block_size", aint(2)}}, 21);
  EXPECT_EQ(ints_of(qb), (std::vector<int64_t>{1, 2, 1, 2}));
  expect_values(run1("DequantizeLinear", {qb, sb, i8({1, 2}, {0, 0})}, {{"axis", aint(1)}, {"block_size", aint(2)}}, 21),
                {1, 4}, {2, 4, 30, 60});
  // scale length that fits no layout
  EXPECT_THROW(run1("QuantizeLinear", {x, f32({2}, {1, 1}), u8({2}, {0, 0})}, {{"axis", aint(1)}}, 13), Error);
  EXPECT_THROW(run1("DequantizeLinear", {q, scale, i8({3}, {0, 0, 0})}, {{"axis", aint(1)}}, 13), Error);
  EXPECT_THROW(run1("DequantizeLinear", {x, scale}, {{"axis", aint(1)}}, 13), Error);  // float input
}

TEST(OpsEltwiseQuantize, DequantizeInt32AndHalfScale) {
  const Tensor d = run1("DequantizeLinear", {i32({3}, {-100, 0, 100}), f32({}, {0.25f})}, {}, 13);
  expect_values(d, {3}, {-25, 0, 25});
  const Tensor h = run1("DequantizeLinear", {u8({2}, {0, 255}), f32({}, {0.5f}).cast(DType::F16), u8({}, {128})}, {}, 19);
  EXPECT_EQ(h.dtype(), DType::F16);
  expect_values(h, {2}, {-64, 63.5});
}

TEST(OpsEltwiseQuantize, DynamicQuantizeLinearMatchesOnnxReference) {
  // The ONNX reference example: scale = (2 - (-3)) / 255, zero point 153.
  const Tensor x = f32({6}, {0.f, 2.f, -3.f, -2.5f, 1.34f, 0.5f});
  const std::vector<Tensor> out = run_op("DynamicQuantizeLinear", {x}, {}, 11, 3);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(ints_of(out[0]), (std::vector<int64_t>{153, 255, 0, 26, 221, 179}));
  EXPECT_NEAR(out[1].data<float>()[0], 5.0 / 255.0, 1e-7);
  EXPECT_EQ(int(out[2].data<uint8_t>()[0]), 153);
  // all-positive input: min is clamped to 0, zero point 0
  const std::vector<Tensor> pos = run_op("DynamicQuantizeLinear", {f32({3}, {1.f, 2.55f, 0.5f})}, {}, 11, 3);
  EXPECT_EQ(int(pos[2].data<uint8_t>()[0]), 0);
  EXPECT_EQ(ints_of(pos[0]), (std::vector<int64_t>{100, 255, 50}));
  // all zeros: scale 0 does not divide by zero
  const std::vector<Tensor> z = run_op("DynamicQuantizeLinear", {f32({2}, {0.f, 0.f})}, {}, 11, 3);
  EXPECT_EQ(ints_of(z[0]), (std::vector<int64_t>{0, 0}));
}

// ---- through the graph executor ----------------------------------------------------------------

TEST(OpsEltwiseGraph, ChainRunsThroughExecutor) {
  Graph g;
  g.name = "chain";
  g.opsets[""] = 17;
  g.inputs.push_back({"x", TensorType(DType::F32, Shape{2, 3})});
  g.initializers["b"] = f32({3}, {1, 2, 3});
  Node add;
  add.op_type = "Add";
  add.name = "add";
  add.inputs = {"x", "b"};
  add.outputs = {"s"};
  g.add_node(add);
  Node relu;
  relu.op_type = "Relu";
  relu.name = "relu";
  relu.inputs = {"s"};
  relu.outputs = {"r"};
  g.add_node(relu);
  Node sm;
  sm.op_type = "Softmax";
  sm.name = "sm";
  sm.inputs = {"r"};
  sm.outputs = {"y"};
  g.add_node(sm);
  g.outputs.push_back({"y", TensorType()});
  infer_shapes(g);
  ASSERT_NE(g.type_of("y"), nullptr);
  EXPECT_EQ(g.type_of("y")->static_shape(), (Shape{2, 3}));
  const TensorMap out = ReferenceExecutor(g).run({{"x", f32({2, 3}, {-1, -2, -3, 0, 0, 0})}});
  const Tensor& y = out.at("y");
  // row 0: relu([0,0,0]) -> uniform; row 1: softmax([1,2,3])
  const double e = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  expect_values(y, {2, 3}, {1.0 / 3, 1.0 / 3, 1.0 / 3, std::exp(1.0) / e, std::exp(2.0) / e, std::exp(3.0) / e});
}
