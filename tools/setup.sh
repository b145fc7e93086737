#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine:
#   tools/setup.sh run    install what is missing, build, run the main job
#   tools/setup.sh test   install what is missing, build, run the whole test suite
#   tools/setup.sh test-sanitize   the same suite built with ASan+UBSan (in build-asan)
# Options via environment: BUILD_DIR (default build, build-asan for test-sanitize),
# DNNF_SANITIZE=1 (ASan+UBSan build).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
mode=${1:-run}
if [ "$mode" = test-sanitize ]; then
  export DNNF_SANITIZE=1
  build_dir=${BUILD_DIR:-build-asan}
  # Set before the build too: it lists each test binary's tests by running it. Every
  # report fails the test that triggered it (UBSan does not recover: see the top
  # CMakeLists.txt). Leaks inside third-party libraries are suppressed, one commented
  # entry each, in tools/lsan-suppressions.txt.
  export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
  export LSAN_OPTIONS="suppressions=$here/tools/lsan-suppressions.txt:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
else
  build_dir=${BUILD_DIR:-build}
fi

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

build() {
  local extra=()
  [ "${DNNF_SANITIZE:-0}" = 1 ] && extra+=(-DDNNF_SANITIZE=ON)
  # The packages above include everything the Studio needs, so a missing piece is an
  # error here, not a Studio (and its GUI tests) silently left out.
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDNNF_REQUIRE_STUDIO=ON "${extra[@]}" >/dev/null
  cmake --build "$build_dir" -j"$(nproc)"
}

install_missing
build
case "$mode" in
  run)
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
  test|test-sanitize)
    cd "$build_dir"
    ctest --output-on-failure -j"$(nproc)" --timeout 1500
    ;;
  *)
    echo "usage: tools/setup.sh run|test|test-sanitize" >&2
    exit 2
    ;;
esac
