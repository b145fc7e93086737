#!/usr/bin/env bash
# For every shared model and every zoo model: nodes and FLOPs before and after
# `dnnf optimize` rewriting, fused layers of the CPU plan, intermediate bytes, and
# the time rewriting and planning took; prints a Markdown table for the README.
#   bench/rewrite_fusion_table.sh [--zoo-dir DIR] > table.md
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dnnf=${DNNF:-$here/build/bin/dnnf}
models_dir=${DNNF_MODELS:-$here/../shared/models}
zoo_dir=${DNNF_ZOO:-$HOME/.cache/dnnf/zoo}
[ "${1:-}" = "--zoo-dir" ] && zoo_dir=$2
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
echo "| model | nodes | nodes after rewrite | GFLOPs | GFLOPs after rewrite | outputs equal (rtol 1e-4) | fused layers | intermediate MB before -> after | rewrite ms | plan ms |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for m in "${models[@]}"; do
  name=$(basename "$m" .onnx)
  rm -f "$tmp/o.json"
  "$dnnf" optimize "$m" --no-db --verify --json "$tmp/o.json" >/dev/null 2>"$tmp/err"
  if [ ! -s "$tmp/o.json" ]; then
    echo "| $name | error: $(head -c 150 "$tmp/err" | tr '\n|' '  ') | | | | | | | | |"
    continue
  fi
  /usr/bin/python3 - "$tmp/o.json" "$name" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
mb = lambda b: "%.1f" % (b / 2**20)
print("| %s | %d | %d | %.4g | %.4g | %s | %d | %s -> %s | %.0f | %.0f |" % (
    sys.argv[2], o["nodes_before"], o["nodes_after_rewrite"], o["flops_before"] / 1e9, o["flops_after_rewrite"] / 1e9,
    "yes" if o.get("verify", {}).get("ok") else "NO", o["fused_layers"], mb(o["intermediate_bytes_before"]), mb(o["intermediate_bytes_after"]), o["rewrite_ms"], o["plan_ms"]))
PY
done
