#!/usr/bin/env bash
# Create (idempotently) the Python virtualenv used by the dnnf model-zoo tooling.
#
#   tools/zoo/setup_venv.sh            # create/update the venv, print its path
#   DNNF_ZOO_VENV=/some/dir tools/zoo/setup_venv.sh
#
# Location: ${DNNF_ZOO_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/dnnf/zoo-venv}
# Uses the `python3` found on PATH (needs Python >= 3.9; developed with 3.11).
# Installs pinned torch / torchvision / transformers / onnx / onnxruntime from PyPI.
# The torch wheel from PyPI pulls the CUDA runtime wheels (~3 GB); only the CPU is used.
set -euo pipefail

VENV="${DNNF_ZOO_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/dnnf/zoo-venv}"
PY="${PYTHON:-python3}"

# Pinned versions known to work together (legacy TorchScript ONNX exporter, opset 17).
PKGS=(
  "torch==2.5.1"
  "torchvision==0.20.1"
  "transformers==4.46.3"
  "onnx==1.17.0"
  "onnxruntime==1.20.1"
  "numpy==1.26.4"
)
STAMP_CONTENT="$(printf '%s\n' "${PKGS[@]}")"
STAMP="$VENV/.dnnf-zoo-stamp"

if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$STAMP_CONTENT" ]]; then
  if "$VENV/bin/python" -c 'import torch, torchvision, transformers, onnx, onnxruntime' 2>/dev/null; then
    echo "zoo venv up to date: $VENV"
    exit 0
  fi
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "creating venv $VENV with $("$PY" --version 2>&1) ($(command -v "$PY"))"
  mkdir -p "$(dirname "$VENV")"
  "$PY" -m venv "$VENV"
fi

"$VENV/bin/python" -m pip install --upgrade --quiet pip setuptools wheel
"$VENV/bin/python" -m pip install --progress-bar off "${PKGS[@]}"
"$VENV/bin/python" -c 'import torch, torchvision, transformers, onnx, onnxruntime; print("torch", torch.__version__, "torchvision", torchvision.__version__, "transformers", transformers.__version__, "onnx", onnx.__version__, "onnxruntime", onnxruntime.__version__)'
printf '%s' "$STAMP_CONTENT" > "$STAMP"
echo "zoo venv ready: $VENV"
