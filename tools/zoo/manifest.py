#!/usr/bin/env python3
"""Measure and verify the exported zoo; write tests/models/zoo_small/MANIFEST.json and docs/zoo.md.

    python tools/zoo/manifest.py              # check + run every model present, write both files
    python tools/zoo/manifest.py --no-ort     # skip onnxruntime runs (checker only)

For every model (full from ${DNNF_ZOO:-~/.cache/dnnf/zoo}, small from tests/models/zoo_small):
name, source (class and config), substitutions, opset, IR version, node count, op histogram,
parameter count (elements of all initializers), file size, sha256, inputs/outputs with shapes,
onnx.checker result and an onnxruntime run with random inputs.
A full model that is absent on this machine keeps its entry from the previous MANIFEST.json
(marked "present": false), so the committed manifest does not depend on who ran it last.
Needs only the `onnx` package (and `onnxruntime`, `numpy` for --ort); use the zoo venv.
Exit status 1 if a present model fails the checker or onnxruntime.
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import sys
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import catalog  # noqa: E402

SMALL_DIR = REPO / "tests" / "models" / "zoo_small"
MANIFEST = SMALL_DIR / "MANIFEST.json"
DOC = REPO / "docs" / "zoo.md"


def full_dir() -> Path:
    return Path(os.environ.get("DNNF_ZOO", Path.home() / ".cache" / "dnnf" / "zoo"))


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "absent"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _all_nodes(graph):
    """Nodes of a graph and, recursively, of its If/Loop/Scan subgraphs."""
    for node in graph.node:
        yield node
        for a in node.attribute:
            if a.type == a.GRAPH:
                yield from _all_nodes(a.g)
            for sg in a.graphs:
                yield from _all_nodes(sg)


def _value_info(vi):
    import onnx

    tt = vi.type.tensor_type
    dims = []
    for d in tt.shape.dim:
        dims.append(d.dim_value if d.HasField("dim_value") else (d.dim_param or "?"))
    return {"name": vi.name, "dtype": onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type).name,
            "shape": dims}


def measure(path: Path) -> dict:
    import onnx

    model = onnx.load(str(path))
    g = model.graph
    ops = collections.Counter(n.op_type for n in g.node)
    all_ops = collections.Counter(n.op_type for n in _all_nodes(g))
    params = 0
    for t in g.initializer:
        k = 1
        for d in t.dims:
            k *= d
        params += k
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    info = {
        "file": path.name,
        "opset": opset,
        "ir_version": model.ir_version,
        "producer": f"{model.producer_name} {model.producer_version}".strip(),
        "nodes": len(g.node),
        "nodes_without_constant": len(g.node) - ops.get("Constant", 0),
        "nodes_including_subgraphs": sum(all_ops.values()),
        "parameters": params,
        "initializers": len(g.initializer),
        "file_bytes": path.stat().st_size,
        "sha256": _sha256(path),
        "inputs": [_value_info(v) for v in g.input if v.name not in {t.name for t in g.initializer}],
        "outputs": [_value_info(v) for v in g.output],
        "op_types": dict(sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))),
    }
    if all_ops != ops:
        info["op_types_including_subgraphs"] = dict(sorted(all_ops.items(), key=lambda kv: (-kv[1], kv[0])))
    try:
        onnx.checker.check_model(str(path), full_check=True)
        info["checker"] = "ok"
    except Exception as e:  # noqa: BLE001
        info["checker"] = f"FAIL: {type(e).__name__}: {str(e).splitlines()[0][:300]}"
    return info


def ort_run(path: Path, inputs) -> tuple[str, list, float]:
    import numpy as np
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.inter_op_num_threads = 1
    so.log_severity_level = 3  # traced Loop shape annotations in Mask R-CNN trigger warnings
    rng = np.random.default_rng(0)
    feeds = {}
    for vi in inputs:
        shape = [d if isinstance(d, int) else 1 for d in vi["shape"]]
        if vi["dtype"] == "int64":
            if "mask" in vi["name"]:
                feeds[vi["name"]] = np.ones(shape, dtype=np.int64)
            else:
                feeds[vi["name"]] = rng.integers(0, 100, size=shape, dtype=np.int64)
        else:
            feeds[vi["name"]] = rng.random(shape, dtype=np.float32).astype(vi["dtype"])
    try:
        sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        t0 = time.time()
        outs = sess.run(None, feeds)
        dt = time.time() - t0
        bad = [i for i, o in enumerate(outs) if np.issubdtype(o.dtype, np.floating) and not np.isfinite(o).all()]
        status = "ok" if not bad else f"ok (non-finite values in outputs {bad})"
        return status, [list(o.shape) for o in outs], dt
    except Exception as e:  # noqa: BLE001
        return f"FAIL: {type(e).__name__}: {str(e).splitlines()[0][:300]}", [], 0.0


def human_count(n: int) -> str:
    for unit, div in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= div:
            return f"{n / div:.1f}{unit}"
    return str(n)


def human_bytes(n: int) -> str:
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= div:
            return f"{n / div:.1f} {unit}"
    return f"{n} B"


def shapes(ios) -> str:
    return ", ".join(f"{v['name']} {v['dtype']}[{'x'.join(str(d) for d in v['shape'])}]" for v in ios)


def write_doc(manifest: dict) -> str:
    L = []
    L.append("# Model zoo (the 15 DNNFusion evaluation models)\n")
    L.append("<!-- Generated by tools/zoo/manifest.py from tests/models/zoo_small/MANIFEST.json; "
             "edit the generator, not this file. -->\n")
    L.append("The paper's 15 models (docs/dnnfusion.md section 7.2) exported to ONNX with **random "
             "weights** and **no downloads** (models are built from code/configs; HF_HUB_OFFLINE=1, "
             "TRANSFORMERS_OFFLINE=1). Every model comes in two sizes:\n")
    full_bytes = sum(e["full"]["file_bytes"] for e in manifest["models"].values() if e.get("full"))
    small_bytes = sum(e["small"]["file_bytes"] for e in manifest["models"].values() if e.get("small"))
    L.append("* **full** - the paper's model at full size, written to "
             f"`${{DNNF_ZOO:-~/.cache/dnnf/zoo}}/<name>.onnx`; not committed ({human_bytes(full_bytes)} "
             "together).")
    L.append("* **small** - the same architecture with few layers/narrow widths/small inputs, "
             "committed as `tests/models/zoo_small/<name>_small.onnx` for CI. Deterministic (fixed "
             "seed): re-exporting with the pinned venv reproduces the files byte for byte "
             f"({human_bytes(small_bytes)} together).\n")
    L.append("## Commands\n")
    L.append("```sh\ntools/zoo/make_zoo.sh                  # venv (if needed) + export full and small "
             "+ verify + MANIFEST.json + docs/zoo.md\ntools/zoo/make_zoo.sh --which small     # only the "
             "committed small models\ntools/zoo/setup_venv.sh                 # just the venv: "
             "${XDG_CACHE_HOME:-~/.cache}/dnnf/zoo-venv\n"
             "~/.cache/dnnf/zoo-venv/bin/python tools/zoo/export_zoo.py --only gpt2 --which full --force\n"
             "~/.cache/dnnf/zoo-venv/bin/python tools/zoo/manifest.py [--no-ort]\n```\n")
    gen = manifest["generator"]
    L.append("Export settings: legacy TorchScript exporter (`torch.onnx.export(..., dynamo=False)`), "
             f"opset {manifest['opset']}, `do_constant_folding=True`, eval mode (BatchNorm folded into "
             "Conv, Dropout removed), static shapes (no dynamic axes), batch 1. Transformers are built "
             "with `attn_implementation=\"eager\"` (explicit MatMul/Softmax attention, no fused SDPA) and "
             "take `input_ids` and `attention_mask` (int64). Before export, BatchNorm statistics and "
             "every all-equal parameter (zero biases, LayerNorm gamma/beta) are randomised so that "
             "weights are non-degenerate. Versions: " +
             ", ".join(f"{k} {v}" for k, v in gen.items()) + ".\n")
    L.append("Columns: *nodes* = top-level graph nodes (Constant nodes included; in brackets without "
             "them), *params* = elements of all initializers (after constant folding, so folded BN "
             "and transposed copies count), *paper* = the paper's #Params and #Layers (Table 5).\n")
    for variant in ("full", "small"):
        L.append(f"## {variant.capitalize()} models\n")
        L.append("| model | paper | nodes | params | size | inputs | checker | onnxruntime |")
        L.append("|---|---|---|---|---|---|---|---|")
        for name, e in manifest["models"].items():
            v = e.get(variant)
            cat = catalog.MODELS[name]
            if not v:
                L.append(f"| {name} | {cat['paper_name']} | - | - | - | (not exported) | - | - |")
                continue
            ort = v.get("onnxruntime", "not run")
            ort = ort if len(ort) < 60 else ort[:57] + "..."
            present = "" if v.get("present", True) else " (absent here)"
            L.append(
                f"| {name}{present} | {cat['paper_name']} ({cat['paper_params']}, "
                f"{e['paper_layers']} layers) | {v['nodes']} ({v['nodes_without_constant']}) | "
                f"{human_count(v['parameters'])} | {human_bytes(v['file_bytes'])} | {shapes(v['inputs'])} | "
                f"{v['checker'][:40]} | {ort} |")
        L.append("")
    L.append("## Sources and substitutions\n")
    for name, e in manifest["models"].items():
        cat = catalog.MODELS[name]
        L.append(f"### {name} ({cat['paper_name']}, {cat['family']})\n")
        L.append(f"* full: {cat['full']['source']}; {cat['full']['config']}")
        L.append(f"* small: {cat['small']['source']}; {cat['small']['config']}")
        for s in cat["substitutions"]:
            L.append(f"* note: {s}")
        full, small = e.get("full"), e.get("small")
        if full:
            L.append(f"* full outputs: {shapes(full['outputs'])}")
        if full and small:
            fo = set(full.get("op_types_including_subgraphs", full["op_types"]))
            so = set(small.get("op_types_including_subgraphs", small["op_types"]))
            missing, extra = sorted(fo - so), sorted(so - fo)
            L.append("* op kinds: small covers all of the full model's op kinds" if not missing else
                     f"* op kinds in full but not in small: {', '.join(missing)}")
            if extra:
                L.append(f"* op kinds in small but not in full: {', '.join(extra)}")
            L.append(f"* full op kinds: {', '.join(f'{k} {c}' for k, c in full['op_types'].items())}")
            sub = full.get("op_types_including_subgraphs")
            if sub:
                inner = {k: c - full["op_types"].get(k, 0) for k, c in sub.items()
                         if c > full["op_types"].get(k, 0)}
                L.append("* full op kinds inside If/Loop subgraphs: "
                         f"{', '.join(f'{k} {c}' for k, c in inner.items())}")
        L.append("")
    L.append("## Known limits\n")
    L.append("* Detection models end at decoded boxes/scores: NMS is not in the MobileNetV1-SSD and "
             "YOLOv4 graphs; the R-CNNs contain torchvision's whole post-processing (NonMaxSuppression, "
             "TopK, If, and for Mask R-CNN a Loop for mask pasting).")
    L.append("* Weights are random, so outputs are meaningless (but finite); the "
             "zoo is for graph structure, fusion and performance, and for numerical comparison "
             "against onnxruntime.")
    L.append("* Node counts of the ONNX graphs are not the paper's layer counts: the paper counts "
             "framework layers, ONNX adds Shape/Reshape/Constant plumbing and splits some layers "
             "(e.g. GELU, LayerNorm, Mish) into several nodes.")
    L.append("* Output shapes declared in the R-CNN graphs are symbolic, and some traced shape "
             "annotations inside them (e.g. the Mask R-CNN Loop output) are wrong; infer shapes "
             "at run time rather than trusting value_info.")
    return "\n".join(L) + "\n"


PAPER_LAYERS = {"efficientnet_b0": 309, "vgg16": 51, "mobilenetv1_ssd": 202, "yolov4": 398, "c3d": 27,
                "s3d": 272, "unet": 292, "faster_rcnn": 3640, "mask_rcnn": 3999, "tinybert": 366,
                "distilbert": 457, "albert_base": 936, "bert_base": 976, "mobilebert": 2387,
                "gpt2": 2533}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-ort", action="store_true", help="do not run models in onnxruntime")
    ap.add_argument("--full-dir", default=None)
    ap.add_argument("--small-dir", default=str(SMALL_DIR))
    ap.add_argument("--manifest", default=str(MANIFEST))
    ap.add_argument("--doc", default=str(DOC))
    args = ap.parse_args(argv)
    fdir = Path(args.full_dir) if args.full_dir else full_dir()
    sdir = Path(args.small_dir)
    old = {}
    if Path(args.manifest).exists():
        old = json.loads(Path(args.manifest).read_text()).get("models", {})

    manifest = {
        "description": "dnnf model zoo: the 15 DNNFusion evaluation models, random weights. "
                       "Generated by tools/zoo/manifest.py; see docs/zoo.md.",
        "opset": catalog.OPSET,
        "seed": catalog.SEED,
        "generator": {p: _version(p) for p in ("torch", "torchvision", "transformers", "onnx",
                                                 "onnxruntime")},
        "full_dir": "${DNNF_ZOO:-~/.cache/dnnf/zoo}",
        "small_dir": "tests/models/zoo_small",
        "models": {},
    }
    failures = []
    for name in catalog.NAMES:
        cat = catalog.MODELS[name]
        entry = {"paper_name": cat["paper_name"], "family": cat["family"],
                 "paper_params": cat["paper_params"], "paper_layers": PAPER_LAYERS[name],
                 "substitutions": cat["substitutions"]}
        for variant, path in (("full", fdir / f"{name}.onnx"), ("small", sdir / f"{name}_small.onnx")):
            label = name if variant == "full" else f"{name}_small"
            if not path.exists():
                prev = old.get(name, {}).get(variant)
                if prev:
                    prev = dict(prev, present=False)
                    entry[variant] = prev
                print(f"[absent] {label}: {path}" + (" (kept previous entry)" if prev else ""), flush=True)
                continue
            info = {"name": label, "source": cat[variant]["source"], "config": cat[variant]["config"]}
            info.update(measure(path))
            if not args.no_ort:
                status, out_shapes, dt = ort_run(path, info["inputs"])
                info["onnxruntime"] = status
                info["onnxruntime_output_shapes"] = out_shapes
            else:  # keep the previous run's result if the file did not change
                prev = old.get(name, {}).get(variant, {})
                same = prev.get("sha256") == info["sha256"]
                info["onnxruntime"] = prev.get("onnxruntime", "not run") if same else "not run"
                if same and "onnxruntime_output_shapes" in prev:
                    info["onnxruntime_output_shapes"] = prev["onnxruntime_output_shapes"]
                dt = 0.0
            if info["checker"] != "ok" or info["onnxruntime"].startswith("FAIL"):
                failures.append(label)
            print(f"[{'ok' if label not in failures else 'FAIL'}] {label}: nodes {info['nodes']} params "
                  f"{human_count(info['parameters'])} size {human_bytes(info['file_bytes'])} checker "
                  f"{info['checker']} ort {info['onnxruntime']} {dt:.2f}s", flush=True)
            entry[variant] = info
        manifest["models"][name] = entry

    Path(args.manifest).parent.mkdir(parents=True, exist_ok=True)
    Path(args.manifest).write_text(json.dumps(manifest, indent=1) + "\n")
    Path(args.doc).parent.mkdir(parents=True, exist_ok=True)
    Path(args.doc).write_text(write_doc(manifest))
    print(f"wrote {args.manifest} and {args.doc}")
    if failures:
        print("FAILED: " + ", ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
