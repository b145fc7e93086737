#!/usr/bin/env bash
# dnnf export --target onnx on every small zoo model (in the repo) and the shared CNN,
# detection and transformer models (when present). For each model:
#   - exporting twice gives identical bytes;
#   - onnx.checker (full_check, Debian's python3-onnx) accepts the file, when
#     /usr/bin/python3 can import onnx (skipped with a message otherwise);
#   - the reference executor gives the same outputs for the exported model (dnnf
#     inlines its fused functions on import) as for the original, on the same seeded
#     inputs: `dnnf run --output` writes both as .npy, numpy compares them.
#
# Planning uses the analytic estimate (DNNF_PROFILER=estimate unless set) so that the
# test compiles no kernels and its plans do not depend on timing.
# Tolerance: rtol 1e-4, atol 1e-5 as in cpu_backend.sh; rewrites (folded batch norms,
# reassociated arithmetic) are the only source of difference. LOOSE lists the models
# whose amplifying decode needs 1e-3 there too.
set -u
export DNNF_PROFILER=${DNNF_PROFILER:-estimate}
declare -A LOOSE=([FastestDet]=1 [yolox_nano]=1)
models=("$DNNF_TESTS"/models/zoo_small/*.onnx)
if [ -d "$DNNF_MODELS" ]; then
  models+=("$DNNF_MODELS"/cnn/*.onnx "$DNNF_MODELS"/detect/*.onnx "$DNNF_MODELS"/transformer/*.onnx)
else
  echo "DNNF_MODELS folder not found: shared models skipped"
fi

py=/usr/bin/python3
have_onnx=0
have_numpy=0
if [ -x $py ] && $py -c 'import onnx' 2>/dev/null; then have_onnx=1; else echo "python3-onnx not available: checker skipped"; fi
if [ -x $py ] && $py -c 'import numpy' 2>/dev/null; then have_numpy=1; else echo "python3-numpy not available: output comparison skipped"; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Compares the .npy files of two output folders; prints the worst mismatch.
compare_outputs() {
  $py - "$1" "$2" "$3" "$4" <<'EOF'
import os, sys
import numpy as np
a_dir, b_dir, rtol, atol = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
names = sorted(os.listdir(a_dir))
if sorted(os.listdir(b_dir)) != names:
    sys.exit("output files differ: %s vs %s" % (names, sorted(os.listdir(b_dir))))
for n in names:
    a, b = np.load(os.path.join(a_dir, n)), np.load(os.path.join(b_dir, n))
    if a.shape != b.shape or a.dtype != b.dtype:
        sys.exit("%s: %s%s vs %s%s" % (n, a.dtype, a.shape, b.dtype, b.shape))
    if a.dtype.kind in "fc":
        if not np.allclose(b, a, rtol=rtol, atol=atol, equal_nan=True):
            err = np.abs(b.astype(np.float64) - a.astype(np.float64))
            sys.exit("%s: max abs error %.3g" % (n, np.nanmax(err)))
    elif not np.array_equal(a, b):
        sys.exit("%s: integer outputs differ" % n)
EOF
}

failed=0
for m in "${models[@]}"; do
  name=$(basename "$m" .onnx)
  out="$work/$name.fused.onnx"
  rtol=1e-4 atol=1e-5
  [ -n "${LOOSE[$name]:-}" ] && rtol=1e-3 atol=1e-3
  if ! log=$("$DNNF" export "$m" --target onnx -o "$out" 2>&1); then
    echo "FAIL $name: export: $(echo "$log" | tail -2)"
    failed=$((failed + 1))
    continue
  fi
  summary=$(echo "$log" | grep -o '[0-9]* fused blocks as calls of [0-9]* functions')
  if ! "$DNNF" export "$m" --target onnx -o "$out.again" >/dev/null 2>&1 || ! cmp -s "$out" "$out.again"; then
    echo "FAIL $name: a second export differs"
    failed=$((failed + 1))
    continue
  fi
  if [ $have_onnx = 1 ]; then
    if ! check=$($py -c 'import onnx, sys; onnx.checker.check_model(sys.argv[1], full_check=True)' "$out" 2>&1); then
      echo "FAIL $name: onnx.checker: $(echo "$check" | tail -1)"
      failed=$((failed + 1))
      continue
    fi
  fi
  if [ $have_numpy = 1 ]; then
    rm -rf "$work/a" "$work/b"
    if ! r1=$("$DNNF" run "$m" --output "$work/a" 2>&1) || ! r2=$("$DNNF" run "$out" --output "$work/b" 2>&1); then
      echo "FAIL $name: dnnf run: $(printf '%s\n%s' "$r1" "${r2:-}" | grep -i error | head -1)"
      failed=$((failed + 1))
      continue
    fi
    if ! diff=$(compare_outputs "$work/a" "$work/b" $rtol $atol 2>&1); then
      echo "FAIL $name: outputs differ from the original's: $(echo "$diff" | tail -1)"
      failed=$((failed + 1))
      continue
    fi
  fi
  echo "ok   $name ($summary)"
done
[ $failed -eq 0 ] || { echo "$failed models failed"; exit 1; }
