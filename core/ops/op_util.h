// Helpers shared by operator rows: broadcasting, axes, strides, common shape
// functions and the element-wise loop. Use these instead of re-writing them per family.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/ir/op_registry.h"
#include "core/util/error.h"

namespace dnnf::ops {

// ---- axes and strides ---------------------------------------------------------
// Maps a possibly negative axis into [0, rank) (or [0, rank] with allow_end); throws
// a dnnf::Error naming the node otherwise.
int64_t normalize_axis(int64_t axis, int64_t rank, const Node& node, bool allow_end = false);
std::vector<int64_t> normalize_axes(const std::vector<int64_t>& axes, int64_t rank, const Node& node);
std::vector<int64_t> strides_of(const Shape& shape);  // row-major element strides

// ---- broadcasting (numpy / ONNX multidirectional) -------------------------------
Shape broadcast_shapes(const Shape& a, const Shape& b, const Node& node);
Shape broadcast_all(const std::vector<Shape>& shapes, const Node& node);
// Type-level broadcast with symbolic dims (unknown when it cannot be decided).
std::vector<Dim> broadcast_dims(const std::vector<Dim>& a, const std::vector<Dim>& b, const Node& node);
// For each output flat index, the flat index into an input of shape `in` broadcast to
// `out`. Precomputed strides: in_index = sum(coord[d] * bstride[d]).
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out);
// True if the input shape is actually expanded (any dim or rank grows) to out.
bool is_broadcast(const Shape& in, const Shape& out);
bool is_broadcast(const TensorType& in, const TensorType& out);

// Calls fn(out_flat, in_flat[k]...) over every output element for k inputs that
// broadcast to `out`. Used by element-wise kernels of any arity.
void for_each_broadcast(const Shape& out, const std::vector<Shape>& ins,
                        const std::function<void(int64_t, const int64_t*)>& fn);

// ---- element-wise kernel builders --------------------------------------------------
// Unary float op computed in double/float; F16/BF16 inputs go through f32.
Tensor unary_float(const Tensor& x, const std::function<double(double)>& f);
// Binary op over any numeric type T with broadcasting; result dtype `out_dtype`
// (Undefined = same as a). f works on doubles unless the integer variant is used.
Tensor binary_numeric(const Tensor& a, const Tensor& b, DType out_dtype, const Node& node,
                      const std::function<double(double, double)>& f_float,
                      const std::function<int64_t(int64_t, int64_t)>& f_int);

// ---- shape-function helpers ---------------------------------------------------------
std::vector<TensorType> same_as_input(const InferContext& ctx, size_t i = 0);
std::vector<TensorType> broadcast_inputs(const InferContext& ctx, DType out_dtype = DType::Undefined);
// A 1-D int64 constant input's values (nullopt when not known at inference time).
std::optional<std::vector<int64_t>> const_ints(const InferContext& ctx, size_t i);
// Input i, or the attribute `attr` of older opsets; nullopt if neither is known.
std::optional<std::vector<int64_t>> ints_input_or_attr(const InferContext& ctx, size_t i,
                                                        const std::string& attr);
std::optional<std::vector<int64_t>> ints_input_or_attr(const KernelContext& ctx, size_t i,
                                                        const std::string& attr);

// Requires ctx to have at least n inputs present; error names the node.
void require_inputs(const InferContext& ctx, size_t n);
void require_inputs(const KernelContext& ctx, size_t n);

// Reads a float scalar from a tensor of any numeric type (first element).
double scalar_of(const Tensor& t);

// ---- subgraph typing (core/ops/op_util_rnn.cpp) ----------------------------------------
// Gives untyped body inputs of a Loop or Scan node (ONNX function bodies often leave
// them untyped) a type derived from the node's input types, before the body is
// inferred: Loop -> int64 scalar, bool scalar, then each carried value's dtype with
// unknown shape; Scan -> states as given, scan inputs with the scanned axis removed.
// Inputs that already have a dtype and other ops are left untouched.
void bind_subgraph_input_types(Node& node, const std::vector<TensorType>& inputs, int64_t opset);

}  // namespace dnnf::ops
