"""Shared plumbing of the peer scripts run by `dnnf compare`.

Every script is called as `python peer_X.py MODEL.onnx WORKDIR`; it runs the peer's own
converter/optimiser on MODEL, writes the peer's operator list to WORKDIR/ops.txt (one
operator per line, in the peer's own vocabulary, see each script) and prints one JSON
object on the last line of stdout: {"system", "version", "ops_file"} or {"system", "error"}. dnnf recounts layers and fused groups from
ops.txt with its own parser (core/peers/peer_output_parsers.cpp).
"""
import json
import os
import re
import sys
import traceback


def symbolic_dims(model):
    """dim_param names of the graph inputs; dnnf binds them to 1, so the peers do too."""
    init = {t.name for t in model.graph.initializer}
    names = set()
    for v in model.graph.input:
        if v.name in init or not v.type.HasField("tensor_type"):
            continue
        for d in v.type.tensor_type.shape.dim:
            if d.HasField("dim_param") and d.dim_param:
                names.add(d.dim_param)
    return sorted(names)


def bound_model_path(path, workdir):
    """A copy of MODEL in WORKDIR with symbolic input dims fixed to 1. Always a copy:
    converters such as onnx2tf simplify their input file in place."""
    import onnx
    model = onnx.load(path, load_external_data=False)
    for v in model.graph.input:
        if v.type.HasField("tensor_type"):
            for d in v.type.tensor_type.shape.dim:
                if d.HasField("dim_param") and d.dim_param:
                    d.dim_value = 1
    out = os.path.join(workdir, "bound.onnx")
    onnx.save(model, out)
    return out


def error_text(e):
    """One line for the failed row: the exception type, the converter's operator handler the
    error came from (onnx2tf raises from onnx2tf/ops/<OnnxOp>.py), and the first line of the
    message that says what went wrong. Keras wraps errors as 'Exception encountered when
    calling layer ...' + cause + '• arg=value' lines; the cause is the line to keep."""
    etype = type(e).__name__
    lines = [l.strip() for l in str(e).strip().splitlines() if l.strip()]
    keep = [l for l in lines if not l.startswith(("Exception encountered when calling layer", "Call arguments received",
                                                  "\u2022"))]
    if lines and lines[0] == "in user code:":  # a tf.function error: the traceback, then "XxxError: cause"
        errors = [i for i, l in enumerate(lines) if re.match(r"^[A-Za-z_.]*(Error|Exception): ", l)]
        if errors:
            etype, _, cause = lines[errors[-1]].partition(": ")
            etype = etype.split(".")[-1]
            if cause.startswith("Exception encountered when calling layer"):  # Keras: the cause is next
                cause = next((l for l in lines[errors[-1] + 1:] if l in keep), cause)
            keep = [cause]
        else:
            keep = keep[1:]
    msg = (keep or lines or [""])[0].split(" Found: ")[0]  # Keras appends the offending tensor's values
    where = ""
    for frame in traceback.extract_tb(e.__traceback__):
        parts = frame.filename.replace(os.sep, "/").split("/")
        if len(parts) >= 3 and parts[-2] == "ops" and parts[-3] == "onnx2tf":
            where = "onnx2tf %s: " % parts[-1][:-3]
    return ("%s: %s%s" % (etype, where, msg) if msg or where else etype)[:300]


def main(system, run):
    """run(model, workdir) -> (version, ops list); prints the result line."""
    if len(sys.argv) != 3:
        print(json.dumps({"system": system, "error": "usage: %s MODEL.onnx WORKDIR" % sys.argv[0]}))
        sys.exit(2)
    model, workdir = sys.argv[1], sys.argv[2]
    os.makedirs(workdir, exist_ok=True)
    try:
        version, ops = run(model, workdir)
    except Exception as e:  # reported as a failed row by dnnf
        traceback.print_exc(file=sys.stderr)
        print(json.dumps({"system": system, "error": error_text(e)}))
        sys.exit(1)
    ops_file = os.path.join(workdir, "ops.txt")
    if ops is not None:  # None: the script wrote the peer's own dump to ops.txt itself
        with open(ops_file, "w") as f:
            f.write("# %s %s\n" % (system, version))
            for op in ops:
                f.write(op + "\n")
    print(json.dumps({"system": system, "version": version, "ops_file": ops_file}))
