#!/usr/bin/env bash
# The Vulkan backend under the Khronos validation layer: every small zoo model, fused
# and unfused, with DNNF_VULKAN_VALIDATION=1 (the layer plus a debug-utils messenger
# that counts errors; `dnnf run` exits non-zero when it counted any). Each run must say
# that validation was on, report 0 errors and still pass --check. Skips (exit 77) where
# there is no Vulkan device or the layer (Debian: vulkan-validationlayers) is missing.
set -u
if ! "$DNNF" devices >/dev/null 2>&1; then
  echo "no Vulkan device: $("$DNNF" devices 2>&1 | tail -1)"
  exit 77
fi
export DNNF_VULKAN_VALIDATION=1
probe=$("$DNNF" run "$DNNF_TESTS"/models/zoo_small/tinybert_small.onnx --backend vulkan --json - 2>&1)
if echo "$probe" | grep -q "is not installed"; then
  echo "validation layer missing: $(echo "$probe" | tail -1)"
  exit 77
fi
failed=0
for m in "$DNNF_TESTS"/models/zoo_small/*.onnx; do
  name=$(basename "$m" .onnx)
  for mode in fused unfused; do
    flags=()
    [ $mode = unfused ] && flags=(--no-fusion)
    json=$("$DNNF" run "$m" --backend vulkan --check "${flags[@]}" --json - 2>/tmp/dnnf_vkval_$$.err)
    status=$?
    errors=$(grep -c "vulkan validation error" /tmp/dnnf_vkval_$$.err)
    if [ $status -eq 0 ] && [ "$errors" -eq 0 ] && echo "$json" | grep -q '"validation": true' &&
       echo "$json" | grep -q '"validation_errors": 0'; then
      echo "ok   $name ($mode): validation on, 0 errors"
    else
      echo "FAIL $name ($mode): exit $status, $errors validation errors: $(grep -m3 "validation error\|error:" /tmp/dnnf_vkval_$$.err)"
      failed=$((failed + 1))
    fi
  done
done
rm -f /tmp/dnnf_vkval_$$.err
[ $failed -eq 0 ] || { echo "$failed runs failed"; exit 1; }
