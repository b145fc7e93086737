#!/usr/bin/env bash
# SGEMM single-thread GFLOP/s as a share of this machine's measured FP32 peak (one run of
# dnnf_bench_kernels: the peak micro-benchmark and the GEMM shapes, repeated 3 times,
# medians). Needs Google Benchmark (libbenchmark-dev) and a build with it:
#   bench/gemm_peak.sh [BUILD_DIR]        # default: build
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$here/build}/bin/dnnf_bench_kernels"
[[ -x "$bin" ]] || { echo "gemm_peak.sh: $bin not built (install libbenchmark-dev, rebuild)" >&2; exit 1; }
json="$(mktemp)"; trap 'rm -f "$json"' EXIT
"$bin" --benchmark_filter='Peak|BM_Gemm' --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_format=json >"$json"
python3 - "$json" <<'PY'
import json, sys
rows = [b for b in json.load(open(sys.argv[1]))["benchmarks"] if b.get("aggregate_name") == "median"]
rate = {b["run_name"]: b["FLOP/s"] / 1e9 for b in rows}
isa = {b["run_name"]: b.get("label", "") for b in rows}
peak = max(v for k, v in rate.items() if k.startswith("BM_PeakFp32"))
print("| kernel | shape (M,N,K) | ISA | GFLOP/s | % of peak |")
print("|---|---|---|---|---|")
for k, v in rate.items():
    if k.startswith("BM_PeakFp32"):
        print(f"| FP32 FMA peak | - | {k.replace('BM_PeakFp32', '').lower()} | {v:.0f} | - |")
for k, v in rate.items():
    if k.startswith("BM_Gemm"):
        name, *dims = k.split("/")
        kind = "GEMM, B packed once" if name == "BM_GemmPackedB" else "GEMM, B packed per call"
        print(f"| {kind} | {'x'.join(dims)} | {isa[k]} | {v:.0f} | {100 * v / peak:.0f}% |")
PY
