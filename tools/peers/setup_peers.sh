#!/usr/bin/env bash
# Create (idempotently) the Python virtualenv holding the peer frameworks that
# `dnnf compare` measures against: ONNX Runtime, MNN, onnx2tf + TensorFlow (TFLite)
# and, where a wheel exists for this Python, Apache TVM.
#
#   tools/peers/setup_peers.sh          # create/update, print what is installed
#   DNNF_PEERS_VENV=/some/dir tools/peers/setup_peers.sh
#
# Location: ${DNNF_PEERS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/dnnf/peers-venv}
# Kept apart from the zoo venv because TensorFlow and torch pin different numpy/protobuf.
# Each peer is installed in its own pip call so that one peer failing to install
# (TVM has no wheel for every Python) leaves the others usable; `dnnf compare`
# then emulates the missing peer from its rule table and says so.
set -uo pipefail

VENV="${DNNF_PEERS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/dnnf/peers-venv}"
PY="${PYTHON:-python3}"

# One line per peer: name, then the pip requirements it needs. Pinned to the versions the
# README's fusion table and the emulated rule tables (core/peers/peer_tables.cpp) were
# measured with (Python 3.11): a newer converter may fuse differently, and the results
# cache is keyed by peer version, so a bump re-measures. numpy/protobuf pinned too because
# TensorFlow and onnx disagree about them across releases.
PEERS=(
  "onnxruntime|numpy==2.4.6 protobuf==7.36.2 onnx==1.23.2 onnxruntime==1.32.0"
  "mnn|MNN==3.6.1"
  "tflite|tensorflow-cpu==2.21.0 tf_keras==2.21.0 onnx2tf==1.28.8 onnx==1.23.2 onnxsim==0.8.1 onnx_graphsurgeon==0.6.1 sng4onnx==2.0.1 psutil==7.2.2 ai-edge-litert==2.3.0"
  "tvm|apache-tvm==0.27.0.post1"
)

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "creating venv $VENV with $("$PY" --version 2>&1)"
  mkdir -p "$(dirname "$VENV")"
  "$PY" -m venv "$VENV" || { echo "error: cannot create venv $VENV" >&2; exit 1; }
fi
"$VENV/bin/python" -m pip install --upgrade --quiet pip setuptools wheel

status=0
for entry in "${PEERS[@]}"; do
  name="${entry%%|*}"
  reqs="${entry#*|}"
  echo "== installing $name: $reqs"
  # shellcheck disable=SC2086
  if "$VENV/bin/python" -m pip install --progress-bar off $reqs; then
    echo "== $name: installed"
  else
    echo "== $name: FAILED to install (dnnf compare will emulate it from rules)"
    status=1
  fi
done

"$VENV/bin/python" - <<'PY'
import importlib
import importlib.metadata
# Imported to prove it loads; the version is the installed distribution's (MNN has no __version__).
for peer, mod, dist in [("onnxruntime", "onnxruntime", "onnxruntime"), ("mnn", "MNN", "MNN"),
                        ("tflite", "onnx2tf", "onnx2tf"), ("tflite-runtime", "tensorflow", "tensorflow-cpu"),
                        ("tvm", "tvm", "apache-tvm")]:
    try:
        m = importlib.import_module(mod)
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            version = getattr(m, "__version__", "unknown")
        print(f"{peer}: {version}")
    except Exception as e:  # report, never fail: a peer may be absent
        print(f"{peer}: absent ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})")
PY
echo "peers venv: $VENV"
exit $status
