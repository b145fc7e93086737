#!/usr/bin/env python3
"""Compares dnnf's reference executor, dnnf's CPU backend and ONNX Runtime on one input.

When `dnnf run --backend cpu --check` reports elements out of tolerance, this tells
whether they come from float32 arithmetic (ONNX Runtime, which also accumulates in
float32, then misses the reference by a similar amount) or from a semantic difference
(ONNX Runtime and the reference disagree by far more than rounding).

Writes seeded uniform(-1, 1) float32 inputs as .npy (the distribution of dnnf's own
random inputs), runs `dnnf run --input NAME=FILE.npy --output DIR` with the reference
and the CPU backend, runs ONNX Runtime with all graph optimisations off and with its
default level, and prints, for every pair and output, the elements out of tolerance by
dnnf's rule |a - b| <= atol + rtol * |b| (b: the second of the pair).

Runs under the zoo venv:
    ~/.cache/dnnf/zoo-venv/bin/python tools/peers/ort_vs_reference.py MODEL.onnx [--dnnf PATH] [--seed N]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))


def safe_file_name(name):  # as app/cli/cmd_run.cpp names --output files
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name) or "output"


def make_inputs(model, seed, workdir):
    rng = np.random.default_rng(seed)
    initializers = {t.name for t in model.graph.initializer}
    inputs = {}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        tt = value.type.tensor_type
        if tt.elem_type != onnx.TensorProto.FLOAT:
            sys.exit("error: input '%s' is not float32; this tool only makes float inputs" % value.name)
        shape = [d.dim_value if d.HasField("dim_value") else 1 for d in tt.shape.dim]
        inputs[value.name] = rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)
    files = {}
    for i, (name, array) in enumerate(inputs.items()):
        files[name] = os.path.join(workdir, "input_%d.npy" % i)
        np.save(files[name], array)
    return inputs, files


def run_dnnf(dnnf, model_path, files, backend, outdir, output_names):
    cmd = [dnnf, "run", model_path, "--backend", backend, "--output", outdir]
    for name, path in files.items():
        cmd += ["--input", "%s=%s" % (name, path)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return {n: np.load(os.path.join(outdir, safe_file_name(n) + ".npy")) for n in output_names}


def run_ort(model_path, inputs, level):
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    options.log_severity_level = 3
    session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, inputs)))


def compare(a, b, rtol, atol):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    diff = np.abs(a64 - b64)
    bad = diff > atol + rtol * np.abs(b64)
    return int(bad.sum()), a.size, float(diff.max()) if diff.size else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--dnnf", default=os.environ.get("DNNF", os.path.join(HERE, "..", "..", "build", "bin", "dnnf")))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rtol", type=float, default=1e-4)
    parser.add_argument("--atol", type=float, default=1e-5)
    args = parser.parse_args()

    model = onnx.load(args.model, load_external_data=False)
    output_names = [o.name for o in model.graph.output]
    with tempfile.TemporaryDirectory() as workdir:
        inputs, files = make_inputs(model, args.seed, workdir)
        results = {
            "dnnf reference": run_dnnf(args.dnnf, args.model, files, "reference", os.path.join(workdir, "ref"), output_names),
            "dnnf cpu": run_dnnf(args.dnnf, args.model, files, "cpu", os.path.join(workdir, "cpu"), output_names),
            "ORT (no optimisation)": run_ort(args.model, inputs, ort.GraphOptimizationLevel.ORT_DISABLE_ALL),
            "ORT (default level)": run_ort(args.model, inputs, ort.GraphOptimizationLevel.ORT_ENABLE_ALL),
        }
    pairs = [("dnnf cpu", "dnnf reference"), ("ORT (no optimisation)", "dnnf reference"),
             ("ORT (default level)", "dnnf reference"), ("dnnf cpu", "ORT (no optimisation)"),
             ("ORT (default level)", "ORT (no optimisation)")]
    print("%s, seed %d, rtol %g, atol %g (ONNX Runtime %s)\n" % (
        os.path.basename(args.model), args.seed, args.rtol, args.atol, ort.__version__))
    print("| a | b | output | elements with abs(a-b) > atol + rtol*abs(b) | max abs(a-b) |")
    print("|---|---|---|---|---|")
    for a, b in pairs:
        for name in output_names:
            bad, total, worst = compare(results[a][name], results[b][name], args.rtol, args.atol)
            print("| %s | %s | `%s` | %d of %d | %.2g |" % (a, b, name, bad, total, worst))


if __name__ == "__main__":
    main()
