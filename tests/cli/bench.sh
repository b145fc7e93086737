#!/usr/bin/env bash
# `dnnf bench` on the bundled model: the JSON report (latency spread, one entry per
# block with the model's node names, fused against unfused), the Chrome trace, the Vulkan
# report where a device exists, and one-line errors with a non-zero exit for bad input.
# Latency values are only checked to be positive: speed is shown in bench/, not asserted.
set -u
model="$DNNF_TESTS/../resources/models/default.onnx"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
py=/usr/bin/python3

# check_report FILE BACKEND: the fields every report carries, and node names that exist.
check_report() {
  $py - "$1" "$2" "$model" <<'EOF'
import json, sys
import onnx
report, backend, model = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
names = {n.name for n in onnx.load(model).graph.node}
problems = []
if report["backend"] != backend: problems.append(f"backend {report['backend']}")
if not (0 < report["min_ms"] <= report["median_ms"] <= report["max_ms"]): problems.append("latency spread out of order")
if report["runs"] != 4: problems.append(f"runs {report['runs']}")
if not report["blocks"]: problems.append("no blocks")
for b in report["blocks"]:
    if not b["nodes"]: problems.append(f"block {b['id']} names no node")
    # Rewrites may add nodes of their own (dnnf_rw_*); every other name is the model's.
    unknown = [n for n in b["nodes"] if n not in names and not n.startswith("dnnf_")]
    if unknown: problems.append(f"block {b['id']} names {unknown}, not in the model")
    if len(b["ops"].split("+")) != min(len(b["nodes"]), 7) and "more" not in b["ops"]:
        problems.append(f"block {b['id']}: ops {b['ops']} against {len(b['nodes'])} nodes")
print("; ".join(problems))
sys.exit(1 if problems else 0)
EOF
}

# bench_report NAME BACKEND [FLAGS...]: dnnf bench into $tmp/NAME.json, then its checks.
bench_report() {
  local name=$1 backend=$2
  shift 2
  if ! "$DNNF" bench "$model" --backend "$backend" --runs 4 --warmup 1 "$@" --json "$tmp/$name.json" \
      >/dev/null 2>"$tmp/err"; then
    fail "$name: $(tail -1 "$tmp/err")"
    return 1
  fi
  out=$(check_report "$tmp/$name.json" "$backend") && echo "ok   $name report" || fail "$name report: $out"
}

for mode in fused unfused; do
  flags=()
  [ $mode = unfused ] && flags=(--no-fusion)
  bench_report "$mode" cpu "${flags[@]}" --trace "$tmp/$mode.trace.json" || continue
  $py -c "import json,sys; e=json.load(open(sys.argv[1]))['traceEvents']; sys.exit(0 if e and all(x['dur'] >= 0 for x in e) else 1)" \
    "$tmp/$mode.trace.json" && echo "ok   $mode trace" || fail "$mode trace"
done
# Fusion must leave fewer blocks than operators run one by one.
if [ -f "$tmp/fused.json" ] && [ -f "$tmp/unfused.json" ]; then
  $py -c "import json,sys; f,u=(len(json.load(open(p))['blocks']) for p in sys.argv[1:]); print(f'blocks fused {f}, unfused {u}'); sys.exit(0 if f < u else 1)" \
    "$tmp/fused.json" "$tmp/unfused.json" || fail "fused plan has no fewer blocks"
fi

if "$DNNF" devices >/dev/null 2>&1; then
  if bench_report vulkan vulkan; then
    $py -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r['dispatches'] > 0 and r['validation_errors'] == 0 else 1)" \
      "$tmp/vulkan.json" && echo "ok   vulkan dispatches" || fail "vulkan dispatches"
  fi
else
  echo "no Vulkan device: the vulkan report is not checked"
fi

# Bad input: one error line on stderr, non-zero exit, no report written.
printf 'not a model' >"$tmp/corrupt.onnx"
for bad in "$tmp/missing.onnx --runs 2" "$tmp/corrupt.onnx --runs 2" "$model --runs 0" "$model --backend tpu"; do
  # shellcheck disable=SC2086
  "$DNNF" bench $bad --json "$tmp/bad.json" >/dev/null 2>"$tmp/err"
  status=$?
  # A usage error (exit 2) may add the usage line after its one-line error.
  lines=$(grep -vc '^usage: ' "$tmp/err")
  if [ $status -eq 0 ] || [ "$lines" -ne 1 ] || [ -e "$tmp/bad.json" ]; then
    fail "bad input '$bad': exit $status, $(wc -l <"$tmp/err") lines: $(head -2 "$tmp/err")"
  else
    echo "ok   bad input '$bad': $(head -1 "$tmp/err")"
  fi
done
[ $failed -eq 0 ] || { echo "$failed checks failed"; exit 1; }
