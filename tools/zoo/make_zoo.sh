#!/usr/bin/env bash
# One command for the dnnf model zoo: set up the venv if needed, export, verify, write the manifest.
#
#   tools/zoo/make_zoo.sh                    # full models -> ${DNNF_ZOO:-~/.cache/dnnf/zoo}, small -> tests/models/zoo_small
#   tools/zoo/make_zoo.sh --which small      # only the committed small models
#   tools/zoo/make_zoo.sh --only gpt2 --which full --force
#   MANIFEST_ARGS=--no-ort tools/zoo/make_zoo.sh   # skip the onnxruntime runs
#
# Arguments go to export_zoo.py. Afterwards manifest.py checks every present model with
# onnx.checker and onnxruntime and rewrites tests/models/zoo_small/MANIFEST.json and docs/zoo.md.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${DNNF_ZOO_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/dnnf/zoo-venv}"

"$HERE/setup_venv.sh"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
status=0
"$VENV/bin/python" "$HERE/export_zoo.py" "$@" || status=$?
# shellcheck disable=SC2086
"$VENV/bin/python" "$HERE/manifest.py" ${MANIFEST_ARGS:-} || status=$?
exit $status
