#!/usr/bin/env bash
# Limits from the command line and the environment: `dnnf --limit NAME=VALUE` (any
# position) and DNNF_LIMITS="NAME=VALUE,..." refuse a model over a limit with exit 1 and
# one line naming the limit and its value; a bad limit is a usage error (exit 2); a
# raised limit lets the same model through; `dnnf limits` shows the values in force.
set -u
export DNNF_PROFILER=${DNNF_PROFILER:-estimate}
model="$DNNF_TESTS/../resources/models/default.onnx"
[ -f "$model" ] || { echo "skip: $model is missing"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

# expect CODE NEEDLE... -- COMMAND...: exit code CODE and a one-line stderr holding every needle.
expect() {
  local code=$1; shift
  local needles=()
  while [ "$1" != "--" ]; do needles+=("$1"); shift; done
  shift
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" != "$code" ]; then
    echo "FAIL (exit $rc, expected $code): $*"; sed 's/^/  /' "$tmp/err" | head -3
    failed=$((failed + 1)); return
  fi
  [ "$code" = 0 ] && return
  if [ "$(grep -c . "$tmp/err")" != 1 ] && [ "$code" = 1 ]; then
    echo "FAIL (not one line): $*"; sed 's/^/  /' "$tmp/err"; failed=$((failed + 1)); return
  fi
  for n in "${needles[@]}"; do
    grep -qF -- "$n" "$tmp/err" || { echo "FAIL ('$n' not in stderr): $*"; sed 's/^/  /' "$tmp/err"; failed=$((failed + 1)); }
  done
}

# dnnf limits: one row per limit, with the value given on the command line or in the environment.
"$DNNF" limits --json "$tmp/limits.json" || { echo "FAIL dnnf limits"; failed=$((failed + 1)); }
for name in tensor-elements plan-memory subgraph-depth model-file tensor-file journal-file external-data; do
  grep -q "\"$name\"" "$tmp/limits.json" || { echo "FAIL dnnf limits does not list $name"; failed=$((failed + 1)); }
done
"$DNNF" --limit tensor-elements=12345 limits | grep -q '^tensor-elements *12345 ' ||
  { echo "FAIL --limit not shown by dnnf limits"; failed=$((failed + 1)); }
DNNF_LIMITS=plan-memory=2K,subgraph-depth=9 "$DNNF" limits | grep -q '^plan-memory *2048 ' ||
  { echo "FAIL DNNF_LIMITS not shown by dnnf limits"; failed=$((failed + 1)); }
DNNF_LIMITS=plan-memory=2K "$DNNF" limits --limit plan-memory=3K | grep -q '^plan-memory *3072 ' ||
  { echo "FAIL --limit does not override DNNF_LIMITS"; failed=$((failed + 1)); }

# Over a limit: exit 1, the limit and its value named, with the file or tensor.
expect 1 "default.onnx" "model-file=1024 bytes" -- "$DNNF" --limit model-file=1K inspect "$model"
expect 1 "default.onnx" "model-file=1000 bytes" -- env DNNF_LIMITS=model-file=1000 "$DNNF" inspect "$model"
expect 1 "elements" "tensor-elements=10 elements" -- "$DNNF" inspect "$model" --limit tensor-elements=10
expect 1 "plan-memory=1024 bytes" "arena" -- "$DNNF" run "$model" --backend cpu --limit=plan-memory=1K
# A tensor file over tensor-file (any .npy written by dnnf run --output, given as the
# model's first input: the size is checked before the contents).
"$DNNF" run "$model" --output "$tmp/outs" >/dev/null 2>&1
npy=$(ls "$tmp"/outs/*.npy 2>/dev/null | head -1)
input=$("$DNNF" inspect "$model" --json - | python3 -c 'import json,sys; print(json.load(sys.stdin)["inputs"][0]["name"])')
if [ -n "$npy" ]; then
  expect 1 "$(basename "$npy")" "tensor-file=16 bytes" -- "$DNNF" --limit tensor-file=16 run "$model" --input "$input=$npy"
else
  echo "FAIL dnnf run --output wrote no .npy file"; failed=$((failed + 1))
fi

# Bad limits are usage errors.
expect 2 "unknown limit 'bogus'" "tensor-elements" -- "$DNNF" --limit bogus=1 inspect "$model"
expect 2 "not a positive integer" -- "$DNNF" inspect "$model" --limit tensor-elements=lots
expect 2 "needs NAME=VALUE" -- "$DNNF" inspect "$model" --limit
expect 2 "DNNF_LIMITS" "unknown limit 'nope'" -- env DNNF_LIMITS=nope=3 "$DNNF" inspect "$model"

# Raised limits let the model through.
expect 0 -- "$DNNF" --limit tensor-elements=1G --limit model-file=1G inspect "$model"

[ $failed -eq 0 ] || exit 1
echo "every limit refused over its value with its name, and bad limits were usage errors"
