#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang++ with -fsanitize=fuzzer,address,undefined)
# and runs each one, one at a time, for a given time or number of executions, whichever
# comes first; then prints a table: target, executions, corpus size, result.
#
#   tools/fuzz.sh [--time SECONDS] [--runs N] [--no-build] [--reseed] [TARGET...]
#
# TARGET is a fuzz_*.cpp name without the prefix (onnx_import, shape_inference,
# graph_passes, journal, fusion_db, npy, tensor_pb); none = all. Defaults: 600 s and
# 1,000,000 executions per target. Environment:
#   FUZZ_BUILD_DIR   the build directory (default build-fuzz, configured with clang++)
#   DNNF_FUZZ_CACHE  corpora, crash artifacts and logs (default ~/.cache/dnnf/fuzz; never
#                    committed): corpus/TARGET/, artifacts/TARGET/, logs/TARGET.log
#   DNNF_MODELS      the shared models (default ../shared/models) whose small .onnx files
#                    seed the importer corpora, with the ONNX conformance test data
#                    (libonnx-testdata and DNNF_MODELS/conformance)
#   FUZZ_NICE        niceness of the fuzzing processes (default 10)
# A crash, leak, timeout or sanitizer report leaves its input in artifacts/TARGET/ and
# makes the exit code 1. Replay one with: build-fuzz/bin/fuzz_TARGET ARTIFACT
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

time_s=600
runs=1000000
build=1
reseed=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) time_s=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --reseed) reseed=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ "$time_s" =~ ^[0-9]+$ && "$runs" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --time and --runs take integers" >&2; exit 2; }

all_targets=()
for f in tests/fuzz/fuzz_*.cpp; do n=$(basename "$f" .cpp); all_targets+=("${n#fuzz_}"); done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [ -f "tests/fuzz/fuzz_$t.cpp" ] || { echo "fuzz.sh: unknown target '$t' (known: ${all_targets[*]})" >&2; exit 2; }
done

build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
cache=${DNNF_FUZZ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dnnf/fuzz}
models=${DNNF_MODELS:-$(cd "$here/.." && pwd)/shared/models}
nice_level=${FUZZ_NICE:-10}

if [ "$build" = 1 ]; then
  command -v clang++ >/dev/null || { echo "fuzz.sh: needs clang++ (apt-get install clang)" >&2; exit 1; }
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  # -O1 with line tables only: builds in about half the time of -O2 -g and still symbolizes
  # every frame of a report; the Vulkan backend is left out (no fuzzer reaches it).
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only" \
    -DCMAKE_C_FLAGS="-O1 -gline-tables-only" -DCMAKE_DISABLE_FIND_PACKAGE_Vulkan=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
    -DDNNF_FUZZ=ON -DDNNF_BUILD_TESTS=OFF -DDNNF_BUILD_STUDIO=OFF "${launcher[@]}" >/dev/null
  names=()
  for t in "${targets[@]}"; do names+=("fuzz_$t"); done
  nice -n "$nice_level" cmake --build "$build_dir" -j"$(nproc)" --target "${names[@]}"
fi

# Seeds: small real inputs for each target, copied into its corpus once (or on --reseed).
# Inputs are named by content hash, so reseeding never duplicates.
add_seed() {  # add_seed TARGET FILE
  local dir=$cache/corpus/$1
  cp -f "$2" "$dir/seed-$(sha1sum "$2" | cut -c1-16)"
}
conformance_dirs() {
  for d in /usr/share/libonnx-testdata/data/node "$models/conformance"; do [ -d "$d" ] && echo "$d"; done
  return 0
}
write_npy() {  # write_npy FILE DESCR SHAPE DATA-BYTES: a version 1.0 .npy file
  local header="{'descr': '$2', 'fortran_order': False, 'shape': $3, }"
  local total=$(( (10 + ${#header} + 1 + 63) / 64 * 64 ))
  local pad=$(( total - 10 - ${#header} - 1 ))
  local hlen=$(( ${#header} + pad + 1 ))
  { printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $((hlen & 255)))\\x$(printf %02x $((hlen >> 8)))";
    printf '%s%*s\n' "$header" "$pad" ''; printf '%s' "$4"; } > "$1"
}
seed() {  # seed TARGET
  local t=$1 tmp
  tmp=$(mktemp -d)
  case "$t" in
    onnx_import|shape_inference)
      while IFS= read -r f; do add_seed "$t" "$f"; done < <(
        { find "$here/tests/models/zoo_small" "$models" -name '*.onnx' -size -64k 2>/dev/null
          for d in $(conformance_dirs); do find "$d" -name model.onnx -size -64k; done; } | sort -u) ;;
    tensor_pb)
      while IFS= read -r f; do add_seed "$t" "$f"; done < <(
        for d in $(conformance_dirs); do find "$d" -name '*.pb' -size -4k; done | sort | awk 'NR % 4 == 1') ;;
    npy)
      write_npy "$tmp/f32.npy" '<f4' '(2, 3)' "$(printf '%024d' 0)"
      write_npy "$tmp/i64.npy" '<i8' '(3,)' "$(printf '%024d' 0)"
      write_npy "$tmp/scalar.npy" '<f8' '()' "$(printf '%08d' 0)"
      write_npy "$tmp/empty.npy" '<f4' '(0, 4)' ''
      write_npy "$tmp/bool.npy" '|b1' '(4,)' "$(printf '\1\1\2\1')"
      write_npy "$tmp/u8.npy" '|u1' '(2, 2, 1)' "abcd"
      write_npy "$tmp/f16.npy" '<f2' '(1,)' "ab"
      for f in "$tmp"/*.npy; do add_seed "$t" "$f"; done ;;
    journal)
      # The journal of optimizing the graph the target replays on (its node ids match),
      # and journals of real models when a dnnf binary is around.
      # (libFuzzer reports the seed writer's exit() as a crash: its artifact goes to $tmp.)
      DNNF_FUZZ_WRITE_SEED="$tmp/target.json" "$build_dir/bin/fuzz_journal" -runs=1 -artifact_prefix="$tmp/" >/dev/null 2>&1 || true
      [ -s "$tmp/target.json" ] &&
        add_seed "$t" "$tmp/target.json"
      local dnnf=${DNNF:-$here/build/bin/dnnf}
      if [ -x "$dnnf" ]; then
        for m in "$here"/tests/models/zoo_small/s3d_small.onnx "$models"/cnn/cnn_mnist_pytorch.onnx \
                 "$models"/cnn/mnist_cntk.onnx "$here"/resources/models/default.onnx; do
          [ -f "$m" ] || continue
          DNNF_PROFILER=estimate "$dnnf" optimize "$m" --no-db --journal "$tmp/j.json" >/dev/null 2>&1 &&
            [ "$(stat -c %s "$tmp/j.json")" -lt 200000 ] && add_seed "$t" "$tmp/j.json"
        done
      fi ;;
    fusion_db)
      if command -v sqlite3 >/dev/null; then
        sqlite3 "$tmp/f.db" "PRAGMA journal_mode=WAL;
          CREATE TABLE profiles (signature TEXT PRIMARY KEY, target TEXT NOT NULL, fused_us REAL NOT NULL,
            separate_us REAL NOT NULL, source TEXT NOT NULL, created TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
          INSERT INTO profiles (signature, target, fused_us, separate_us, source) VALUES
            ('Relu|f32[1,3,4]', 'cpu', 1.5, 2.5, 'measured'), ('Add>Mul|f32[8]', 'vulkan', 3, 2, 'estimate');
          PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
        add_seed "$t" "$tmp/f.db"
      fi ;;
  esac
  if [ -d "tests/fuzz/seeds/$t" ]; then
    for f in tests/fuzz/seeds/"$t"/*; do [ -f "$f" ] && add_seed "$t" "$f"; done
  fi
  rm -rf "$tmp"
}

declare -A execs corpus result
status=0
for t in "${targets[@]}"; do
  bin=$build_dir/bin/fuzz_$t
  [ -x "$bin" ] || { echo "fuzz.sh: $bin is missing (run without --no-build)" >&2; exit 1; }
  mkdir -p "$cache/corpus/$t" "$cache/artifacts/$t" "$cache/logs"
  if [ "$reseed" = 1 ] || [ -z "$(ls -A "$cache/corpus/$t")" ]; then seed "$t"; fi
  log=$cache/logs/$t.log
  echo "== fuzz_$t: up to ${time_s} s or $runs executions ($(ls "$cache/corpus/$t" | wc -l) corpus inputs)"
  rc=0
  nice -n "$nice_level" "$bin" -max_total_time="$time_s" -runs="$runs" -timeout=25 -rss_limit_mb=2560 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$cache/artifacts/$t/" \
    "$cache/corpus/$t" >"$log" 2>&1 || rc=$?
  execs[$t]=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  corpus[$t]=$(ls "$cache/corpus/$t" | wc -l)
  if [ "$rc" = 0 ]; then
    result[$t]=ok
  else
    status=1
    artifact=$(grep -o "Test unit written to [^ ]*" "$log" | tail -1 | awk '{print $5}')
    result[$t]="FAILED (exit $rc) ${artifact:-see $log}"
    grep -m3 -E 'ERROR: |SUMMARY: |runtime error:|terminate called' "$log" || true
  fi
done

echo
printf '%-18s %12s %12s  %s\n' target executions corpus result
for t in "${targets[@]}"; do
  printf '%-18s %12s %12s  %s\n' "$t" "${execs[$t]:-?}" "${corpus[$t]}" "${result[$t]}"
done
exit $status
