#!/usr/bin/env bash
# dnnf export --target vulkan: bundles of every small zoo model and three shared models,
# run by the bundle's own runner on the Vulkan device (lavapipe in CI) with seeded .npy
# inputs, must match the reference executor (`dnnf run --input ... --output ...`) at
# rtol 1e-3, atol 1e-4, like `dnnf run --backend vulkan --check`. Also: two exports of
# one model with separate caches are byte-identical (SPIR-V, plan, weights, the compiled
# library and runner, manifest); the bundle builds with its own CMakeLists.txt in a
# temporary folder and that runner gives the same outputs; bad requests are one-line
# errors that leave nothing behind. tinybert_small's runner also runs with
# --owned-outputs (C API version 2: outputs the model allocates, read after the run).
#
# faster_rcnn_small and mask_rcnn_small have host steps: operators without a shader whose
# shapes are known only at run time (NonZero, TopK, NMS in If subgraphs, Loop, RoiAlign,
# ...) run on the host on dnnf's reference kernels (interp.txt), between the command
# buffers; their outputs have data-dependent shapes (the runner reads them through
# dnnf_model_run_owned). The seeded image gives detections (checked: more than 0) and the
# runner must give as many as the reference, at the same tolerance. faster_rcnn_small's
# runner also runs under the validation layer, and with its interp.txt truncated it must
# fail with one line naming the file.
#
# REFUSED: models a bundle cannot carry, whose export must fail with one line naming the
# reason and leave nothing (none among these models now).
#
# VALIDATE: models whose runner also runs under the Khronos validation layer
# (VK_INSTANCE_LAYERS, as a bundle user would enable it; a settings file has it log
# errors, warnings and infos to the runner's output): the layer must say it is active,
# report no "Validation Error", and the outputs must match again.
#
# Skips (exit 77) where there is no Vulkan device, no host C++ compiler or no numpy.
set -u
declare -A REFUSED=()
declare -A VALIDATE=([tinybert_small]=1 [unet_small]=1 [efficientnet_b0_small]=1 [light_squeezenet]=1 [faster_rcnn_small]=1)
if ! out=$("$DNNF" devices 2>&1); then
  echo "no Vulkan device: $(echo "$out" | tail -1)"
  exit 77
fi
command -v c++ >/dev/null || { echo "no host C++ compiler (c++): bundles cannot be built"; exit 77; }
/usr/bin/python3 -c 'import numpy' 2>/dev/null || { echo "Debian python3-numpy is missing (/usr/bin/python3 makes the inputs and compares)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
have_layer=
if [ -f /usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json ]; then
  have_layer=1
  printf '%s\n' "khronos_validation.report_flags = error,warn,info" \
    "khronos_validation.debug_action = VK_DBG_LAYER_ACTION_LOG_MSG" >"$tmp/vk_layer_settings.txt"
else
  echo "skip the validation-layer runs: VK_LAYER_KHRONOS_validation is not installed (Debian: vulkan-validationlayers)"
fi
failed=0
fail() {
  echo "FAIL $*"
  failed=$((failed + 1))
}

# Seeded inputs for the bundle's inputs (manifest.json): floats in [-1, 1), integers in
# [0, 2) (valid token ids and indices, as `dnnf run` draws them), bools.
make_inputs() {  # BUNDLE OUTDIR -> prints "--input NAME=FILE" arguments, one per line
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, os, sys
import numpy as np
bundle, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
for k, p in enumerate(json.load(open(os.path.join(bundle, "manifest.json")))["inputs"]):
    shape, dt = tuple(p["shape"]), p["dtype"]
    if dt.startswith("float"):
        a = rng.uniform(-1, 1, shape).astype(dt)
    elif dt == "bool":
        a = rng.integers(0, 2, shape).astype(bool)
    else:
        a = rng.integers(0, 2, shape).astype(dt)
    path = os.path.join(out, "in%d.npy" % k)
    np.save(path, a)
    print("--input")
    print("%s=%s" % (p["name"], path))
PY
}

# Every .npy of REF has an equal (rtol 1e-3, atol 1e-4) .npy of the same name, dtype and
# shape in GOT; prints the worst error.
compare() {  # REF GOT
  /usr/bin/python3 - "$1" "$2" <<'PY'
import os, sys
import numpy as np
ref, got = sys.argv[1], sys.argv[2]
names = sorted(f for f in os.listdir(ref) if f.endswith(".npy"))
if not names:
    sys.exit("no reference outputs")
worst = 0.0
for f in names:
    if not os.path.exists(os.path.join(got, f)):
        sys.exit("output %s missing" % f)
    a, b = np.load(os.path.join(ref, f)), np.load(os.path.join(got, f))
    if a.shape != b.shape or a.dtype != b.dtype:
        sys.exit("%s: %s%s, expected %s%s" % (f, b.dtype, b.shape, a.dtype, a.shape))
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    err = np.abs(a64 - b64)
    bad = err > 1e-4 + 1e-3 * np.abs(a64)
    if bad.any():
        i = int(np.argmax(bad))
        sys.exit("%s: %d of %d elements differ, e.g. %g vs %g" % (f, int(bad.sum()), a.size, b64.flat[i], a64.flat[i]))
    worst = max(worst, float(err.max()) if err.size else 0.0)
print("max abs error %.2g over %d outputs" % (worst, len(names)))
PY
}

# Exports MODEL to BUNDLE and checks its runner against the reference executor.
check_model() {  # MODEL BUNDLE
  local m=$1 b=$2 name out summary inputs
  name=$(basename "$m" .onnx)
  if [ -n "${REFUSED[$name]:-}" ]; then
    out=$("$DNNF" export "$m" --target vulkan -o "$b" 2>&1)
    if [ $? -eq 1 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && grep -qF -- "${REFUSED[$name]}" <<<"$out" && [ ! -e "$b" ]; then
      echo "ok   $name refused: $out"
    else
      fail "$name should be refused with '${REFUSED[$name]}': $out"
    fi
    return
  fi
  if ! out=$("$DNNF" export "$m" --target vulkan -o "$b" 2>&1); then
    fail "$name: export: $(echo "$out" | tail -1)"
    return
  fi
  summary=$(grep -o '[0-9]* steps.*barriers' <<<"$out")
  [ -x "$b/bin/runner" ] && [ -f "$b/lib/libmodel.so" ] || { fail "$name: no bin/runner or lib/libmodel.so"; return; }
  mapfile -t inputs < <(make_inputs "$b" "$tmp/in_$name")
  if ! "$DNNF" run "$m" "${inputs[@]}" --output "$tmp/ref_$name" >/dev/null 2>"$tmp/err"; then
    fail "$name: reference run: $(tail -1 "$tmp/err")"
    return
  fi
  if ! "$b/bin/runner" "$b" "${inputs[@]}" --output "$tmp/got_$name" >/dev/null 2>"$tmp/err"; then
    fail "$name: runner: $(tail -1 "$tmp/err")"
    return
  fi
  if out=$(compare "$tmp/ref_$name" "$tmp/got_$name" 2>&1); then
    if [ -f "$b/interp.txt" ]; then
      summary="$summary, $(grep -c '^host ' "$b/plan.txt") host steps"
      if [ -f "$tmp/ref_$name/boxes.npy" ]; then
        n=$(/usr/bin/python3 -c 'import numpy as np, sys; print(np.load(sys.argv[1]).shape[0])' "$tmp/ref_$name/boxes.npy")
        [ "$n" -gt 0 ] || fail "$name: the seeded image gives no detection, the comparison proves little"
        summary="$summary, $n detections equal"
      fi
    fi
    echo "ok   $name: $out; $summary"
  else
    fail "$name: $out"
  fi
  [ -n "${VALIDATE[$name]:-}" ] && validate_model "$name" "$b" "${inputs[@]}"
  # A truncated interp.txt: one line naming it when the model is created, exit 1.
  if [ "$name" = faster_rcnn_small ]; then
    cp "$b/interp.txt" "$tmp/interp.keep"
    head -c 20000 "$tmp/interp.keep" >"$b/interp.txt"
    "$b/bin/runner" "$b" "${inputs[@]}" --output "$tmp/trunc_$name" >/dev/null 2>"$tmp/err"
    status=$?
    if [ $status -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q 'interp.txt' "$tmp/err"; then
      echo "ok   $name with a truncated interp.txt: $(cat "$tmp/err")"
    else
      fail "$name with a truncated interp.txt: exit $status: $(cat "$tmp/err")"
    fi
    cp "$tmp/interp.keep" "$b/interp.txt"
  fi
  # C API version 2: outputs the model allocates (dnnf_model_run_owned).
  if [ "$name" = tinybert_small ]; then
    if "$b/bin/runner" "$b" "${inputs[@]}" --owned-outputs --output "$tmp/owned_$name" >/dev/null 2>"$tmp/err" &&
      out=$(compare "$tmp/ref_$name" "$tmp/owned_$name" 2>&1); then
      echo "ok   $name with --owned-outputs (dnnf_model_run_owned): $out"
    else
      fail "$name with --owned-outputs: $(tail -1 "$tmp/err") $out"
    fi
  fi
  return 0
}

# The runner of BUNDLE under the validation layer: active, no errors, same outputs.
validate_model() {  # NAME BUNDLE INPUT-ARGS...
  local name=$1 b=$2 out errors status
  shift 2
  [ -n "$have_layer" ] || return 0
  VK_LAYER_SETTINGS_PATH="$tmp/vk_layer_settings.txt" VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation \
    "$b/bin/runner" "$b" "$@" --output "$tmp/val_$name" >"$tmp/val_$name.log" 2>&1
  status=$?
  errors=$(grep -c "Validation Error" "$tmp/val_$name.log")
  if [ $status -ne 0 ]; then
    fail "$name under validation: runner exit $status: $(grep -v '^ ' "$tmp/val_$name.log" | tail -1)"
  elif ! grep -q "Khronos Validation Layer Active" "$tmp/val_$name.log"; then
    fail "$name under validation: the layer did not report itself active"
  elif [ "$errors" -ne 0 ]; then
    fail "$name under validation: $errors validation errors, first: $(grep -m1 "Validation Error" "$tmp/val_$name.log" | cut -c1-300)"
  elif ! out=$(compare "$tmp/ref_$name" "$tmp/val_$name" 2>&1); then
    fail "$name under validation: $out"
  else
    echo "ok   $name under VK_LAYER_KHRONOS_validation: layer active, 0 validation errors, outputs equal"
  fi
}

zoo="$DNNF_TESTS/models/zoo_small"
# 1. Same model, two exports, each compiling everything afresh: identical bytes.
for k in 1 2; do
  if ! out=$(DNNF_KERNEL_CACHE="$tmp/cache$k" DNNF_SHADER_CACHE="$tmp/cache$k/shaders" "$DNNF" export "$zoo/tinybert_small.onnx" --target vulkan \
    -o "$tmp/twice$k" 2>&1); then
    fail "determinism export $k: $(echo "$out" | tail -1)"
  fi
done
if diff -r "$tmp/twice1" "$tmp/twice2" >/dev/null 2>&1 && [ -f "$tmp/twice1/bin/runner" ]; then
  echo "ok   two exports of tinybert_small are identical ($(find "$tmp/twice1" -type f | wc -l) files)"
else
  fail "two exports of tinybert_small differ: $(diff -rq "$tmp/twice1" "$tmp/twice2" 2>&1 | head -3 | tr '\n' ' ')"
fi
rm -rf "$tmp"/cache1 "$tmp"/cache2

# 2. The bundle builds with its own CMakeLists.txt (a copy without bin/ and lib/), and
# that runner runs it.
if command -v cmake >/dev/null; then
  mkdir -p "$tmp/clean"
  (cd "$tmp/twice1" && tar cf - --exclude=./bin --exclude=./lib .) | (cd "$tmp/clean" && tar xf -)
  if cmake -S "$tmp/clean" -B "$tmp/clean_build" >"$tmp/cmake.log" 2>&1 &&
    cmake --build "$tmp/clean_build" -j2 >>"$tmp/cmake.log" 2>&1; then
    mapfile -t inputs < <(make_inputs "$tmp/clean" "$tmp/in_clean")
    if "$tmp/clean_build/bin/runner" "$tmp/clean" "${inputs[@]}" --output "$tmp/got_clean" >/dev/null 2>"$tmp/err" &&
      "$DNNF" run "$zoo/tinybert_small.onnx" "${inputs[@]}" --output "$tmp/ref_clean" >/dev/null 2>&1 &&
      out=$(compare "$tmp/ref_clean" "$tmp/got_clean" 2>&1); then
      echo "ok   bundle built by its CMakeLists.txt runs: $out"
    else
      fail "runner built by the bundle's CMakeLists.txt: $(tail -1 "$tmp/err") $out"
    fi
  else
    fail "the bundle's CMakeLists.txt does not build: $(grep -m1 -i error "$tmp/cmake.log")"
  fi
else
  echo "skip building with the bundle's CMakeLists.txt: no cmake"
fi

# 3. Every small zoo model and the shared ones export_neon.sh checks (plus light_resnet50):
# the bundle's runner equals the reference.
models=("$zoo"/*.onnx)
if [ -d "${DNNF_MODELS:-}" ]; then
  for s in cnn/cnn_mnist_pytorch cnn/light_resnet50 cnn/light_squeezenet detect/ultraface-version-slim-320; do
    [ -f "$DNNF_MODELS/$s.onnx" ] && models+=("$DNNF_MODELS/$s.onnx") || fail "shared model $s.onnx missing"
  done
else
  echo "DNNF_MODELS folder not found: shared models skipped"
fi
for m in "${models[@]}"; do
  check_model "$m" "$tmp/bundle_$(basename "$m" .onnx)"
done

# 4. Bad requests: an error line on stderr and exit 1 (a usage error: the error line
# first, then the usage, exit 2), nothing written.
bad() {  # DESCRIPTION EXPECTED-TEXT ARGS...
  local what=$1 expect=$2 out status
  shift 2
  out=$("$DNNF" export "$@" 2>&1)
  status=$?
  if ! { [ $status -eq 1 ] && [ "$(echo "$out" | wc -l)" -eq 1 ]; } && [ $status -ne 2 ] ||
    ! head -1 <<<"$out" | grep -q -- "$expect"; then
    fail "$what: exit $status: $out"
  else
    echo "ok   $what: $(head -1 <<<"$out")"
  fi
}
bad "missing model" "nope.onnx" "$tmp/nope.onnx" --target vulkan -o "$tmp/bad1"
[ -e "$tmp/bad1" ] && fail "missing model: $tmp/bad1 was created"
mkdir -p "$tmp/notabundle" && echo keep >"$tmp/notabundle/file.txt"
bad "folder that is not a bundle" "neither empty nor a dnnf bundle" "$zoo/tinybert_small.onnx" --target vulkan \
  -o "$tmp/notabundle"
[ "$(cat "$tmp/notabundle/file.txt")" = keep ] || fail "a folder that is not a bundle was changed"
bad "bad work-group size" "power of two" "$zoo/tinybert_small.onnx" --target vulkan --local-size 48 -o "$tmp/bad2"
ls -a "$tmp" | grep -q dnnf-staging && fail "a staging folder was left behind"

[ $failed -eq 0 ] || { echo "$failed checks failed"; exit 1; }
