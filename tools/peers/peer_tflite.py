#!/usr/bin/env python3
"""TFLite: ONNX -> TensorFlow -> .tflite with onnx2tf (which runs onnxsim and the TFLite
converter), then the operators of the model's main subgraph. ops.txt: one builtin
operator name per line, `+ACTIVATION` appended when the operator carries a fused
activation (e.g. `CONV_2D+RELU6`)."""
import glob
import os

from peer_common import bound_model_path, main


def names_of(cls):
    return {v: k for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, int)}


def run(path, workdir):
    import onnx2tf
    import tensorflow as tf
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    src = os.path.abspath(bound_model_path(path, workdir))
    out = os.path.join(os.path.abspath(workdir), "tf")
    # onnx2tf feeds image-like inputs a sample batch it would download; it reads a copy
    # in the working directory first, so give it seeded random pixels (no network here).
    import numpy as np
    os.chdir(workdir)
    sample = "calibration_image_sample_data_20x128x128x3_float32.npy"
    if not os.path.exists(sample):
        np.save(sample, np.random.default_rng(0).random((20, 128, 128, 3), dtype=np.float32))
    onnx2tf.convert(input_onnx_file_path=src, output_folder_path=out, non_verbose=True,
                    copy_onnx_input_output_names_to_tflite=False)
    files = sorted(glob.glob(os.path.join(out, "*_float32.tflite")))
    if not files:
        raise RuntimeError("onnx2tf wrote no *_float32.tflite")
    model = flatbuffer_utils.read_model(files[0])
    op_names = names_of(schema.BuiltinOperator)
    act_names = names_of(schema.ActivationFunctionType)
    ops = []
    for op in model.subgraphs[0].operators:
        code = model.operatorCodes[op.opcodeIndex]
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        name = op_names.get(builtin, "CUSTOM_%d" % builtin)
        if builtin == schema.BuiltinOperator.CUSTOM and code.customCode:
            name = "CUSTOM:" + (code.customCode.decode() if isinstance(code.customCode, bytes) else str(code.customCode))
        act = getattr(op.builtinOptions, "fusedActivationFunction", 0) if op.builtinOptions is not None else 0
        ops.append(name + ("+" + act_names.get(act, str(act)) if act else ""))
    return "onnx2tf %s, tensorflow %s" % (onnx2tf.__version__, tf.__version__), ops


if __name__ == "__main__":
    main("tflite", run)
