// Internal helpers shared by the data-movement families (shape_ops, slice_concat_ops,
// gather_scatter_ops): dtype-agnostic element copies, per-axis gathers, symbolic dim
// products and the data-movement cost. Not a public header: only those files use it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/ops/op_util.h"

namespace dnnf::ops::movement {

// ---- element copies (any dtype: numeric copied by element size, strings by value) ----
// Copies n consecutive elements src[so..so+n) to dst[dof..dof+n).
void copy_block(const Tensor& src, int64_t so, Tensor& dst, int64_t dof, int64_t n);
// Copies a box of `extent` elements:
//   dst[dof + sum c_d*dst_str_d] = src[so + sum c_d*src_str_d]   for c in extent.
// A zero source stride broadcasts.
void strided_copy(const Tensor& src, int64_t so, const std::vector<int64_t>& src_str, Tensor& dst,
                  int64_t dof, const std::vector<int64_t>& dst_str, const Shape& extent);
// out[i] = src[idx[i]] for a flat index list; out has out_shape.
Tensor gather_flat(const Tensor& src, const Shape& out_shape, const std::vector<int64_t>& idx);
// Separable per-axis gather: out[c0..cn] = src[maps[0][c0], ..., maps[n][cn]], where a
// map entry of -1 means "use fill" (a one-element tensor of src's dtype, required then).
// maps.size() == src.rank(), maps[d].size() == out_shape[d].
Tensor gather_axes(const Tensor& src, const Shape& out_shape,
                   const std::vector<std::vector<int64_t>>& maps, const Tensor* fill = nullptr);
// Refuses an output shape before anything of its size is allocated: every dim must be
// within the tensor element limit, and so must the element count.
void check_out_shape(const Shape& shape, DType dtype, const Node& node);
// A one-element tensor of dtype holding v (strings: empty).
Tensor scalar_of_dtype(DType dtype, double v);
// Transposed copy: out.shape[i] = x.shape[perm[i]].
Tensor transpose(const Tensor& x, const std::vector<int64_t>& perm);

// ---- reading small integer inputs ---------------------------------------------------
std::vector<int64_t> ints_of(const Tensor& t);
// Known integer values of input i at inference time (any integer dtype), or nullopt.
std::optional<std::vector<int64_t>> known_ints(const InferContext& ctx, size_t i);
// Integer values of optional input i at run time, or nullopt when omitted.
std::optional<std::vector<int64_t>> opt_ints(const KernelContext& ctx, size_t i);

// ---- symbolic dims ----------------------------------------------------------------------
// A product of dims: known factor times symbols; `unknown` when an anonymous dim enters.
struct DimProduct {
  int64_t known = 1;
  std::vector<std::string> syms;  // sorted
  bool unknown = false;
  void mul(const Dim& d);
  // Divides by another product; nullopt when the result is not a clean product.
  std::optional<DimProduct> div(const DimProduct& o) const;
  Dim to_dim() const;  // known value, "a*b*12" symbol, or unknown
};
DimProduct dim_product(const std::vector<Dim>& dims, size_t begin, size_t end);
Dim dim_add(const Dim& a, const Dim& b);  // known sum, else unknown
// A 1-D dim from a TensorType's only dim (e.g. the length of a shape tensor), or unknown.
Dim dim0_of(const TensorType& t);
// Output type with rank-only knowledge: rank r, all dims unknown.
TensorType unknown_dims(DType dtype, int64_t rank);
// Static shape of a type, or nullopt.
std::optional<Shape> static_of(const TensorType& t);

// ---- cost ---------------------------------------------------------------------------------
// Pure data movement: no flops; bytes = inputs read + outputs written (static shapes).
OpCost movement_cost(const Node& node, const std::vector<TensorType>& in,
                     const std::vector<TensorType>& out);
// Indexed reads: only the output-sized part of input 0 is read, plus the other inputs.
// A registry row of a data-movement family with its name, opset, mapping type,
// summary and cost function filled in; callers add shape function and kernel.
OpInfo movement_row(const char* name, int since, const char* family, MappingType mapping, const char* summary,
                    CostFn cost);

OpCost indexed_cost(const Node& node, const std::vector<TensorType>& in,
                    const std::vector<TensorType>& out);

}  // namespace dnnf::ops::movement

namespace dnnf::ops {
// Resize and Upsample rows (slice_concat_ops_resize.cpp), called from
// register_slice_concat_ops.
void register_resize_ops(OpRegistry& r);
}  // namespace dnnf::ops
