// Binary and variadic element-wise rows with multidirectional broadcasting:
// arithmetic (Add..Pow, Mod), logic, bitwise, comparisons, Max/Min/Sum/Mean and Where.
#include <cmath>
#include <limits>
#include <string>

#include "core/ops/elementwise_common.h"
#include "core/ops/op_families.h"

namespace dnnf::ops {

namespace {

using ew::binary_loop;
using ew::broadcast_for;
using ew::from_f32;
using ew::is_half;
using ew::to_f32;

template <class T> constexpr bool is_num = !std::is_same_v<T, bool>;
template <class T> constexpr bool is_int = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// ---- op functors: ok<T> says which storage types the op accepts ------------------------
struct AddOp {
  template <class T> static constexpr bool ok = is_num<T>;
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_int<T>) return ew::wrap_add(a, b);
    else return T(a + b);
  }
};
struct SubOp {
  template <class T> static constexpr bool ok = is_num<T>;
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_int<T>) return ew::wrap_sub(a, b);
    else return T(a - b);
  }
};
struct MulOp {
  template <class T> static constexpr bool ok = is_num<T>;
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_int<T>) return ew::wrap_mul(a, b);
    else return T(a * b);
  }
};
struct DivOp {
  const Node* node = nullptr;
  template <class T> static constexpr bool ok = is_num<T>;
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_int<T>) {
      if (b == 0) fail(node->label(), ": integer division by zero");
      if constexpr (std::is_signed_v<T>) {
        if (b == T(-1)) return ew::wrap_sub(T(0), a);  // avoids the INT_MIN / -1 trap
      }
      return T(a / b);  // C++ integer division truncates toward zero
    } else {
      return T(a / b);
    }
  }
};
struct ModOp {
  const Node* node = nullptr;
  bool fmod = false;
  template <class T> static constexpr bool ok = is_num<T>;
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_int<T>) {
      if (b == 0) fail(node->label(), ": integer modulo by zero");
      if constexpr (std::is_signed_v<T>) {
        if (b == T(-1)) return T(0);
        T r = T(a % b);  // sign of the dividend (C fmod rule)
        if (!fmod && r != 0 && ((r < 0) != (b < 0))) r = ew::wrap_add(r, b);  // Python rule: sign of divisor
        return r;
      } else {
        return T(a % b);
      }
    } else {
      T r = T(std::fmod(a, b));
      if (!fmod && r != 0 && ((r < 0) != (b < 0))) r = T(r + b);
      return r;
    }
  }
};
struct MaxOp {
  template <class T> static constexpr bool ok = is_num<T>;
  template <class T> T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
    }
    return a < b ? b : a;
  }
};
struct MinOp {
  template <class T> static constexpr bool ok = is_num<T>;
  template <class T> T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
    }
    return b < a ? b : a;
  }
};
struct BitAndOp {
  template <class T> static constexpr bool ok = is_int<T>;
  template <class T> T operator()(T a, T b) const { return T(a & b); }
};
struct BitOrOp {
  template <class T> static constexpr bool ok = is_int<T>;
  template <class T> T operator()(T a, T b) const { return T(a | b); }
};
struct BitXorOp {
  template <class T> static constexpr bool ok = is_int<T>;
  template <class T> T operator()(T a, T b) const { return T(a ^ b); }
};
struct BitShiftOp {
  bool left = true;
  template <class T> static constexpr bool ok = is_int<T> && std::is_unsigned_v<T>;
  template <class T> T operator()(T a, T b) const {
    if (b >= T(sizeof(T) * 8)) return T(0);
    return left ? T(a << b) : T(a >> b);
  }
};
struct AndOp {
  template <class T> static constexpr bool ok = std::is_same_v<T, bool>;
  template <class T> T operator()(T a, T b) const { return a && b; }
};
struct OrOp {
  template <class T> static constexpr bool ok = std::is_same_v<T, bool>;
  template <class T> T operator()(T a, T b) const { return a || b; }
};
struct XorOp {
  template <class T> static constexpr bool ok = std::is_same_v<T, bool>;
  template <class T> T operator()(T a, T b) const { return a != b; }
};
struct EqualOp {
  template <class T> static constexpr bool ok = true;
  template <class T> bool operator()(T a, T b) const { return a == b; }
};
struct GreaterOp {
  template <class T> static constexpr bool ok = true;
  template <class T> bool operator()(T a, T b) const { return a > b; }
};
struct GreaterEqOp {
  template <class T> static constexpr bool ok = true;
  template <class T> bool operator()(T a, T b) const { return a >= b; }
};
struct LessOp {
  template <class T> static constexpr bool ok = true;
  template <class T> bool operator()(T a, T b) const { return a < b; }
};
struct LessEqOp {
  template <class T> static constexpr bool ok = true;
  template <class T> bool operator()(T a, T b) const { return a <= b; }
};

// Opset < 7 "broadcast=1, axis=k" legacy broadcasting: B is aligned to A starting at
// dimension k (numpy suffix alignment when axis is absent).
Tensor legacy_align(const KernelContext& c, const Tensor& a, const Tensor& b) {
  if (c.opset >= 7 || c.node.attr_int("broadcast", 0) == 0 || !c.node.has_attr("axis")) return b;
  const int64_t ra = a.rank(), rb = b.rank();
  int64_t axis = c.node.attr_int("axis", 0);
  if (axis < 0) axis += ra;
  check(axis >= 0 && axis + rb <= ra, c.node.label(), ": legacy broadcast axis ", axis, " does not fit B ",
        shape_str(b.shape()), " into A ", shape_str(a.shape()));
  Shape s(size_t(axis), 1);
  s.insert(s.end(), b.shape().begin(), b.shape().end());
  s.resize(size_t(ra), 1);
  return b.reshaped(s);
}

// Same-dtype binary op; BoolOut selects a bool result (comparisons).
template <bool BoolOut, class Op>
Tensor binary_same(const Tensor& a, const Tensor& b, const Node& node, const Op& op) {
  check(a.dtype() == b.dtype(), node.label(), ": input element types differ (", dtype_name(a.dtype()), " vs ",
        dtype_name(b.dtype()), ")");
  const DType dt = a.dtype();
  const Shape out = broadcast_shapes(a.shape(), b.shape(), node);
  if (is_half(dt)) {
    if constexpr (!Op::template ok<float>) {
      fail(node.label(), ": element type ", dtype_name(dt), " is not supported");
    } else {
      Tensor r = binary_same<BoolOut>(to_f32(a), to_f32(b), node, op);
      return BoolOut ? r : from_f32(r, dt);
    }
  }
  if (dt == DType::String || dt == DType::Undefined)
    fail(node.label(), ": element type ", dtype_name(dt), " is not supported");
  return dispatch_numeric(dt, [&](auto tag) -> Tensor {
    using T = decltype(tag);
    if constexpr (Op::template ok<T>) {
      if constexpr (BoolOut) {
        Tensor y(DType::Bool, out);
        binary_loop<T, T, bool>(a, b, y, [&](T x, T z) { return bool(op(x, z)); });
        return y;
      } else {
        Tensor y(dt, out);
        binary_loop<T, T, T>(a, b, y, [&](T x, T z) { return T(op(x, z)); });
        return y;
      }
    } else {
      fail(node.label(), ": element type ", dtype_name(dt), " is not supported");
    }
  });
}

template <bool BoolOut, class Op>
std::vector<Tensor> run_binary(KernelContext& c, const Op& op) {
  require_inputs(c, 2);
  const Tensor& a = c.in(0);
  return {binary_same<BoolOut>(a, legacy_align(c, a, c.in(1)), c.node, op)};
}

Tensor equal_strings(const Tensor& a, const Tensor& b, const Node& node) {
  const Shape out = broadcast_shapes(a.shape(), b.shape(), node);
  Tensor y(DType::Bool, out);
  bool* q = y.data<bool>();
  const auto& sa = a.strings();
  const auto& sb = b.strings();
  broadcast_for<2>(out, {&a.shape(), &b.shape()}, [&](int64_t o, const std::array<int64_t, 2>& i) {
    q[o] = sa[size_t(i[0])] == sb[size_t(i[1])];
  });
  return y;
}

// Integer power by squaring (negative exponents give 0 except for bases 1 and -1).
template <class T>
T int_pow(T base, int64_t e) {
  if (e < 0) {
    if (base == T(1)) return T(1);
    if constexpr (std::is_signed_v<T>) {
      if (base == T(-1)) return (e % 2) ? T(-1) : T(1);
    }
    return T(0);
  }
  using W = std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>;
  W result = 1, b = W(base);
  uint64_t ue = uint64_t(e);
  while (ue) {
    if (ue & 1u) result = W(uint64_t(result) * uint64_t(b));
    b = W(uint64_t(b) * uint64_t(b));
    ue >>= 1;
  }
  return T(result);
}


// Pow: the base type decides the output; the exponent may have any numeric type.
Tensor pow_tensor(const Tensor& a, const Tensor& b0, const Node& node) {
  const DType dt = a.dtype();
  if (is_half(dt)) return from_f32(pow_tensor(to_f32(a), b0, node), dt);
  Tensor b = to_f32(b0);
  check(b.dtype() != DType::String && b.dtype() != DType::Bool, node.label(), ": exponent type ",
        dtype_name(b.dtype()), " is not supported");
  check(dt != DType::String && dt != DType::Bool && dt != DType::Undefined, node.label(), ": base type ",
        dtype_name(dt), " is not supported");
  const Shape out = broadcast_shapes(a.shape(), b.shape(), node);
  Tensor y(dt, out);
  if (dt == DType::F32 && b.dtype() == DType::F32) {
    binary_loop<float, float, float>(a, b, y, [](float x, float e) { return std::pow(x, e); });
    return y;
  }
  const bool int_exp = dtype_is_integer(b.dtype());
  b = b.cast(int_exp ? DType::I64 : DType::F64);
  dispatch_numeric(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (is_num<T>) {
      if (int_exp) {
        binary_loop<T, int64_t, T>(a, b, y, [](T x, int64_t e) {
          if constexpr (std::is_floating_point_v<T>) return T(std::pow(double(x), double(e)));
          else return int_pow<T>(x, e);
        });
      } else {
        binary_loop<T, double, T>(a, b, y,
                                  [](T x, double e) { return ew::saturate_cast<T>(std::pow(double(x), e)); });
      }
    }
  });
  return y;
}

// Variadic fold: y = op(op(x0, x1), x2) ... with broadcasting.
template <class Op>
Tensor fold_inputs(const KernelContext& c, const Op& op) {
  check(c.num_inputs() >= 1 && c.has_input(0), c.node.label(), ": needs at least one input");
  Tensor acc = c.in(0);
  if (c.num_inputs() == 1) return acc.clone();
  for (size_t i = 1; i < c.num_inputs(); ++i) acc = binary_same<false>(acc, c.in(i), c.node, op);
  return acc;
}

Tensor where_tensor(const Tensor& cond, const Tensor& x, const Tensor& y, const Node& node) {
  check(cond.dtype() == DType::Bool, node.label(), ": condition must be bool, got ", dtype_name(cond.dtype()));
  check(x.dtype() == y.dtype(), node.label(), ": X and Y element types differ (", dtype_name(x.dtype()), " vs ",
        dtype_name(y.dtype()), ")");
  const Shape out = broadcast_all({cond.shape(), x.shape(), y.shape()}, node);
  Tensor r(x.dtype(), out);
  const bool* pc = cond.data<bool>();
  const std::array<const Shape*, 3> shapes{&cond.shape(), &x.shape(), &y.shape()};
  if (x.dtype() == DType::String) {
    auto& q = r.strings();
    const auto& sx = x.strings();
    const auto& sy = y.strings();
    broadcast_for<3>(out, shapes, [&](int64_t o, const std::array<int64_t, 3>& i) {
      q[size_t(o)] = pc[i[0]] ? sx[size_t(i[1])] : sy[size_t(i[2])];
    });
    return r;
  }
  auto run = [&](auto tag) {
    using U = decltype(tag);
    const U* px = x.data<U>();
    const U* py = y.data<U>();
    U* q = r.data<U>();
    const int64_t n = r.numel();
    if (cond.shape() == out && x.shape() == out && y.shape() == out) {
      for (int64_t i = 0; i < n; ++i) q[i] = pc[i] ? px[i] : py[i];
    } else {
      broadcast_for<3>(out, shapes, [&](int64_t o, const std::array<int64_t, 3>& i) {
        q[o] = pc[i[0]] ? px[i[1]] : py[i[2]];
      });
    }
  };
  switch (dtype_size(x.dtype())) {
    case 1: run(uint8_t{}); break;
    case 2: run(uint16_t{}); break;
    case 4: run(uint32_t{}); break;
    case 8: run(uint64_t{}); break;
    default: fail(node.label(), ": element type ", dtype_name(x.dtype()), " is not supported");
  }
  return r;
}

// ---- shape functions -----------------------------------------------------------------
ShapeFn binary_shape(DType out_dtype = DType::Undefined) {
  return [out_dtype](const InferContext& c) -> std::vector<TensorType> {
    require_inputs(c, 2);
    if (c.opset < 7 && c.node.attr_int("broadcast", 0) != 0) {
      TensorType t = c.in(0);
      if (out_dtype != DType::Undefined) t.dtype = out_dtype;
      return {t};
    }
    return broadcast_inputs(c, out_dtype);
  };
}

std::vector<TensorType> variadic_shape(const InferContext& c) {
  require_inputs(c, 1);
  return broadcast_inputs(c);
}

OpInfo binary_row(const char* name, int since, const char* summary, RefKernel kernel,
                  ShapeFn shape = binary_shape()) {
  OpInfo info;
  info.name = name;
  info.since = since;
  info.family = "elementwise";
  info.mapping = MappingType::OneToOne;
  info.mapping_fn = ew::broadcast_mapping;
  info.shape = std::move(shape);
  info.kernel = std::move(kernel);
  info.summary = summary;
  return info;
}

MathProps assoc_comm() {
  MathProps p;
  p.associative = true;
  p.commutative = true;
  return p;
}

}  // namespace

namespace ew {

void register_elementwise_binary(OpRegistry& r) {
  {
    OpInfo o = binary_row("Add", 1, "y = a + b (broadcasting); identity 0",
                          [](KernelContext& c) { return run_binary<false>(c, AddOp{}); });
    o.props = assoc_comm();
    o.props.identity = 0.0;
    r.add(std::move(o));
  }
  r.add(binary_row("Sub", 1, "y = a - b (broadcasting); 0 is a right identity only",
                   [](KernelContext& c) { return run_binary<false>(c, SubOp{}); }));
  {
    OpInfo o = binary_row("Mul", 1, "y = a * b (broadcasting); identity 1, absorbing 0",
                          [](KernelContext& c) { return run_binary<false>(c, MulOp{}); });
    o.props = assoc_comm();
    o.props.distributes_over = {"Add", "Sub"};
    o.props.identity = 1.0;
    o.props.absorbing = 0.0;
    r.add(std::move(o));
  }
  r.add(binary_row("Div", 1, "y = a / b (broadcasting; integers truncate toward zero); 1 is a right identity only",
                   [](KernelContext& c) { return run_binary<false>(c, DivOp{&c.node}); }));
  r.add(binary_row("Mod", 10, "y = a mod b: fmod=1 takes the dividend's sign, fmod=0 the divisor's (Python)",
                   [](KernelContext& c) {
                     return run_binary<false>(c, ModOp{&c.node, c.node.attr_int("fmod", 0) != 0});
                   }));
  r.add(binary_row("Pow", 1, "y = a ^ b (broadcasting; exponent may have another numeric type)",
                   [](KernelContext& c) -> std::vector<Tensor> {
                     require_inputs(c, 2);
                     const Tensor& a = c.in(0);
                     return {pow_tensor(a, legacy_align(c, a, c.in(1)), c.node)};
                   }));
  {
    OpInfo o = binary_row("And", 1, "y = a && b (bool, broadcasting)",
                          [](KernelContext& c) { return run_binary<false>(c, AndOp{}); });
    o.props = assoc_comm();
    r.add(std::move(o));
    o = binary_row("Or", 1, "y = a || b (bool, broadcasting)",
                   [](KernelContext& c) { return run_binary<false>(c, OrOp{}); });
    o.props = assoc_comm();
    r.add(std::move(o));
    o = binary_row("Xor", 1, "y = a != b (bool, broadcasting)",
                   [](KernelContext& c) { return run_binary<false>(c, XorOp{}); });
    o.props = assoc_comm();
    r.add(std::move(o));
    o = binary_row("BitwiseAnd", 18, "y = a & b (integers, broadcasting)",
                   [](KernelContext& c) { return run_binary<false>(c, BitAndOp{}); });
    o.props = assoc_comm();
    r.add(std::move(o));
    o = binary_row("BitwiseOr", 18, "y = a | b (integers, broadcasting)",
                   [](KernelContext& c) { return run_binary<false>(c, BitOrOp{}); });
    o.props = assoc_comm();
    r.add(std::move(o));
    o = binary_row("BitwiseXor", 18, "y = a ^ b (integers, broadcasting)",
                   [](KernelContext& c) { return run_binary<false>(c, BitXorOp{}); });
    o.props = assoc_comm();
    r.add(std::move(o));
  }
  r.add(binary_row("BitShift", 11, "y = a << b or a >> b by direction (unsigned integers)",
                   [](KernelContext& c) {
                     const std::string dir = c.node.attr_string("direction", "");
                     check(dir == "LEFT" || dir == "RIGHT", c.node.label(),
                           ": direction must be LEFT or RIGHT, got '", dir, "'");
                     return run_binary<false>(c, BitShiftOp{dir == "LEFT"});
                   }));
  {
    OpInfo o = binary_row("Equal", 1, "y = (a == b) as bool (numbers, bool, strings)",
                          [](KernelContext& c) -> std::vector<Tensor> {
                            require_inputs(c, 2);
                            const Tensor& a = c.in(0);
                            const Tensor& b = c.in(1);
                            if (a.dtype() == DType::String || b.dtype() == DType::String) {
                              check(a.dtype() == b.dtype(), c.node.label(), ": input element types differ");
                              return {equal_strings(a, legacy_align(c, a, b), c.node)};
                            }
                            return run_binary<true>(c, EqualOp{});
                          },
                          binary_shape(DType::Bool));
    o.props.commutative = true;
    r.add(std::move(o));
  }
  r.add(binary_row("Greater", 1, "y = (a > b) as bool",
                   [](KernelContext& c) { return run_binary<true>(c, GreaterOp{}); }, binary_shape(DType::Bool)));
  r.add(binary_row("GreaterOrEqual", 12, "y = (a >= b) as bool",
                   [](KernelContext& c) { return run_binary<true>(c, GreaterEqOp{}); }, binary_shape(DType::Bool)));
  r.add(binary_row("Less", 1, "y = (a < b) as bool",
                   [](KernelContext& c) { return run_binary<true>(c, LessOp{}); }, binary_shape(DType::Bool)));
  r.add(binary_row("LessOrEqual", 12, "y = (a <= b) as bool",
                   [](KernelContext& c) { return run_binary<true>(c, LessEqOp{}); }, binary_shape(DType::Bool)));

  {
    OpInfo o = binary_row("Max", 1, "y = element-wise max of all inputs (NaN propagates)",
                          [](KernelContext& c) -> std::vector<Tensor> { return {fold_inputs(c, MaxOp{})}; },
                          variadic_shape);
    o.props = assoc_comm();
    r.add(std::move(o));
    o = binary_row("Min", 1, "y = element-wise min of all inputs (NaN propagates)",
                   [](KernelContext& c) -> std::vector<Tensor> { return {fold_inputs(c, MinOp{})}; },
                   variadic_shape);
    o.props = assoc_comm();
    r.add(std::move(o));
    o = binary_row("Sum", 1, "y = sum of all inputs (broadcasting)",
                   [](KernelContext& c) -> std::vector<Tensor> { return {fold_inputs(c, AddOp{})}; },
                   variadic_shape);
    o.props = assoc_comm();
    r.add(std::move(o));
  }
  r.add(binary_row(
      "Mean", 1, "y = mean of all inputs (broadcasting, float types)",
      [](KernelContext& c) -> std::vector<Tensor> {
        const Tensor s = fold_inputs(c, AddOp{});
        const double n = double(c.num_inputs());
        return {ew::map_float(s, c.node, [n](auto v) { return decltype(v)(v / decltype(v)(n)); })};
      },
      variadic_shape));
  r.add(binary_row(
      "Where", 9, "y = cond ? x : y (broadcasting over all three inputs)",
      [](KernelContext& c) -> std::vector<Tensor> {
        require_inputs(c, 3);
        return {where_tensor(c.in(0), c.in(1), c.in(2), c.node)};
      },
      [](const InferContext& c) -> std::vector<TensorType> {
        require_inputs(c, 3);
        return broadcast_inputs(c, c.in(1).dtype);
      }));
}

}  // namespace ew

}  // namespace dnnf::ops
