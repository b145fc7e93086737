#!/usr/bin/env python3
"""ONNX Runtime latency of one model, the way `dnnf bench` measures dnnf: all graph
optimisations on, N intra-op threads (inter-op 1: no oversubscription), warm-up runs, then
the median of timed runs of session.run on seeded uniform(-1, 1) inputs (integer inputs
get zeros, as dnnf's random inputs give index 0). Symbolic dims are bound to 1, as dnnf
binds them. Prints one JSON line: {"median_ms", "p10_ms", "p90_ms", "runs", "threads",
"version"}.

    ~/.cache/dnnf/peers-venv/bin/python tools/peers/ort_latency.py MODEL.onnx [--threads N] [--runs N] [--warmup N]
"""
import argparse
import json
import time

import numpy as np
import onnxruntime as ort

DTYPES = {"tensor(float)": np.float32, "tensor(int64)": np.int64, "tensor(int32)": np.int32,
          "tensor(bool)": np.bool_, "tensor(double)": np.float64}


def inputs_for(session, seed):
    rng = np.random.default_rng(seed)
    feeds = {}
    for i in session.get_inputs():
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in i.shape]
        dt = DTYPES.get(i.type, np.float32)
        if dt in (np.float32, np.float64):
            feeds[i.name] = rng.uniform(-1, 1, size=shape).astype(dt)
        elif dt == np.bool_:
            feeds[i.name] = np.ones(shape, dtype=dt)
        else:
            feeds[i.name] = np.zeros(shape, dtype=dt)
    return feeds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    s = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    feeds = inputs_for(s, a.seed)
    for _ in range(a.warmup):
        s.run(None, feeds)
    times = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        s.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    q = np.percentile(times, [10, 50, 90])
    print(json.dumps({"median_ms": float(q[1]), "p10_ms": float(q[0]), "p90_ms": float(q[2]), "runs": a.runs,
                      "threads": a.threads, "version": ort.__version__}))


if __name__ == "__main__":
    main()
