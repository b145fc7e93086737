// Tests of the matmul, reduce, attention and detection rows: MatMul/Gemm/Einsum numerics
// (batch broadcasting, 1-D operands, transposes, diagonals, ellipsis), integer and
// quantized matmul, Det, reductions incl. empty-axes and empty-set semantics, ArgMax,
// CumSum, TopK ties, Attention (masks, causal, GQA, KV cache), NMS, RoiAlign,
// GridSample, registry properties and bad inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/ir/op_registry.h"
#include "core/util/error.h"

namespace {

using namespace dnnf;

Tensor f32(Shape s, const std::vector<float>& v) { return Tensor::from_vector(DType::F32, std::move(s), v); }
Tensor i64(Shape s, const std::vector<int64_t>& v) { return Tensor::from_vector(DType::I64, std::move(s), v); }
Tensor i32(Shape s, const std::vector<int32_t>& v) { return Tensor::from_vector(DType::I32, std::move(s), v); }
Tensor u8(Shape s, const std::vector<int>& v) { return Tensor::from_vector(DType::U8, std::move(s), v); }
Tensor bools(Shape s, const std::vector<int>& v) { return Tensor::from_vector(DType::Bool, std::move(s), v); }

using Attrs = std::map<std::string, Attribute>;
Attribute aint(int64_t v) { return Attribute::from_int(v); }
Attribute aflt(float v) { return Attribute::from_float(v); }
Attribute astr(const std::string& v) { return Attribute::from_string(v); }
Attribute aints(std::vector<int64_t> v) { return Attribute::from_ints(std::move(v)); }

const double kInf = std::numeric_limits<double>::infinity();

// Runs one row's kernel and checks that its shape function (seeing every input value,
// as constant folding would) agrees with the kernel's outputs.
std::vector<Tensor> run_op(const std::string& op, const std::vector<Tensor>& ins, const Attrs& attrs = {},
                           int64_t opset = 17, size_t num_outputs = 1, bool check_shape = true) {
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
  if (check_shape) {
    Graph g;
    g.opsets[""] = opset;
    InferContext ic{n, g, opset, types, ptrs};
    const std::vector<TensorType> inferred = info->shape(ic);
    EXPECT_EQ(inferred.size(), outs.size()) << op;
    for (size_t i = 0; i < std::min(inferred.size(), outs.size()); ++i) {
      EXPECT_EQ(inferred[i].dtype, outs[i].dtype()) << op << " output " << i;
      const auto s = inferred[i].static_shape();
      EXPECT_TRUE(s.has_value()) << op << " output " << i;
      if (s) {
        EXPECT_EQ(*s, outs[i].shape()) << op << " output " << i;
      }
    }
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
    if (std::isinf(want[i])) EXPECT_EQ(got, want[i]) << "element " << i;
    else if (std::isnan(want[i])) EXPECT_TRUE(std::isnan(got)) << "element " << i;
    else EXPECT_NEAR(got, want[i], tol * std::max(1.0, std::fabs(want[i]))) << "element " << i;
  }
}

std::vector<float> iota_f(size_t n, float start = 1.0f) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + float(i);
  return v;
}

// Naive batched matmul for cross-checking: a [B, M, K], b [B, K, N].
std::vector<double> naive_mm(const std::vector<float>& a, const std::vector<float>& b, int B, int M, int K, int N) {
  std::vector<double> c(size_t(B * M * N), 0.0);
  for (int x = 0; x < B; ++x)
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j)
        for (int k = 0; k < K; ++k) c[size_t((x * M + i) * N + j)] += double(a[size_t((x * M + i) * K + k)]) * b[size_t((x * K + k) * N + j)];
  return c;
}

}  // namespace

// ---- MatMul -----------------------------------------------------------------------------

TEST(OpsMatmulMatMul, TwoByTwoAndRectangular) {
  expect_values(run1("MatMul", {f32({2, 2}, {1, 2, 3, 4}), f32({2, 2}, {5, 6, 7, 8})}), {2, 2}, {19, 22, 43, 50});
  // [2,3] x [3,1]
  expect_values(run1("MatMul", {f32({2, 3}, {1, 2, 3, 4, 5, 6}), f32({3, 1}, {1, 0, -1})}), {2, 1}, {-2, -2});
}

TEST(OpsMatmulMatMul, BatchBroadcasting) {
  // a [2,1,2,3], b [3,3,2] -> [2,3,2,2]; b's batch broadcasts against a's.
  const std::vector<float> av = iota_f(12), bv = iota_f(18, -5.0f);
  const Tensor out = run1("MatMul", {f32({2, 1, 2, 3}, av), f32({3, 3, 2}, bv)});
  ASSERT_EQ(out.shape(), (Shape{2, 3, 2, 2}));
  for (int x = 0; x < 2; ++x)
    for (int y = 0; y < 3; ++y) {
      std::vector<float> a(av.begin() + x * 6, av.begin() + x * 6 + 6), b(bv.begin() + y * 6, bv.begin() + y * 6 + 6);
      const std::vector<double> want = naive_mm(a, b, 1, 2, 3, 2);
      for (int e = 0; e < 4; ++e) EXPECT_NEAR(out.get_f64((x * 3 + y) * 4 + e), want[size_t(e)], 1e-4);
    }
}

TEST(OpsMatmulMatMul, OneDimensionalOperands) {
  // 1-D x 1-D -> scalar
  const Tensor dot = run1("MatMul", {f32({3}, {1, 2, 3}), f32({3}, {4, 5, 6})});
  expect_values(dot, {}, {32});
  // 1-D x 3-D: vector is promoted to [1,K] and the M dim dropped.
  expect_values(run1("MatMul", {f32({2}, {1, 1}), f32({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8})}), {2, 2}, {4, 6, 12, 14});
  // 3-D x 1-D: vector promoted to [K,1] and the N dim dropped.
  expect_values(run1("MatMul", {f32({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}), f32({2}, {1, -1})}), {2, 2}, {-1, -1, -1, -1});
}

TEST(OpsMatmulMatMul, IntegerAndHalf) {
  const Tensor r = run1("MatMul", {i32({1, 2}, {3, -4}), i32({2, 1}, {5, 6})});
  EXPECT_EQ(r.dtype(), DType::I32);
  EXPECT_EQ(r.to_i64_vector(), (std::vector<int64_t>{-9}));
  const Tensor h = run1("MatMul", {f32({2, 2}, {1, 2, 3, 4}).cast(DType::F16), f32({2, 2}, {0.5f, 0, 0, 2}).cast(DType::F16)});
  EXPECT_EQ(h.dtype(), DType::F16);
  expect_values(h.cast(DType::F32), {2, 2}, {0.5, 4, 1.5, 8});
}

TEST(OpsMatmulMatMul, LargeMatchesNaive) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> a(3 * 17 * 33), b(3 * 33 * 9);
  for (auto& x : a) x = u(rng);
  for (auto& x : b) x = u(rng);
  const Tensor out = run1("MatMul", {f32({3, 17, 33}, a), f32({3, 33, 9}, b)});
  expect_values(out, {3, 17, 9}, naive_mm(a, b, 3, 17, 33, 9), 1e-4);
  // Shapes that cross the kernel's column (512) and depth (128) blocks, M not a multiple of 4.
  std::vector<float> a2(6 * 300), b2(300 * 600);
  for (auto& x : a2) x = u(rng);
  for (auto& x : b2) x = u(rng);
  expect_values(run1("MatMul", {f32({6, 300}, a2), f32({300, 600}, b2)}), {6, 600}, naive_mm(a2, b2, 1, 6, 300, 600),
                1e-4);
}

TEST(OpsMatmulMatMul, BadShapesThrow) {
  EXPECT_THROW(run1("MatMul", {f32({2, 3}, iota_f(6)), f32({2, 3}, iota_f(6))}), Error);
  EXPECT_THROW(run1("MatMul", {f32({2, 2, 3}, iota_f(12)), f32({3, 3, 1}, iota_f(9))}), Error);  // batch 2 vs 3
  EXPECT_THROW(run1("MatMul", {f32({}, {1}), f32({1}, {1})}), Error);
  EXPECT_THROW(run1("MatMul", {f32({1, 1}, {1}), i32({1, 1}, {1})}), Error);
}

TEST(OpsMatmulMatMul, RegistryPropertiesAndCost) {
  const OpRegistry& reg = OpRegistry::instance();
  const OpInfo* mm = reg.find("", "MatMul", 13);
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(mm->mapping, MappingType::ManyToMany);
  EXPECT_TRUE(mm->props.associative);
  EXPECT_FALSE(mm->props.commutative);
  for (const char* op : {"Gemm", "Einsum", "ReduceSum", "ReduceMean", "ArgMax", "CumSum", "TopK", "Det",
                         "NonMaxSuppression", "RoiAlign", "GridSample", "MatMulInteger", "QLinearMatMul"}) {
    const OpInfo* info = reg.find("", op, 17);
    ASSERT_NE(info, nullptr) << op;
    EXPECT_EQ(info->mapping, MappingType::ManyToMany) << op;
  }
  const OpInfo* att = reg.find("", "Attention", 23);
  ASSERT_NE(att, nullptr);
  EXPECT_EQ(att->mapping, MappingType::ManyToMany);
  EXPECT_EQ(reg.find("", "Attention", 22), nullptr);
  Node n;
  n.op_type = "MatMul";
  const OpCost c = reg.cost_of(n, {TensorType(DType::F32, Shape{8, 16}), TensorType(DType::F32, Shape{16, 4})},
                               {TensorType(DType::F32, Shape{8, 4})});
  EXPECT_DOUBLE_EQ(c.flops, 2.0 * 8 * 16 * 4);
  EXPECT_DOUBLE_EQ(c.bytes, 4.0 * (8 * 16 + 16 * 4 + 8 * 4));
}

TEST(OpsMatmulMatMul, SymbolicShapeInference) {
  Node n;
  n.op_type = "MatMul";
  n.name = "mm";
  n.inputs = {"a", "b"};
  n.outputs = {"y"};
  Graph g;
  const std::vector<TensorType> types{TensorType(DType::F32, {Dim::sym("batch"), Dim(7), Dim(5)}),
                                      TensorType(DType::F32, {Dim(5), Dim(3)})};
  InferContext ic{n, g, 13, types, {nullptr, nullptr}};
  const auto out = OpRegistry::instance().find("", "MatMul", 13)->shape(ic);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].rank(), 3);
  EXPECT_EQ(out[0].dims[0].symbol, "batch");
  EXPECT_EQ(out[0].dims[1].value, 7);
  EXPECT_EQ(out[0].dims[2].value, 3);
}

// ---- Gemm -------------------------------------------------------------------------------

TEST(OpsMatmulGemm, TransposesAlphaBeta) {
  const Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b = f32({3, 2}, {1, 0, 0, 1, 1, 1});
  // Plain A*B + C (C matrix)
  expect_values(run1("Gemm", {a, b, f32({2, 2}, {1, 1, 1, 1})}), {2, 2}, {5, 6, 11, 12});
  // transA: A^T is [3,2] -> use aT of shape [3,2] given as [2,3]... A^T(3x2) * B2(2x2)
  const Tensor b2 = f32({2, 2}, {1, 2, 3, 4});
  expect_values(run1("Gemm", {a, b2}, {{"transA", aint(1)}}), {3, 2}, {13, 18, 17, 24, 21, 30});
  // transB: A(2x3) * (B^T where B is [2,3]) -> [2,2]
  expect_values(run1("Gemm", {a, f32({2, 3}, {1, 0, 0, 0, 1, 0})}, {{"transB", aint(1)}}), {2, 2}, {1, 2, 4, 5});
  // alpha, beta, vector C broadcast over rows
  expect_values(run1("Gemm", {a, b, f32({2}, {10, 20})}, {{"alpha", aflt(2.0f)}, {"beta", aflt(0.5f)}}), {2, 2},
                {13, 20, 25, 32});
  // scalar C, and C as [M,1] column
  expect_values(run1("Gemm", {a, b, f32({}, {1})}), {2, 2}, {5, 6, 11, 12});
  expect_values(run1("Gemm", {a, b, f32({2, 1}, {1, 2})}), {2, 2}, {5, 6, 12, 13});
  // no C
  expect_values(run1("Gemm", {a, b}), {2, 2}, {4, 5, 10, 11});
}

TEST(OpsMatmulGemm, BadInputsThrow) {
  const Tensor a = f32({2, 3}, iota_f(6));
  EXPECT_THROW(run1("Gemm", {a, f32({2, 2}, iota_f(4))}), Error);               // K mismatch
  EXPECT_THROW(run1("Gemm", {a, f32({3, 2}, iota_f(6)), f32({3}, {1, 2, 3})}), Error);  // C not broadcastable
  EXPECT_THROW(run1("Gemm", {f32({6}, iota_f(6)), f32({3, 2}, iota_f(6))}), Error);      // A not 2-D
}

// ---- Einsum -----------------------------------------------------------------------------

TEST(OpsMatmulEinsum, DiagonalTraceAndTranspose) {
  const Tensor m = f32({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  expect_values(run1("Einsum", {m}, {{"equation", astr("ii->i")}}, 12), {3}, {1, 5, 9});
  expect_values(run1("Einsum", {m}, {{"equation", astr("ii")}}, 12), {}, {15});  // implicit: trace
  expect_values(run1("Einsum", {m}, {{"equation", astr("ij->ji")}}, 12), {3, 3}, {1, 4, 7, 2, 5, 8, 3, 6, 9});
  expect_values(run1("Einsum", {m}, {{"equation", astr("ji")}}, 12), {3, 3}, {1, 4, 7, 2, 5, 8, 3, 6, 9});
  expect_values(run1("Einsum", {m}, {{"equation", astr("ij->")}}, 12), {}, {45});
  // batch diagonal with ellipsis
  const Tensor bm = f32({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  expect_values(run1("Einsum", {bm}, {{"equation", astr("...ii->...i")}}, 12), {2, 2}, {1, 4, 5, 8});
}

TEST(OpsMatmulEinsum, ProductsAndEllipsis) {
  const std::vector<float> av = iota_f(12), bv = iota_f(12, -3.0f);
  // bij,bjk->bik
  const Tensor bmm = run1("Einsum", {f32({2, 2, 3}, av), f32({2, 3, 2}, bv)}, {{"equation", astr("bij,bjk->bik")}}, 12);
  expect_values(bmm, {2, 2, 2}, naive_mm(av, bv, 2, 2, 3, 2));
  // ...ij,...jk->...ik with a broadcast batch (1 vs 2)
  const Tensor ell = run1("Einsum", {f32({1, 2, 3}, std::vector<float>(av.begin(), av.begin() + 6)), f32({2, 3, 2}, bv)},
                          {{"equation", astr("...ij,...jk->...ik")}}, 12);
  std::vector<float> a2(av.begin(), av.begin() + 6);
  a2.insert(a2.end(), av.begin(), av.begin() + 6);
  expect_values(ell, {2, 2, 2}, naive_mm(a2, bv, 2, 2, 3, 2));
  // implicit output: ij,jk -> ik; inner product i,i -> scalar; outer product
  expect_values(run1("Einsum", {f32({2, 2}, {1, 2, 3, 4}), f32({2, 2}, {5, 6, 7, 8})}, {{"equation", astr("ij,jk")}}, 12),
                {2, 2}, {19, 22, 43, 50});
  expect_values(run1("Einsum", {f32({3}, {1, 2, 3}), f32({3}, {4, 5, 6})}, {{"equation", astr("i,i")}}, 12), {}, {32});
  expect_values(run1("Einsum", {f32({2}, {1, 2}), f32({3}, {1, 10, 100})}, {{"equation", astr("i,j->ij")}}, 12), {2, 3},
                {1, 10, 100, 2, 20, 200});
  // spaces are ignored; three operands
  expect_values(run1("Einsum", {f32({2}, {1, 2}), f32({2}, {3, 4}), f32({2}, {5, 6})},
                     {{"equation", astr("i, i, i -> ")}}, 12),
                {}, {1 * 3 * 5 + 2 * 4 * 6});
}

TEST(OpsMatmulEinsum, BadEquationsThrow) {
  const Tensor m = f32({2, 3}, iota_f(6));
  EXPECT_THROW(run1("Einsum", {m}, {{"equation", astr("ijk->i")}}, 12), Error);        // rank mismatch
  EXPECT_THROW(run1("Einsum", {m}, {{"equation", astr("ii->i")}}, 12), Error);         // diagonal sizes differ
  EXPECT_THROW(run1("Einsum", {m}, {{"equation", astr("ij->k")}}, 12), Error);         // unknown output label
  EXPECT_THROW(run1("Einsum", {m, m}, {{"equation", astr("ij->ij")}}, 12), Error);     // operand count
  EXPECT_THROW(run1("Einsum", {m}, {{"equation", astr("i1->i")}}, 12), Error);         // bad character
  EXPECT_THROW(run1("Einsum", {m}, {}, 12), Error);                                    // missing equation
}

// ---- MatMulInteger / QLinearMatMul / Det -------------------------------------------------

TEST(OpsMatmulInteger, ZeroPoints) {
  const Tensor a = u8({2, 2}, {11, 7, 3, 10});
  const Tensor b = u8({2, 2}, {1, 4, 2, 5});
  // (a - 2) x (b - 1): [[9,5],[1,8]] x [[0,3],[1,4]] = [[5,47],[8,35]]
  const Tensor r = run1("MatMulInteger", {a, b, u8({}, {2}), u8({}, {1})}, {}, 10);
  EXPECT_EQ(r.dtype(), DType::I32);
  EXPECT_EQ(r.to_i64_vector(), (std::vector<int64_t>{5, 47, 8, 35}));
  // per-row a zero point [M] and per-column b zero point [N]
  const Tensor r2 = run1("MatMulInteger", {a, b, u8({2}, {1, 3}), u8({2}, {1, 4})}, {}, 10);
  // a-zp = [[10,6],[0,7]]; b-zp = [[0,0],[1,1]] -> [[6,6],[7,7]]
  EXPECT_EQ(r2.to_i64_vector(), (std::vector<int64_t>{6, 6, 7, 7}));
}

TEST(OpsMatmulInteger, QLinearMatMulRequantizes) {
  const Tensor a = u8({1, 2}, {10, 20}), b = u8({2, 1}, {3, 5});
  // (10-0)*3 + (20-0)*5 = 130; * 0.5*0.5/0.25 = 130; + 5 -> 135 (within u8)
  const Tensor r = run1("QLinearMatMul", {a, f32({}, {0.5f}), u8({}, {0}), b, f32({}, {0.5f}), u8({}, {0}),
                                          f32({}, {0.25f}), u8({}, {5})},
                        {}, 10);
  EXPECT_EQ(r.dtype(), DType::U8);
  EXPECT_EQ(r.to_i64_vector(), (std::vector<int64_t>{135}));
  // saturation at 255
  const Tensor s = run1("QLinearMatMul", {a, f32({}, {1.f}), u8({}, {0}), b, f32({}, {1.f}), u8({}, {0}),
                                          f32({}, {0.25f}), u8({}, {0})},
                        {}, 10);
  EXPECT_EQ(s.to_i64_vector(), (std::vector<int64_t>{255}));
}

TEST(OpsMatmulDet, SmallMatrices) {
  expect_values(run1("Det", {f32({2, 2}, {1, 2, 3, 4})}, {}, 11), {}, {-2});
  expect_values(run1("Det", {f32({2, 3, 3}, {2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 1, 0, 1, 0, 0, 0, 0, 1})}, {}, 11), {2},
                {24, -1});
  expect_values(run1("Det", {f32({2, 2}, {1, 2, 2, 4})}, {}, 11), {}, {0});
  EXPECT_THROW(run1("Det", {f32({2, 3}, iota_f(6))}, {}, 11), Error);
}

// ---- reductions ---------------------------------------------------------------------------

TEST(OpsMatmulReduce, AxesInputAndAttribute) {
  const Tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  // opset 13 ReduceSum: axes as input
  expect_values(run1("ReduceSum", {x, i64({1}, {1})}, {}, 13), {2, 1}, {6, 15});
  expect_values(run1("ReduceSum", {x, i64({1}, {-2})}, {{"keepdims", aint(0)}}, 13), {3}, {5, 7, 9});
  // opset 11 ReduceSum: axes as attribute
  expect_values(run1("ReduceSum", {x}, {{"axes", aints({0})}, {"keepdims", aint(0)}}, 11), {3}, {5, 7, 9});
  // ReduceMean: attribute before 18, input from 18
  expect_values(run1("ReduceMean", {x}, {{"axes", aints({1})}}, 13), {2, 1}, {2, 5});
  expect_values(run1("ReduceMean", {x, i64({1}, {1})}, {}, 18), {2, 1}, {2, 5});
  // no axes -> all
  expect_values(run1("ReduceMax", {x}, {{"keepdims", aint(0)}}, 13), {}, {6});
  expect_values(run1("ReduceMin", {x}, {}, 13), {1, 1}, {1});
}

TEST(OpsMatmulReduce, EmptyAxesSemantics) {
  const Tensor x = f32({2, 2}, {1, 2, 3, 4});
  const Tensor empty_axes = i64({0}, {});
  // empty axes input, noop_with_empty_axes=0 -> reduce everything
  expect_values(run1("ReduceSum", {x, empty_axes}, {}, 13), {1, 1}, {10});
  // noop_with_empty_axes=1 -> identity
  expect_values(run1("ReduceSum", {x, empty_axes}, {{"noop_with_empty_axes", aint(1)}}, 13), {2, 2}, {1, 2, 3, 4});
  // omitted axes input with noop=1 is also identity
  expect_values(run1("ReduceSum", {x}, {{"noop_with_empty_axes", aint(1)}}, 13), {2, 2}, {1, 2, 3, 4});
  // before opset 13 the attribute does not exist: all axes reduced
  expect_values(run1("ReduceSum", {x}, {{"noop_with_empty_axes", aint(1)}}, 11), {1, 1}, {10});
}

TEST(OpsMatmulReduce, EmptySetReductions) {
  const Tensor z = f32({2, 0, 4}, {});
  const Tensor ax = i64({1}, {1});
  expect_values(run1("ReduceSum", {z, ax}, {}, 18), {2, 1, 4}, std::vector<double>(8, 0.0));
  expect_values(run1("ReduceProd", {z, ax}, {}, 18), {2, 1, 4}, std::vector<double>(8, 1.0));
  expect_values(run1("ReduceMax", {z, ax}, {}, 18), {2, 1, 4}, std::vector<double>(8, -kInf));
  expect_values(run1("ReduceMin", {z, ax}, {}, 18), {2, 1, 4}, std::vector<double>(8, kInf));
  expect_values(run1("ReduceLogSumExp", {z, ax}, {}, 18), {2, 1, 4}, std::vector<double>(8, -kInf));
  expect_values(run1("ReduceL2", {z, ax}, {}, 18), {2, 1, 4}, std::vector<double>(8, 0.0));
  // reducing a non-empty axis of an empty tensor gives an empty result
  EXPECT_EQ(run1("ReduceSum", {z, i64({1}, {2})}, {}, 18).shape(), (Shape{2, 0, 1}));
  // integer ReduceMax over an empty set gives the lowest value of the type
  const Tensor zi = Tensor(DType::I32, {0, 2});
  EXPECT_EQ(run1("ReduceMax", {zi, i64({1}, {0})}, {}, 18).to_i64_vector(),
            (std::vector<int64_t>{std::numeric_limits<int32_t>::lowest(), std::numeric_limits<int32_t>::lowest()}));
}

TEST(OpsMatmulReduce, AllKinds) {
  const Tensor x = f32({2, 2}, {1, -2, 3, 4});
  const Tensor ax = i64({1}, {1});
  expect_values(run1("ReduceL1", {x, ax}, {}, 18), {2, 1}, {3, 7});
  expect_values(run1("ReduceL2", {x, ax}, {}, 18), {2, 1}, {std::sqrt(5.0), 5});
  expect_values(run1("ReduceSumSquare", {x, ax}, {}, 18), {2, 1}, {5, 25});
  expect_values(run1("ReduceProd", {x, ax}, {}, 18), {2, 1}, {-2, 12});
  expect_values(run1("ReduceLogSum", {f32({2}, {1, 2})}, {}, 18), {1}, {std::log(3.0)});
  // LogSumExp stays finite for large inputs
  expect_values(run1("ReduceLogSumExp", {f32({2}, {1000, 1000})}, {}, 18), {1}, {1000 + std::log(2.0)});
  // integer sums are exact
  EXPECT_EQ(run1("ReduceSum", {i64({2}, {(int64_t(1) << 60), 1})}, {}, 13).to_i64_vector(),
            (std::vector<int64_t>{(int64_t(1) << 60) + 1}));
  // bool ReduceMax (opset 20)
  EXPECT_EQ(run1("ReduceMax", {bools({2, 2}, {0, 1, 0, 0}), i64({1}, {1})}, {}, 20).to_i64_vector(),
            (std::vector<int64_t>{1, 0}));
}

TEST(OpsMatmulReduce, BadAxesThrow) {
  const Tensor x = f32({2, 2}, {1, 2, 3, 4});
  EXPECT_THROW(run1("ReduceSum", {x, i64({1}, {2})}, {}, 13), Error);
  EXPECT_THROW(run1("ReduceMean", {x}, {{"axes", aints({0, 0})}}, 13), Error);
  EXPECT_THROW(run1("ReduceSum", {bools({2}, {1, 0})}, {}, 13), Error);
}

TEST(OpsMatmulReduce, ArgMaxArgMin) {
  const Tensor x = f32({2, 3}, {1, 5, 5, 7, 2, 7});
  EXPECT_EQ(run1("ArgMax", {x}, {{"axis", aint(1)}}, 13).to_i64_vector(), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(run1("ArgMax", {x}, {{"axis", aint(1)}, {"select_last_index", aint(1)}}, 13).to_i64_vector(),
            (std::vector<int64_t>{2, 2}));
  const Tensor m = run1("ArgMin", {x}, {{"axis", aint(0)}, {"keepdims", aint(0)}}, 13);
  EXPECT_EQ(m.shape(), (Shape{3}));
  EXPECT_EQ(m.to_i64_vector(), (std::vector<int64_t>{0, 1, 0}));
  EXPECT_THROW(run1("ArgMax", {x}, {{"axis", aint(2)}}, 13), Error);
}

TEST(OpsMatmulReduce, CumSum) {
  const Tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  expect_values(run1("CumSum", {x, i64({}, {1})}, {}, 14), {2, 3}, {1, 3, 6, 4, 9, 15});
  expect_values(run1("CumSum", {x, i64({}, {0})}, {}, 14), {2, 3}, {1, 2, 3, 5, 7, 9});
  expect_values(run1("CumSum", {x, i64({}, {-1})}, {{"exclusive", aint(1)}}, 14), {2, 3}, {0, 1, 3, 0, 4, 9});
  expect_values(run1("CumSum", {x, i64({}, {1})}, {{"reverse", aint(1)}}, 14), {2, 3}, {6, 5, 3, 15, 11, 6});
  expect_values(run1("CumSum", {x, i64({}, {1})}, {{"reverse", aint(1)}, {"exclusive", aint(1)}}, 14), {2, 3},
                {5, 3, 0, 11, 6, 0});
  EXPECT_EQ(run1("CumSum", {i32({3}, {1, 2, 3}), i32({}, {0})}, {}, 14).to_i64_vector(), (std::vector<int64_t>{1, 3, 6}));
  EXPECT_THROW(run1("CumSum", {x, i64({}, {2})}, {}, 14), Error);
}

TEST(OpsMatmulTopK, TiesPickLowerIndex) {
  const Tensor x = f32({6}, {3, 1, 3, 2, 3, 1});
  auto outs = run_op("TopK", {x, i64({1}, {2})}, {}, 11, 2);
  expect_values(outs[0], {2}, {3, 3});
  EXPECT_EQ(outs[1].to_i64_vector(), (std::vector<int64_t>{0, 2}));
  outs = run_op("TopK", {x, i64({1}, {3})}, {{"largest", aint(0)}}, 11, 2);
  expect_values(outs[0], {3}, {1, 1, 2});
  EXPECT_EQ(outs[1].to_i64_vector(), (std::vector<int64_t>{1, 5, 3}));
}

TEST(OpsMatmulTopK, AxisAndOpsetOne) {
  const Tensor x = f32({2, 3}, {1, 9, 4, 8, 2, 6});
  auto outs = run_op("TopK", {x, i64({1}, {1})}, {{"axis", aint(0)}}, 11, 2);
  expect_values(outs[0], {1, 3}, {8, 9, 6});
  EXPECT_EQ(outs[1].to_i64_vector(), (std::vector<int64_t>{1, 0, 1}));
  // opset 1: k as attribute, always largest
  outs = run_op("TopK", {x}, {{"k", aint(2)}}, 1, 2);
  expect_values(outs[0], {2, 2}, {9, 4, 8, 6});
  EXPECT_EQ(outs[1].to_i64_vector(), (std::vector<int64_t>{1, 2, 0, 2}));
  // int64 values keep their type
  outs = run_op("TopK", {i64({3}, {5, 7, 6}), i64({1}, {1})}, {}, 11, 2);
  EXPECT_EQ(outs[0].dtype(), DType::I64);
  EXPECT_EQ(outs[0].to_i64_vector(), (std::vector<int64_t>{7}));
  EXPECT_THROW(run_op("TopK", {x, i64({1}, {4})}, {}, 11, 2), Error);
  EXPECT_THROW(run_op("TopK", {x, i64({1}, {-1})}, {}, 11, 2), Error);
}

// ---- Attention ------------------------------------------------------------------------------

namespace {
// Naive single-head attention: q [Sq,D], k [T,D], v [T,Dv], additive bias [Sq,T].
std::vector<double> naive_attn(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                               int Sq, int T, int D, int Dv, const std::vector<double>& bias, double scale) {
  std::vector<double> y(size_t(Sq * Dv), 0.0);
  for (int i = 0; i < Sq; ++i) {
    std::vector<double> s(static_cast<size_t>(T));
    double mx = -kInf;
    for (int j = 0; j < T; ++j) {
      double a = 0;
      for (int e = 0; e < D; ++e) a += double(q[size_t(i * D + e)]) * k[size_t(j * D + e)];
      s[size_t(j)] = a * scale + (bias.empty() ? 0.0 : bias[size_t(i * T + j)]);
      mx = std::max(mx, s[size_t(j)]);
    }
    double sum = 0;
    for (auto& x : s) sum += (x = std::exp(x - mx));
    for (int j = 0; j < T; ++j)
      for (int e = 0; e < Dv; ++e) y[size_t(i * Dv + e)] += s[size_t(j)] / sum * v[size_t(j * Dv + e)];
  }
  return y;
}
std::vector<float> rand_vec(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}
}  // namespace

TEST(OpsMatmulAttention, FourDimMaskAndCausal) {
  const int Sq = 3, T = 4, D = 2, Dv = 3;
  const auto q = rand_vec(Sq * D, 1), k = rand_vec(T * D, 2), v = rand_vec(T * Dv, 3);
  const Tensor Q = f32({1, 1, Sq, D}, q), K = f32({1, 1, T, D}, k), V = f32({1, 1, T, Dv}, v);
  const double sc = 1.0 / std::sqrt(double(D));
  expect_values(run_op("Attention", {Q, K, V}, {}, 23).at(0), {1, 1, Sq, Dv}, naive_attn(q, k, v, Sq, T, D, Dv, {}, sc));
  // float mask
  std::vector<float> mv(size_t(Sq * T));
  for (size_t i = 0; i < mv.size(); ++i) mv[i] = float(i % 3) - 1.0f;
  std::vector<double> bias(mv.begin(), mv.end());
  expect_values(run_op("Attention", {Q, K, V, f32({Sq, T}, mv)}, {}, 23).at(0), {1, 1, Sq, Dv},
                naive_attn(q, k, v, Sq, T, D, Dv, bias, sc));
  // bool mask equals a 0/-inf float mask
  std::vector<int> bm(size_t(Sq * T));
  std::vector<double> bb(size_t(Sq * T));
  for (size_t i = 0; i < bm.size(); ++i) {
    bm[i] = (i % 4) != 3 ? 1 : 0;
    bb[i] = bm[i] ? 0.0 : -kInf;
  }
  expect_values(run_op("Attention", {Q, K, V, bools({Sq, T}, bm)}, {}, 23).at(0), {1, 1, Sq, Dv},
                naive_attn(q, k, v, Sq, T, D, Dv, bb, sc));
  // causal: query i sees keys j <= i; with scale attribute
  std::vector<double> cb(size_t(Sq * T));
  for (int i = 0; i < Sq; ++i)
    for (int j = 0; j < T; ++j) cb[size_t(i * T + j)] = j > i ? -kInf : 0.0;
  expect_values(run_op("Attention", {Q, K, V}, {{"is_causal", aint(1)}, {"scale", aflt(0.3f)}}, 23).at(0),
                {1, 1, Sq, Dv}, naive_attn(q, k, v, Sq, T, D, Dv, cb, 0.3));
}

TEST(OpsMatmulAttention, ThreeDimGqaAndKvCache) {
  // 3-D input with 2 q heads sharing 1 kv head equals the 4-D computation per head.
  const int B = 1, S = 2, D = 2, Hq = 2, P = 1;
  const auto q = rand_vec(B * S * Hq * D, 4), k = rand_vec(B * S * D, 5), v = rand_vec(B * S * D, 6);
  const auto pk = rand_vec(P * D, 7), pv = rand_vec(P * D, 8);
  auto outs = run_op("Attention", {f32({B, S, Hq * D}, q), f32({B, S, D}, k), f32({B, S, D}, v), Tensor(),
                                   f32({B, 1, P, D}, pk), f32({B, 1, P, D}, pv)},
                     {{"q_num_heads", aint(Hq)}, {"kv_num_heads", aint(1)}}, 23, 3);
  ASSERT_EQ(outs.size(), 3u);
  // present = concat(past, current)
  std::vector<float> kk(pk), vv(pv);
  kk.insert(kk.end(), k.begin(), k.end());
  vv.insert(vv.end(), v.begin(), v.end());
  expect_values(outs[1], {B, 1, P + S, D}, std::vector<double>(kk.begin(), kk.end()));
  expect_values(outs[2], {B, 1, P + S, D}, std::vector<double>(vv.begin(), vv.end()));
  ASSERT_EQ(outs[0].shape(), (Shape{B, S, Hq * D}));
  for (int h = 0; h < Hq; ++h) {
    std::vector<float> qh;
    for (int s = 0; s < S; ++s)
      for (int e = 0; e < D; ++e) qh.push_back(q[size_t(s * Hq * D + h * D + e)]);
    const auto want = naive_attn(qh, kk, vv, S, P + S, D, D, {}, 1.0 / std::sqrt(double(D)));
    for (int s = 0; s < S; ++s)
      for (int e = 0; e < D; ++e)
        EXPECT_NEAR(outs[0].get_f64(s * Hq * D + h * D + e), want[size_t(s * D + e)], 1e-5);
  }
}

TEST(OpsMatmulAttention, BadInputsThrow) {
  const Tensor q = f32({1, 2, 4}, rand_vec(8, 1));
  EXPECT_THROW(run_op("Attention", {q, q, q}, {}, 23), Error);  // 3-D without head counts
  EXPECT_THROW(run_op("Attention", {q, q, q}, {{"q_num_heads", aint(3)}, {"kv_num_heads", aint(3)}}, 23), Error);
  const Tensor q4 = f32({1, 3, 2, 2}, rand_vec(12, 2)), k4 = f32({1, 2, 2, 2}, rand_vec(8, 3));
  EXPECT_THROW(run_op("Attention", {q4, k4, k4}, {}, 23), Error);  // 3 q heads vs 2 kv heads
}

// ---- detection --------------------------------------------------------------------------------

TEST(OpsMatmulDetection, NonMaxSuppressionHandCase) {
  const Tensor boxes = f32({1, 6, 4}, {0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, -0.1f, 1, 0.9f,
                                       0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100, 1, 101});
  const Tensor scores = f32({1, 1, 6}, {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f});
  Tensor out = run_op("NonMaxSuppression", {boxes, scores, i64({1}, {3}), f32({1}, {0.5f}), f32({1}, {0.0f})}, {}, 11,
                      1, false)
                   .at(0);
  ASSERT_EQ(out.shape(), (Shape{3, 3}));
  EXPECT_EQ(out.to_i64_vector(), (std::vector<int64_t>{0, 0, 3, 0, 0, 0, 0, 0, 5}));
  // score threshold removes low boxes; max_output 0 gives nothing
  out = run_op("NonMaxSuppression", {boxes, scores, i64({1}, {3}), f32({1}, {0.5f}), f32({1}, {0.4f})}, {}, 11, 1, false)
            .at(0);
  EXPECT_EQ(out.to_i64_vector(), (std::vector<int64_t>{0, 0, 3, 0, 0, 0}));
  out = run_op("NonMaxSuppression", {boxes, scores}, {}, 11, 1, false).at(0);
  EXPECT_EQ(out.shape(), (Shape{0, 3}));
  EXPECT_THROW(run_op("NonMaxSuppression", {f32({1, 6, 3}, iota_f(18)), scores}, {}, 11, 1, false), Error);
}

TEST(OpsMatmulDetection, RoiAlignOnRamp) {
  // X[y][x] = x: bilinear sampling of a linear ramp is exact.
  std::vector<float> img(16);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) img[size_t(y * 4 + x)] = float(x);
  const Tensor out = run1("RoiAlign", {f32({1, 1, 4, 4}, img), f32({1, 4}, {0, 0, 4, 4}), i64({1}, {0})},
                          {{"output_height", aint(2)}, {"output_width", aint(2)}}, 16);
  expect_values(out, {1, 1, 2, 2}, {0.5, 2.5, 0.5, 2.5});
  EXPECT_THROW(run1("RoiAlign", {f32({1, 1, 4, 4}, img), f32({1, 4}, {0, 0, 4, 4}), i64({1}, {3})}, {}, 16), Error);
  EXPECT_THROW(run1("RoiAlign", {f32({1, 1, 4, 4}, img), f32({1, 4}, {0, 0, 4, 4}), i64({1}, {0})},
                    {{"mode", astr("median")}}, 16),
               Error);
}

TEST(OpsMatmulDetection, GridSampleModes) {
  const Tensor x = f32({1, 1, 2, 2}, {1, 2, 3, 4});
  // align_corners=1: the corner grid reproduces the input.
  const Tensor corners = f32({1, 2, 2, 2}, {-1, -1, 1, -1, -1, 1, 1, 1});
  expect_values(run1("GridSample", {x, corners}, {{"align_corners", aint(1)}}, 16), {1, 1, 2, 2}, {1, 2, 3, 4});
  // centre sample is the mean (bilinear)
  expect_values(run1("GridSample", {x, f32({1, 1, 1, 2}, {0, 0})}, {{"align_corners", aint(1)}}, 16), {1, 1, 1, 1}, {2.5});
  // outside: zeros padding gives 0, border padding clamps
  const Tensor far = f32({1, 1, 1, 2}, {5, 5});
  expect_values(run1("GridSample", {x, far}, {}, 16), {1, 1, 1, 1}, {0});
  expect_values(run1("GridSample", {x, far}, {{"padding_mode", astr("border")}}, 16), {1, 1, 1, 1}, {4});
  // nearest, align_corners=0: (-0.6, 0.6) -> x=-0.1 -> col 0, y=1.1 -> row 1
  expect_values(run1("GridSample", {x, f32({1, 1, 1, 2}, {-0.6f, 0.6f})}, {{"mode", astr("nearest")}}, 16),
                {1, 1, 1, 1}, {3});
  EXPECT_THROW(run1("GridSample", {x, corners}, {{"mode", astr("area")}}, 16), Error);
  EXPECT_THROW(run1("GridSample", {x, f32({1, 2, 2, 3}, iota_f(12))}, {}, 16), Error);
}
