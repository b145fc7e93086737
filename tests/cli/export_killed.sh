#!/usr/bin/env bash
# An export killed at any moment leaves no half-written output: `dnnf export --target
# onnx` is killed with SIGKILL at increasing delays while it rewrites, plans and writes;
# after each kill the output file is either absent or a complete model that dnnf loads,
# and a later export to the same path succeeds. (The delays only spread the kills over
# the run; nothing here checks how long anything takes.)
set -u
export DNNF_PROFILER=${DNNF_PROFILER:-estimate}
model="$DNNF_MODELS/transformer/TFBertForQuestionAnswering.onnx"
[ -f "$model" ] || model="$DNNF_TESTS/models/zoo_small/mask_rcnn_small.onnx"
out_dir=$(mktemp -d)
trap 'rm -rf "$out_dir"' EXIT
out="$out_dir/model.fused.onnx"
failed=0 killed=0 finished=0
for delay in 0.05 0.1 0.2 0.3 0.4 0.6 0.8 1.0 1.3 1.6 2.0 2.5; do
  rm -f "$out"
  "$DNNF" export "$model" --target onnx -o "$out" --no-db >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  if kill -KILL "$pid" 2>/dev/null; then killed=$((killed + 1)); else finished=$((finished + 1)); fi
  wait "$pid" 2>/dev/null
  if [ -e "$out" ] && ! "$DNNF" inspect "$out" >/dev/null 2>&1; then
    echo "FAIL killed after ${delay}s: $out exists but does not load"
    failed=$((failed + 1))
  fi
done
echo "$killed exports killed, $finished finished before their kill"
[ "$killed" -gt 0 ] || { echo "FAIL no export was killed: nothing was tested"; failed=$((failed + 1)); }
if ! "$DNNF" export "$model" --target onnx -o "$out" --no-db >/dev/null 2>&1 || ! "$DNNF" inspect "$out" >/dev/null 2>&1; then
  echo "FAIL export after the kills"
  failed=$((failed + 1))
fi
[ $failed -eq 0 ] || exit 1
echo "every killed export left either nothing or a complete model"
