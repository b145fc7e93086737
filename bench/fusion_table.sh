#!/usr/bin/env bash
# Fusion against other frameworks: kernels per inference of dnnf and of ONNX Runtime,
# MNN, TFLite and TVM on the same ONNX files, with the DNNFusion paper's Table 5 figures
# beside the models the paper has; plus how often the emulated (rule-table) counts equal
# the real tools' counts.
#
#   bench/fusion_table.sh [--zoo full|small|none] [--no-shared] [--out DIR] [--measure]
#
# Needs a built dnnf ($DNNF, default build/bin/dnnf) and, for real peer counts, the peers
# venv (dnnf peers --setup). Peer results are cached (~/.cache/dnnf/peers), so a rerun
# only pays for new models or new peer versions. Writes DIR/fusion_table.md and one
# compare JSON per model and source (default DIR: bench/out/fusion).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
DNNF="${DNNF:-$here/build/bin/dnnf}"
zoo=full; shared=1; out="$here/bench/out/fusion"; measure=(--no-measure)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --zoo) zoo="$2"; shift 2 ;;
    --no-shared) shared=0; shift ;;
    --out) out="$2"; shift 2 ;;
    --measure) measure=(); shift ;;
    *) echo "usage: $0 [--zoo full|small|none] [--no-shared] [--out DIR] [--measure]" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
models=()
case "$zoo" in
  full) for f in "${DNNF_ZOO:-$HOME/.cache/dnnf/zoo}"/*.onnx; do [[ -f "$f" ]] && models+=("$f"); done ;;
  small) for f in "$here"/tests/models/zoo_small/*.onnx; do models+=("$f"); done ;;
  none) ;;
esac
if [[ $shared == 1 ]]; then
  for f in "$here"/../shared/models/{cnn,detect,transformer}/*.onnx; do [[ -f "$f" ]] && models+=("$f"); done
fi

for m in "${models[@]}"; do
  name="$(basename "$m" .onnx)"
  echo "== $name" >&2
  "$DNNF" compare "$m" --json "$out/$name.tool.json" "${measure[@]}" >/dev/null 2>"$out/$name.log" ||
    echo "dnnf compare failed on $name (see $out/$name.log)" >&2
  "$DNNF" compare "$m" --source rules --json "$out/$name.rules.json" "${measure[@]}" >/dev/null 2>>"$out/$name.log" || true
done

python3 - "$out" "${models[@]}" <<'PY'
import json, os, sys
out, models = sys.argv[1], sys.argv[2:]
# DNNFusion paper, Table 5 (docs/dnnfusion.md 7.3): layers before, MNN, TVM, TFLite, DNNF.
paper = {"efficientnet_b0": (309, 199, 195, 201, 97), "vgg16": (51, 22, 22, 22, 17),
         "mobilenetv1_ssd": (202, 138, 124, 138, 71), "yolov4": (398, 198, 192, 198, 135),
         "c3d": (27, 27, 27, None, 16), "s3d": (272, None, None, None, 98), "unet": (292, 241, 232, 234, 82),
         "faster_rcnn": (3640, None, None, None, 942), "mask_rcnn": (3999, None, None, None, 981),
         "tinybert": (366, None, 304, 322, 74), "distilbert": (457, None, 416, 431, 109),
         "albert_base": (936, None, 746, 855, 225), "bert_base": (976, None, 760, 873, 216),
         "mobilebert": (2387, None, 1678, 2128, 510), "gpt2": (2533, None, 2047, 2223, 254)}
peers = ["ONNX Runtime (extended)", "MNN", "TFLite", "TVM"]
lines = ["| model | nodes | dnnf rewritten | **dnnf layers** | ORT ext. | MNN | TFLite | TVM | paper: before / MNN / TVM / TFLite / DNNF | notes |",
         "|---|---|---|---|---|---|---|---|---|---|"]
agree = {p: [0, 0, []] for p in peers}
fewest_fail = []
def load(p):
    try:
        with open(p) as f: return json.load(f)
    except Exception: return None
for m in models:
    name = os.path.basename(m)[:-5]
    tool, rules = load(os.path.join(out, name + ".tool.json")), load(os.path.join(out, name + ".rules.json"))
    if not tool:
        lines.append("| %s | - | - | - | - | - | - | - | | dnnf compare failed |" % name); continue
    rows = {r["system"]: r for r in tool["rows"]}
    rrows = {r["system"]: r for r in rules["rows"]} if rules else {}
    notes, cells = [], []
    d = rows["dnnf"]["layers"]
    for p in peers:
        r = rows.get(p)
        if not r: cells.append("-"); continue
        if r.get("error"):
            cells.append("fail"); notes.append("%s: %s" % (p.split()[0], r["error"][:100].replace("|", "/"))); continue
        e = rrows.get(p, {}).get("layers")
        mark = "" if r["source"] == "tool" else "*"
        cells.append("%s%s" % (r["layers"], mark) + ("" if e is None or e == r["layers"] else " (rules %s)" % e))
        if r["source"] == "tool" and e is not None:
            agree[p][1] += 1
            if e == r["layers"]: agree[p][0] += 1
            else: agree[p][2].append("%s %d vs %d" % (name, e, r["layers"]))
        if r["layers"] < d: notes.append("%s has fewer layers" % p.split()[0])
    key = name[:-6] if name.endswith("_small") else name
    pp = paper.get(key)
    ptxt = " / ".join("-" if v is None else str(v) for v in pp) if pp else ""
    if pp and name.endswith("_small"): ptxt += " (full model)"
    lines.append("| %s | %d | %d | **%d** | %s | %s | %s | %s | %s | %s |" % (
        name, tool["nodes"], tool["dnnf_nodes_after_rewrite"], d, *cells, ptxt, "; ".join(notes)))
lines.append("")
lines.append("Emulated (rule table) vs real tool, models where both gave a count:")
lines.append("")
for p in peers:
    a, n, diff = agree[p]
    lines.append("- %s: %d of %d equal%s" % (p, a, n, (" (differ: " + ", ".join(diff) + ")") if diff else ""))
text = "\n".join(lines) + "\n"
open(os.path.join(out, "fusion_table.md"), "w").write(text)
print(text)
PY
