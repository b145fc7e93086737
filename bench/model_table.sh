#!/usr/bin/env bash
# Measures, for every shared model and every zoo model, what `dnnf inspect` reports
# and whether `dnnf run --backend reference` completes (and how long it takes);
# prints a Markdown table (the README's model table comes from here).
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

echo "| model | nodes | parameters | GFLOPs | opset | reference run |"
echo "|---|---|---|---|---|---|"
for m in "${models[@]}"; do
  name=$(basename "$m" .onnx)
  if ! "$dnnf" inspect "$m" --json "$tmp/i.json" >/dev/null 2>"$tmp/err"; then
    echo "| $name | error: $(head -c 120 "$tmp/err" | tr '\n|' '  ') | | | | |"
    continue
  fi
  status="-"
  if [ $run = 1 ]; then
    start=$(date +%s.%N)
    if "$dnnf" run "$m" --backend reference >/dev/null 2>"$tmp/err"; then
      status=$(printf "ok, %.1f s" "$(echo "$(date +%s.%N) - $start" | bc)")
    else
      status="FAILED: $(head -c 100 "$tmp/err" | tr '\n|' '  ')"
    fi
  fi
  /usr/bin/python3 - "$tmp/i.json" "$name" "$status" <<'PY'
import json, sys
i = json.load(open(sys.argv[1]))
print("| %s | %d | %s | %.3f | %s | %s |" % (
    sys.argv[2], i["node_count"], format(i["parameter_count"], ","), i["flops"] / 1e9, i["opset"], sys.argv[3]))
PY
done
