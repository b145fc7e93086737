#!/usr/bin/env bash
# dnnf export --target neon: aarch64 bundles checked under qemu-aarch64. For every model
# below (the 15 small zoo models, and three shared models):
#   - the export succeeds and writes lib/libmodel.so and a static bin/runner;
#   - bin/runner under qemu-aarch64, on seeded inputs, gives the reference executor's
#     outputs (dnnf run --backend reference on the same .npy inputs) at rtol 1e-4,
#     atol 1e-5;
#   - objdump of lib/libmodel.so shows NEON vector instructions (".4s" lanes) inside
#     the generated block kernels.
# faster_rcnn_small and mask_rcnn_small have interpreted steps (NonZero, TopK, NMS in If
# subgraphs, Loop, RoiAlign, ...: shapes known only at run time) that the bundle runs on
# dnnf's reference kernels, shipped as sources with interp.txt; their outputs (boxes,
# labels, scores, masks) have data-dependent shapes, so the runner reads them through
# dnnf_model_run_owned. The seeded image gives detections (checked: more than 0), and
# the runner must give as many as the reference executor, at the same tolerance.
# Once: tinybert_small's runner with --owned-outputs (C API version 2: outputs the model
# allocates) equals the reference too; exporting the same model twice gives identical
# bytes in every file (binaries included); the bundle builds with its own CMakeLists.txt and that build's runner gives
# the same outputs; a model with a block the code generator does not cover (ONNX's
# ArgMax node test: int64 output) exports with one interpreted step and equals the
# reference; faster_rcnn_small's runner with its interp.txt truncated fails with one line
# naming the file; an unknown target, a missing model and an unwritable DIR each fail with
# one line and leave no DIR.
# Skips (77) without aarch64-linux-gnu-g++, qemu-aarch64 or python3-numpy.
set -u
export DNNF_PROFILER=${DNNF_PROFILER:-estimate}
py=/usr/bin/python3
command -v aarch64-linux-gnu-g++ >/dev/null || { echo "skipped: aarch64-linux-gnu-g++ not installed"; exit 77; }
command -v qemu-aarch64 >/dev/null || { echo "skipped: qemu-aarch64 not installed (qemu-user)"; exit 77; }
command -v aarch64-linux-gnu-objdump >/dev/null || { echo "skipped: aarch64-linux-gnu-objdump not installed"; exit 77; }
$py -c 'import numpy' 2>/dev/null || { echo "skipped: python3-numpy not available"; exit 77; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A private object cache: the runtime objects are compiled once and reused by the
# other exports, and nothing from an earlier run can hide a compile problem.
export DNNF_KERNEL_CACHE="$work/cache"

models=()
for m in bert_base_small vgg16_small mobilenetv1_ssd_small efficientnet_b0_small gpt2_small c3d_small \
         albert_base_small distilbert_small tinybert_small mobilebert_small s3d_small yolov4_small unet_small \
         faster_rcnn_small mask_rcnn_small; do
  models+=("$DNNF_TESTS/models/zoo_small/$m.onnx")
done
if [ -d "$DNNF_MODELS" ]; then
  for m in cnn/cnn_mnist_pytorch cnn/light_squeezenet detect/ultraface-version-slim-320; do
    models+=("$DNNF_MODELS/$m.onnx")
  done
else
  echo "DNNF_MODELS folder not found: shared models skipped"
fi

failed=0
fail() { echo "FAIL: $*"; failed=1; }

# Seeded inputs for a bundle, from its manifest: NAME=FILE pairs on stdout.
make_inputs() {
  $py - "$1" "$2" <<'EOF'
import json, os, sys
import numpy as np
bundle, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
for i, p in enumerate(json.load(open(os.path.join(bundle, "manifest.json")))["inputs"]):
    shape = tuple(p["shape"])
    if p["dtype"] == "float32":
        a = rng.uniform(-1, 1, size=shape).astype(np.float32)
    elif p["dtype"] == "bool":
        a = rng.integers(0, 2, size=shape).astype(bool)
    else:
        a = rng.integers(0, 2, size=shape).astype(np.dtype(p["dtype"]))
    f = os.path.join(out, "in%d.npy" % i)
    np.save(f, a)
    print("%s=%s" % (p["name"], f))
EOF
}

compare_outputs() {
  $py - "$1" "$2" <<'EOF'
import os, sys
import numpy as np
ref_dir, got_dir = sys.argv[1], sys.argv[2]
names = sorted(os.listdir(ref_dir))
if sorted(os.listdir(got_dir)) != names:
    sys.exit("output files differ: %s vs %s" % (names, sorted(os.listdir(got_dir))))
for n in names:
    a, b = np.load(os.path.join(ref_dir, n)), np.load(os.path.join(got_dir, n))
    if a.shape != b.shape or a.dtype != b.dtype:
        sys.exit("%s: %s%s vs %s%s" % (n, a.dtype, a.shape, b.dtype, b.shape))
    if not np.allclose(b, a, rtol=1e-4, atol=1e-5, equal_nan=True):
        err = np.abs(b.astype(np.float64) - a.astype(np.float64))
        sys.exit("%s: max abs error %.3g" % (n, np.nanmax(err)))
EOF
}

# Runs a bundle's runner (bin/runner, or $3) under qemu on seeded inputs and compares
# with the reference executor on the original model.
check_outputs() {
  local model=$1 bundle=$2 runner=${3:-$2/bin/runner} tag=${4:-runner} extra=${5:-}
  local name
  name=$(basename "$bundle")
  local specs=() args=()
  mapfile -t specs < <(make_inputs "$bundle" "$work/$name.in")
  for s in "${specs[@]}"; do args+=(--input "$s"); done
  [ -d "$work/$name.ref" ] || "$DNNF" run "$model" --backend reference "${args[@]}" --output "$work/$name.ref" >/dev/null ||
    { fail "$name: dnnf run --backend reference failed"; return; }
  rm -rf "$work/$name.$tag"
  qemu-aarch64 "$runner" "$bundle" "${args[@]}" $extra --output "$work/$name.$tag" ||
    { fail "$name: $tag under qemu-aarch64 failed"; return; }
  msg=$(compare_outputs "$work/$name.ref" "$work/$name.$tag" 2>&1) || fail "$name ($tag): $msg"
}

# Detections in a reference output folder (rows of boxes.npy); the comparison above has
# checked that the runner's boxes have the same shape.
detections() {
  $py -c 'import numpy as np, sys; print(np.load(sys.argv[1]).shape[0])' "$1/boxes.npy"
}

for m in "${models[@]}"; do
  name=$(basename "$m" .onnx)
  [ -f "$m" ] || { fail "$name: model file missing"; continue; }
  out="$work/$name"
  t0=$(date +%s%N)
  if ! "$DNNF" export "$m" --target neon -o "$out" >"$work/$name.log" 2>&1; then
    fail "$name: export failed: $(tail -1 "$work/$name.log")"
    continue
  fi
  t1=$(date +%s%N)
  [ -x "$out/bin/runner" ] && [ -f "$out/lib/libmodel.so" ] || { fail "$name: no binaries in the bundle"; continue; }
  check_outputs "$m" "$out"
  # NEON lanes in the block kernels: the instructions between a dnnf_k label and the next.
  neon=$(aarch64-linux-gnu-objdump -d --no-show-raw-insn "$out/lib/libmodel.so" |
         awk '/^[0-9a-f]+ <.*dnnf_k[0-9a-f]+/ {k=1; next} /^[0-9a-f]+ </ {k=0} k' | grep -cE 'v[0-9]+\.4s')
  [ "$neon" -gt 0 ] || fail "$name: no NEON vector instruction in the block kernels"
  extra=""
  if [ -f "$out/interp.txt" ]; then
    steps=$(grep -c '^step ' "$out/interp.txt")
    extra=", $steps interpreted steps"
    if [ -f "$work/$name.ref/boxes.npy" ]; then
      n=$(detections "$work/$name.ref")
      [ "$n" -gt 0 ] || fail "$name: the seeded image gives no detection, the comparison proves little"
      extra="$extra, $n detections equal"
    fi
  fi
  echo "$name: ok ($(du -sb "$out" | cut -f1) bytes, export $(( (t1 - t0) / 1000000 )) ms, $neon NEON .4s instructions in block kernels$extra)"
done

# C API version 2: the same bundle run into outputs the model allocates
# (dnnf_model_run_owned, shapes read after the run) equals the reference too.
if [ -d "$work/tinybert_small" ]; then
  before=$failed
  check_outputs "$DNNF_TESTS/models/zoo_small/tinybert_small.onnx" "$work/tinybert_small" "" owned-outputs --owned-outputs
  [ "$failed" != "$before" ] || echo "tinybert_small: ok with --owned-outputs (dnnf_model_run_owned)"
fi

# A truncated interp.txt: dnnf_model_create fails with one line naming it, exit 1.
if [ -f "$work/faster_rcnn_small/interp.txt" ]; then
  b="$work/faster_rcnn_small"
  cp "$b/interp.txt" "$work/interp.keep"
  head -c 20000 "$work/interp.keep" >"$b/interp.txt"
  qemu-aarch64 "$b/bin/runner" "$b" --input "image=$work/faster_rcnn_small.in/in0.npy" --output "$work/trunc" \
    >/dev/null 2>"$work/trunc.err"
  rc=$?
  if [ $rc -eq 1 ] && [ "$(wc -l <"$work/trunc.err")" -eq 1 ] && grep -q 'interp.txt' "$work/trunc.err"; then
    echo "faster_rcnn_small with a truncated interp.txt: ok ($(cat "$work/trunc.err"))"
  else
    fail "faster_rcnn_small with a truncated interp.txt: exit $rc: $(cat "$work/trunc.err")"
  fi
  cp "$work/interp.keep" "$b/interp.txt"
fi

# Reproducibility and the bundle's own build, on the first model that exported.
first=""
for m in "${models[@]}"; do [ -d "$work/$(basename "$m" .onnx)" ] && { first=$m; break; }; done
if [ -n "$first" ]; then
  name=$(basename "$first" .onnx)
  # A second object cache: the binaries are compiled again, not taken from the first.
  DNNF_KERNEL_CACHE="$work/cache2" "$DNNF" export "$first" --target neon -o "$work/again" >/dev/null 2>&1 ||
    fail "$name: second export failed"
  diff -r "$work/$name" "$work/again" >/dev/null || fail "$name: two exports differ: $(diff -rq "$work/$name" "$work/again" | head -3)"
  if cmake -S "$work/$name" -B "$work/cmake-build" -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++ \
       -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 >"$work/cmake.log" 2>&1 &&
     cmake --build "$work/cmake-build" -j2 >>"$work/cmake.log" 2>&1; then
    check_outputs "$first" "$work/$name" "$work/cmake-build/bin/runner" cmake-runner
  else
    fail "$name: the bundle's CMakeLists.txt build failed: $(grep -m1 -i error "$work/cmake.log")"
  fi
fi

# Refusals: one line, exit 1, no DIR.
expect_refusal() {
  local what=$1 pattern=$2 dir=$3
  shift 3
  "$DNNF" export "$@" >"$work/refuse.out" 2>"$work/refuse.err"
  local rc=$?
  [ $rc -ne 0 ] || fail "$what: exit code 0"
  # Errors are one line (exit 1); usage errors (exit 2) add the command's usage after it.
  [ $rc -ne 1 ] || [ "$(wc -l <"$work/refuse.err")" -eq 1 ] ||
    fail "$what: expected one line on stderr, got: $(cat "$work/refuse.err")"
  head -1 "$work/refuse.err" | grep -q -- "$pattern" || fail "$what: message lacks '$pattern': $(cat "$work/refuse.err")"
  [ ! -e "$dir" ] || fail "$what: left $dir behind"
}
# A block the code generator does not cover (ArgMax: int64 output) is an interpreted step.
argmax="$DNNF_MODELS/conformance/onnx-1.22-node/test_argmax_keepdims_random/model.onnx"
if [ -f "$argmax" ]; then
  if "$DNNF" export "$argmax" --target neon -o "$work/argmax" >"$work/argmax.log" 2>&1; then
    [ "$(grep -c '^step ' "$work/argmax/interp.txt" 2>/dev/null)" = 1 ] || fail "argmax: expected one interpreted step"
    before=$failed
    check_outputs "$argmax" "$work/argmax"
    [ "$failed" != "$before" ] || echo "argmax (block without a generated kernel): ok, one interpreted step"
  else
    fail "argmax: export failed: $(tail -1 "$work/argmax.log")"
  fi
else
  echo "skip the block without a generated kernel: $argmax missing"
fi
ls -a "$work" | grep -q 'dnnf-staging' && fail "an export left its staging folder"
expect_refusal "unknown target" "unknown --target" "$work/x1" "$first" --target riscv -o "$work/x1"
expect_refusal "missing model" "no_such_model.onnx" "$work/x2" "$work/no_such_model.onnx" --target neon -o "$work/x2"
expect_refusal "unwritable DIR" "does not exist" "$work/no/such/dir" "$first" --target neon -o "$work/no/such/dir"

exit $failed
