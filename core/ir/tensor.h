// Tensor: a dense, row-major, typed array. A Tensor is a cheap handle: copies share
// storage (kernels always allocate fresh outputs, so sharing is safe); clone() makes
// a deep copy when a caller must mutate.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/ir/dtype.h"

namespace dnnf {

using Shape = std::vector<int64_t>;

// Number of elements of a shape; throws dnnf::Error on negative dims or overflow.
int64_t shape_numel(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[1,3,224,224]"

// Throws dnnf::Error naming `what` if numel is over the limit tensor-elements
// (core/util/limits.h, which holds every limit).
void check_tensor_size(int64_t numel, DType dtype, const std::string& what);

class Tensor {
 public:
  Tensor() = default;
  // Zero-filled tensor; checks the size limit.
  Tensor(DType dtype, Shape shape);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t rank() const { return int64_t(shape_.size()); }
  int64_t dim(int64_t i) const { return shape_[size_t(i < 0 ? i + rank() : i)]; }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return size_t(numel_) * dtype_size(dtype_); }
  bool defined() const { return dtype_ != DType::Undefined; }
  // Whether another tensor (a copy, a reshaped view) holds the same storage.
  bool storage_shared() const { return bytes_.use_count() > 1 || strings_.use_count() > 1; }

  void* raw() { return bytes_ ? bytes_->data() : nullptr; }
  const void* raw() const { return bytes_ ? bytes_->data() : nullptr; }
  template <class T> T* data() { return static_cast<T*>(raw()); }
  template <class T> const T* data() const { return static_cast<const T*>(raw()); }
  std::vector<std::string>& strings() { return *strings_; }
  const std::vector<std::string>& strings() const { return *strings_; }

  // Same storage, new shape (element count must match).
  Tensor reshaped(Shape shape) const;
  Tensor clone() const;
  // Same bytes viewed as another element type of the same size (e.g. uint16 -> bf16).
  Tensor bitcast(DType to) const;

  // Element access through double / int64 for generic code (shape ops, tests).
  double get_f64(int64_t i) const;
  void set_f64(int64_t i, double v);
  int64_t get_i64(int64_t i) const;
  void set_i64(int64_t i, int64_t v);
  std::vector<int64_t> to_i64_vector() const;   // any integer/float tensor
  std::vector<float> to_f32_vector() const;

  // Converts element type with ONNX Cast semantics (saturating only where ONNX says).
  Tensor cast(DType to) const;

  // Builders.
  template <class T>
  static Tensor from_vector(DType dtype, Shape shape, const std::vector<T>& values) {
    Tensor t(dtype, std::move(shape));
    static_assert(std::is_arithmetic_v<T>);
    for (int64_t i = 0; i < t.numel(); ++i) t.set_f64(i, double(values[size_t(i)]));
    return t;
  }
  static Tensor scalar_f32(float v);
  static Tensor scalar_i64(int64_t v);
  static Tensor vector_i64(const std::vector<int64_t>& v);

 private:
  DType dtype_ = DType::Undefined;
  Shape shape_;
  int64_t numel_ = 0;
  std::shared_ptr<std::vector<unsigned char>> bytes_;
  std::shared_ptr<std::vector<std::string>> strings_;
};

// Calls fn(T{}) with the C++ storage type of dtype: float, double, int64_t, int32_t,
// int16_t, int8_t, uint8_t, uint16_t, uint32_t, uint64_t, bool. F16/BF16 are stored
// as uint16_t and are NOT dispatched here (kernels compute them through f32 casts);
// String is not dispatched. Throws dnnf::Error for those.
template <class Fn>
decltype(auto) dispatch_numeric(DType dtype, Fn&& fn);

}  // namespace dnnf

#include "core/ir/tensor_dispatch.inl"
