// The fast host kernels (core/runtime/host_fast_kernels) against the registry's reference
// kernels on odd shapes: Gemm with every transpose and bias broadcast, MatMul with
// flattened and batched operands, Conv with pads, strides, dilations, groups, auto_pad and
// an empty batch; and the operand forms they must leave to the reference kernel.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/ir/op_registry.h"
#include "core/runtime/host_fast_kernels.h"
#include "kernels/cpu/kernel_api.h"

namespace {

using namespace dnnf;
using Attrs = std::map<std::string, Attribute>;

Tensor random_f32(Shape s, uint32_t seed) {
  Tensor t(DType::F32, std::move(s));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

Node make(const std::string& op, size_t n_in, const Attrs& attrs) {
  Node n;
  n.op_type = op;
  n.name = op + "_t";
  n.attrs = attrs;
  for (size_t i = 0; i < n_in; ++i) n.inputs.push_back("in" + std::to_string(i));
  n.outputs.push_back("out");
  return n;
}

std::vector<const Tensor*> pointers(const std::vector<Tensor>& ins) {
  std::vector<const Tensor*> p;
  for (const Tensor& t : ins) p.push_back(t.defined() ? &t : nullptr);
  return p;
}

Tensor reference(const Node& n, const std::vector<Tensor>& ins) {
  const OpInfo* info = OpRegistry::instance().find("", n.op_type, 17);
  EXPECT_NE(info, nullptr);
  KernelContext kc{n, 17, pointers(ins), {}};
  return info->kernel(kc).at(0);
}

// Runs both and compares: same shape, |fast - ref| <= 1e-4 * (1 + |ref|) everywhere.
void expect_matches_reference(const std::string& op, const std::vector<Tensor>& ins, const Attrs& attrs = {}) {
  Node n = make(op, ins.size(), attrs);
  for (size_t i = 0; i < ins.size(); ++i)
    if (!ins[i].defined()) n.inputs[i] = "";
  const dnnf_api api = dnnf_make_api(nullptr, nullptr, 1);
  auto fast = run_host_fast(n, pointers(ins), api);
  ASSERT_TRUE(fast.has_value()) << op << " was left to the reference kernel";
  const Tensor want = reference(n, ins);
  const Tensor& got = fast->at(0);
  ASSERT_EQ(got.shape(), want.shape());
  int bad = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    const double r = want.get_f64(i), g = got.get_f64(i);
    if (std::fabs(r - g) > 1e-4 * (1 + std::fabs(r)) && bad++ < 3)
      ADD_FAILURE() << op << " element " << i << ": got " << g << ", want " << r;
  }
}

TEST(HostFastKernels, GemmEveryTransposeAndBiasBroadcast) {
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      const int64_t M = 17, K = 33, N = 5;
      Tensor A = random_f32(ta ? Shape{K, M} : Shape{M, K}, 1);
      Tensor B = random_f32(tb ? Shape{N, K} : Shape{K, N}, 2);
      const Attrs attrs = {{"transA", Attribute::from_int(ta)}, {"transB", Attribute::from_int(tb)},
                           {"alpha", Attribute::from_float(0.5f)}, {"beta", Attribute::from_float(2.0f)}};
      for (const Shape& c : {Shape{}, Shape{N}, Shape{1, N}, Shape{M, 1}, Shape{M, N}})
        expect_matches_reference("Gemm", {A, B, random_f32(c, 3)}, attrs);
      expect_matches_reference("Gemm", {A, B}, attrs);
    }
}

TEST(HostFastKernels, GemmWithNoRows) {
  expect_matches_reference("Gemm", {random_f32({0, 7}, 1), random_f32({7, 3}, 2), random_f32({3}, 3)});
}

TEST(HostFastKernels, MatMulFlattenedAndBatched) {
  expect_matches_reference("MatMul", {random_f32({3, 5, 255}, 1), random_f32({255, 17}, 2)});
  expect_matches_reference("MatMul", {random_f32({1, 1}, 1), random_f32({1, 3}, 2)});
  expect_matches_reference("MatMul", {random_f32({2, 3, 7, 9}, 1), random_f32({2, 3, 9, 4}, 2)});
  expect_matches_reference("MatMul", {random_f32({0, 4, 9}, 1), random_f32({9, 4}, 2)});
}

TEST(HostFastKernels, ConvPadsStridesDilationsGroupsAutoPad) {
  const auto ints = [](std::vector<int64_t> v) { return Attribute::from_ints(std::move(v)); };
  expect_matches_reference("Conv", {random_f32({2, 3, 9, 11}, 1), random_f32({5, 3, 3, 3}, 2), random_f32({5}, 3)},
                           {{"pads", ints({1, 2, 0, 1})}, {"strides", ints({2, 1})}});
  expect_matches_reference("Conv", {random_f32({1, 4, 12, 10}, 1), random_f32({6, 2, 3, 2}, 2)},
                           {{"group", Attribute::from_int(2)}, {"dilations", ints({2, 1})}});
  expect_matches_reference("Conv", {random_f32({1, 17, 7, 7}, 1), random_f32({17, 1, 5, 5}, 2)},
                           {{"group", Attribute::from_int(17)}, {"pads", ints({2, 2, 2, 2})}});
  expect_matches_reference("Conv", {random_f32({1, 3, 8, 13}, 1), random_f32({4, 3, 3, 3}, 2)},
                           {{"auto_pad", Attribute::from_string("SAME_UPPER")}, {"strides", ints({2, 3})}});
  expect_matches_reference("Conv", {random_f32({0, 3, 8, 8}, 1), random_f32({4, 3, 1, 1}, 2)});
}

TEST(HostFastKernels, OtherFormsAreLeftToTheReferenceKernel) {
  const dnnf_api api = dnnf_make_api(nullptr, nullptr, 1);
  auto run = [&](const std::string& op, const std::vector<Tensor>& ins) {
    return run_host_fast(make(op, ins.size(), {}), pointers(ins), api).has_value();
  };
  // Broadcast batch dims, 1-D operands, double precision, 3-D convolution, other ops.
  EXPECT_FALSE(run("MatMul", {random_f32({2, 3, 4}, 1), random_f32({1, 4, 5}, 2)}));
  EXPECT_FALSE(run("MatMul", {random_f32({4}, 1), random_f32({4, 5}, 2)}));
  Tensor d = random_f32({3, 3}, 1).cast(DType::F64);
  EXPECT_FALSE(run("MatMul", {d, d}));
  EXPECT_FALSE(run("Conv", {random_f32({1, 2, 4, 4, 4}, 1), random_f32({3, 2, 1, 1, 1}, 2)}));
  EXPECT_FALSE(run("Relu", {random_f32({3}, 1)}));
  EXPECT_EQ(host_fast_operators(), (std::vector<std::string>{"Gemm", "MatMul", "Conv"}));
}

}  // namespace
