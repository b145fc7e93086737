// Operator rows of the quantize family (see op_families.h): QuantizeLinear,
// DequantizeLinear (per-tensor, per-axis and blocked scales) and DynamicQuantizeLinear.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/ops/elementwise_common.h"
#include "core/ops/op_families.h"

namespace dnnf::ops {

namespace {

bool is_quant_int(DType t) {
  return t == DType::U8 || t == DType::I8 || t == DType::U16 || t == DType::I16 || t == DType::I32;
}

// Where the scale / zero point of each element lives.
struct QuantLayout {
  enum Mode { PerTensor, PerAxis, Blocked } mode = PerTensor;
  int64_t outer = 1, dim = 1, inner = 1, block = 0, nblocks = 1;

  int64_t param_index(int64_t o, int64_t a, int64_t i) const {
    switch (mode) {
      case PerTensor: return 0;
      case PerAxis: return a;
      case Blocked: return (o * nblocks + a / block) * inner + i;
    }
    return 0;
  }
};

QuantLayout quant_layout(const Node& node, const Shape& xs, const Shape& ss) {
  QuantLayout q;
  const int64_t block = node.attr_int("block_size", 0);
  check(block >= 0, node.label(), ": block_size must be >= 0, got ", block);
  int64_t snum = 1;
  for (int64_t d : ss) snum *= d;
  const int64_t rank = int64_t(xs.size());
  if (block == 0 && snum == 1 && ss.size() <= 1) {
    q.mode = QuantLayout::PerTensor;
    q.outer = 1;
    q.dim = 1;
    q.inner = shape_numel(xs);
    return q;
  }
  check(rank > 0, node.label(), ": a scale of shape ", shape_str(ss), " needs an input of rank >= 1");
  const int64_t axis = normalize_axis(node.attr_int("axis", 1), rank, node);
  for (int64_t d = 0; d < axis; ++d) q.outer *= xs[size_t(d)];
  q.dim = xs[size_t(axis)];
  for (int64_t d = axis + 1; d < rank; ++d) q.inner *= xs[size_t(d)];
  if (block == 0) {
    check(ss.size() == 1 && ss[0] == q.dim, node.label(), ": per-axis scale of shape ", shape_str(ss),
          " does not match input dimension ", q.dim, " at axis ", axis);
    q.mode = QuantLayout::PerAxis;
    return q;
  }
  q.mode = QuantLayout::Blocked;
  q.block = block;
  q.nblocks = (q.dim + block - 1) / block;
  bool ok = int64_t(ss.size()) == rank;
  for (int64_t d = 0; ok && d < rank; ++d)
    ok = ss[size_t(d)] == (d == axis ? q.nblocks : xs[size_t(d)]);
  check(ok, node.label(), ": blocked scale of shape ", shape_str(ss), " does not match input ", shape_str(xs),
        " with block_size ", block, " at axis ", axis);
  return q;
}

std::vector<float> scale_values(const Tensor& s, const Node& node) {
  check(dtype_is_float(s.dtype()), node.label(), ": scale must be a float tensor, got ", dtype_name(s.dtype()));
  return s.to_f32_vector();
}

// Output type of QuantizeLinear: the zero point's type, else output_dtype, else uint8.
DType quantize_out_dtype(const Node& node, DType zp_dtype) {
  const int64_t code = node.attr_int("output_dtype", 0);
  DType attr_dt = DType::Undefined;
  if (code != 0) {
    attr_dt = dtype_from_onnx(int32_t(code));
    check(attr_dt != DType::Undefined, node.label(), ": output_dtype ", code, " is not supported");
  }
  DType dt = zp_dtype != DType::Undefined ? zp_dtype : (attr_dt != DType::Undefined ? attr_dt : DType::U8);
  check(attr_dt == DType::Undefined || attr_dt == dt, node.label(), ": output_dtype ", dtype_name(attr_dt),
        " differs from the zero point type ", dtype_name(dt));
  check(is_quant_int(dt), node.label(), ": quantizing to ", dtype_name(dt),
        " is not supported (uint8, int8, uint16, int16, int32 are)");
  return dt;
}

Tensor quantize(const KernelContext& c) {
  require_inputs(c, 2);
  const Tensor& x0 = c.in(0);
  const Tensor& s = c.in(1);
  const Tensor* zp = c.has_input(2) ? &c.in(2) : nullptr;
  const DType out_dt = quantize_out_dtype(c.node, zp ? zp->dtype() : DType::Undefined);
  check(dtype_is_float(x0.dtype()) || x0.dtype() == DType::I32, c.node.label(), ": input type ",
        dtype_name(x0.dtype()), " is not supported");
  if (zp)
    check(zp->shape() == s.shape() || zp->numel() == s.numel(), c.node.label(), ": zero point shape ",
          shape_str(zp->shape()), " differs from scale shape ", shape_str(s.shape()));
  const QuantLayout q = quant_layout(c.node, x0.shape(), s.shape());
  const std::vector<float> scale = scale_values(s, c.node);
  const std::vector<int64_t> zpv = zp ? zp->to_i64_vector() : std::vector<int64_t>(scale.size(), 0);
  const Tensor xf = ew::to_f32(x0);
  Tensor y(out_dt, x0.shape());
  dispatch_numeric(out_dt, [&](auto tag) {
    using Q = decltype(tag);
    if constexpr (std::is_integral_v<Q> && !std::is_same_v<Q, bool>) {
      const double lo = double(std::numeric_limits<Q>::lowest());
      const double hi = double(std::numeric_limits<Q>::max());
      Q* out = y.data<Q>();
      int64_t k = 0;
      for (int64_t o = 0; o < q.outer; ++o)
        for (int64_t a = 0; a < q.dim; ++a)
          for (int64_t i = 0; i < q.inner; ++i, ++k) {
            const size_t p = size_t(q.param_index(o, a, i));
            double r;
            if (xf.dtype() == DType::F32) r = double(std::nearbyint(xf.data<float>()[k] / scale[p]));
            else r = std::nearbyint(xf.get_f64(k) / double(scale[p]));
            r = std::isnan(r) ? double(zpv[p]) : r + double(zpv[p]);
            out[k] = Q(std::clamp(r, lo, hi));
          }
    }
  });
  return y;
}

DType dequantize_out_dtype(const Node& node, DType scale_dtype) {
  const int64_t code = node.attr_int("output_dtype", 0);
  if (code == 0) return scale_dtype;
  const DType dt = dtype_from_onnx(int32_t(code));
  check(dtype_is_float(dt), node.label(), ": output_dtype ", code, " is not supported");
  return dt;
}

Tensor dequantize(const KernelContext& c) {
  require_inputs(c, 2);
  const Tensor& x = c.in(0);
  const Tensor& s = c.in(1);
  const Tensor* zp = c.has_input(2) ? &c.in(2) : nullptr;
  check(is_quant_int(x.dtype()), c.node.label(), ": dequantizing ", dtype_name(x.dtype()),
        " is not supported (uint8, int8, uint16, int16, int32 are)");
  if (zp) {
    check(zp->dtype() == x.dtype(), c.node.label(), ": zero point type ", dtype_name(zp->dtype()),
          " differs from input type ", dtype_name(x.dtype()));
    check(zp->numel() == s.numel(), c.node.label(), ": zero point shape ", shape_str(zp->shape()),
          " differs from scale shape ", shape_str(s.shape()));
  }
  const DType out_dt = dequantize_out_dtype(c.node, s.dtype());
  const QuantLayout q = quant_layout(c.node, x.shape(), s.shape());
  const std::vector<float> scale = scale_values(s, c.node);
  const std::vector<int64_t> zpv = zp ? zp->to_i64_vector() : std::vector<int64_t>(scale.size(), 0);
  Tensor y(out_dt == DType::F64 ? DType::F64 : DType::F32, x.shape());
  dispatch_numeric(x.dtype(), [&](auto tag) {
    using X = decltype(tag);
    const X* in = x.data<X>();
    int64_t k = 0;
    for (int64_t o = 0; o < q.outer; ++o)
      for (int64_t a = 0; a < q.dim; ++a)
        for (int64_t i = 0; i < q.inner; ++i, ++k) {
          const size_t p = size_t(q.param_index(o, a, i));
          const float v = (float(in[k]) - float(zpv[p])) * scale[p];
          if (y.dtype() == DType::F64) y.data<double>()[k] = double(v);
          else y.data<float>()[k] = v;
        }
  });
  return ew::from_f32(y, out_dt);
}

std::vector<Tensor> dynamic_quantize(const KernelContext& c) {
  require_inputs(c, 1);
  const Tensor x = ew::to_f32(c.in(0));
  check(x.dtype() == DType::F32, c.node.label(), ": input type ", dtype_name(c.in(0).dtype()),
        " is not supported (float32 is)");
  const float* p = x.data<float>();
  const int64_t n = x.numel();
  float mn = 0.0f, mx = 0.0f;  // the range always includes 0
  for (int64_t i = 0; i < n; ++i) {
    mn = std::min(mn, p[i]);
    mx = std::max(mx, p[i]);
  }
  const float scale = (mx - mn) / 255.0f;
  float zpf = 0.0f;
  if (scale != 0.0f) zpf = std::nearbyint(std::clamp(0.0f - mn / scale, 0.0f, 255.0f));
  // An infinite input makes the scale infinite and -inf / inf NaN, which clamp passes
  // through and a float-to-uint8 conversion may not take: zero point 0 then.
  if (std::isnan(zpf)) zpf = 0.0f;
  const uint8_t zp = uint8_t(zpf);
  Tensor y(DType::U8, x.shape());
  uint8_t* q = y.data<uint8_t>();
  for (int64_t i = 0; i < n; ++i) {
    float r = scale != 0.0f ? std::nearbyint(p[i] / scale) + zpf : zpf;
    if (std::isnan(r)) r = zpf;
    q[i] = uint8_t(std::clamp(r, 0.0f, 255.0f));
  }
  Tensor ts = Tensor::scalar_f32(scale);
  Tensor tz(DType::U8, {});
  tz.data<uint8_t>()[0] = zp;
  return {y, ts, tz};
}

OpInfo row(const char* name, int since, MappingType m, const char* summary, ShapeFn shape, RefKernel kernel) {
  OpInfo info;
  info.name = name;
  info.since = since;
  info.family = "quantize";
  info.mapping = m;
  info.shape = std::move(shape);
  info.kernel = std::move(kernel);
  info.summary = summary;
  return info;
}

}  // namespace

void register_quantize_ops(OpRegistry& r) {
  r.add(row(
      "QuantizeLinear", 10, MappingType::OneToOne,
      "y = saturate(round_half_even(x / scale) + zero_point); per-tensor, per-axis or blocked scales",
      [](const InferContext& c) -> std::vector<TensorType> {
        require_inputs(c, 2);
        TensorType t = c.in(0);
        t.dtype = quantize_out_dtype(c.node, c.has_input(2) ? c.in(2).dtype : DType::Undefined);
        return {t};
      },
      [](KernelContext& c) -> std::vector<Tensor> { return {quantize(c)}; }));
  r.add(row(
      "DequantizeLinear", 10, MappingType::OneToOne,
      "y = (x - zero_point) * scale; per-tensor, per-axis or blocked scales",
      [](const InferContext& c) -> std::vector<TensorType> {
        require_inputs(c, 2);
        TensorType t = c.in(0);
        t.dtype = dequantize_out_dtype(c.node, c.in(1).dtype);
        return {t};
      },
      [](KernelContext& c) -> std::vector<Tensor> { return {dequantize(c)}; }));
  r.add(row(
      "DynamicQuantizeLinear", 11, MappingType::ManyToMany,
      "uint8 quantization with scale and zero point computed from the input's min/max (range includes 0)",
      [](const InferContext& c) -> std::vector<TensorType> {
        require_inputs(c, 1);
        TensorType y = c.in(0);
        y.dtype = DType::U8;
        return {y, TensorType(DType::F32, Shape{}), TensorType(DType::U8, Shape{})};
      },
      [](KernelContext& c) -> std::vector<Tensor> { return dynamic_quantize(c); }));
}

}  // namespace dnnf::ops
