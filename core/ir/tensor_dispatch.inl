// Implementation of dispatch_numeric (included from tensor.h).
#pragma once

#include "core/util/error.h"

namespace dnnf {

template <class Fn>
decltype(auto) dispatch_numeric(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::F32: return fn(float{});
    case DType::F64: return fn(double{});
    case DType::I64: return fn(int64_t{});
    case DType::I32: return fn(int32_t{});
    case DType::I16: return fn(int16_t{});
    case DType::I8: return fn(int8_t{});
    case DType::U8: return fn(uint8_t{});
    case DType::U16: return fn(uint16_t{});
    case DType::U32: return fn(uint32_t{});
    case DType::U64: return fn(uint64_t{});
    case DType::Bool: return fn(bool{});
    default: break;
  }
  fail("element type ", dtype_name(dtype), " is not supported here");
}

}  // namespace dnnf
