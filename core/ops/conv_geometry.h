// Sliding-window geometry shared by the conv and pool families: reading the
// kernel/stride/dilation/pad attributes, resolving auto_pad, output extents, the
// 3-D padded form the reference loops use, and float/double compute helpers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/ir/op_registry.h"

namespace dnnf::ops::convgeo {

enum class AutoPad { NotSet, SameUpper, SameLower, Valid };
AutoPad parse_auto_pad(const Node& node);

// Per-spatial-dim window attributes of one node.
struct Window {
  int64_t nsp = 0;  // number of spatial dims
  AutoPad auto_pad = AutoPad::NotSet;
  std::vector<int64_t> kernel, strides, dilations;
  std::vector<int64_t> pads;  // begins then ends (2 * nsp)
  int64_t pad_begin(int64_t i) const { return pads[size_t(i)]; }
  int64_t pad_end(int64_t i) const { return pads[size_t(nsp + i)]; }
  int64_t dilated_kernel(int64_t i) const { return (kernel[size_t(i)] - 1) * dilations[size_t(i)] + 1; }
};

// Reads strides, dilations (when `dilations_allowed`), pads and auto_pad for `nsp`
// spatial dims with the given kernel; validates sizes and signs. Throws dnnf::Error.
Window read_window(const Node& node, int64_t nsp, const std::vector<int64_t>& kernel,
                   bool dilations_allowed = true);
// kernel_shape attribute (required by pools); validates its length and sign.
std::vector<int64_t> kernel_shape_attr(const Node& node, int64_t nsp);

// Output extent of spatial dim i for Conv and pools with input extent `in`. Resolves
// SAME_*/VALID pads into w.pads. ceil_mode applies to explicit pads only (pools).
int64_t resolve_dim(const Node& node, Window& w, int64_t i, int64_t in, bool ceil_mode);
// Output spatial shape for a static input spatial shape (resolves pads into w).
Shape resolve_all(const Node& node, Window& w, const Shape& in_spatial, bool ceil_mode);
// Type-level output spatial dims: unknown where the input dim is unknown.
std::vector<Dim> output_dims(const Node& node, Window w, const std::vector<Dim>& in_spatial,
                             bool ceil_mode);

// Geometry padded to exactly 3 spatial dims (leading unit dims) for the loops.
struct Geom3 {
  int64_t in[3] = {1, 1, 1};
  int64_t out[3] = {1, 1, 1};
  int64_t k[3] = {1, 1, 1};
  int64_t s[3] = {1, 1, 1};
  int64_t d[3] = {1, 1, 1};
  int64_t pb[3] = {0, 0, 0};
  int64_t pe[3] = {0, 0, 0};
  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
  int64_t k_size() const { return k[0] * k[1] * k[2]; }
};
// Throws if there are more than 3 spatial dims.
Geom3 make_geom3(const Node& node, const Window& w, const Shape& in_spatial, const Shape& out_spatial);

// Floor/ceil division for a positive divisor.
inline int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

// Float compute helpers: F64 computes in double, every other float type in f32.
DType compute_dtype(DType t);
Tensor to_compute(const Tensor& t, DType compute);
Tensor from_compute(const Tensor& t, DType original);
void require_float(const Node& node, const Tensor& t, const char* what);

// Static-shape bytes of a list of tensor types (0 for non-static ones).
double static_bytes(const std::vector<TensorType>& types);
int64_t static_numel(const TensorType& t);  // -1 when not static

}  // namespace dnnf::ops::convgeo
