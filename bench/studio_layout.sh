#!/usr/bin/env bash
# DNNF Studio layout benchmark (not a test): for every model, the time to open it
# (import, rewrite, fuse, replay the journal; progress is shown meanwhile) and the time
# from asking for a graph state to its first paint (display graph + layout + scene),
# for the state the window shows first (the fused plan) and for the original graph,
# with a cold layout cache. Runs offscreen. Prints a Markdown table.
#   bench/studio_layout.sh [MODEL.onnx...]   (default: ../shared/models + the zoo)
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
studio=${DNNF_STUDIO:-$here/build/bin/dnnf-studio}
[ -x "$studio" ] || { echo "error: $studio is not built (set DNNF_STUDIO=path/to/dnnf-studio)" >&2; exit 1; }
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  shared=${DNNF_MODELS:-$here/../shared/models}
  for f in "$shared"/cnn/*.onnx "$shared"/detect/*.onnx "$shared"/transformer/*.onnx \
           "${DNNF_ZOO:-$HOME/.cache/dnnf/zoo}"/*.onnx; do
    [ -f "$f" ] && models+=("$f")
  done
fi
[ ${#models[@]} -gt 0 ] || { echo "error: no models found" >&2; exit 1; }
QT_QPA_PLATFORM=offscreen exec "$studio" --bench-layout "${models[@]}" 2> >(grep -v -e XDG_RUNTIME_DIR -e propagateSizeHints >&2)
