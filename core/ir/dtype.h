// Element types of tensors, with their ONNX codes and sizes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace dnnf {

enum class DType : uint8_t {
  Undefined,
  F32,
  F16,
  BF16,
  F64,
  I64,
  I32,
  I16,
  I8,
  U8,
  U16,
  U32,
  U64,
  Bool,
  String,
};

size_t dtype_size(DType t);          // bytes per element (String: 0, stored apart)
const char* dtype_name(DType t);     // "float32", "int64", ...
DType dtype_from_onnx(int32_t code); // Undefined for codes dnnf does not support
int32_t dtype_to_onnx(DType t);
bool dtype_is_float(DType t);        // F32, F16, BF16, F64
bool dtype_is_integer(DType t);      // signed or unsigned integers (not Bool)
bool dtype_is_signed(DType t);

// IEEE half and bfloat16 conversions (round to nearest even).
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);
float bf16_to_float(uint16_t h);
uint16_t float_to_bf16(float f);

}  // namespace dnnf
