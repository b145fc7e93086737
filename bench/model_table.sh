#!/usr/bin/env bash
# Measures, for every shared model and every zoo model, what `dnnf inspect` and
# `dnnf optimize --stage rewrite` report, and whether `dnnf run --backend reference`
# completes; prints a Markdown table (the README's tables come from here).
#   bench/model_table.sh [--zoo-dir DIR] [--no-run] > table.md
# Zoo models: full size from $DNNF_ZOO (default ~/.cache/dnnf/zoo, made by tools/zoo/make_zoo.sh),
# else the small committed ones in tests/models/zoo_small.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dnnf=${DNNF:-$here/build/bin/dnnf}
models_dir=${DNNF_MODELS:-$here/../shared/models}
zoo_dir=${DNNF_ZOO:-$HOME/.cache/dnnf/zoo}
run=1
while [ $# -gt 0 ]; do
  case "$1" in
    --zoo-dir) zoo_dir=$2; shift 2 ;;
    --no-run) run=0; shift ;;
    *) echo "usage: $0 [--zoo-dir DIR] [--no-run]" >&2; exit 2 ;;
  esac
done
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

echo "| model | nodes | parameters | GFLOPs | opset | nodes after rewrite | GFLOPs after rewrite | rewrite ms | reference run |"
echo "|---|---|---|---|---|---|---|---|---|"
for m in "${models[@]}"; do
  name=$(basename "$m" .onnx)
  if ! "$dnnf" inspect "$m" --json "$tmp/i.json" >/dev/null 2>"$tmp/err"; then
    echo "| $name | error: $(head -c 120 "$tmp/err" | tr '\n|' '  ') | | | | | | | |"
    continue
  fi
  "$dnnf" optimize "$m" --stage rewrite --json "$tmp/o.json" >/dev/null 2>"$tmp/err" || echo '{}' > "$tmp/o.json"
  status="-"
  if [ $run = 1 ]; then
    start=$(date +%s.%N)
    if "$dnnf" run "$m" --backend reference >/dev/null 2>"$tmp/err"; then
      status=$(printf "ok, %.1f s" "$(echo "$(date +%s.%N) - $start" | bc)")
    else
      status="FAILED: $(head -c 100 "$tmp/err" | tr '\n|' '  ')"
    fi
  fi
  /usr/bin/python3 - "$tmp/i.json" "$tmp/o.json" "$name" "$status" <<'PY'
import json, sys
i = json.load(open(sys.argv[1])); o = json.load(open(sys.argv[2]))
g = lambda v: "%.3f" % (v / 1e9) if isinstance(v, (int, float)) else "-"
print("| %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
    sys.argv[3], i["node_count"], format(i["parameter_count"], ","), g(i["flops"]), i["opset"],
    o.get("nodes_after_rewrite", "-"), g(o.get("flops_after_rewrite", "-")),
    "%.0f" % o["rewrite_ms"] if "rewrite_ms" in o else "-", sys.argv[4]))
PY
done
