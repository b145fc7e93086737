// Index algebra of the code generator: Reorganize/Shuffle chains must simplify back to
// affine addresses, or every load becomes a gather.
#include <gtest/gtest.h>

#include "core/codegen/index_expr.h"

namespace dnnf::codegen {
namespace {

TEST(IndexExpr, ReshapeSplitOfAContiguousTensorStaysAffine) {
  // out[b, s, h, d] of Reshape([2, 7, 96] -> [2, 7, 12, 8]) reads in[b, s, h*8 + d].
  const std::vector<Ix> o = {ix_var(0, 2), ix_var(1, 7), ix_var(2, 12), ix_var(3, 8)};
  const Ix linear = ix_linear(o, row_major_strides({2, 7, 12, 8}));
  const std::vector<Ix> in = ix_unravel(linear, {2, 7, 96});
  const auto a = affine_of(ix_linear(in, row_major_strides({2, 7, 96})));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->coef.at(0), 7 * 96);
  EXPECT_EQ(a->coef.at(1), 96);
  EXPECT_EQ(a->coef.at(2), 8);
  EXPECT_EQ(a->coef.at(3), 1);
  EXPECT_EQ(a->offset, 0);
}

TEST(IndexExpr, UnravelThenRavelIsTheIdentity) {
  const Ix p = ix_var(0, 35);
  const std::vector<Ix> hw = ix_unravel(p, {5, 7});
  const auto a = affine_of(ix_linear(hw, {7, 1}));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->coef.at(0), 1);
}

TEST(IndexExpr, DivModRangesAndFloorSemantics) {
  const Ix v = ix_var(0, 10);
  EXPECT_EQ(ix_div(ix_add(ix_mul(v, 8), ix_const(3)), 8)->kind, IndexNode::Kind::Var);
  EXPECT_EQ(ix_mod(ix_add(ix_mul(v, 8), ix_const(3)), 8)->value, 3);
  const Ix neg = ix_sub(v, ix_const(4));  // -4 .. 5
  const Ix d = ix_div(neg, 3);
  EXPECT_EQ(d->lo, -2);
  EXPECT_EQ(d->hi, 1);
  EXPECT_NE(ix_text(d, {"i"}).find("ix_fdiv"), std::string::npos);  // floor, not C truncation
}

TEST(IndexExpr, TransposeThenMergeIsNotAffineInTheMergedDim) {
  // A value read through a transpose then a merge needs div/mod of the merged index.
  const Ix j = ix_var(0, 96);
  const std::vector<Ix> split = ix_unravel(j, {12, 8});
  EXPECT_FALSE(affine_of(ix_add(ix_mul(split[0], 50), split[1])).has_value());
}

TEST(IndexExpr, OpaquePlaceholdersAreRenamedOnce) {
  const Ix o = ix_opaque("f($0$, $0$)", {0}, 0, 9);
  EXPECT_EQ(ix_text(o, {"$0$"}), "f($0$, $0$)");  // renaming to itself terminates
  EXPECT_EQ(ix_text(o, {"k"}), "f(k, k)");
}

}  // namespace
}  // namespace dnnf::codegen
