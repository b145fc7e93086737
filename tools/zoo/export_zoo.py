#!/usr/bin/env python3
"""Export the 15 DNNFusion evaluation models to ONNX with random weights and no downloads.

    python tools/zoo/export_zoo.py                       # full + small, all models
    python tools/zoo/export_zoo.py --which small         # only the committed small models
    python tools/zoo/export_zoo.py --only gpt2,vgg16 --which full --force

Full models go to ${DNNF_ZOO:-~/.cache/dnnf/zoo}/<name>.onnx (skipped if present unless --force),
small ones to tests/models/zoo_small/<name>_small.onnx (always rewritten; deterministic).
Run it with the venv from tools/zoo/setup_venv.sh (tools/zoo/make_zoo.sh does both).
Models are exported one at a time (legacy TorchScript exporter, opset 17, constant folding).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
import warnings
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402
from torch import nn  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import catalog  # noqa: E402
import zoo_models as zm  # noqa: E402

SMALL_DIR = REPO / "tests" / "models" / "zoo_small"


def full_dir() -> Path:
    return Path(os.environ.get("DNNF_ZOO", Path.home() / ".cache" / "dnnf" / "zoo"))


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def image(*shape):
    return torch.randn(*shape)


class HFWrap(nn.Module):
    """Calls a transformers model with keyword inputs and returns a tuple of named outputs."""

    def __init__(self, model: nn.Module, outputs):
        super().__init__()
        self.model = model
        self.outputs = list(outputs)

    def forward(self, input_ids, attention_mask):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, return_dict=True)
        return tuple(getattr(out, k) for k in self.outputs)


class RCNNWrap(nn.Module):
    """torchvision detection model on a single CHW image -> (boxes, labels, scores[, masks])."""

    def __init__(self, model: nn.Module, keys):
        super().__init__()
        self.model = model
        self.keys = list(keys)

    def forward(self, image):
        out = self.model([image])[0]
        return tuple(out[k] for k in self.keys)


def hf_spec(model, outputs, seq, vocab):
    g = torch.Generator().manual_seed(1234)
    ids = torch.randint(0, vocab, (1, seq), generator=g, dtype=torch.int64)
    mask = torch.ones(1, seq, dtype=torch.int64)
    return dict(model=HFWrap(model, outputs), args=(ids, mask),
                input_names=["input_ids", "attention_mask"], output_names=list(outputs))


def hf_build(cls_name: str, cfg_name: str, **cfg):
    import transformers

    config = getattr(transformers, cfg_name)(**cfg)
    return getattr(transformers, cls_name)._from_config(config, attn_implementation="eager")


# ---------------------------------------------------------------------------------------------
# model builders: name -> (full builder, small builder); each returns an export spec dict
# ---------------------------------------------------------------------------------------------
def efficientnet_b0(small: bool):
    import torchvision
    from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf

    if not small:
        m = torchvision.models.efficientnet_b0(weights=None)
        x = image(1, 3, 224, 224)
    else:
        setting, last = _efficientnet_conf("efficientnet_b0", width_mult=0.1, depth_mult=0.5)
        m = EfficientNet(setting, dropout=0.2, num_classes=10, last_channel=last)
        x = image(1, 3, 64, 64)
    return dict(model=m, args=(x,), input_names=["input"], output_names=["logits"])


def vgg16(small: bool):
    import torchvision
    from torchvision.models.vgg import VGG, make_layers

    if not small:
        m = torchvision.models.vgg16(weights=None)
        x = image(1, 3, 224, 224)
    else:
        cfg = [4, 4, "M", 8, 8, "M", 16, 16, 16, "M", 32, 32, 32, "M", 32, 32, 32, "M"]
        m = VGG(make_layers(cfg), num_classes=10)
        m.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        m.classifier = nn.Sequential(
            nn.Linear(32 * 4, 64), nn.ReLU(True), nn.Dropout(0.5),
            nn.Linear(64, 64), nn.ReLU(True), nn.Dropout(0.5), nn.Linear(64, 10))
        x = image(1, 3, 64, 64)
    return dict(model=m, args=(x,), input_names=["input"], output_names=["logits"])


def mobilenetv1_ssd(small: bool):
    if not small:
        m, x = zm.MobileNetV1SSD(num_classes=21, image_size=300), image(1, 3, 300, 300)
    else:
        m, x = zm.MobileNetV1SSD(num_classes=5, image_size=128, width=1 / 16), image(1, 3, 128, 128)
    return dict(model=m, args=(x,), input_names=["input"], output_names=["scores", "boxes"])


def yolov4(small: bool):
    if not small:
        m, x = zm.YOLOv4(num_classes=80, image_size=416), image(1, 3, 416, 416)
    else:
        m = zm.YOLOv4(num_classes=3, image_size=128, width=1 / 32, depths=(1, 1, 1, 1),
                      anchor_scale=128 / 416)
        x = image(1, 3, 128, 128)
    return dict(model=m, args=(x,), input_names=["input"], output_names=["boxes", "scores"])


def c3d(small: bool):
    if not small:
        m, x = zm.C3D(num_classes=101), image(1, 3, 16, 112, 112)
    else:
        m, x = zm.C3D(num_classes=5, width=1 / 16, fc=32, frames=16, size=32), image(1, 3, 16, 32, 32)
    return dict(model=m, args=(x,), input_names=["input"], output_names=["logits"])


def s3d(small: bool):
    import torchvision

    if not small:
        m, x = torchvision.models.video.s3d(weights=None, num_classes=101), image(1, 3, 16, 224, 224)
    else:
        m, x = zm.SmallS3D(num_classes=5, size=64, frames=16), image(1, 3, 16, 64, 64)
    return dict(model=m, args=(x,), input_names=["input"], output_names=["logits"])


def unet(small: bool):
    if not small:
        m, x = zm.UNet(3, 21, base=64), image(1, 3, 256, 256)
    else:
        m, x = zm.UNet(3, 3, base=4), image(1, 3, 64, 64)
    return dict(model=m, args=(x,), input_names=["input"], output_names=["logits"])


def _tiny_fpn_backbone():
    from torchvision.models.detection.backbone_utils import BackboneWithFPN
    from torchvision.models.resnet import Bottleneck

    def layer(inplanes, planes, stride):
        down = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False),
                             nn.BatchNorm2d(planes * 4))
        return nn.Sequential(Bottleneck(inplanes, planes, stride, down))

    body = nn.Sequential()
    body.add_module("conv1", nn.Conv2d(3, 8, 7, 2, 3, bias=False))
    body.add_module("bn1", nn.BatchNorm2d(8))
    body.add_module("relu", nn.ReLU(inplace=True))
    body.add_module("maxpool", nn.MaxPool2d(3, 2, 1))
    body.add_module("layer1", layer(8, 4, 1))
    body.add_module("layer2", layer(16, 8, 2))
    body.add_module("layer3", layer(32, 16, 2))
    body.add_module("layer4", layer(64, 32, 2))
    return BackboneWithFPN(body, {"layer1": "0", "layer2": "1", "layer3": "2", "layer4": "3"},
                           [16, 32, 64, 128], 16)


def _rcnn(small: bool, mask: bool):
    import torchvision
    from torchvision.models.detection import FasterRCNN, MaskRCNN
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
    from torchvision.ops import MultiScaleRoIAlign

    keys = ["boxes", "labels", "scores"] + (["masks"] if mask else [])
    if not small:
        fn = (torchvision.models.detection.maskrcnn_resnet50_fpn if mask
              else torchvision.models.detection.fasterrcnn_resnet50_fpn)
        m = fn(weights=None, weights_backbone=None, min_size=512, max_size=512)
        x = torch.rand(3, 512, 512)
    else:
        feats = ["0", "1", "2", "3"]
        kw = dict(
            min_size=128, max_size=128,
            rpn_anchor_generator=AnchorGenerator(((8,), (16,), (32,), (64,), (128,)),
                                                 ((0.5, 1.0, 2.0),) * 5),
            rpn_pre_nms_top_n_test=100, rpn_post_nms_top_n_test=50, box_detections_per_img=20,
            box_roi_pool=MultiScaleRoIAlign(feats, 7, 2),
            box_head=TwoMLPHead(16 * 7 * 7, 32),
            box_predictor=FastRCNNPredictor(32, 5),
        )
        if mask:
            kw.update(mask_roi_pool=MultiScaleRoIAlign(feats, 14, 2),
                      mask_head=MaskRCNNHeads(16, [16, 16, 16, 16], 1),
                      mask_predictor=MaskRCNNPredictor(16, 16, 5))
            m = MaskRCNN(_tiny_fpn_backbone(), num_classes=None, **kw)
        else:
            m = FasterRCNN(_tiny_fpn_backbone(), num_classes=None, **kw)
        x = torch.rand(3, 128, 128)
    return dict(model=RCNNWrap(m, keys), args=(x,), input_names=["image"], output_names=keys)


def faster_rcnn(small: bool):
    return _rcnn(small, mask=False)


def mask_rcnn(small: bool):
    return _rcnn(small, mask=True)


SMALL_SEQ, FULL_SEQ, SMALL_VOCAB = 16, 128, 512


def tinybert(small: bool):
    if not small:
        m = hf_build("BertModel", "BertConfig", num_hidden_layers=4, hidden_size=312,
                     num_attention_heads=12, intermediate_size=1200)
        return hf_spec(m, ["last_hidden_state", "pooler_output"], FULL_SEQ, m.config.vocab_size)
    m = hf_build("BertModel", "BertConfig", vocab_size=SMALL_VOCAB, hidden_size=32, num_hidden_layers=2,
                 num_attention_heads=4, intermediate_size=64, max_position_embeddings=64)
    return hf_spec(m, ["last_hidden_state", "pooler_output"], SMALL_SEQ, SMALL_VOCAB)


def distilbert(small: bool):
    if not small:
        m = hf_build("DistilBertModel", "DistilBertConfig")
        return hf_spec(m, ["last_hidden_state"], FULL_SEQ, m.config.vocab_size)
    m = hf_build("DistilBertModel", "DistilBertConfig", vocab_size=SMALL_VOCAB, dim=64, n_layers=2,
                 n_heads=2, hidden_dim=128, max_position_embeddings=64)
    return hf_spec(m, ["last_hidden_state"], SMALL_SEQ, SMALL_VOCAB)


def albert_base(small: bool):
    if not small:
        m = hf_build("AlbertModel", "AlbertConfig", vocab_size=30000, embedding_size=128,
                     hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                     intermediate_size=3072, hidden_act="gelu_new", max_position_embeddings=512)
        return hf_spec(m, ["last_hidden_state", "pooler_output"], FULL_SEQ, m.config.vocab_size)
    m = hf_build("AlbertModel", "AlbertConfig", vocab_size=SMALL_VOCAB, embedding_size=32,
                 hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128,
                 hidden_act="gelu_new", max_position_embeddings=64)
    return hf_spec(m, ["last_hidden_state", "pooler_output"], SMALL_SEQ, SMALL_VOCAB)


def bert_base(small: bool):
    if not small:
        m = hf_build("BertModel", "BertConfig")
        return hf_spec(m, ["last_hidden_state", "pooler_output"], FULL_SEQ, m.config.vocab_size)
    m = hf_build("BertModel", "BertConfig", vocab_size=SMALL_VOCAB, hidden_size=64, num_hidden_layers=2,
                 num_attention_heads=2, intermediate_size=128, max_position_embeddings=64)
    return hf_spec(m, ["last_hidden_state", "pooler_output"], SMALL_SEQ, SMALL_VOCAB)


def mobilebert(small: bool):
    if not small:
        m = hf_build("MobileBertModel", "MobileBertConfig")
        return hf_spec(m, ["last_hidden_state", "pooler_output"], FULL_SEQ, m.config.vocab_size)
    m = hf_build("MobileBertModel", "MobileBertConfig", vocab_size=SMALL_VOCAB, hidden_size=64,
                 embedding_size=32, intra_bottleneck_size=32, true_hidden_size=32,
                 num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                 num_feedforward_networks=4, max_position_embeddings=64)
    return hf_spec(m, ["last_hidden_state", "pooler_output"], SMALL_SEQ, SMALL_VOCAB)


def gpt2(small: bool):
    if not small:
        m = hf_build("GPT2LMHeadModel", "GPT2Config", use_cache=False)
        return hf_spec(m, ["logits"], FULL_SEQ, m.config.vocab_size)
    m = hf_build("GPT2LMHeadModel", "GPT2Config", vocab_size=SMALL_VOCAB, n_positions=64, n_embd=64,
                 n_layer=2, n_head=2, use_cache=False)
    return hf_spec(m, ["logits"], SMALL_SEQ, SMALL_VOCAB)


BUILDERS = {
    "efficientnet_b0": efficientnet_b0, "vgg16": vgg16, "mobilenetv1_ssd": mobilenetv1_ssd,
    "yolov4": yolov4, "c3d": c3d, "s3d": s3d, "unet": unet, "faster_rcnn": faster_rcnn,
    "mask_rcnn": mask_rcnn, "tinybert": tinybert, "distilbert": distilbert,
    "albert_base": albert_base, "bert_base": bert_base, "mobilebert": mobilebert, "gpt2": gpt2,
}
assert list(BUILDERS) == catalog.NAMES


# ---------------------------------------------------------------------------------------------
@torch.no_grad()
def randomize_constant_params(model: nn.Module, seed: int) -> None:
    """Give freshly initialised models realistic, non-degenerate weights.

    Fresh BatchNorm layers (gamma 1, beta 0, mean 0, var 1), LayerNorms and zero biases make the
    exported graph degenerate: folded biases become identical zero tensors, which the exporter
    de-duplicates into Identity nodes, and zero biases hide numerical bugs. So: random BN
    statistics/affine parameters, and small noise on every floating-point parameter whose
    elements are all equal.
    """
    g = torch.Generator().manual_seed(seed)
    for mod in model.modules():
        if isinstance(mod, nn.modules.batchnorm._BatchNorm) and mod.track_running_stats:
            n = mod.num_features
            mod.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            mod.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            if mod.affine:
                mod.weight.copy_(torch.rand(n, generator=g) + 0.5)
                mod.bias.copy_(torch.randn(n, generator=g) * 0.1)
    for _, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
        if p.is_floating_point() and p.numel() > 1 and bool((p == p.reshape(-1)[0]).all()):
            p.add_(torch.randn(p.shape, generator=g) * 0.05)


def export_one(name: str, small: bool, path: Path) -> None:
    torch.manual_seed(catalog.SEED)
    spec = BUILDERS[name](small)
    model = spec["model"].eval()
    randomize_constant_params(model, catalog.SEED + 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".onnx.tmp")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, spec["args"], str(tmp),
            export_params=True,
            opset_version=catalog.OPSET,
            do_constant_folding=True,
            training=torch.onnx.TrainingMode.EVAL,
            input_names=spec["input_names"],
            output_names=spec["output_names"],
            dynamo=False,
        )
    os.replace(tmp, path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--which", choices=["full", "small", "both"], default="both")
    ap.add_argument("--only", default="", help="comma-separated model names (default: all)")
    ap.add_argument("--force", action="store_true", help="re-export full models that already exist")
    ap.add_argument("--full-dir", default=None, help="default ${DNNF_ZOO:-~/.cache/dnnf/zoo}")
    ap.add_argument("--small-dir", default=str(SMALL_DIR))
    args = ap.parse_args(argv)

    names = [n for n in args.only.split(",") if n] or catalog.NAMES
    unknown = [n for n in names if n not in BUILDERS]
    if unknown:
        ap.error(f"unknown model(s) {unknown}; known: {', '.join(catalog.NAMES)}")
    fdir = Path(args.full_dir) if args.full_dir else full_dir()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    jobs = []
    for n in names:
        if args.which in ("small", "both"):
            jobs.append((n, True, Path(args.small_dir) / f"{n}_small.onnx"))
        if args.which in ("full", "both"):
            jobs.append((n, False, fdir / f"{n}.onnx"))
    failures = []
    for n, small, path in jobs:
        label = f"{n}{'_small' if small else ''}"
        if not small and path.exists() and not args.force:
            print(f"[skip] {label}: {path} exists (use --force)", flush=True)
            continue
        t0 = time.time()
        try:
            export_one(n, small, path)
            print(f"[ok]   {label}: {path} ({path.stat().st_size / 1e6:.2f} MB, "
                  f"{time.time() - t0:.1f}s)", flush=True)
        except Exception:  # keep going: report every failure at the end
            traceback.print_exc()
            print(f"[FAIL] {label}", flush=True)
            failures.append(label)
    if failures:
        print("failed: " + ", ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
