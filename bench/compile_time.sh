#!/usr/bin/env bash
# Compile time of the CPU backend for one model (default: the zoo's BERT-base), cold and
# warm. Cold = a fresh fusion database (--db) and a fresh kernel cache
# (DNNF_KERNEL_CACHE), so the planner profiles its candidates and every kernel is
# compiled; warm = the same command again, reusing both. Prints a Markdown table.
# The acceptance target is warm planning + code generation (plan + generate + compile)
# under 5 s for BERT-base.
#   bench/compile_time.sh [--model FILE.onnx] > table.md
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dnnf=${DNNF:-$here/build/bin/dnnf}
model=${DNNF_ZOO:-$HOME/.cache/dnnf/zoo}/bert_base.onnx
case "${1:-}" in
  --model) model=${2:?--model needs a file} ;;
  "") ;;
  *) echo "usage: $0 [--model FILE.onnx]" >&2; exit 2 ;;
esac
[ -x "$dnnf" ] || { echo "error: $dnnf is not built (set DNNF=path/to/dnnf)" >&2; exit 1; }
[ -f "$model" ] || { echo "error: no model $model (make the zoo: tools/zoo/make_zoo.sh)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/kernels"

for run in cold warm; do
  echo "$run run of $(basename "$model")" >&2
  if ! DNNF_KERNEL_CACHE="$tmp/kernels" "$dnnf" run "$model" --backend cpu --db "$tmp/fusion.db" \
       --json "$tmp/$run.json" >/dev/null 2>"$tmp/$run.err"; then
    echo "error: the $run run failed: $(tail -n 1 "$tmp/$run.err")" >&2
    exit 1
  fi
done

/usr/bin/python3 - "$tmp/cold.json" "$tmp/warm.json" "$(basename "$model" .onnx)" <<'PY'
import json, sys
cold, warm = (json.load(open(p))["cpu"] for p in sys.argv[1:3])
total = lambda c: c["plan_ms"] + c["generate_ms"] + c["compile_ms"]
rows = [("rewrite_ms", "rewrite_ms"), ("plan_ms", "plan_ms"), ("generate_ms", "generate_ms"),
        ("compile_ms", "compile_ms"), ("prepare_ms", "prepare_ms")]
print("| %s | cold | warm |" % sys.argv[3])
print("|---|---|---|")
for label, key in rows:
    print("| %s | %.0f | %.0f |" % (label, cold[key], warm[key]))
print("| **planning + code generation** (plan + generate + compile) | **%.0f** | **%.0f** |" % (total(cold), total(warm)))
print("| kernels compiled / unique | %d / %d | %d / %d |" % (
    cold["compiled_kernels"], cold["unique_kernels"], warm["compiled_kernels"], warm["unique_kernels"]))
ok = total(warm) < 5000
print("\nWarm planning + code generation: %.2f s (target under 5 s: %s)." % (total(warm) / 1000, "met" if ok else "NOT met"))
PY
