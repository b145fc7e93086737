#!/usr/bin/env bash
# CPU latency of dnnf fused, dnnf unfused and ONNX Runtime on the zoo, measured in one
# run: for every model and thread count, ROUNDS rounds that each run the three systems
# one after the other (one process per system and round, so a slow phase of the machine
# hits all three), each process reporting the median of RUNS timed runs after warm-up.
# The table gives the median over rounds and the ratios fused/unfused and fused/ORT.
#
#   bench/zoo.sh [--zoo small|full] [--threads "1 2"] [--rounds 3] [--runs 20] [--out DIR] [MODEL.onnx...]
#
# Needs a built dnnf ($DNNF, default build/bin/dnnf) and, for the ORT column, the peers
# venv (dnnf peers --setup; $PEERS_PYTHON overrides its python). Writes DIR/zoo_latency.md
# and DIR/zoo_latency.json (default DIR: bench/out/zoo).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
DNNF="${DNNF:-$here/build/bin/dnnf}"
PY="${PEERS_PYTHON:-$HOME/.cache/dnnf/peers-venv/bin/python}"
zoo=small; threads="1 2"; rounds=3; runs=20; out="$here/bench/out/zoo"; models=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --zoo) zoo="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -*) echo "usage: $0 [--zoo small|full] [--threads \"1 2\"] [--rounds N] [--runs N] [--out DIR] [MODEL.onnx...]" >&2; exit 2 ;;
    *) models+=("$1"); shift ;;
  esac
done
if [[ ${#models[@]} -eq 0 ]]; then
  case "$zoo" in
    small) models=("$here"/tests/models/zoo_small/*.onnx) ;;
    full) models=("${DNNF_ZOO:-$HOME/.cache/dnnf/zoo}"/*.onnx) ;;
  esac
fi
have_ort=1
"$PY" -c "import onnxruntime" 2>/dev/null || { have_ort=0; echo "zoo.sh: onnxruntime not found under $PY; ORT column left empty" >&2; }
mkdir -p "$out"
raw="$out/zoo_latency.jsonl"; : >"$raw"
for m in "${models[@]}"; do
  name="$(basename "$m" .onnx)"
  for t in $threads; do
    # Compile kernels and fill the fusion database once, outside the timed rounds.
    "$DNNF" bench "$m" --threads "$t" --runs 1 --warmup 0 >/dev/null 2>&1 || true
    "$DNNF" bench "$m" --threads "$t" --runs 1 --warmup 0 --no-fusion >/dev/null 2>&1 || true
    for r in $(seq "$rounds"); do
      echo "== $name threads=$t round=$r" >&2
      for sys in fused unfused ort; do
        j="$out/.$name.$sys.json"; rm -f "$j"
        case "$sys" in
          fused) "$DNNF" bench "$m" --threads "$t" --runs "$runs" --json "$j" >/dev/null 2>&1 || true ;;
          unfused) "$DNNF" bench "$m" --threads "$t" --runs "$runs" --no-fusion --json "$j" >/dev/null 2>&1 || true ;;
          ort) [[ $have_ort == 1 ]] && "$PY" "$here/tools/peers/ort_latency.py" "$m" --threads "$t" --runs "$runs" \
                 2>/dev/null | tail -1 >"$j" || true ;;
        esac
        ms="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['median_ms'])" "$j" 2>/dev/null || echo null)"
        # dnnf's planned peak of activation memory (arena + values held outside it).
        mem="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('peak_activation_bytes', 'null'))" "$j" 2>/dev/null || echo null)"
        echo "{\"model\": \"$name\", \"threads\": $t, \"round\": $r, \"system\": \"$sys\", \"median_ms\": $ms, \"peak_activation_bytes\": $mem}" >>"$raw"
      done
    done
  done
done
python3 - "$raw" "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
out = sys.argv[2]
table, memory = {}, {}
for r in rows:
    if r["median_ms"] is not None:
        table.setdefault((r["model"], r["threads"]), {}).setdefault(r["system"], []).append(r["median_ms"])
    if r.get("peak_activation_bytes") is not None:
        memory[(r["model"], r["system"])] = r["peak_activation_bytes"]  # the same in every round
lines = ["| model | threads | dnnf fused ms | dnnf unfused ms | ORT ms | fused / unfused | fused / ORT | peak activations fused / unfused |",
         "|---|---|---|---|---|---|---|---|"]
summary = []
for (model, t), s in sorted(table.items()):
    med = {k: statistics.median(v) for k, v in s.items()}
    f, u, o = med.get("fused"), med.get("unfused"), med.get("ort")
    fmt = lambda x: "-" if x is None else f"{x:.2f}"
    ratio = lambda a, b: "-" if a is None or b is None else f"{a / b:.2f}"
    mf, mu = memory.get((model, "fused")), memory.get((model, "unfused"))
    mem = "-" if not mf or not mu else f"{mf / 1e6:.2f} / {mu / 1e6:.2f} MB = {mf / mu:.2f}"
    lines.append(f"| {model} | {t} | {fmt(f)} | {fmt(u)} | {fmt(o)} | {ratio(f, u)} | {ratio(f, o)} | {mem} |")
    summary.append({"model": model, "threads": t, "fused_ms": f, "unfused_ms": u, "ort_ms": o,
                    "peak_activation_bytes_fused": mf, "peak_activation_bytes_unfused": mu})
open(out + "/zoo_latency.md", "w").write("\n".join(lines) + "\n")
json.dump(summary, open(out + "/zoo_latency.json", "w"), indent=1)
print("\n".join(lines))
PY
