"""Model architectures written for the dnnf model zoo in plain torch (no downloads).

* MobileNetV1-SSD   -- the "mb1-ssd" of the widely used pytorch-ssd code base (Liu et al. SSD
                       head on a MobileNetV1 base, 300x300, 6 feature maps, 6 priors per cell,
                       box decoding included, NMS excluded).
* YOLOv4            -- CSPDarknet53 backbone + SPP + PANet neck + three YOLOv3-style heads, as in
                       Bochkovskiy et al. 2020 / AlexeyAB's yolov4.cfg (Mish in the backbone,
                       leaky ReLU 0.1 in neck and head); box decoding included, NMS excluded.
* C3D               -- Tran et al. 2015 (8 conv3d 3x3x3, 5 max-pools, fc6/fc7/fc8).
* U-Net             -- Ronneberger et al. 2015 (4 down / 4 up levels, double 3x3 conv, 2x2
                       transposed-conv up-sampling, skip concatenation, 1x1 classifier),
                       with padding=1 ("same") convs so no cropping is needed.
* small S3D         -- a narrow, shallower S3D built from torchvision's own S3D blocks.

Every constructor takes a width multiplier / depth settings so that tiny "small" variants with
the same operator kinds can be built for the committed test models.
"""
from __future__ import annotations

import itertools
import math
from functools import partial
from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn


def _w(ch: int, mult: float, minimum: int = 4) -> int:
    return max(minimum, int(round(ch * mult)))


# --------------------------------------------------------------------------------------------
# MobileNetV1-SSD
# --------------------------------------------------------------------------------------------
def _conv_bn(inp: int, oup: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inp, oup, 3, stride, 1, bias=False), nn.BatchNorm2d(oup), nn.ReLU(inplace=True)
    )


def _conv_dw(inp: int, oup: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False),
        nn.BatchNorm2d(inp),
        nn.ReLU(inplace=True),
        nn.Conv2d(inp, oup, 1, 1, 0, bias=False),
        nn.BatchNorm2d(oup),
        nn.ReLU(inplace=True),
    )


def mobilenet_v1_features(width: float = 1.0) -> nn.ModuleList:
    c = lambda n: _w(n, width)  # noqa: E731
    return nn.ModuleList(
        [
            _conv_bn(3, c(32), 2),
            _conv_dw(c(32), c(64), 1),
            _conv_dw(c(64), c(128), 2),
            _conv_dw(c(128), c(128), 1),
            _conv_dw(c(128), c(256), 2),
            _conv_dw(c(256), c(256), 1),
            _conv_dw(c(256), c(512), 2),
            _conv_dw(c(512), c(512), 1),
            _conv_dw(c(512), c(512), 1),
            _conv_dw(c(512), c(512), 1),
            _conv_dw(c(512), c(512), 1),
            _conv_dw(c(512), c(512), 1),
            _conv_dw(c(512), c(1024), 2),
            _conv_dw(c(1024), c(1024), 1),
        ]
    )


def _ssd_priors(image_size: int, feature_maps: Sequence[int], shrinkages: Sequence[float],
                box_sizes: Sequence[float], aspect_ratios: Sequence[int]) -> torch.Tensor:
    """Center-form priors [N, 4] exactly as pytorch-ssd's generate_ssd_priors (clamped)."""
    priors = []
    for k, (fm, shrink) in enumerate(zip(feature_maps, shrinkages)):
        scale = image_size / shrink
        mn, mx = box_sizes[k], box_sizes[k + 1]
        for j, i in itertools.product(range(fm), repeat=2):
            xc, yc = (i + 0.5) / scale, (j + 0.5) / scale
            s = mn / image_size
            priors.append([xc, yc, s, s])
            s = math.sqrt(mx * mn) / image_size
            priors.append([xc, yc, s, s])
            s = mn / image_size
            for r in aspect_ratios:
                r = math.sqrt(r)
                priors.append([xc, yc, s * r, s / r])
                priors.append([xc, yc, s / r, s * r])
    return torch.tensor(priors, dtype=torch.float32).clamp_(0.0, 1.0)


class MobileNetV1SSD(nn.Module):
    """mb1-ssd: MobileNetV1 base (sources after conv11 and conv13) + 4 extra layers."""

    center_variance = 0.1
    size_variance = 0.2

    def __init__(self, num_classes: int = 21, image_size: int = 300, width: float = 1.0):
        super().__init__()
        self.num_classes = num_classes
        c = lambda n: _w(n, width)  # noqa: E731
        self.base_net = mobilenet_v1_features(width)
        self.source_layer_indexes = [12, 14]
        self.extras = nn.ModuleList(
            [
                nn.Sequential(nn.Conv2d(c(1024), c(256), 1), nn.ReLU(),
                              nn.Conv2d(c(256), c(512), 3, 2, 1), nn.ReLU()),
                nn.Sequential(nn.Conv2d(c(512), c(128), 1), nn.ReLU(),
                              nn.Conv2d(c(128), c(256), 3, 2, 1), nn.ReLU()),
                nn.Sequential(nn.Conv2d(c(256), c(128), 1), nn.ReLU(),
                              nn.Conv2d(c(128), c(256), 3, 2, 1), nn.ReLU()),
                nn.Sequential(nn.Conv2d(c(256), c(128), 1), nn.ReLU(),
                              nn.Conv2d(c(128), c(256), 3, 2, 1), nn.ReLU()),
            ]
        )
        src_ch = [c(512), c(1024), c(512), c(256), c(256), c(256)]
        self.regression_headers = nn.ModuleList([nn.Conv2d(ch, 6 * 4, 3, padding=1) for ch in src_ch])
        self.classification_headers = nn.ModuleList(
            [nn.Conv2d(ch, 6 * num_classes, 3, padding=1) for ch in src_ch]
        )
        # Feature-map sizes follow from the image size; mb1-ssd's 300x300 gives 19,10,5,3,2,1.
        with torch.no_grad():
            fms = [f.shape[-1] for f in self._features(torch.zeros(1, 3, image_size, image_size))]
        if image_size == 300:
            shrink = [16, 32, 64, 100, 150, 300]
            box_sizes = [60, 105, 150, 195, 240, 285, 330]
        else:  # scaled version of the same spec for other image sizes
            shrink = [image_size / f for f in fms]
            box_sizes = [image_size * s for s in (0.2, 0.35, 0.5, 0.65, 0.8, 0.95, 1.1)]
        self.register_buffer("priors", _ssd_priors(image_size, fms, shrink, box_sizes, [2, 3]),
                             persistent=False)

    def _features(self, x: torch.Tensor) -> List[torch.Tensor]:
        outs = []
        start = 0
        for end in self.source_layer_indexes:
            for layer in self.base_net[start:end]:
                x = layer(x)
            outs.append(x)
            start = end
        for layer in self.extras:
            x = layer(x)
            outs.append(x)
        return outs

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        confidences, locations = [], []
        for i, y in enumerate(self._features(x)):
            conf = self.classification_headers[i](y).permute(0, 2, 3, 1).contiguous()
            confidences.append(conf.view(conf.size(0), -1, self.num_classes))
            loc = self.regression_headers[i](y).permute(0, 2, 3, 1).contiguous()
            locations.append(loc.view(loc.size(0), -1, 4))
        confidences = F.softmax(torch.cat(confidences, 1), dim=2)
        locations = torch.cat(locations, 1)
        p = self.priors
        boxes = torch.cat(
            [
                locations[..., :2] * self.center_variance * p[..., 2:] + p[..., :2],
                torch.exp(locations[..., 2:] * self.size_variance) * p[..., 2:],
            ],
            dim=-1,
        )
        boxes = torch.cat([boxes[..., :2] - boxes[..., 2:] / 2, boxes[..., :2] + boxes[..., 2:] / 2], -1)
        return confidences, boxes


# --------------------------------------------------------------------------------------------
# YOLOv4 (CSPDarknet53 + SPP + PANet + YOLO heads)
# --------------------------------------------------------------------------------------------
class ConvBnAct(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, stride: int, act: str, bn: bool = True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, bias=not bn)
        self.bn = nn.BatchNorm2d(cout) if bn else nn.Identity()
        if act == "mish":
            self.act = nn.Mish()
        elif act == "leaky":
            self.act = nn.LeakyReLU(0.1)
        else:
            self.act = nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class ResBlock(nn.Module):
    def __init__(self, ch: int, nblocks: int):
        super().__init__()
        self.blocks = nn.ModuleList(
            [nn.Sequential(ConvBnAct(ch, ch, 1, 1, "mish"), ConvBnAct(ch, ch, 3, 1, "mish"))
             for _ in range(nblocks)]
        )

    def forward(self, x):
        for b in self.blocks:
            x = x + b(x)
        return x


class CSPStage1(nn.Module):
    """First CSPDarknet53 stage (DownSample1 in yolov4.cfg: different channel split)."""

    def __init__(self, c32: int, c64: int):
        super().__init__()
        self.conv1 = ConvBnAct(3, c32, 3, 1, "mish")
        self.conv2 = ConvBnAct(c32, c64, 3, 2, "mish")
        self.conv3 = ConvBnAct(c64, c64, 1, 1, "mish")
        self.conv4 = ConvBnAct(c64, c64, 1, 1, "mish")
        self.conv5 = ConvBnAct(c64, c32, 1, 1, "mish")
        self.conv6 = ConvBnAct(c32, c64, 3, 1, "mish")
        self.conv7 = ConvBnAct(c64, c64, 1, 1, "mish")
        self.conv8 = ConvBnAct(2 * c64, c64, 1, 1, "mish")

    def forward(self, x):
        x2 = self.conv2(self.conv1(x))
        x3 = self.conv3(x2)
        x4 = self.conv4(x2)
        x6 = self.conv6(self.conv5(x4)) + x4
        x7 = self.conv7(x6)
        return self.conv8(torch.cat([x7, x3], 1))


class CSPStage(nn.Module):
    def __init__(self, cin: int, cout: int, nblocks: int):
        super().__init__()
        half = cout // 2
        self.conv1 = ConvBnAct(cin, cout, 3, 2, "mish")
        self.conv2 = ConvBnAct(cout, half, 1, 1, "mish")
        self.conv3 = ConvBnAct(cout, half, 1, 1, "mish")
        self.resblock = ResBlock(half, nblocks)
        self.conv4 = ConvBnAct(half, half, 1, 1, "mish")
        self.conv5 = ConvBnAct(cout, cout, 1, 1, "mish")

    def forward(self, x):
        x1 = self.conv1(x)
        x2 = self.conv2(x1)
        x4 = self.conv4(self.resblock(self.conv3(x1)))
        return self.conv5(torch.cat([x4, x2], 1))


def _cbl_stack(chs: Sequence[Tuple[int, int, int]]) -> nn.Sequential:
    return nn.Sequential(*[ConvBnAct(a, b, k, 1, "leaky") for a, b, k in chs])


class YOLOv4(nn.Module):
    # yolov4.cfg anchors (pixels) and scale_x_y per head (strides 8, 16, 32)
    ANCHORS = [(12, 16), (19, 36), (40, 28), (36, 75), (76, 55), (72, 146), (142, 110),
               (192, 243), (459, 401)]
    SCALE_XY = (1.2, 1.1, 1.05)

    def __init__(self, num_classes: int = 80, image_size: int = 416, width: float = 1.0,
                 depths: Sequence[int] = (2, 8, 8, 4), anchor_scale: float = 1.0):
        super().__init__()
        c = lambda n: _w(n, width)  # noqa: E731
        self.num_classes = num_classes
        self.image_size = image_size
        self.anchor_scale = anchor_scale
        # backbone: CSPDarknet53
        self.d1 = CSPStage1(c(32), c(64))
        self.d2 = CSPStage(c(64), c(128), depths[0])
        self.d3 = CSPStage(c(128), c(256), depths[1])
        self.d4 = CSPStage(c(256), c(512), depths[2])
        self.d5 = CSPStage(c(512), c(1024), depths[3])
        # neck: SPP + PANet (top-down part)
        self.n_pre_spp = _cbl_stack([(c(1024), c(512), 1), (c(512), c(1024), 3), (c(1024), c(512), 1)])
        self.n_post_spp = _cbl_stack([(c(2048), c(512), 1), (c(512), c(1024), 3), (c(1024), c(512), 1)])
        self.n_conv7 = ConvBnAct(c(512), c(256), 1, 1, "leaky")
        self.n_conv8 = ConvBnAct(c(512), c(256), 1, 1, "leaky")
        self.n_stack13 = _cbl_stack([(c(512), c(256), 1), (c(256), c(512), 3), (c(512), c(256), 1),
                                     (c(256), c(512), 3), (c(512), c(256), 1)])
        self.n_conv14 = ConvBnAct(c(256), c(128), 1, 1, "leaky")
        self.n_conv15 = ConvBnAct(c(256), c(128), 1, 1, "leaky")
        self.n_stack20 = _cbl_stack([(c(256), c(128), 1), (c(128), c(256), 3), (c(256), c(128), 1),
                                     (c(128), c(256), 3), (c(256), c(128), 1)])
        # head: PANet bottom-up part + YOLO output convs
        out_ch = 3 * (5 + num_classes)
        self.h_conv1 = ConvBnAct(c(128), c(256), 3, 1, "leaky")
        self.h_out1 = ConvBnAct(c(256), out_ch, 1, 1, "linear", bn=False)
        self.h_conv3 = ConvBnAct(c(128), c(256), 3, 2, "leaky")
        self.h_stack8 = _cbl_stack([(c(512), c(256), 1), (c(256), c(512), 3), (c(512), c(256), 1),
                                    (c(256), c(512), 3), (c(512), c(256), 1)])
        self.h_conv9 = ConvBnAct(c(256), c(512), 3, 1, "leaky")
        self.h_out2 = ConvBnAct(c(512), out_ch, 1, 1, "linear", bn=False)
        self.h_conv11 = ConvBnAct(c(256), c(512), 3, 2, "leaky")
        self.h_stack16 = _cbl_stack([(c(1024), c(512), 1), (c(512), c(1024), 3), (c(1024), c(512), 1),
                                     (c(512), c(1024), 3), (c(1024), c(512), 1)])
        self.h_conv17 = ConvBnAct(c(512), c(1024), 3, 1, "leaky")
        self.h_out3 = ConvBnAct(c(1024), out_ch, 1, 1, "linear", bn=False)
        for i, stride in enumerate((8, 16, 32)):
            g = image_size // stride
            ys, xs = torch.meshgrid(torch.arange(g), torch.arange(g), indexing="ij")
            self.register_buffer(f"grid{i}", torch.stack([xs, ys], -1).float().view(1, 1, g, g, 2),
                                 persistent=False)
            anchors = torch.tensor(self.ANCHORS[3 * i:3 * i + 3], dtype=torch.float32) * anchor_scale
            self.register_buffer(f"anchor{i}", anchors.view(1, 3, 1, 1, 2), persistent=False)

    def _decode(self, p: torch.Tensor, i: int, stride: int):
        g = self.image_size // stride
        nc5 = 5 + self.num_classes
        p = p.view(-1, 3, nc5, g, g).permute(0, 1, 3, 4, 2)  # [B, 3, g, g, 5+nc]
        s = self.SCALE_XY[i]
        grid = getattr(self, f"grid{i}")
        anchor = getattr(self, f"anchor{i}")
        xy = (torch.sigmoid(p[..., 0:2]) * s - 0.5 * (s - 1.0) + grid) * float(stride)
        wh = torch.exp(p[..., 2:4]) * anchor
        boxes = torch.cat([xy - wh * 0.5, xy + wh * 0.5], -1).reshape(-1, 3 * g * g, 4)
        scores = (torch.sigmoid(p[..., 4:5]) * torch.sigmoid(p[..., 5:])).reshape(
            -1, 3 * g * g, self.num_classes)
        return boxes, scores

    def forward(self, x: torch.Tensor):
        x3 = self.d3(self.d2(self.d1(x)))
        x4 = self.d4(x3)
        x5 = self.d5(x4)
        # SPP
        s = self.n_pre_spp(x5)
        m1 = F.max_pool2d(s, 5, 1, 2)
        m2 = F.max_pool2d(s, 9, 1, 4)
        m3 = F.max_pool2d(s, 13, 1, 6)
        n6 = self.n_post_spp(torch.cat([m3, m2, m1, s], 1))
        up = F.interpolate(self.n_conv7(n6), scale_factor=2.0, mode="nearest")
        n13 = self.n_stack13(torch.cat([self.n_conv8(x4), up], 1))
        up = F.interpolate(self.n_conv14(n13), scale_factor=2.0, mode="nearest")
        n20 = self.n_stack20(torch.cat([self.n_conv15(x3), up], 1))
        # heads
        o1 = self.h_out1(self.h_conv1(n20))
        h8 = self.h_stack8(torch.cat([self.h_conv3(n20), n13], 1))
        o2 = self.h_out2(self.h_conv9(h8))
        h16 = self.h_stack16(torch.cat([self.h_conv11(h8), n6], 1))
        o3 = self.h_out3(self.h_conv17(h16))
        outs = [self._decode(o, i, st) for i, (o, st) in enumerate(zip((o1, o2, o3), (8, 16, 32)))]
        boxes = torch.cat([b for b, _ in outs], 1)
        scores = torch.cat([s for _, s in outs], 1)
        return boxes, scores


# --------------------------------------------------------------------------------------------
# C3D
# --------------------------------------------------------------------------------------------
class C3D(nn.Module):
    def __init__(self, num_classes: int = 101, width: float = 1.0, fc: int = 4096,
                 frames: int = 16, size: int = 112):
        super().__init__()
        c = lambda n: _w(n, width)  # noqa: E731
        conv = lambda a, b: nn.Conv3d(a, b, kernel_size=3, padding=1)  # noqa: E731
        self.features = nn.Sequential(
            conv(3, c(64)), nn.ReLU(), nn.MaxPool3d((1, 2, 2), (1, 2, 2)),
            conv(c(64), c(128)), nn.ReLU(), nn.MaxPool3d(2, 2),
            conv(c(128), c(256)), nn.ReLU(), conv(c(256), c(256)), nn.ReLU(), nn.MaxPool3d(2, 2),
            conv(c(256), c(512)), nn.ReLU(), conv(c(512), c(512)), nn.ReLU(), nn.MaxPool3d(2, 2),
            conv(c(512), c(512)), nn.ReLU(), conv(c(512), c(512)), nn.ReLU(),
            nn.MaxPool3d(2, 2, padding=(0, 1, 1)),
        )
        with torch.no_grad():
            flat = self.features(torch.zeros(1, 3, frames, size, size)).numel()
        self.classifier = nn.Sequential(
            nn.Linear(flat, fc), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(fc, fc), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(fc, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        return self.classifier(torch.flatten(x, 1))


# --------------------------------------------------------------------------------------------
# U-Net
# --------------------------------------------------------------------------------------------
class DoubleConv(nn.Sequential):
    def __init__(self, cin: int, cout: int):
        super().__init__(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        )


class UNet(nn.Module):
    def __init__(self, in_channels: int = 3, num_classes: int = 21, base: int = 64, depth: int = 4):
        super().__init__()
        chs = [base * 2 ** i for i in range(depth + 1)]
        self.inc = DoubleConv(in_channels, chs[0])
        self.downs = nn.ModuleList([DoubleConv(chs[i], chs[i + 1]) for i in range(depth)])
        self.ups = nn.ModuleList([nn.ConvTranspose2d(chs[i + 1], chs[i], 2, stride=2)
                                  for i in reversed(range(depth))])
        self.up_convs = nn.ModuleList([DoubleConv(chs[i + 1], chs[i]) for i in reversed(range(depth))])
        self.outc = nn.Conv2d(chs[0], num_classes, 1)

    def forward(self, x):
        skips = [self.inc(x)]
        for d in self.downs:
            skips.append(d(F.max_pool2d(skips[-1], 2)))
        x = skips.pop()
        for up, conv in zip(self.ups, self.up_convs):
            x = conv(torch.cat([skips.pop(), up(x)], 1))
        return self.outc(x)


# --------------------------------------------------------------------------------------------
# small S3D (same block kinds as torchvision.models.video.S3D, narrow and shallow)
# --------------------------------------------------------------------------------------------
class SmallS3D(nn.Module):
    def __init__(self, num_classes: int = 5, size: int = 64, frames: int = 16):
        super().__init__()
        from torchvision.models.video.s3d import SepInceptionBlock3D, TemporalSeparableConv
        from torchvision.ops.misc import Conv3dNormActivation

        norm = partial(nn.BatchNorm3d, eps=0.001, momentum=0.001)
        self.features = nn.Sequential(
            TemporalSeparableConv(3, 8, 7, 2, 3, norm),
            nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
            Conv3dNormActivation(8, 8, kernel_size=1, stride=1, norm_layer=norm),
            TemporalSeparableConv(8, 16, 3, 1, 1, norm),
            nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
            SepInceptionBlock3D(16, 4, 4, 8, 2, 4, 4, norm),
            nn.MaxPool3d(kernel_size=(3, 3, 3), stride=(2, 2, 2), padding=(1, 1, 1)),
            SepInceptionBlock3D(20, 8, 8, 8, 4, 4, 4, norm),
            nn.MaxPool3d(kernel_size=(2, 2, 2), stride=(2, 2, 2), padding=(0, 0, 0)),
            SepInceptionBlock3D(24, 8, 8, 16, 4, 4, 4, norm),
        )
        with torch.no_grad():
            shp = self.features(torch.zeros(1, 3, frames, size, size)).shape
        self.avgpool = nn.AvgPool3d(kernel_size=(2, shp[3], shp[4]), stride=1)
        self.classifier = nn.Sequential(nn.Dropout(p=0.2), nn.Conv3d(32, num_classes, 1, 1, bias=True))

    def forward(self, x):
        x = self.classifier(self.avgpool(self.features(x)))
        return torch.mean(x, dim=(2, 3, 4))
