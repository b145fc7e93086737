#!/usr/bin/env bash
# The Vulkan backend on every small zoo model, fused and unfused: `dnnf run --backend
# vulkan --check` must match the reference executor (rtol 1e-3, atol 1e-4: shaders
# accumulate in float32). Blocks without a shader run on the host and are listed.
# Skips (exit 77) where no Vulkan device exists; CI has lavapipe. Also checks that a
# missing loader is a one-line error with exit code 1.
set -u
if ! "$DNNF" devices >/dev/null 2>&1; then
  echo "no Vulkan device: $("$DNNF" devices 2>&1 | tail -1)"
  exit 77
fi
failed=0
# A missing loader must be a one-line error (exit 1), not a crash.
out=$(DNNF_VULKAN_LOADER=/nonexistent/libvulkan.so.1 "$DNNF" devices 2>&1)
status=$?
if [ $status -ne 1 ] || [ "$(echo "$out" | wc -l)" -ne 1 ]; then
  echo "FAIL missing loader: exit $status: $out"
  failed=$((failed + 1))
else
  echo "ok   missing loader: $out"
fi
for m in "$DNNF_TESTS"/models/zoo_small/*.onnx; do
  name=$(basename "$m" .onnx)
  for mode in fused unfused; do
    flags=()
    [ $mode = unfused ] && flags=(--no-fusion)
    if out=$("$DNNF" run "$m" --backend vulkan --check "${flags[@]}" 2>&1); then
      echo "ok   $name ($mode) $(echo "$out" | grep -o '[0-9]* fused layers.*submits')"
    else
      echo "FAIL $name ($mode): $(echo "$out" | tail -3)"
      failed=$((failed + 1))
    fi
  done
done
[ $failed -eq 0 ] || { echo "$failed runs failed"; exit 1; }
