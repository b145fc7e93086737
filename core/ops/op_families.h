// One registration function per operator family; core/ops/op_table.cpp calls them all.
// To add an operator: add its row in the family file (or a new family listed here).
#pragma once

#include "core/ir/op_registry.h"

namespace dnnf::ops {

void register_elementwise_ops(OpRegistry& r);    // unary/binary math, logic, compare, Where, Cast, Clip
void register_activation_ops(OpRegistry& r);     // Relu..Gelu, Softmax family, Hardmax
void register_quantize_ops(OpRegistry& r);       // Quantize/Dequantize, DynamicQuantizeLinear
void register_conv_ops(OpRegistry& r);           // Conv, ConvTranspose, ConvInteger, QLinearConv
void register_pool_ops(OpRegistry& r);           // Average/Max/Lp/Global pools, MaxUnpool
void register_norm_ops(OpRegistry& r);           // Batch/Instance/Layer/Group/RMS norm, LRN, MVN, LpNorm
void register_matmul_ops(OpRegistry& r);         // MatMul, Gemm, Einsum, MatMulInteger, QLinearMatMul, Det
void register_reduce_ops(OpRegistry& r);         // Reduce*, ArgMax/ArgMin, CumSum, TopK
void register_attention_ops(OpRegistry& r);      // Attention (opset 23+)
void register_shape_ops(OpRegistry& r);          // Reshape, Flatten, (Un)Squeeze, Transpose, Shape, Size, ...
void register_slice_concat_ops(OpRegistry& r);   // Slice, Split, Concat, Pad, Resize, Tile, Expand, ...
void register_gather_scatter_ops(OpRegistry& r); // Gather*, Scatter*, OneHot, NonZero, Compress, Unique
void register_recurrent_ops(OpRegistry& r);      // LSTM, GRU, RNN
void register_control_flow_ops(OpRegistry& r);   // If, Loop, Scan
void register_detection_ops(OpRegistry& r);      // NonMaxSuppression, RoiAlign, GridSample
// Operators in the "dnnf" domain that the rewriter creates for recognised composites
// (LayerNormalization, Gelu, Silu, ... usable at any model opset) and their kernels.
void register_composite_ops(OpRegistry& r);

}  // namespace dnnf::ops
