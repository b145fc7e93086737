#!/usr/bin/env python3
"""Top-level node counts of ONNX models after ONNX Runtime's graph optimisation.

For every model: the original count, and the count after ORT's `basic` and `extended`
levels. ORT writes the optimised graph (optimized_model_filepath) while it creates a
session; we load that file and count its top-level nodes. This is the peer number the
README puts next to dnnf's fused-layer counts.

Runs under the zoo venv (tools/zoo/setup_venv.sh):
    ~/.cache/dnnf/zoo-venv/bin/python tools/peers/ort_node_counts.py MODEL.onnx... [--json FILE]
Without --json it prints a Markdown table. With --json FILE, an existing file is updated
(models named on the command line replace their entries; others are kept).
"""
import argparse
import json
import os
import sys
import tempfile

import onnx
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_common import symbolic_dims  # noqa: E402  (the peer scripts share it)

LEVELS = {
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
}


# dnnf takes symbolic dims as 1, so the main counts bind them to 1 too; that changes
# ORT's result (bert_toy_unfused: 55 extended nodes unbound, 47 bound), so models with
# symbolic dims also get the unbound counts (symbolic_dims lists them).


def optimized_node_count(path, level, dims, workdir):
    options = ort.SessionOptions()
    options.graph_optimization_level = LEVELS[level]
    options.optimized_model_filepath = os.path.join(workdir, level + ".onnx")
    options.intra_op_num_threads = 1
    options.log_severity_level = 3  # errors only: ORT warns about every unbound shape
    for name in dims:
        options.add_free_dimension_override_by_name(name, 1)
    ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    saved = onnx.load(options.optimized_model_filepath, load_external_data=False)
    count = len(saved.graph.node)
    for f in os.listdir(workdir):  # the optimised copy (and any external data) can be large
        os.remove(os.path.join(workdir, f))
    return count


def measure(path):
    model = onnx.load(path, load_external_data=False)
    row = {"nodes": len(model.graph.node)}
    dims = symbolic_dims(model)
    if dims:
        row["symbolic_dims_bound_to_1"] = dims
    del model
    with tempfile.TemporaryDirectory() as workdir:
        row.update(counts_per_level(path, dims, workdir, row))
        if dims:
            row["unbound"] = counts_per_level(path, [], workdir, row)
    return row


def counts_per_level(path, dims, workdir, row):
    counts = {}
    for level in LEVELS:
        try:
            counts[level] = optimized_node_count(path, level, dims, workdir)
        except Exception as e:  # report the model, keep going with the others
            counts[level] = None
            row.setdefault("errors", {})[level + ("" if dims else " unbound")] = str(e).splitlines()[0][:200]
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="ONNX files")
    parser.add_argument("--json", help="write (or update) this JSON file instead of printing a table")
    args = parser.parse_args()

    results = {}
    for path in args.models:
        name = os.path.splitext(os.path.basename(path))[0]
        print("measuring %s" % name, file=sys.stderr, flush=True)
        results[name] = measure(path)

    if args.json:
        doc = {"models": {}}
        if os.path.exists(args.json):
            with open(args.json) as f:
                doc = json.load(f)
        doc["onnxruntime"] = ort.__version__
        doc["what"] = ("top-level node count of the original model and after ORT's basic and "
                       "extended graph optimisation (CPU provider, symbolic dims bound to 1); "
                       "tools/peers/ort_node_counts.py")
        doc["models"].update(results)
        doc["models"] = dict(sorted(doc["models"].items(), key=lambda kv: kv[0].lower()))
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        return

    print("| model | nodes | ORT basic | ORT extended | unbound dims: basic / extended |")
    print("|---|---|---|---|---|")
    show = lambda v: "error" if v is None else str(v)
    for name, row in results.items():
        unbound = row.get("unbound")
        print("| %s | %d | %s | %s | %s |" % (name, row["nodes"], show(row["basic"]), show(row["extended"]),
              "%s / %s" % (show(unbound["basic"]), show(unbound["extended"])) if unbound else "-"))


if __name__ == "__main__":
    main()
