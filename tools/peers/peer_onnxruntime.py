#!/usr/bin/env python3
"""ONNX Runtime, extended graph optimisation on the CPU provider: the top-level nodes of
the optimised model ORT saves. ops.txt: `domain:op_type` per node (domain empty for ONNX)."""
import os

from peer_common import main, symbolic_dims


def run(path, workdir):
    import onnx
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = os.path.join(workdir, "ort_extended.onnx")
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    for name in symbolic_dims(onnx.load(path, load_external_data=False)):
        options.add_free_dimension_override_by_name(name, 1)
    ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    saved = onnx.load(options.optimized_model_filepath, load_external_data=False)
    ops = ["%s:%s" % (n.domain, n.op_type) for n in saved.graph.node]
    os.remove(options.optimized_model_filepath)
    return ort.__version__, ops


if __name__ == "__main__":
    main("onnxruntime", run)
