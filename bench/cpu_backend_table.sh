#!/usr/bin/env bash
# For every shared model and every zoo model: compiles the fusion plan into generated
# CPU kernels (`dnnf run --backend cpu --check`), fused and with --no-fusion, checks
# both against the reference executor, and prints one Markdown table for the README,
# next to ONNX Runtime's extended-level node count (bench/results/ort_node_counts.json,
# made by tools/peers/ort_node_counts.py) and the DNNFusion paper's fused-layer count
# (Table 5 of the paper digest).
#   bench/cpu_backend_table.sh [--models-dir DIR] [--zoo DIR] [--db FILE] [--only TEXT] > table.md
# Takes tens of minutes on 2 cores: every model runs on the reference executor three
# times (once timed, once per check). Progress goes to stderr.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dnnf=${DNNF:-$here/build/bin/dnnf}
models_dir=${DNNF_MODELS:-$here/../shared/models}
zoo_dir=${DNNF_ZOO:-$HOME/.cache/dnnf/zoo}
digest=$here/../shared/docs/dnnfusion.md
ort_json=$here/bench/results/ort_node_counts.json
db_args=()
only=""
usage() { echo "usage: $0 [--models-dir DIR] [--zoo DIR] [--db FILE] [--only TEXT]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || usage
  case "$1" in
    --models-dir) models_dir=$2 ;;
    --zoo) zoo_dir=$2 ;;
    --db) db_args=(--db "$2") ;;        # the fusion database of both runs (default: dnnf's own)
    --only) only=$2 ;;                  # only models whose file name contains TEXT
    *) usage ;;
  esac
  shift 2
done
[ -x "$dnnf" ] || { echo "error: $dnnf is not built (set DNNF=path/to/dnnf)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

models=()
for sub in cnn detect transformer; do
  for f in "$models_dir"/$sub/*.onnx; do [ -f "$f" ] && models+=("$f"); done
done
if ls "$zoo_dir"/*.onnx >/dev/null 2>&1; then
  for f in "$zoo_dir"/*.onnx; do models+=("$f"); done
else
  for f in "$here"/tests/models/zoo_small/*.onnx; do models+=("$f"); done
fi

# One JSON per model and mode; a failed check still writes its JSON (exit code 1), a
# model that cannot run writes none and its stderr is kept for the table.
measure() {  # measure MODEL NAME
  local m=$1 name=$2
  "$dnnf" optimize "$m" --stage rewrite --json "$tmp/$name.rewrite.json" >/dev/null 2>"$tmp/$name.rewrite.err"
  "$dnnf" run "$m" --backend reference --json "$tmp/$name.reference.json" >/dev/null 2>"$tmp/$name.reference.err"
  "$dnnf" run "$m" --backend cpu --check "${db_args[@]}" \
    --json "$tmp/$name.fused.json" >/dev/null 2>"$tmp/$name.fused.err"
  "$dnnf" run "$m" --backend cpu --check --no-fusion "${db_args[@]}" \
    --json "$tmp/$name.unfused.json" >/dev/null 2>"$tmp/$name.unfused.err"
}

names=()
for m in "${models[@]}"; do
  name=$(basename "$m" .onnx)
  [ -n "$only" ] && [[ "$name" != *"$only"* ]] && continue
  echo "measuring $name" >&2
  measure "$m" "$name"
  names+=("$name")
done

/usr/bin/python3 - "$tmp" "$ort_json" "$digest" "${names[@]}" <<'PY'
import json, os, re, sys

tmp, ort_path, digest_path, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]

def load(name, kind):
    try:
        with open(os.path.join(tmp, "%s.%s.json" % (name, kind))) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

def stderr_line(name, kind):
    try:
        with open(os.path.join(tmp, "%s.%s.err" % (name, kind))) as f:
            lines = [l.strip() for l in f.read().replace("\r", "\n").splitlines() if l.strip()]
    except OSError:
        return ""
    return lines[-1] if lines else ""

ort = {}
if os.path.exists(ort_path):
    ort = json.load(open(ort_path)).get("models", {})

# Paper Table 5 ("Model | Layers before | MNN | TVM | TFLite | PyTorch | DNNF | IRS"):
# the DNNF column, keyed by a name normalised like the zoo's file names.
paper = {}
aliases = {"albert": "albertbase"}
norm = lambda s: re.sub(r"[^a-z0-9]", "", s.lower())
if os.path.exists(digest_path):
    in_table = False
    for line in open(digest_path):
        if line.startswith("### "):
            in_table = "Table 5" in line
        elif in_table and line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 7 and re.fullmatch(r"\*\*[\d,]+\*\*", cells[6]):
                key = norm(cells[0])
                paper[aliases.get(key, key)] = cells[6].strip("*")

def check_cell(name, kind):
    j = load(name, kind)
    if j is None:
        return "error: " + stderr_line(name, kind)[:100].replace("|", "/")
    c = j.get("check", {})
    if c.get("ok"):
        return "ok"
    # dnnf prints "N of M elements differ" for the first failing output only.
    m = re.search(r"output '([^']*)': (\d+) of (\d+) elements differ", stderr_line(name, kind))
    parts = []
    for out, r in c.get("outputs", {}).items():
        if r.get("ok"):
            continue
        counts = " %s/%s elements," % (m.group(2), m.group(3)) if m and m.group(1) == out else ""
        parts.append("`%s`:%s max abs %.2g" % (out, counts, r["max_abs_error"]))
    return "FAIL (" + "; ".join(parts) + ")"

def ms(j):
    if not j:
        return "-"
    v = j["latency_ms"]
    return "%.1f" % v if v < 10 else "%.0f" % v

print("| model | nodes | nodes after rewrite | fused layers | ORT extended nodes | paper fused layers "
      "| generated / interpreted blocks | check fused | check unfused | reference ms | cpu ms | cpu ms unfused |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
interpreted = []
for name in names:
    rw, fused, unfused = load(name, "rewrite"), load(name, "fused"), load(name, "unfused")
    cpu = fused["cpu"] if fused else None
    ext = ort.get(name, {}).get("extended")
    print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        name,
        rw["nodes_before"] if rw else "-",
        rw["nodes_after_rewrite"] if rw else "-",
        cpu["fused_layers"] if cpu else "-",
        ext if ext is not None else "-",
        paper.get(norm(name), "-"),
        "%d / %d" % (cpu["generated_blocks"], cpu["interpreted_blocks"]) if cpu else "-",
        check_cell(name, "fused"), check_cell(name, "unfused"),
        ms(load(name, "reference")), ms(fused), ms(unfused)))
    if cpu and cpu["interpreted"]:
        # "block 88: Resize 'Resize_226' (#173): Resize has no code generator" -> the reason
        reasons = {}
        for r in cpu["interpreted"]:
            why = r.split("): ", 1)[-1]
            reasons[why] = reasons.get(why, 0) + 1
        interpreted.append("%s: %s" % (name, "; ".join(
            "%s%s" % (why, " (x%d)" % n if n > 1 else "") for why, n in sorted(reasons.items()))))
if interpreted:
    print("\nInterpreted blocks (fused run), by reason:\n")
    for line in interpreted:
        print("- " + line)
PY
