// The operator table: every family registers its rows here, in one place.
#include "core/ops/op_families.h"

namespace dnnf {

const OpRegistry& OpRegistry::instance() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    ops::register_elementwise_ops(r);
    ops::register_activation_ops(r);
    ops::register_quantize_ops(r);
    ops::register_conv_ops(r);
    ops::register_pool_ops(r);
    ops::register_norm_ops(r);
    ops::register_matmul_ops(r);
    ops::register_reduce_ops(r);
    ops::register_attention_ops(r);
    ops::register_shape_ops(r);
    ops::register_slice_concat_ops(r);
    ops::register_gather_scatter_ops(r);
    ops::register_recurrent_ops(r);
    ops::register_control_flow_ops(r);
    ops::register_detection_ops(r);
    ops::register_composite_ops(r);
    return r;
  }();
  return registry;
}

}  // namespace dnnf
