#!/usr/bin/env python3
"""TVM (Relax): import the ONNX model, legalise to TIR, annotate op patterns, fold
constants and run FuseOps; then every kernel call of `main`. ops.txt: one line per call,
`NAME N` where N is the number of primitive operators fused into it (1 = not fused)."""
import onnx

from peer_common import main


def run(path, workdir):
    import tvm
    from tvm import relax
    from tvm.relax.frontend.onnx import from_onnx

    model = onnx.load(path)
    mod = from_onnx(model, keep_params_in_input=False)
    seq = tvm.transform.Sequential([
        relax.transform.DecomposeOpsForInference(),
        relax.transform.LegalizeOps(),
        relax.transform.AnnotateTIROpPattern(),
        relax.transform.FoldConstant(),
        relax.transform.FuseOps(),
    ])
    with tvm.transform.PassContext(opt_level=3):
        mod = seq(mod)

    def tir_calls(expr):
        found = []
        def visit(e):
            if isinstance(e, relax.Call) and e.op.same_as(tvm.ir.Op.get("relax.call_tir")):
                found.append(e.args[0].name_hint)
        relax.analysis.post_order_visit(expr, visit)
        return found

    ops = []
    def visit_main(e):
        if not isinstance(e, relax.Call):
            return
        if isinstance(e.op, tvm.ir.GlobalVar):
            func = mod[e.op]
            if isinstance(func, relax.Function) and func.attrs is not None and "Primitive" in func.attrs:
                ops.append("%s %d" % (e.op.name_hint, len(tir_calls(func.body))))
        elif e.op.same_as(tvm.ir.Op.get("relax.call_tir")):
            ops.append("%s 1" % e.args[0].name_hint)
    relax.analysis.post_order_visit(mod["main"].body, visit_main)
    return tvm.__version__, ops


if __name__ == "__main__":
    main("tvm", run)
