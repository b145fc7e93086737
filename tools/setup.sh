#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine:
#   tools/setup.sh run    install what is missing, build, run the main job
#   tools/setup.sh test   install what is missing, build and run the whole test suite,
#                         then build and run it again under ASan+UBSan+LSan; each half
#                         timed, both run even if the first fails (what CI runs)
#   tools/setup.sh test-plain      only the first half (build)
#   tools/setup.sh test-sanitize   only the sanitized half (build-asan)
# Options via environment: BUILD_DIR (default build), SANITIZE_BUILD_DIR (default
# build-asan).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
mode=${1:-run}
build_dir=${BUILD_DIR:-build}
asan_build_dir=${SANITIZE_BUILD_DIR:-build-asan}

packages=(
  build-essential cmake pkg-config git
  libonnx-dev libonnx-testdata libprotobuf-dev protobuf-compiler
  nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev
  qt6-base-dev qt6-svg-dev qt6-charts-dev libqt6opengl6-dev qt6-qpa-plugins libgraphviz-dev
  libvulkan-dev mesa-vulkan-drivers glslc libshaderc-dev glslang-dev spirv-tools vulkan-validationlayers
  g++-aarch64-linux-gnu qemu-user xvfb python3-onnx python3-numpy
)

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# build DIR [CMAKE-ARGS...]
build() {
  local dir=$1; shift
  # The packages above include everything the Studio needs, so a missing piece is an
  # error here, not a Studio (and its GUI tests) silently left out.
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDNNF_REQUIRE_STUDIO=ON "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)"
}

run_suite() {  # run_suite DIR
  (cd "$1" && ctest --output-on-failure -j"$(nproc)" --timeout 1500)
}

# The suite built with -DDNNF_SANITIZE=ON (ASan+UBSan, -O1 -g1, no micro-benchmarks: see
# the top CMakeLists.txt). The options are set before the build too, because test
# discovery runs each test binary. Every report fails the test that triggered it (UBSan
# does not recover). Leaks inside third-party libraries are suppressed, one commented
# entry each, in tools/lsan-suppressions.txt.
sanitized_suite() {
  echo "== the test suite under ASan+UBSan+LSan ($asan_build_dir) =="
  (
    export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
    export LSAN_OPTIONS="suppressions=$here/tools/lsan-suppressions.txt:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
    build "$asan_build_dir" -DDNNF_SANITIZE=ON
    run_suite "$asan_build_dir"
  )
}

normal_suite() {
  echo "== the test suite ($build_dir) =="
  build "$build_dir"
  run_suite "$build_dir"
}

# timed LABEL FUNCTION: runs it in a subshell with set -e, prints how long it took, and
# sets status=1 when it failed. (Never called as `timed ... || x`: bash ignores set -e in
# everything on the left of ||, subshells included.)
status=0
timed() {
  local start=$SECONDS rc
  set +e
  ( set -e; "$2" )
  rc=$?
  set -e
  echo "== $1: $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s, exit $rc"
  [ "$rc" = 0 ] || status=1
}

install_missing
case "$mode" in
  run)
    build "$build_dir"
    model=resources/models/default.onnx
    if [ -x "$build_dir/bin/dnnf-studio" ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
      exec "$build_dir/bin/dnnf-studio" "$model"
    fi
    echo "== dnnf report on the bundled model ($model) =="
    "$build_dir/bin/dnnf" inspect "$model"
    "$build_dir/bin/dnnf" optimize "$model" --journal "$build_dir/default.journal.json"
    "$build_dir/bin/dnnf" run "$model" --backend cpu --check
    "$build_dir/bin/dnnf" bench "$model" --runs 20
    echo "journal of every rewrite and fusion decision: $build_dir/default.journal.json"
    ;;
  test)
    # Measured on a clean clone with cold caches, 2 cores: 26 min + 27 min (README, Set-up),
    # within the 90-minute CI budget.
    timed "build and test ($build_dir)" normal_suite
    timed "build and test under the sanitizers ($asan_build_dir)" sanitized_suite
    exit $status
    ;;
  test-plain)
    normal_suite
    ;;
  test-sanitize)
    sanitized_suite
    ;;
  *)
    echo "usage: tools/setup.sh run|test|test-plain|test-sanitize" >&2
    exit 2
    ;;
esac
