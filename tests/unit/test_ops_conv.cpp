// Tests of the conv, pool and norm rows: hand-computed small cases (strides, pads,
// dilations, groups, auto_pad, ceil_mode, count_include_pad, Indices), randomized
// comparisons of Conv / ConvTranspose against naive gather-form loops, normalisation
// numerics, shape inference with a symbolic batch, costs, mapping types, bad inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/ir/op_registry.h"
#include "core/util/error.h"

namespace {

using namespace dnnf;

using Attrs = std::map<std::string, Attribute>;

Tensor f32(Shape s, const std::vector<float>& v) { return Tensor::from_vector(DType::F32, std::move(s), v); }
Tensor f64(Shape s, const std::vector<double>& v) { return Tensor::from_vector(DType::F64, std::move(s), v); }
Tensor i64(Shape s, const std::vector<int64_t>& v) { return Tensor::from_vector(DType::I64, std::move(s), v); }
Tensor u8(Shape s, const std::vector<int>& v) { return Tensor::from_vector(DType::U8, std::move(s), v); }
Tensor i8(Shape s, const std::vector<int>& v) { return Tensor::from_vector(DType::I8, std::move(s), v); }
Tensor i32(Shape s, const std::vector<int>& v) { return Tensor::from_vector(DType::I32, std::move(s), v); }

Tensor iota(Shape s, float start = 0, float step = 1) {
  Tensor t(DType::F32, std::move(s));
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = start + step * float(i);
  return t;
}
Tensor filled(Shape s, float v) {
  Tensor t(DType::F32, std::move(s));
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = v;
  return t;
}
Tensor random_tensor(Shape s, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  Tensor t(DType::F32, std::move(s));
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

Attribute aint(int64_t v) { return Attribute::from_int(v); }
Attribute aints(std::vector<int64_t> v) { return Attribute::from_ints(std::move(v)); }
Attribute aflt(float v) { return Attribute::from_float(v); }
Attribute astr(const std::string& v) { return Attribute::from_string(v); }

Node make(const std::string& op, size_t n_in, size_t n_out, const Attrs& attrs) {
  Node n;
  n.op_type = op;
  n.name = op + "_t";
  n.attrs = attrs;
  for (size_t i = 0; i < n_in; ++i) n.inputs.push_back("in" + std::to_string(i));
  for (size_t i = 0; i < n_out; ++i) n.outputs.push_back("out" + std::to_string(i));
  return n;
}

const OpInfo& row(const std::string& op, int64_t opset) {
  const OpInfo* info = OpRegistry::instance().find("", op, opset);
  if (!info) throw Error("no row for " + op);
  return *info;
}

// Runs a row's kernel and checks its shape function agrees (dtype and static shape).
std::vector<Tensor> run_op(const std::string& op, const std::vector<Tensor>& ins, const Attrs& attrs = {},
                           int64_t opset = 22, size_t num_outputs = 1) {
  Node n = make(op, ins.size(), num_outputs, attrs);
  std::vector<const Tensor*> ptrs;
  std::vector<TensorType> types;
  for (size_t i = 0; i < ins.size(); ++i) {
    const bool present = ins[i].defined();
    if (!present) n.inputs[i] = "";
    ptrs.push_back(present ? &ins[i] : nullptr);
    types.push_back(present ? TensorType(ins[i].dtype(), ins[i].shape()) : TensorType());
  }
  const OpInfo& info = row(op, opset);
  KernelContext kc{n, opset, ptrs, {}};
  std::vector<Tensor> outs = info.kernel(kc);
  Graph g;
  g.opsets[""] = opset;
  InferContext ic{n, g, opset, types, ptrs};
  const std::vector<TensorType> inferred = info.shape(ic);
  EXPECT_EQ(inferred.size(), outs.size()) << op;
  for (size_t i = 0; i < std::min(inferred.size(), outs.size()); ++i) {
    EXPECT_EQ(inferred[i].dtype, outs[i].dtype()) << op << " output " << i;
    const auto s = inferred[i].static_shape();
    EXPECT_TRUE(s.has_value()) << op << " output " << i;
    if (s) {
      EXPECT_EQ(*s, outs[i].shape()) << op << " output " << i;
    }
  }
  return outs;
}

Tensor run1(const std::string& op, const std::vector<Tensor>& ins, const Attrs& attrs = {}, int64_t opset = 22) {
  return run_op(op, ins, attrs, opset).at(0);
}

std::vector<TensorType> infer(const std::string& op, const std::vector<TensorType>& types, const Attrs& attrs,
                              int64_t opset = 22, size_t num_outputs = 1) {
  Node n = make(op, types.size(), num_outputs, attrs);
  Graph g;
  g.opsets[""] = opset;
  std::vector<const Tensor*> values(types.size(), nullptr);
  InferContext ic{n, g, opset, types, values};
  return row(op, opset).shape(ic);
}

void expect_values(const Tensor& t, const Shape& shape, const std::vector<double>& want, double tol = 1e-5) {
  ASSERT_EQ(t.shape(), shape);
  ASSERT_EQ(size_t(t.numel()), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(t.get_f64(int64_t(i)), want[i], tol * std::max(1.0, std::fabs(want[i]))) << "element " << i;
}

void expect_close(const Tensor& got, const Tensor& want, double tol = 1e-4) {
  ASSERT_EQ(got.shape(), want.shape());
  for (int64_t i = 0; i < want.numel(); ++i)
    ASSERT_NEAR(got.get_f64(i), want.get_f64(i), tol * std::max(1.0, std::fabs(want.get_f64(i)))) << "element " << i;
}

// ---- naive gather-form references (independent of the kernels' loop structure) ----------

struct NaiveGeom {
  std::vector<int64_t> k, s, d, pb;
};

// Conv: y[n,m,o] = b[m] + sum_{c in group, k} x[n, c, o*s - pb + k*d] * w[m, c', k].
Tensor naive_conv(const Tensor& x, const Tensor& w, const Tensor* b, int64_t G, const NaiveGeom& g,
                  const Shape& out_shape) {
  const int64_t N = x.dim(0), C = x.dim(1), M = w.dim(0), cpg = C / G, mpg = M / G;
  const size_t nsp = size_t(x.rank() - 2);
  Tensor y(DType::F32, out_shape);
  Shape osp(out_shape.begin() + 2, out_shape.end());
  Shape isp(x.shape().begin() + 2, x.shape().end());
  const int64_t on = shape_numel(osp), kn = shape_numel(g.k), in_n = shape_numel(isp);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t o = 0; o < on; ++o) {
        std::vector<int64_t> oc(nsp);
        for (int64_t r = o, i = int64_t(nsp) - 1; i >= 0; --i) { oc[size_t(i)] = r % osp[size_t(i)]; r /= osp[size_t(i)]; }
        double acc = b ? b->get_f64(m) : 0.0;
        for (int64_t ci = 0; ci < cpg; ++ci)
          for (int64_t kk = 0; kk < kn; ++kk) {
            std::vector<int64_t> kc(nsp);
            for (int64_t r = kk, i = int64_t(nsp) - 1; i >= 0; --i) { kc[size_t(i)] = r % g.k[size_t(i)]; r /= g.k[size_t(i)]; }
            int64_t flat = 0;
            bool inside = true;
            for (size_t i = 0; i < nsp; ++i) {
              const int64_t p = oc[i] * g.s[i] - g.pb[i] + kc[i] * g.d[i];
              if (p < 0 || p >= isp[i]) inside = false;
              flat = flat * isp[i] + p;
            }
            if (!inside) continue;
            const int64_t c = (m / mpg) * cpg + ci;
            acc += x.get_f64((n * C + c) * in_n + flat) * w.get_f64((m * cpg + ci) * kn + kk);
          }
        y.set_f64((n * M + m) * on + o, acc);
      }
  return y;
}

// ConvTranspose in gather form: y[n,m,o] = sum x[n,c,i] w[c,m',k] over o = i*s - pb + k*d.
Tensor naive_convt(const Tensor& x, const Tensor& w, int64_t G, const NaiveGeom& g, const Shape& out_shape) {
  const int64_t N = x.dim(0), C = x.dim(1), cpg = C / G, mpg = w.dim(1), M = mpg * G;
  const size_t nsp = size_t(x.rank() - 2);
  Tensor y(DType::F32, out_shape);
  Shape osp(out_shape.begin() + 2, out_shape.end());
  Shape isp(x.shape().begin() + 2, x.shape().end());
  const int64_t on = shape_numel(osp), kn = shape_numel(g.k), in_n = shape_numel(isp);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t o = 0; o < on; ++o) {
        std::vector<int64_t> oc(nsp);
        for (int64_t r = o, i = int64_t(nsp) - 1; i >= 0; --i) { oc[size_t(i)] = r % osp[size_t(i)]; r /= osp[size_t(i)]; }
        double acc = 0;
        for (int64_t ci = 0; ci < cpg; ++ci)
          for (int64_t kk = 0; kk < kn; ++kk) {
            std::vector<int64_t> kc(nsp);
            for (int64_t r = kk, i = int64_t(nsp) - 1; i >= 0; --i) { kc[size_t(i)] = r % g.k[size_t(i)]; r /= g.k[size_t(i)]; }
            int64_t flat = 0;
            bool ok = true;
            for (size_t i = 0; i < nsp; ++i) {
              const int64_t num = oc[i] + g.pb[i] - kc[i] * g.d[i];
              if (num < 0 || num % g.s[i] != 0 || num / g.s[i] >= isp[i]) ok = false;
              flat = flat * isp[i] + (ok ? num / g.s[i] : 0);
            }
            if (!ok) continue;
            const int64_t c = (m / mpg) * cpg + ci;
            acc += x.get_f64((n * C + c) * in_n + flat) * w.get_f64((c * mpg + m % mpg) * kn + kk);
          }
        y.set_f64((n * M + m) * on + o, acc);
      }
  return y;
}

}  // namespace

// ---- Conv: hand-computed ----------------------------------------------------------------------

TEST(OpsConvConv, BasicWithAndWithoutPadding) {
  const Tensor x = iota({1, 1, 5, 5});
  const Tensor w = filled({1, 1, 3, 3}, 1.f);
  expect_values(run1("Conv", {x, w}, {{"kernel_shape", aints({3, 3})}, {"pads", aints({1, 1, 1, 1})}}), {1, 1, 5, 5},
                {12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108, 117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84});
  expect_values(run1("Conv", {x, w}), {1, 1, 3, 3}, {54, 63, 72, 99, 108, 117, 144, 153, 162});
}

TEST(OpsConvConv, StridesPadsAsymmetric) {
  const Tensor x = iota({1, 1, 7, 5});
  const Tensor w = filled({1, 1, 3, 3}, 1.f);
  expect_values(run1("Conv", {x, w}, {{"strides", aints({2, 2})}, {"pads", aints({1, 1, 1, 1})}}), {1, 1, 4, 3},
                {12, 27, 24, 63, 108, 81, 123, 198, 141, 112, 177, 124});
  // pads top=1, left=0, bottom=1, right=0
  expect_values(run1("Conv", {x, w}, {{"strides", aints({2, 2})}, {"pads", aints({1, 0, 1, 0})}}), {1, 1, 4, 2},
                {21, 33, 99, 117, 189, 207, 171, 183});
}

TEST(OpsConvConv, DilationsAndBias) {
  const Tensor x = iota({1, 1, 4, 4});
  const Tensor w = filled({1, 1, 2, 2}, 1.f);
  expect_values(run1("Conv", {x, w, f32({1}, {0.5f})}, {{"dilations", aints({2, 2})}}), {1, 1, 2, 2},
                {20.5, 24.5, 36.5, 40.5});
}

TEST(OpsConvConv, DepthwiseGroups) {
  Tensor x(DType::F32, {1, 2, 3, 3});
  for (int64_t i = 0; i < 9; ++i) { x.data<float>()[i] = 1.f; x.data<float>()[9 + i] = 2.f; }
  const Tensor w = f32({2, 1, 1, 1}, {3.f, 5.f});
  const Tensor y = run1("Conv", {x, w, f32({2}, {1.f, -1.f})}, {{"group", aint(2)}});
  std::vector<double> want(9, 4.0);
  want.resize(18, 9.0);
  expect_values(y, {1, 2, 3, 3}, want);
}

TEST(OpsConvConv, AutoPadSameUpperLowerValid1D) {
  const Tensor x = f32({1, 1, 4}, {1, 2, 3, 4});
  const Tensor w = f32({1, 1, 2}, {1, 10});
  expect_values(run1("Conv", {x, w}, {{"auto_pad", astr("SAME_UPPER")}}), {1, 1, 4}, {21, 32, 43, 4});
  expect_values(run1("Conv", {x, w}, {{"auto_pad", astr("SAME_LOWER")}}), {1, 1, 4}, {10, 21, 32, 43});
  expect_values(run1("Conv", {x, w}, {{"auto_pad", astr("VALID")}, {"pads", aints({5, 5})}}), {1, 1, 3}, {21, 32, 43});
  // SAME with stride 2 on 5: output ceil(5/2)=3, total pad 2 -> 1+1
  const Tensor x5 = f32({1, 1, 5}, {1, 2, 3, 4, 5});
  const Tensor w3 = f32({1, 1, 3}, {1, 1, 1});
  expect_values(run1("Conv", {x5, w3}, {{"auto_pad", astr("SAME_LOWER")}, {"strides", aints({2})}}), {1, 1, 3}, {3, 9, 9});
}

TEST(OpsConvConv, DoubleAndHalfInputs) {
  const Tensor x = f64({1, 1, 3}, {1, 2, 3});
  const Tensor w = f64({1, 1, 2}, {1, -1});
  const Tensor y = run1("Conv", {x, w});
  EXPECT_EQ(y.dtype(), DType::F64);
  expect_values(y, {1, 1, 2}, {-1, -1});
  const Tensor yh = run1("Conv", {x.cast(DType::F16), w.cast(DType::F16)});
  EXPECT_EQ(yh.dtype(), DType::F16);
  expect_values(yh, {1, 1, 2}, {-1, -1});
}

// ---- Conv / ConvTranspose: randomized against naive loops --------------------------------------

TEST(OpsConvConv, RandomConfigsMatchNaive) {
  std::mt19937 rng(7);
  struct Cfg { Shape x; int64_t M, G; std::vector<int64_t> k, s, d, pads; };
  const std::vector<Cfg> cfgs = {
      {{2, 4, 9, 8}, 6, 2, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},
      {{1, 3, 10, 11}, 4, 1, {3, 2}, {2, 3}, {1, 2}, {0, 2, 1, 0}},
      {{1, 6, 7, 7}, 6, 6, {3, 3}, {2, 2}, {2, 2}, {2, 2, 2, 2}},
      {{1, 2, 13}, 3, 1, {4}, {3}, {2}, {3, 1}},
      {{1, 2, 5, 6, 7}, 4, 2, {2, 3, 2}, {1, 2, 1}, {2, 1, 1}, {1, 0, 1, 0, 1, 1}},
      {{2, 8, 6, 6}, 16, 4, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}},
  };
  for (const Cfg& c : cfgs) {
    const size_t nsp = c.k.size();
    Shape ws = {c.M, c.x[1] / c.G};
    ws.insert(ws.end(), c.k.begin(), c.k.end());
    const Tensor x = random_tensor(c.x, rng), w = random_tensor(ws, rng), b = random_tensor({c.M}, rng);
    Shape out = {c.x[0], c.M};
    for (size_t i = 0; i < nsp; ++i)
      out.push_back((c.x[2 + i] + c.pads[i] + c.pads[nsp + i] - ((c.k[i] - 1) * c.d[i] + 1)) / c.s[i] + 1);
    const Tensor y = run1("Conv", {x, w, b}, {{"group", aint(c.G)}, {"strides", aints(c.s)}, {"dilations", aints(c.d)}, {"pads", aints(c.pads)}});
    NaiveGeom g{c.k, c.s, c.d, std::vector<int64_t>(c.pads.begin(), c.pads.begin() + int64_t(nsp))};
    expect_close(y, naive_conv(x, w, &b, c.G, g, out));
  }
}

TEST(OpsConvTranspose, RandomConfigsMatchNaive) {
  std::mt19937 rng(11);
  struct Cfg { Shape x; int64_t mpg, G; std::vector<int64_t> k, s, d, pads, op; };
  const std::vector<Cfg> cfgs = {
      {{1, 2, 4, 5}, 3, 1, {3, 3}, {2, 2}, {1, 1}, {0, 0, 0, 0}, {0, 0}},
      {{2, 4, 3, 3}, 2, 2, {3, 2}, {3, 2}, {1, 2}, {1, 0, 1, 1}, {1, 1}},
      {{1, 3, 6}, 2, 1, {4}, {1}, {2}, {2, 1}, {0}},
      {{1, 2, 3, 4, 3}, 1, 2, {2, 2, 3}, {2, 1, 2}, {1, 1, 1}, {0, 0, 1, 0, 0, 1}, {0, 0, 1}},
  };
  for (const Cfg& c : cfgs) {
    const size_t nsp = c.k.size();
    Shape ws = {c.x[1], c.mpg};
    ws.insert(ws.end(), c.k.begin(), c.k.end());
    const Tensor x = random_tensor(c.x, rng), w = random_tensor(ws, rng);
    Shape out = {c.x[0], c.mpg * c.G};
    for (size_t i = 0; i < nsp; ++i)
      out.push_back(c.s[i] * (c.x[2 + i] - 1) + c.op[i] + (c.k[i] - 1) * c.d[i] + 1 - c.pads[i] - c.pads[nsp + i]);
    const Tensor y = run1("ConvTranspose", {x, w},
                          {{"group", aint(c.G)}, {"strides", aints(c.s)}, {"dilations", aints(c.d)},
                           {"pads", aints(c.pads)}, {"output_padding", aints(c.op)}});
    NaiveGeom g{c.k, c.s, c.d, std::vector<int64_t>(c.pads.begin(), c.pads.begin() + int64_t(nsp))};
    expect_close(y, naive_convt(x, w, c.G, g, out));
  }
}

TEST(OpsConvTranspose, HandComputed1D) {
  const Tensor x = f32({1, 1, 3}, {1, 2, 3});
  const Tensor w = f32({1, 1, 2}, {1, 1});
  expect_values(run1("ConvTranspose", {x, w}, {{"strides", aints({2})}}), {1, 1, 6}, {1, 1, 2, 2, 3, 3});
  expect_values(run1("ConvTranspose", {x, w}), {1, 1, 4}, {1, 3, 5, 3});
  expect_values(run1("ConvTranspose", {x, w}, {{"pads", aints({1, 0})}}), {1, 1, 3}, {3, 5, 3});
  expect_values(run1("ConvTranspose", {x, w}, {{"strides", aints({2})}, {"output_padding", aints({1})}}), {1, 1, 7},
                {1, 1, 2, 2, 3, 3, 0});
  expect_values(run1("ConvTranspose", {x, w, f32({1}, {10})}), {1, 1, 4}, {11, 13, 15, 13});
}

TEST(OpsConvTranspose, OutputShapeAndAutoPad) {
  const Tensor x = f32({1, 1, 3}, {1, 2, 3});
  const Tensor w = f32({1, 1, 3}, {1, 1, 1});
  // stride 2 full output is 7; output_shape 6 -> total pad 1, NOTSET puts it at the start
  expect_values(run1("ConvTranspose", {x, w}, {{"strides", aints({2})}, {"output_shape", aints({6})}}), {1, 1, 6},
                {1, 3, 2, 5, 3, 3});
  // SAME_UPPER: output = in * stride = 6, pad 1 at the end
  expect_values(run1("ConvTranspose", {x, w}, {{"strides", aints({2})}, {"auto_pad", astr("SAME_UPPER")}}), {1, 1, 6},
                {1, 1, 3, 2, 5, 3});
  // output_shape given with N and C is accepted too
  const Tensor y = run1("ConvTranspose", {x, w}, {{"strides", aints({2})}, {"output_shape", aints({1, 1, 7})}});
  expect_values(y, {1, 1, 7}, {1, 1, 3, 2, 5, 3, 3});
}

// ---- ConvInteger / QLinearConv ---------------------------------------------------------------------

TEST(OpsConvConv, ConvIntegerWithZeroPoints) {
  const Tensor x = u8({1, 1, 3, 3}, {2, 3, 4, 5, 6, 7, 8, 9, 10});
  const Tensor w = u8({1, 1, 2, 2}, {1, 1, 1, 1});
  const Tensor y = run1("ConvInteger", {x, w, u8({}, {1})}, {}, 10);
  EXPECT_EQ(y.dtype(), DType::I32);
  expect_values(y, {1, 1, 2, 2}, {12, 16, 24, 28});
  // padded positions count as the zero point (contribute nothing)
  const Tensor yp = run1("ConvInteger", {x, w, u8({}, {1})}, {{"pads", aints({1, 1, 1, 1})}}, 10);
  expect_values(yp, {1, 1, 4, 4}, {1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9});
  // per-channel w zero point, int8 weights
  const Tensor w2 = i8({2, 1, 1, 1}, {3, -2});
  const Tensor y2 = run1("ConvInteger", {x, w2, u8({}, {0}), i8({2}, {1, -1})}, {}, 10);
  expect_values(y2, {1, 2, 3, 3}, {4, 6, 8, 10, 12, 14, 16, 18, 20, -2, -3, -4, -5, -6, -7, -8, -9, -10});
}

TEST(OpsConvConv, QLinearConvRequantizes) {
  const Tensor x = u8({1, 1, 2, 2}, {10, 20, 30, 40});
  const Tensor w = i8({2, 1, 1, 1}, {2, -3});
  // acc = (x - 10) * w; y = round(acc * 0.5 * [1, 0.5] / 1.0) + 100, bias [4, 0]
  const Tensor y = run1("QLinearConv",
                        {x, f32({}, {0.5f}), u8({}, {10}), w, f32({2}, {1.f, 0.5f}), i8({2}, {0, 0}), f32({}, {1.f}),
                         u8({}, {100}), i32({2}, {4, 0})},
                        {}, 10);
  EXPECT_EQ(y.dtype(), DType::U8);
  // ch0: (0,20,40,60)+4 -> *0.5 -> 2,12,22,32 (+100); ch1: (0,-30,-60,-90)*0.25 -> 0,-7.5->-8,-15,-22.5->-22
  expect_values(y, {1, 2, 2, 2}, {102, 112, 122, 132, 100, 92, 85, 78});
  // saturation at 255
  const Tensor big = run1("QLinearConv",
                          {u8({1, 1, 1, 1}, {255}), f32({}, {1.f}), u8({}, {0}), i8({1, 1, 1, 1}, {127}), f32({}, {1.f}),
                           i8({}, {0}), f32({}, {1.f}), u8({}, {0})},
                          {}, 10);
  expect_values(big, {1, 1, 1, 1}, {255});
}

// ---- pools -------------------------------------------------------------------------------------------

TEST(OpsConvPool, AveragePoolCeilMode) {
  const Tensor x = iota({1, 1, 4, 4});
  expect_values(run1("AveragePool", {x}, {{"kernel_shape", aints({3, 3})}, {"strides", aints({2, 2})}, {"ceil_mode", aint(1)}}),
                {1, 1, 2, 2}, {5, 6.5, 11, 12.5});
  expect_values(run1("AveragePool", {x}, {{"kernel_shape", aints({3, 3})}, {"strides", aints({2, 2})}}), {1, 1, 1, 1}, {5});
  // the last window would start past the input and the leading pad: dropped
  const Tensor x2 = iota({1, 1, 2, 2}, 1);
  const Tensor y2 = run1("AveragePool", {x2}, {{"kernel_shape", aints({3, 3})}, {"strides", aints({3, 3})},
                                                {"pads", aints({1, 1, 1, 1})}, {"ceil_mode", aint(1)}, {"count_include_pad", aint(1)}});
  expect_values(y2, {1, 1, 1, 1}, {10.0 / 9.0});
}

TEST(OpsConvPool, AveragePoolCountIncludePad) {
  const Tensor x = f32({1, 1, 2, 2}, {1, 2, 3, 4});
  const Attrs base = {{"kernel_shape", aints({2, 2})}, {"pads", aints({1, 1, 1, 1})}};
  expect_values(run1("AveragePool", {x}, base), {1, 1, 3, 3}, {1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4});
  Attrs inc = base;
  inc["count_include_pad"] = aint(1);
  expect_values(run1("AveragePool", {x}, inc), {1, 1, 3, 3}, {0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1});
}

TEST(OpsConvPool, AveragePoolDilationsAndSamePads) {
  const Tensor x = iota({1, 1, 4, 4});
  expect_values(run1("AveragePool", {x}, {{"kernel_shape", aints({2, 2})}, {"dilations", aints({2, 2})}}, 19), {1, 1, 2, 2},
                {5, 6, 9, 10});
  // SAME_UPPER with kernel 2: pad only at the end
  const Tensor x1 = f32({1, 1, 3}, {1, 2, 3});
  expect_values(run1("AveragePool", {x1}, {{"kernel_shape", aints({2})}, {"auto_pad", astr("SAME_UPPER")}}), {1, 1, 3}, {1.5, 2.5, 3});
  expect_values(run1("AveragePool", {x1}, {{"kernel_shape", aints({2})}, {"auto_pad", astr("SAME_LOWER")}}), {1, 1, 3}, {1, 1.5, 2.5});
}

TEST(OpsConvPool, MaxPoolIndicesStorageOrder) {
  const Tensor x = f32({1, 1, 3, 3}, {1, 9, 2, 3, 4, 8, 7, 5, 6});
  const Attrs a = {{"kernel_shape", aints({2, 2})}};
  std::vector<Tensor> r = run_op("MaxPool", {x}, a, 12, 2);
  expect_values(r[0], {1, 1, 2, 2}, {9, 9, 7, 8});
  EXPECT_EQ(r[1].dtype(), DType::I64);
  EXPECT_EQ(r[1].to_i64_vector(), (std::vector<int64_t>{1, 1, 6, 5}));
  Attrs col = a;
  col["storage_order"] = aint(1);
  r = run_op("MaxPool", {x}, col, 12, 2);
  // column-major: index = w * H + h
  EXPECT_EQ(r[1].to_i64_vector(), (std::vector<int64_t>{3, 3, 2, 7}));
  // indices include the (n, c) plane offset
  Tensor x2(DType::F32, {1, 2, 2, 2});
  for (int64_t i = 0; i < 8; ++i) x2.data<float>()[i] = float(i);
  r = run_op("MaxPool", {x2}, a, 12, 2);
  EXPECT_EQ(r[1].to_i64_vector(), (std::vector<int64_t>{3, 7}));
}

TEST(OpsConvPool, MaxPoolDilationsCeilPadsAndInt) {
  const Tensor x = iota({1, 1, 4, 4});
  expect_values(run1("MaxPool", {x}, {{"kernel_shape", aints({2, 2})}, {"dilations", aints({2, 2})}}), {1, 1, 2, 2},
                {10, 11, 14, 15});
  expect_values(run1("MaxPool", {x}, {{"kernel_shape", aints({3, 3})}, {"strides", aints({2, 2})}, {"ceil_mode", aint(1)}}),
                {1, 1, 2, 2}, {10, 11, 14, 15});
  // padding never wins over negative values
  const Tensor neg = f32({1, 1, 2}, {-3, -5});
  expect_values(run1("MaxPool", {neg}, {{"kernel_shape", aints({2})}, {"pads", aints({1, 1})}}), {1, 1, 3}, {-3, -3, -5});
  const Tensor q = u8({1, 1, 4}, {3, 200, 7, 1});
  const Tensor yq = run1("MaxPool", {q}, {{"kernel_shape", aints({2})}, {"strides", aints({2})}});
  EXPECT_EQ(yq.dtype(), DType::U8);
  EXPECT_EQ(yq.to_i64_vector(), (std::vector<int64_t>{200, 7}));
}

TEST(OpsConvPool, GlobalAndLpPools) {
  const Tensor x = f32({1, 2, 2, 2}, {1, 2, 3, 4, -5, 6, -7, 8});
  expect_values(run1("GlobalAveragePool", {x}), {1, 2, 1, 1}, {2.5, 0.5});
  expect_values(run1("GlobalMaxPool", {x}), {1, 2, 1, 1}, {4, 8});
  expect_values(run1("GlobalLpPool", {x}), {1, 2, 1, 1}, {std::sqrt(30.0), std::sqrt(174.0)});
  expect_values(run1("GlobalLpPool", {x}, {{"p", aint(1)}}), {1, 2, 1, 1}, {10, 26});
  const Tensor x1 = f32({1, 1, 4}, {3, -4, 0, 5});
  expect_values(run1("LpPool", {x1}, {{"kernel_shape", aints({2})}, {"strides", aints({2})}}, 18), {1, 1, 2}, {5, 5});
  expect_values(run1("LpPool", {x1}, {{"kernel_shape", aints({2})}, {"p", aint(1)}}, 18), {1, 1, 3}, {7, 4, 5});
}

TEST(OpsConvPool, MaxUnpool) {
  const Tensor x = f32({1, 1, 2, 2}, {5, 6, 7, 8});
  const Tensor idx = i64({1, 1, 2, 2}, {0, 3, 9, 15});
  const Attrs a = {{"kernel_shape", aints({2, 2})}, {"strides", aints({2, 2})}};
  const Tensor y = run1("MaxUnpool", {x, idx}, a, 11);
  std::vector<double> want(16, 0.0);
  want[0] = 5; want[3] = 6; want[9] = 7; want[15] = 8;
  expect_values(y, {1, 1, 4, 4}, want);
  const Tensor y5 = run1("MaxUnpool", {x, idx, i64({4}, {1, 1, 5, 5})}, a, 11);
  EXPECT_EQ(y5.shape(), (Shape{1, 1, 5, 5}));
  // indices address the inferred 4x4 layout; output_shape pads each spatial dim at its end
  EXPECT_EQ(y5.get_f64(18), 8);
  EXPECT_EQ(y5.get_f64(11), 7);
  EXPECT_EQ(y5.get_f64(15), 0);
  EXPECT_THROW(run1("MaxUnpool", {x, idx, i64({4}, {1, 1, 3, 5})}, a, 11), Error);
  EXPECT_THROW(run1("MaxUnpool", {x, i64({1, 1, 2, 2}, {0, 3, 9, 16})}, a, 11), Error);
}

// ---- norms -------------------------------------------------------------------------------------------

TEST(OpsConvNorm, BatchNormInference) {
  const Tensor x = f32({1, 2, 1, 2}, {1, 2, 3, 4});
  const Tensor y = run1("BatchNormalization",
                        {x, f32({2}, {1, 2}), f32({2}, {0, 1}), f32({2}, {1, 3}), f32({2}, {1, 4})},
                        {{"epsilon", aflt(0.f)}}, 15);
  expect_values(y, {1, 2, 1, 2}, {0, 1, 1, 2});
}

TEST(OpsConvNorm, BatchNormTrainingMode) {
  const Tensor x = f32({2, 1, 2}, {1, 3, 5, 7});  // batch mean 4, var 5
  std::vector<Tensor> r = run_op("BatchNormalization",
                                 {x, f32({1}, {1}), f32({1}, {0}), f32({1}, {0}), f32({1}, {1})},
                                 {{"epsilon", aflt(0.f)}, {"momentum", aflt(0.5f)}, {"training_mode", aint(1)}}, 15, 3);
  const double s = std::sqrt(5.0);
  expect_values(r[0], {2, 1, 2}, {-3 / s, -1 / s, 1 / s, 3 / s});
  expect_values(r[1], {1}, {2});
  expect_values(r[2], {1}, {3});
  // training outputs without training_mode are refused
  EXPECT_THROW(run_op("BatchNormalization", {x, f32({1}, {1}), f32({1}, {0}), f32({1}, {0}), f32({1}, {1})}, {}, 15, 3),
               Error);
}

TEST(OpsConvNorm, InstanceNorm) {
  const Tensor x = f32({1, 2, 1, 2}, {1, 3, 1, 5});
  const Tensor y = run1("InstanceNormalization", {x, f32({2}, {2, 1}), f32({2}, {0, 5})}, {{"epsilon", aflt(0.f)}}, 6);
  expect_values(y, {1, 2, 1, 2}, {-2, 2, 4, 6});
}

TEST(OpsConvNorm, LayerNormWithStatsOutputs) {
  const Tensor x = f32({2, 2}, {1, 3, 2, 6});
  std::vector<Tensor> r = run_op("LayerNormalization", {x, f32({2}, {1, 2}), f32({2}, {0.5f, 0})},
                                 {{"epsilon", aflt(0.f)}}, 17, 3);
  expect_values(r[0], {2, 2}, {-0.5, 2, -0.5, 2});
  expect_values(r[1], {2, 1}, {2, 4});
  EXPECT_EQ(r[1].dtype(), DType::F32);
  expect_values(r[2], {2, 1}, {1, 0.5});
  const double s35 = std::sqrt(3.5);
  expect_values(run1("LayerNormalization", {x, f32({1}, {1})}, {{"axis", aint(0)}, {"epsilon", aflt(0.f)}}, 17), {2, 2},
                {-2 / s35, 0, -1 / s35, 3 / s35});
  // negative axis, scale broadcast over the full normalized suffix
  const Tensor x3 = f32({1, 2, 2}, {1, 3, 5, 7});
  expect_values(run1("LayerNormalization", {x3, f32({2, 1}, {1, 2})}, {{"axis", aint(-2)}, {"epsilon", aflt(0.f)}}, 17),
                {1, 2, 2}, {-3 / std::sqrt(5.0), -1 / std::sqrt(5.0), 2 / std::sqrt(5.0), 6 / std::sqrt(5.0)});
}

TEST(OpsConvNorm, GroupNormOpset18And21) {
  const Tensor x = f32({1, 4, 1, 2}, {1, 3, 1, 3, 0, 4, 0, 4});
  // opset 18: scale/bias per group
  expect_values(run1("GroupNormalization", {x, f32({2}, {1, 2}), f32({2}, {0, 1})}, {{"num_groups", aint(2)}, {"epsilon", aflt(0.f)}}, 18),
                {1, 4, 1, 2}, {-1, 1, -1, 1, -1, 3, -1, 3});
  // opset 21: scale/bias per channel
  expect_values(run1("GroupNormalization", {x, f32({4}, {1, 2, 3, 4}), f32({4}, {0, 0, 0, 1})},
                     {{"num_groups", aint(2)}, {"epsilon", aflt(0.f)}}, 21),
                {1, 4, 1, 2}, {-1, 1, -2, 2, -3, 3, -3, 5});
  EXPECT_THROW(run1("GroupNormalization", {x, f32({2}, {1, 2}), f32({2}, {0, 1})}, {{"num_groups", aint(2)}}, 21), Error);
  EXPECT_THROW(run1("GroupNormalization", {x, f32({3}, {1, 2, 3}), f32({3}, {0, 1, 2})}, {{"num_groups", aint(3)}}, 18), Error);
}

TEST(OpsConvNorm, RmsLrnMvnLpNorm) {
  const Tensor x = f32({1, 2}, {3, 4});
  const double rms = std::sqrt(12.5);
  expect_values(run1("RMSNormalization", {x, f32({2}, {1, 2})}, {{"epsilon", aflt(0.f)}}, 23), {1, 2}, {3 / rms, 8 / rms});
  expect_values(run1("LpNormalization", {x}), {1, 2}, {0.6, 0.8});
  expect_values(run1("LpNormalization", {x}, {{"p", aint(1)}}), {1, 2}, {3.0 / 7, 4.0 / 7});
  expect_values(run1("LpNormalization", {f32({2, 2}, {3, 1, 4, 1})}, {{"axis", aint(0)}}), {2, 2},
                {0.6, 1 / std::sqrt(2.0), 0.8, 1 / std::sqrt(2.0)});
  // LRN size 3 over 3 channels of one pixel
  const Tensor c = f32({1, 3, 1, 1}, {1, 2, 3});
  const Tensor l = run1("LRN", {c}, {{"size", aint(3)}, {"alpha", aflt(3.f)}, {"beta", aflt(1.f)}, {"bias", aflt(1.f)}});
  expect_values(l, {1, 3, 1, 1}, {1.0 / (1 + 5), 2.0 / (1 + 14), 3.0 / (1 + 13)});
  // MVN over all default axes [0, 2, 3] of one channel
  const Tensor m = run1("MeanVarianceNormalization", {f32({1, 1, 2, 2}, {1, 1, 3, 3})}, {}, 13);
  expect_values(m, {1, 1, 2, 2}, {-1, -1, 1, 1}, 1e-6);
  const Tensor m2 = run1("MeanVarianceNormalization", {f32({2, 2}, {1, 3, 2, 2})}, {{"axes", aints({1})}}, 13);
  expect_values(m2, {2, 2}, {-1, 1, 0, 0}, 1e-6);
}

// ---- shape inference, costs, mapping -------------------------------------------------------------------

TEST(OpsConvShape, SymbolicBatch) {
  TensorType x(DType::F32, std::vector<Dim>{Dim::sym("N"), Dim(3), Dim(224), Dim(224)});
  TensorType w(DType::F32, Shape{64, 3, 7, 7});
  auto t = infer("Conv", {x, w}, {{"strides", aints({2, 2})}, {"pads", aints({3, 3, 3, 3})}});
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].dims[0].symbol, "N");
  EXPECT_FALSE(t[0].dims[0].known());
  EXPECT_EQ(t[0].dims[1].value, 64);
  EXPECT_EQ(t[0].dims[2].value, 112);
  EXPECT_EQ(t[0].dims[3].value, 112);
  auto p = infer("MaxPool", {t[0]}, {{"kernel_shape", aints({3, 3})}, {"strides", aints({2, 2})}, {"pads", aints({1, 1, 1, 1})}}, 12, 2);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].dims[0].symbol, "N");
  EXPECT_EQ(p[0].dims[2].value, 56);
  EXPECT_EQ(p[1].dtype, DType::I64);
  auto gp = infer("GlobalAveragePool", {p[0]}, {});
  EXPECT_EQ(gp[0].dims[0].symbol, "N");
  EXPECT_EQ(gp[0].dims[3].value, 1);
  // symbolic spatial dim stays unknown
  TensorType xs(DType::F32, std::vector<Dim>{Dim(1), Dim(3), Dim::sym("H"), Dim(10)});
  auto s = infer("Conv", {xs, w}, {{"auto_pad", astr("SAME_UPPER")}});
  EXPECT_FALSE(s[0].dims[2].known());
  EXPECT_EQ(s[0].dims[3].value, 10);
  TensorType xt(DType::F32, std::vector<Dim>{Dim::sym("B"), Dim(4), Dim(5), Dim(5)});
  auto ct = infer("ConvTranspose", {xt, TensorType(DType::F32, Shape{4, 3, 3, 3})}, {{"strides", aints({2, 2})}, {"group", aint(2)}});
  EXPECT_EQ(ct[0].dims[0].symbol, "B");
  EXPECT_EQ(ct[0].dims[1].value, 6);
  EXPECT_EQ(ct[0].dims[2].value, 11);
  auto ln = infer("LayerNormalization", {TensorType(DType::F16, std::vector<Dim>{Dim::sym("S"), Dim(8)}), TensorType(DType::F16, Shape{8})},
                  {}, 17, 3);
  ASSERT_EQ(ln.size(), 3u);
  EXPECT_EQ(ln[1].dtype, DType::F32);
  EXPECT_EQ(ln[1].dims[0].symbol, "S");
  EXPECT_EQ(ln[1].dims[1].value, 1);
}

TEST(OpsConvShape, CostsAndMappingTypes) {
  const auto& reg = OpRegistry::instance();
  Node conv = make("Conv", 2, 1, {{"pads", aints({1, 1, 1, 1})}});
  const std::vector<TensorType> in = {TensorType(DType::F32, Shape{1, 64, 56, 56}), TensorType(DType::F32, Shape{128, 64, 3, 3})};
  const std::vector<TensorType> out = {TensorType(DType::F32, Shape{1, 128, 56, 56})};
  const OpCost c = reg.cost_of(conv, in, out);
  EXPECT_DOUBLE_EQ(c.flops, 2.0 * 128 * 56 * 56 * 64 * 9);
  EXPECT_GT(c.bytes, 4.0 * (64 * 56 * 56 + 128 * 56 * 56));
  // non-static shapes cost 0 flops
  const std::vector<TensorType> sym_out = {TensorType(DType::F32, std::vector<Dim>{Dim::sym("N"), Dim(128), Dim(56), Dim(56)})};
  EXPECT_EQ(reg.cost_of(conv, in, sym_out).flops, 0.0);
  Node ct = make("ConvTranspose", 2, 1, {});
  const OpCost cc = reg.cost_of(ct, {TensorType(DType::F32, Shape{1, 4, 5, 5}), TensorType(DType::F32, Shape{4, 2, 3, 3})},
                                {TensorType(DType::F32, Shape{1, 2, 7, 7})});
  EXPECT_DOUBLE_EQ(cc.flops, 2.0 * 4 * 25 * 2 * 9);
  EXPECT_EQ(row("BatchNormalization", 15).mapping, MappingType::OneToOne);
  for (const char* op : {"Conv", "ConvTranspose", "ConvInteger", "QLinearConv", "AveragePool", "MaxPool", "GlobalAveragePool",
                         "GlobalMaxPool", "LpPool", "GlobalLpPool", "MaxUnpool", "InstanceNormalization", "LRN",
                         "MeanVarianceNormalization", "LpNormalization"})
    EXPECT_EQ(row(op, 22).mapping, MappingType::ManyToMany) << op;
  EXPECT_EQ(row("LayerNormalization", 17).mapping, MappingType::ManyToMany);
  EXPECT_EQ(row("GroupNormalization", 21).mapping, MappingType::ManyToMany);
  EXPECT_EQ(row("RMSNormalization", 23).mapping, MappingType::ManyToMany);
  EXPECT_GT(row("Conv", 22).summary.size(), 10u);
}

// ---- bad inputs ------------------------------------------------------------------------------------------

TEST(OpsConvErrors, BadInputsThrowError) {
  const Tensor x = iota({1, 4, 5, 5});
  // channel mismatch with groups: 4 channels, weight expects 3 x 2
  EXPECT_THROW(run1("Conv", {x, filled({2, 3, 3, 3}, 1)}, {{"group", aint(2)}}), Error);
  // output channels not divisible by group
  EXPECT_THROW(run1("Conv", {x, filled({3, 2, 3, 3}, 1)}, {{"group", aint(2)}}), Error);
  // wrong weight rank
  EXPECT_THROW(run1("Conv", {x, filled({2, 4, 3}, 1)}), Error);
  // bias size mismatch
  EXPECT_THROW(run1("Conv", {x, filled({2, 4, 3, 3}, 1), filled({3}, 0)}), Error);
  // kernel larger than padded input
  EXPECT_THROW(run1("Conv", {x, filled({2, 4, 7, 7}, 1)}), Error);
  // kernel_shape disagreeing with the weight, bad pads length, bad auto_pad, zero stride
  EXPECT_THROW(run1("Conv", {x, filled({2, 4, 3, 3}, 1)}, {{"kernel_shape", aints({2, 2})}}), Error);
  EXPECT_THROW(run1("Conv", {x, filled({2, 4, 3, 3}, 1)}, {{"pads", aints({1, 1})}}), Error);
  EXPECT_THROW(run1("Conv", {x, filled({2, 4, 3, 3}, 1)}, {{"auto_pad", astr("SAME_MIDDLE")}}), Error);
  EXPECT_THROW(run1("Conv", {x, filled({2, 4, 3, 3}, 1)}, {{"strides", aints({0, 1})}}), Error);
  EXPECT_THROW(run1("Conv", {iota({4, 5}), filled({2, 4, 3}, 1)}), Error);
  EXPECT_THROW(run1("Conv", {x}), Error);
  // shape function refuses the same
  EXPECT_THROW(infer("Conv", {TensorType(DType::F32, Shape{1, 4, 5, 5}), TensorType(DType::F32, Shape{2, 3, 3, 3})},
                     {{"group", aint(2)}}),
               Error);
  EXPECT_THROW(infer("Conv", {TensorType(DType::F32, Shape{1, 4, 5, 5}), TensorType(DType::F32, Shape{2, 4, 3})}, {}), Error);
  // ConvTranspose weight dim 0 must match the input channels
  EXPECT_THROW(run1("ConvTranspose", {x, filled({3, 2, 3, 3}, 1)}), Error);
  // pools
  EXPECT_THROW(run1("MaxPool", {x}), Error);  // kernel_shape missing
  EXPECT_THROW(run1("AveragePool", {x}, {{"kernel_shape", aints({3})}}), Error);
  EXPECT_THROW(run1("AveragePool", {iota({1, 5})}, {{"kernel_shape", aints({3})}}), Error);
  // norms
  EXPECT_THROW(run1("BatchNormalization", {x, filled({3}, 1), filled({4}, 0), filled({4}, 0), filled({4}, 1)}, {}, 15), Error);
  EXPECT_THROW(run1("InstanceNormalization", {x, filled({4}, 1)}, {}, 6), Error);
  EXPECT_THROW(run1("LayerNormalization", {x, filled({3}, 1)}, {}, 17), Error);
  EXPECT_THROW(run1("LayerNormalization", {x, filled({5}, 1)}, {{"axis", aint(4)}}, 17), Error);
  EXPECT_THROW(run1("GroupNormalization", {x, filled({4}, 1), filled({4}, 0)}, {{"num_groups", aint(3)}}, 21), Error);
  EXPECT_THROW(run1("LpNormalization", {x}, {{"p", aint(3)}}), Error);
  EXPECT_THROW(run1("LRN", {x}), Error);  // size missing
  EXPECT_THROW(run1("Conv", {i64({1, 1, 3}, {1, 2, 3}), i64({1, 1, 1}, {1})}), Error);
}
