#!/usr/bin/env bash
# Vulkan latency, fused against unfused, in alternating rounds in one run: for each round
# and model, `dnnf bench --backend vulkan` fused then with --no-fusion, one process each.
# Prints a Markdown table for the README: per plan the median over rounds of each
# round's median latency, the lowest and highest round, the ratio of the medians, the
# ratio of the summed device block times, and dispatches / submits / host blocks.
#   bench/vulkan_table.sh [--rounds N] [--runs N] [--small-runs N] [MODEL.onnx ...] > table.md
# Default models: BERT-base and EfficientNet-B0 from the full zoo (tools/zoo/make_zoo.sh;
# skipped with a note when absent) and their zoo_small versions. BERT-base takes about
# 1 min per process on lavapipe on 2 cores. Progress goes to stderr.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dnnf=${DNNF:-$here/build/bin/dnnf}
zoo_dir=${DNNF_ZOO:-$HOME/.cache/dnnf/zoo}
rounds=5 runs=5 small_runs=30
models=()
usage() { echo "usage: $0 [--rounds N] [--runs N] [--small-runs N] [MODEL.onnx ...]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds|--runs|--small-runs) [ $# -ge 2 ] || usage ;;
  esac
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;            # runs per process for full-size models
    --small-runs) small_runs=$2; shift 2 ;;  # runs per process for models under tests/models
    -*) usage ;;
    *) models+=("$(realpath "$1")"); shift ;;
  esac
done
[ -x "$dnnf" ] || { echo "error: $dnnf is not built (set DNNF=path/to/dnnf)" >&2; exit 1; }
if [ ${#models[@]} -eq 0 ]; then
  for m in bert_base efficientnet_b0; do
    if [ -f "$zoo_dir/$m.onnx" ]; then models+=("$zoo_dir/$m.onnx")
    else echo "note: $zoo_dir/$m.onnx is absent (tools/zoo/make_zoo.sh makes it); left out" >&2; fi
  done
  models+=("$here/tests/models/zoo_small/bert_base_small.onnx" "$here/tests/models/zoo_small/efficientnet_b0_small.onnx")
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for r in $(seq 1 "$rounds"); do
  for m in "${models[@]}"; do
    n=$runs
    case "$m" in "$here"/tests/*) n=$small_runs ;; esac
    for plan in fused unfused; do
      flag=()
      [ $plan = unfused ] && flag=(--no-fusion)
      echo "round $r/$rounds: $(basename "$m" .onnx) $plan" >&2
      "$dnnf" bench "$m" --backend vulkan --runs "$n" "${flag[@]}" \
        --json "$tmp/$(basename "$m" .onnx).$plan.$r.json" >/dev/null 2>"$tmp/err" ||
        { echo "error: $(basename "$m") $plan: $(tail -1 "$tmp/err")" >&2; }
    done
  done
done

python3 - "$tmp" "$rounds" "$runs" "$small_runs" "$("$dnnf" devices 2>/dev/null | head -1 | sed 's/^[* ]*[0-9]*: //')" <<'EOF'
import glob, json, os, statistics, sys
tmp, rounds, runs, small_runs, device = sys.argv[1:6]
by = {}
for f in sorted(glob.glob(os.path.join(tmp, "*.json"))):
    model, plan, _, _ = os.path.basename(f).rsplit(".", 3)
    by.setdefault((model, plan), []).append(json.load(open(f)))
print(f"Device: {device}. {rounds} alternating rounds; each round's latency is the median of "
      f"{runs} runs (full-size models) or {small_runs} (zoo_small).\n")
print("| model | fused ms (lowest-highest round) | unfused ms (lowest-highest round) | fused / unfused "
      "| block time fused / unfused | dispatches fused / unfused | submits, host blocks fused |")
print("|---|---|---|---|---|---|---|")
for model in dict.fromkeys(m for m, _ in by):
    f, u = by.get((model, "fused"), []), by.get((model, "unfused"), [])
    if not f or not u:
        print(f"| {model} | failed | | | | | |")
        continue
    def med(rs, key): return statistics.median(r[key] for r in rs)
    def span(rs): return f"{min(r['median_ms'] for r in rs):.1f}-{max(r['median_ms'] for r in rs):.1f}"
    print(f"| {model} | {med(f, 'median_ms'):.1f} ({span(f)}) | {med(u, 'median_ms'):.1f} ({span(u)}) "
          f"| {med(f, 'median_ms') / med(u, 'median_ms'):.2f} | {med(f, 'block_time_ms') / med(u, 'block_time_ms'):.2f} "
          f"| {f[0]['dispatches']} / {u[0]['dispatches']} | {f[0]['submits']}, {f[0]['host_blocks']} |")
EOF
