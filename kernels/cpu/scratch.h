// A 64-byte aligned float area that only grows: kept thread_local by its users (the GEMM
// driver's packed panels and partial sums, the transposed pointwise product), so that
// repeated calls allocate nothing.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <new>

namespace dnnf_kernels {

class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { std::free(data_); }

  // At least `floats` floats; the contents are not kept when it grows.
  float* get(int64_t floats) {
    if (floats > size_) {
      std::free(data_);
      const size_t bytes = size_t((floats * 4 + 63) / 64 * 64);
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!data_) {
        size_ = 0;
        throw std::bad_alloc();
      }
      size_ = floats;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  int64_t size_ = 0;
};

}  // namespace dnnf_kernels
