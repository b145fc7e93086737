#!/usr/bin/env python3
"""Runs a `dnnf export --target onnx` file and its source model in ONNX Runtime and
compares their outputs (a bench-side check; not part of the test suite).

ONNX Runtime inlines the model-local fused functions itself, so this checks the export
with a second consumer besides dnnf's own importer. Both models get the same seeded
inputs: floats uniform in (-1, 1), integers in [0, 2) and booleans, like dnnf's own
random inputs. The export is specialised to the shapes dnnf planned for (symbolic
input dims bound to 1 unless `--dim` was given), so its input shapes are used for both.

Runs wherever onnxruntime is importable, e.g. the peers venv:
    ~/.cache/dnnf/peers-venv/bin/python tools/export/ort_check_export.py ORIGINAL.onnx EXPORTED.onnx
Exit code 0 when every output agrees within --rtol/--atol (|a - b| <= atol + rtol |b|).
"""
import argparse
import sys

import numpy as np
import onnxruntime as ort

ORT_TYPES = {
    "tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
    "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8, "tensor(bool)": np.bool_,
}


def make_inputs(session, seed):
    rng = np.random.default_rng(seed)
    feeds = {}
    for i in session.get_inputs():
        shape = [d if isinstance(d, int) and d >= 0 else 1 for d in i.shape]
        dtype = ORT_TYPES.get(i.type)
        if dtype is None:
            sys.exit("input %s has type %s, which this script does not generate" % (i.name, i.type))
        if dtype == np.bool_:
            feeds[i.name] = rng.integers(0, 2, size=shape).astype(np.bool_)
        elif np.issubdtype(dtype, np.integer):
            feeds[i.name] = rng.integers(0, 2, size=shape).astype(dtype)
        else:
            feeds[i.name] = rng.uniform(-1, 1, size=shape).astype(dtype)
    return feeds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("original")
    ap.add_argument("exported")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--atol", type=float, default=1e-5)
    args = ap.parse_args()

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    exported = ort.InferenceSession(args.exported, opts, providers=["CPUExecutionProvider"])
    original = ort.InferenceSession(args.original, opts, providers=["CPUExecutionProvider"])
    feeds = make_inputs(exported, args.seed)
    names = [o.name for o in original.get_outputs()]
    want = original.run(names, feeds)
    got = exported.run(names, feeds)
    bad = 0
    for name, a, b in zip(names, got, want):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            print("output %s: shape %s, the original's is %s" % (name, a.shape, b.shape))
            bad += 1
            continue
        if a.dtype.kind in "fc":
            err = np.abs(a.astype(np.float64) - b.astype(np.float64))
            over = int(np.sum(err > args.atol + args.rtol * np.abs(b.astype(np.float64))))
            print("output %s: max abs error %.3g, %d of %d elements out of tolerance" % (name, err.max(initial=0), over, a.size))
            bad += over > 0
        else:
            same = np.array_equal(a, b)
            print("output %s: %s" % (name, "equal" if same else "DIFFERENT"))
            bad += not same
    print("%s: %d of %d outputs agree with the original in ONNX Runtime %s"
          % (args.exported, len(names) - bad, len(names), ort.__version__))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
