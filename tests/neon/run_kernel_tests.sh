#!/usr/bin/env bash
# The CPU micro-kernel tests on aarch64 (issue 7's NEON paths): cross-compiles the
# kernel unit tests as they are (tests/unit/test_simd.cpp, test_kernels_gemm.cpp,
# test_kernels_conv.cpp, test_kernels_conv_chain.cpp) plus the odd-shape tests (tests/neon/test_kernels_odd_shapes.cpp)
# against kernels/ only, with tests/neon/gtest standing in for GoogleTest, links them
# statically and runs them under qemu-aarch64. Skips (77) without the cross compiler or
# qemu. Env: DNNF_SOURCE_DIR (the dnnf source tree; default: two folders up).
set -u
src=${DNNF_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cxx=${DNNF_AARCH64_CXX:-aarch64-linux-gnu-g++}
if ! command -v "${cxx##* }" >/dev/null 2>&1; then echo "skipped: no aarch64 cross compiler ($cxx)"; exit 77; fi
if ! command -v qemu-aarch64 >/dev/null 2>&1; then echo "skipped: qemu-aarch64 not installed (qemu-user)"; exit 77; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The flags of the NEON bundles (core/export/neon_cross_compile.cpp), so the tests check
# the code the bundles run. C++20 for the stand-in's requires-expression.
flags=(-O3 -march=armv8-a -std=c++20 -fno-math-errno -ffp-contract=fast -pthread -I"$src/tests/neon" -I"$src")
sources=("$src"/kernels/cpu/*.cpp "$src"/tests/unit/test_simd.cpp "$src"/tests/unit/test_kernels_gemm.cpp
         "$src"/tests/unit/test_kernels_conv.cpp "$src"/tests/unit/test_kernels_conv_chain.cpp
         "$src"/tests/neon/test_kernels_odd_shapes.cpp
         "$src"/tests/neon/mini_gtest_main.cpp)
objects=()
pids=()
for s in "${sources[@]}"; do
  o="$work/$(basename "$(dirname "$s")")_$(basename "$s" .cpp).o"
  objects+=("$o")
  $cxx "${flags[@]}" -c "$s" -o "$o" 2>"$o.log" &
  pids+=($!)
  # Two compilers at once: the CI machine has two cores.
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}" || { cat "$work"/*.log; exit 1; }; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p" || { cat "$work"/*.log; exit 1; }; done
$cxx -static -pthread -o "$work/neon_kernel_tests" "${objects[@]}" || exit 1
if ! aarch64-linux-gnu-objdump -d "$work/neon_kernel_tests" 2>/dev/null | grep -q 'fmla.*v[0-9]*\.4s'; then
  echo "FAIL: no NEON fmla in the aarch64 micro-kernels"
  exit 1
fi
qemu-aarch64 "$work/neon_kernel_tests"
