#!/usr/bin/env python3
"""MNN: its ONNX converter (mnnconvert, which optimises while converting), then the
converted model dumped as MNN's JSON (mnnconvert -f MNN --JsonFile). ops.txt is that JSON
dump; dnnf's parser reads the op list (`oplists[].type`, Convolution relu/relu6 flags,
UnaryOp kinds) from it without loading the weights."""
import os
import subprocess
import sys

from peer_common import bound_model_path, main


def mnnconvert():
    """The converter itself (MNN's `_tools` extension), not the `mnnconvert` console script:
    that wrapper imports MNN.tools.utils.log, which runs `pip install aliyun-log-python-sdk`
    when the package is missing and posts a usage record to Alibaba's log service after
    every conversion. A separate process, so a converter crash is reported, not fatal."""
    return [sys.executable, "-c", "import sys, _tools; _tools.mnnconvert(sys.argv)"]


def run(path, workdir):
    import MNN
    version = MNN.version() if hasattr(MNN, "version") else "unknown"
    workdir = os.path.abspath(workdir)
    src = bound_model_path(path, workdir)
    mnn_file = os.path.join(workdir, "model.mnn")
    r = subprocess.run(mnnconvert() + ["-f", "ONNX", "--modelFile", src, "--MNNModel", mnn_file, "--bizCode", "dnnf"],
                       capture_output=True, text=True, cwd=workdir)  # it writes scratch files into its cwd
    if r.returncode != 0 or not os.path.exists(mnn_file):
        lines = []  # the last distinct line: the converter repeats its error after warnings
        for line in (r.stdout + r.stderr).splitlines():
            line = line.strip()
            if line and not line.startswith("Start to") and line not in lines:
                lines.append(line)
        raise RuntimeError("mnnconvert failed: " + (lines[-1] if lines else "exit code %d" % r.returncode))
    json_file = os.path.join(workdir, "ops.txt")
    r = subprocess.run(mnnconvert() + ["-f", "MNN", "--modelFile", mnn_file, "--JsonFile", json_file],
                       capture_output=True, text=True, cwd=workdir)
    if r.returncode != 0 or not os.path.exists(json_file):
        raise RuntimeError("mnnconvert JSON dump failed: " + (r.stdout + r.stderr).strip()[-300:])
    os.remove(mnn_file)
    return version, None


if __name__ == "__main__":
    main("mnn", run)
