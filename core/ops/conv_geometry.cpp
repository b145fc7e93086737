// Sliding-window geometry shared by the conv and pool families (see conv_geometry.h).
#include "core/ops/conv_geometry.h"

#include <algorithm>

#include "core/util/error.h"

namespace dnnf::ops::convgeo {

AutoPad parse_auto_pad(const Node& node) {
  const std::string s = node.attr_string("auto_pad", "NOTSET");
  if (s == "NOTSET" || s.empty()) return AutoPad::NotSet;
  if (s == "SAME_UPPER") return AutoPad::SameUpper;
  if (s == "SAME_LOWER") return AutoPad::SameLower;
  if (s == "VALID") return AutoPad::Valid;
  fail(node.label(), ": unknown auto_pad '", s, "'");
}

std::vector<int64_t> kernel_shape_attr(const Node& node, int64_t nsp) {
  check(node.has_attr("kernel_shape"), node.label(), ": attribute kernel_shape is required");
  std::vector<int64_t> k = node.attr_ints("kernel_shape");
  check(int64_t(k.size()) == nsp, node.label(), ": kernel_shape has ", k.size(),
        " values for ", nsp, " spatial dims");
  for (int64_t v : k) check(v > 0, node.label(), ": kernel_shape values must be positive");
  return k;
}

Window read_window(const Node& node, int64_t nsp, const std::vector<int64_t>& kernel,
                   bool dilations_allowed) {
  check(nsp >= 1, node.label(), ": input needs at least one spatial dim");
  Window w;
  w.nsp = nsp;
  w.auto_pad = parse_auto_pad(node);
  check(int64_t(kernel.size()) == nsp, node.label(), ": kernel has ", kernel.size(), " dims for ",
        nsp, " spatial dims");
  for (int64_t v : kernel) check(v > 0, node.label(), ": kernel sizes must be positive");
  w.kernel = kernel;
  w.strides = node.attr_ints("strides", std::vector<int64_t>(size_t(nsp), 1));
  if (w.strides.empty()) w.strides.assign(size_t(nsp), 1);
  check(int64_t(w.strides.size()) == nsp, node.label(), ": strides has ", w.strides.size(),
        " values for ", nsp, " spatial dims");
  for (int64_t v : w.strides) check(v > 0, node.label(), ": strides must be positive");
  w.dilations = node.attr_ints("dilations", std::vector<int64_t>(size_t(nsp), 1));
  if (w.dilations.empty()) w.dilations.assign(size_t(nsp), 1);
  check(int64_t(w.dilations.size()) == nsp, node.label(), ": dilations has ", w.dilations.size(),
        " values for ", nsp, " spatial dims");
  for (int64_t v : w.dilations) check(v > 0, node.label(), ": dilations must be positive");
  if (!dilations_allowed)
    for (int64_t v : w.dilations)
      check(v == 1, node.label(), ": dilations other than 1 are not supported by this operator");
  w.pads = node.attr_ints("pads", std::vector<int64_t>(size_t(2 * nsp), 0));
  if (w.pads.empty()) w.pads.assign(size_t(2 * nsp), 0);
  check(int64_t(w.pads.size()) == 2 * nsp, node.label(), ": pads has ", w.pads.size(),
        " values for ", nsp, " spatial dims (expected ", 2 * nsp, ")");
  for (int64_t v : w.pads) check(v >= 0, node.label(), ": pads must be non-negative");
  if (w.auto_pad != AutoPad::NotSet) w.pads.assign(size_t(2 * nsp), 0);
  return w;
}

int64_t resolve_dim(const Node& node, Window& w, int64_t i, int64_t in, bool ceil_mode) {
  const int64_t dk = w.dilated_kernel(i);
  const int64_t s = w.strides[size_t(i)];
  int64_t out = 0;
  switch (w.auto_pad) {
    case AutoPad::SameUpper:
    case AutoPad::SameLower: {
      out = ceil_div(in, s);
      const int64_t total = std::max<int64_t>(0, (out - 1) * s + dk - in);
      const int64_t begin = w.auto_pad == AutoPad::SameUpper ? total / 2 : total - total / 2;
      w.pads[size_t(i)] = begin;
      w.pads[size_t(w.nsp + i)] = total - begin;
      break;
    }
    case AutoPad::Valid:
      w.pads[size_t(i)] = 0;
      w.pads[size_t(w.nsp + i)] = 0;
      out = in >= dk ? (in - dk) / s + 1 : 0;
      break;
    case AutoPad::NotSet: {
      const int64_t span = in + w.pad_begin(i) + w.pad_end(i) - dk;
      if (span < 0) {
        out = 0;
        break;
      }
      out = (ceil_mode ? ceil_div(span, s) : span / s) + 1;
      // The last window must start inside the input or the leading pad.
      if (ceil_mode && (out - 1) * s >= in + w.pad_begin(i)) --out;
      break;
    }
  }
  check(out >= 1, node.label(), ": spatial dim ", i, " of size ", in,
        " is too small for the window (dilated kernel ", dk, ", pads ", w.pad_begin(i), "+",
        w.pad_end(i), ")");
  return out;
}

Shape resolve_all(const Node& node, Window& w, const Shape& in_spatial, bool ceil_mode) {
  check(int64_t(in_spatial.size()) == w.nsp, node.label(), ": input has ", in_spatial.size(),
        " spatial dims, the window has ", w.nsp);
  Shape out(in_spatial.size());
  for (int64_t i = 0; i < w.nsp; ++i) out[size_t(i)] = resolve_dim(node, w, i, in_spatial[size_t(i)], ceil_mode);
  return out;
}

std::vector<Dim> output_dims(const Node& node, Window w, const std::vector<Dim>& in_spatial,
                             bool ceil_mode) {
  check(int64_t(in_spatial.size()) == w.nsp, node.label(), ": input has ", in_spatial.size(),
        " spatial dims, the window has ", w.nsp);
  std::vector<Dim> out(in_spatial.size());
  for (int64_t i = 0; i < w.nsp; ++i) {
    const Dim& d = in_spatial[size_t(i)];
    if (d.known()) out[size_t(i)] = Dim(resolve_dim(node, w, i, d.value, ceil_mode));
  }
  return out;
}

Geom3 make_geom3(const Node& node, const Window& w, const Shape& in_spatial, const Shape& out_spatial) {
  check(w.nsp <= 3, node.label(), ": ", w.nsp, " spatial dims are not supported (at most 3)");
  Geom3 g;
  const int64_t off = 3 - w.nsp;
  for (int64_t i = 0; i < w.nsp; ++i) {
    const size_t j = size_t(off + i);
    g.in[j] = in_spatial[size_t(i)];
    g.out[j] = out_spatial[size_t(i)];
    g.k[j] = w.kernel[size_t(i)];
    g.s[j] = w.strides[size_t(i)];
    g.d[j] = w.dilations[size_t(i)];
    g.pb[j] = w.pad_begin(i);
    g.pe[j] = w.pad_end(i);
  }
  return g;
}

DType compute_dtype(DType t) { return t == DType::F64 ? DType::F64 : DType::F32; }

Tensor to_compute(const Tensor& t, DType compute) { return t.dtype() == compute ? t : t.cast(compute); }

Tensor from_compute(const Tensor& t, DType original) {
  return t.dtype() == original ? t : t.cast(original);
}

void require_float(const Node& node, const Tensor& t, const char* what) {
  check(dtype_is_float(t.dtype()), node.label(), ": ", what, " has element type ",
        dtype_name(t.dtype()), ", expected a float type");
}

int64_t static_numel(const TensorType& t) {
  if (!t.is_static()) return -1;
  int64_t n = 1;
  for (const Dim& d : t.dims) n *= d.value;
  return n;
}

double static_bytes(const std::vector<TensorType>& types) {
  double b = 0;
  for (const TensorType& t : types) {
    const int64_t n = static_numel(t);
    if (n > 0) b += double(n) * double(dtype_size(t.dtype));
  }
  return b;
}

}  // namespace dnnf::ops::convgeo
