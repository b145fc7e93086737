#include "core/ir/tensor.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "core/util/error.h"
#include "core/util/limits.h"

namespace dnnf {

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    check(d >= 0, "negative dimension ", d, " in shape ", shape_str(shape));
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) {
      fail("shape ", shape_str(shape), " has more elements than fit in 64 bits");
    }
    n *= d;
  }
  return n;
}

std::string shape_str(const Shape& shape) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? "," : "") << shape[i];
  os << ']';
  return os.str();
}

void check_tensor_size(int64_t numel, DType dtype, const std::string& what) {
  if (numel > limits().tensor_elements)
    limit_exceeded("tensor-elements", what + " has " + std::to_string(numel) + " elements (" + dtype_name(dtype) + ")");
}

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  check(dtype != DType::Undefined, "cannot create a tensor of undefined element type");
  numel_ = shape_numel(shape_);
  check_tensor_size(numel_, dtype_, "tensor of shape " + shape_str(shape_));
  if (dtype_ == DType::String) {
    strings_ = std::make_shared<std::vector<std::string>>(size_t(numel_));
  } else {
    bytes_ = std::make_shared<std::vector<unsigned char>>(nbytes());
  }
}

Tensor Tensor::reshaped(Shape shape) const {
  const int64_t n = shape_numel(shape);
  check(n == numel_, "cannot reshape ", shape_str(shape_), " to ", shape_str(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = *this;
  if (bytes_) t.bytes_ = std::make_shared<std::vector<unsigned char>>(*bytes_);
  if (strings_) t.strings_ = std::make_shared<std::vector<std::string>>(*strings_);
  return t;
}

Tensor Tensor::bitcast(DType to) const {
  check(dtype_size(to) == dtype_size(dtype_) && to != DType::String && dtype_ != DType::String,
        "cannot view ", dtype_name(dtype_), " data as ", dtype_name(to));
  Tensor t = *this;
  t.dtype_ = to;
  return t;
}

double Tensor::get_f64(int64_t i) const {
  switch (dtype_) {
    case DType::F16: return half_to_float(data<uint16_t>()[i]);
    case DType::BF16: return bf16_to_float(data<uint16_t>()[i]);
    case DType::String: fail("string tensor used as a number");
    default: return dispatch_numeric(dtype_, [&](auto tag) {
      using T = decltype(tag);
      return double(data<T>()[i]);
    });
  }
}

namespace {
template <class T>
T float_to_int_like(double v) {
  // ONNX Cast from float to integer truncates toward zero; out-of-range is undefined,
  // dnnf saturates so the result is at least deterministic.
  if (std::isnan(v)) return T(0);
  if (v >= double(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  if (v <= double(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
  return T(v);
}
}  // namespace

void Tensor::set_f64(int64_t i, double v) {
  switch (dtype_) {
    case DType::F16: data<uint16_t>()[i] = float_to_half(float(v)); return;
    case DType::BF16: data<uint16_t>()[i] = float_to_bf16(float(v)); return;
    case DType::String: fail("string tensor used as a number");
    default: dispatch_numeric(dtype_, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_same_v<T, bool>) data<T>()[i] = v != 0;
      else if constexpr (std::is_floating_point_v<T>) data<T>()[i] = T(v);
      else data<T>()[i] = float_to_int_like<T>(v);
    });
  }
}

int64_t Tensor::get_i64(int64_t i) const {
  switch (dtype_) {
    case DType::I64: return data<int64_t>()[i];
    case DType::I32: return data<int32_t>()[i];
    case DType::U64: return int64_t(data<uint64_t>()[i]);
    default: {
      const double v = get_f64(i);
      return float_to_int_like<int64_t>(v);
    }
  }
}

void Tensor::set_i64(int64_t i, int64_t v) {
  switch (dtype_) {
    case DType::I64: data<int64_t>()[i] = v; return;
    case DType::I32: data<int32_t>()[i] = int32_t(v); return;
    case DType::U64: data<uint64_t>()[i] = uint64_t(v); return;
    case DType::U32: data<uint32_t>()[i] = uint32_t(v); return;
    case DType::I16: data<int16_t>()[i] = int16_t(v); return;
    case DType::U16: data<uint16_t>()[i] = uint16_t(v); return;
    case DType::I8: data<int8_t>()[i] = int8_t(v); return;
    case DType::U8: data<uint8_t>()[i] = uint8_t(v); return;
    case DType::Bool: data<bool>()[i] = v != 0; return;
    default: set_f64(i, double(v));
  }
}

std::vector<int64_t> Tensor::to_i64_vector() const {
  std::vector<int64_t> v(static_cast<size_t>(numel_));
  for (int64_t i = 0; i < numel_; ++i) v[size_t(i)] = get_i64(i);
  return v;
}

std::vector<float> Tensor::to_f32_vector() const {
  std::vector<float> v(static_cast<size_t>(numel_));
  if (dtype_ == DType::F32) {
    std::memcpy(v.data(), raw(), nbytes());
  } else {
    for (int64_t i = 0; i < numel_; ++i) v[size_t(i)] = float(get_f64(i));
  }
  return v;
}

namespace {
std::string number_to_string(const Tensor& t, int64_t i) {
  std::ostringstream os;
  if (dtype_is_float(t.dtype())) {
    const double v = t.get_f64(i);
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "INF" : "-INF";
    os.precision(t.dtype() == DType::F64 ? 17 : 9);
    os << v;
  } else if (t.dtype() == DType::Bool) {
    os << (t.get_i64(i) ? "1" : "0");
  } else if (t.dtype() == DType::U64) {
    os << t.data<uint64_t>()[i];
  } else {
    os << t.get_i64(i);
  }
  return os.str();
}
}  // namespace

Tensor Tensor::cast(DType to) const {
  if (to == dtype_) return *this;
  Tensor out(to, shape_);
  if (dtype_ == DType::String) {
    for (int64_t i = 0; i < numel_; ++i) {
      const std::string& s = (*strings_)[size_t(i)];
      if (to == DType::String) continue;
      char* end = nullptr;
      double v = std::strtod(s.c_str(), &end);
      if (s == "INF" || s == "inf" || s == "+INF") v = std::numeric_limits<double>::infinity();
      if (s == "-INF" || s == "-inf") v = -std::numeric_limits<double>::infinity();
      if (to == DType::I64) out.set_i64(i, std::strtoll(s.c_str(), nullptr, 10));
      else if (to == DType::U64) out.data<uint64_t>()[i] = std::strtoull(s.c_str(), nullptr, 10);
      else out.set_f64(i, v);
    }
    return out;
  }
  if (to == DType::String) {
    for (int64_t i = 0; i < numel_; ++i) out.strings()[size_t(i)] = number_to_string(*this, i);
    return out;
  }
  const bool exact_int = dtype_is_integer(dtype_) && dtype_is_integer(to);
  for (int64_t i = 0; i < numel_; ++i) {
    if (exact_int) {
      if (dtype_ == DType::U64) out.set_i64(i, int64_t(data<uint64_t>()[i]));
      else out.set_i64(i, get_i64(i));
    } else if (to == DType::Bool) {
      out.data<bool>()[i] = get_f64(i) != 0;
    } else if (dtype_is_integer(to) && dtype_is_float(dtype_)) {
      out.set_f64(i, std::trunc(get_f64(i)));
    } else if (dtype_ == DType::I64 && dtype_is_float(to)) {
      out.set_f64(i, double(data<int64_t>()[i]));
    } else {
      out.set_f64(i, get_f64(i));
    }
  }
  return out;
}

Tensor Tensor::scalar_f32(float v) {
  Tensor t(DType::F32, {});
  t.data<float>()[0] = v;
  return t;
}

Tensor Tensor::scalar_i64(int64_t v) {
  Tensor t(DType::I64, {});
  t.data<int64_t>()[0] = v;
  return t;
}

Tensor Tensor::vector_i64(const std::vector<int64_t>& v) {
  Tensor t(DType::I64, {int64_t(v.size())});
  for (size_t i = 0; i < v.size(); ++i) t.data<int64_t>()[i] = v[i];
  return t;
}

}  // namespace dnnf
