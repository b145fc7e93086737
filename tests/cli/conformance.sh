#!/usr/bin/env bash
# ONNX backend conformance on the reference executor: at least 95% of the tests whose
# operators dnnf supports pass, and no test takes the process down.
set -u
dirs=()
[ -d /usr/share/libonnx-testdata/data/node ] && dirs+=(/usr/share/libonnx-testdata/data/node)
[ -d "$DNNF_MODELS/conformance/onnx-1.22-node" ] && dirs+=("$DNNF_MODELS/conformance/onnx-1.22-node")
if [ ${#dirs[@]} -eq 0 ]; then echo "no conformance folders found; skipping"; exit 77; fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$DNNF" conformance "${dirs[@]}" --quiet --json "$out/report.json" > "$out/log.txt"
status=$?
tail -n 3 "$out/log.txt"
if [ $status -gt 1 ]; then echo "conformance run died with status $status"; tail -20 "$out/log.txt"; exit 1; fi
rate=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['supported_pass_rate'])" "$out/report.json")
grep '^FAIL' "$out/log.txt" | head -40
/usr/bin/python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 95.0 else 1)" "$rate" || { echo "pass rate $rate% is below 95%"; exit 1; }
echo "supported-operator pass rate: $rate%"
