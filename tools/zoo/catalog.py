"""Static description of the dnnf model zoo (no torch import; used by export_zoo.py and manifest.py).

One entry per DNNFusion evaluation model (PLDI'21 Table 5/6, see docs/dnnfusion.md section 7.2).
`full` is exported to ${DNNF_ZOO:-~/.cache/dnnf/zoo}/<name>.onnx (random weights, not committed),
`small` to tests/models/zoo_small/<name>_small.onnx (committed, deterministic, seed SEED).
"""
from __future__ import annotations

OPSET = 17
SEED = 0

# name -> metadata. Keep the order of the paper's Table 5.
MODELS = {
    "efficientnet_b0": {
        "paper_name": "EfficientNet-B0",
        "family": "2D CNN",
        "paper_params": "5.3M",
        "full": {
            "source": "torchvision 0.20.1: torchvision.models.efficientnet_b0(weights=None)",
            "config": "1000 classes, input 1x3x224x224",
        },
        "small": {
            "source": "torchvision 0.20.1: torchvision.models.efficientnet.EfficientNet with "
                      "_efficientnet_conf('efficientnet_b0', width_mult=0.1, depth_mult=0.5)",
            "config": "10 classes, input 1x3x64x64",
        },
        "substitutions": [],
    },
    "vgg16": {
        "paper_name": "VGG-16",
        "family": "2D CNN",
        "paper_params": "138M",
        "full": {
            "source": "torchvision 0.20.1: torchvision.models.vgg16(weights=None)",
            "config": "1000 classes, input 1x3x224x224",
        },
        "small": {
            "source": "torchvision 0.20.1: torchvision.models.vgg.VGG(make_layers(cfg 'D' / 16)), "
                      "avgpool -> AdaptiveAvgPool2d(2), classifier 128-64-64-10",
            "config": "13 convs with 4..32 channels, input 1x3x64x64",
        },
        "substitutions": [],
    },
    "mobilenetv1_ssd": {
        "paper_name": "MobileNetV1-SSD",
        "family": "2D CNN",
        "paper_params": "9.5M",
        "full": {
            "source": "own code: tools/zoo/zoo_models.py MobileNetV1SSD (the 'mb1-ssd' layout of "
                      "pytorch-ssd: MobileNetV1 base, sources after conv11/conv13, 4 extra layers, "
                      "3x3 conv heads, 6 priors/cell, 3000 priors)",
            "config": "21 classes (VOC; gives the paper's 9.5M params), input 1x3x300x300",
        },
        "small": {
            "source": "own code: MobileNetV1SSD(width=1/16)",
            "config": "5 classes, input 1x3x128x128",
        },
        "substitutions": [
            "Written in plain torch (torchvision has no MobileNetV1-SSD); the graph ends with softmax "
            "scores and decoded corner-form boxes, NMS is not part of the graph (as in pytorch-ssd).",
        ],
    },
    "yolov4": {
        "paper_name": "YOLO-V4",
        "family": "2D CNN",
        "paper_params": "64M",
        "full": {
            "source": "own code: tools/zoo/zoo_models.py YOLOv4 (CSPDarknet53 + SPP + PANet + 3 YOLO "
                      "heads, Mish/leaky-0.1 as in yolov4.cfg, scale_x_y 1.2/1.1/1.05)",
            "config": "80 classes (COCO), input 1x3x416x416, 10647 boxes",
        },
        "small": {
            "source": "own code: YOLOv4(width=1/32, depths=(1,1,1,1))",
            "config": "3 classes, input 1x3x128x128",
        },
        "substitutions": [
            "Written in plain torch (no pretrained hub model); YOLO box decoding (sigmoid/exp/grid) is "
            "in the graph, NMS is not. Mish exports as Softplus+Tanh+Mul (opset 17 has no Mish op).",
        ],
    },
    "c3d": {
        "paper_name": "C3D",
        "family": "3D CNN",
        "paper_params": "78M",
        "full": {
            "source": "own code: tools/zoo/zoo_models.py C3D (Tran et al. 2015: 8 Conv3d 3x3x3, "
                      "5 MaxPool3d, fc6/fc7 4096, fc8)",
            "config": "101 classes (UCF-101), input 1x3x16x112x112",
        },
        "small": {
            "source": "own code: C3D(width=1/16, fc=32)",
            "config": "5 classes, input 1x3x16x32x32",
        },
        "substitutions": ["Written in plain torch (not torchvision r3d_18): the real C3D architecture."],
    },
    "s3d": {
        "paper_name": "S3D",
        "family": "3D CNN",
        "paper_params": "8.0M",
        "full": {
            "source": "torchvision 0.20.1: torchvision.models.video.s3d(weights=None, num_classes=101)",
            "config": "101 classes (UCF-101), input 1x3x16x224x224",
        },
        "small": {
            "source": "own code: tools/zoo/zoo_models.py SmallS3D built from torchvision's "
                      "TemporalSeparableConv / SepInceptionBlock3D / Conv3dNormActivation",
            "config": "3 inception blocks, 5 classes, input 1x3x16x64x64",
        },
        "substitutions": [
            "Input is 16x224x224, not 112x112: torchvision's S3D ends with AvgPool3d(2,7,7) and "
            "needs 224x224 frames (and >= 16 frames).",
        ],
    },
    "unet": {
        "paper_name": "U-Net",
        "family": "2D CNN",
        "paper_params": "2.1M",
        "full": {
            "source": "own code: tools/zoo/zoo_models.py UNet (Ronneberger et al. 2015, base width 64, "
                      "depth 4, ConvTranspose2d up-sampling, BatchNorm after each conv)",
            "config": "21 classes (VOC), input 1x3x256x256",
        },
        "small": {
            "source": "own code: UNet(base=4)",
            "config": "3 classes, input 1x3x64x64",
        },
        "substitutions": [
            "Classic U-Net with padding=1 convs (output size = input size, no cropping) and "
            "BatchNorm (folded into Conv at export). It has ~31M params; the paper's U-Net has 2.1M, "
            "so the paper used a narrower variant that it does not specify.",
        ],
    },
    "faster_rcnn": {
        "paper_name": "Faster R-CNN",
        "family": "R-CNN",
        "paper_params": "41M",
        "full": {
            "source": "torchvision 0.20.1: torchvision.models.detection.fasterrcnn_resnet50_fpn("
                      "weights=None, weights_backbone=None, min_size=512, max_size=512)",
            "config": "91 classes (COCO), input image 3x512x512 (no batch dim), full post-processing",
        },
        "small": {
            "source": "torchvision 0.20.1: torchvision.models.detection.FasterRCNN with a tiny "
                      "Bottleneck ResNet (1 block/stage, 16..128 ch) + FPN(16), TwoMLPHead(32)",
            "config": "5 classes, input image 3x128x128, anchors 8..128, 100/50 RPN proposals",
        },
        "substitutions": [
            "Whole torchvision model incl. transform (normalize+resize), RPN, RoIAlign, box head and "
            "post-processing (TopK, NonMaxSuppression inside If); the number of detections (first "
            "output dim) depends on the data.",
        ],
    },
    "mask_rcnn": {
        "paper_name": "Mask R-CNN",
        "family": "R-CNN",
        "paper_params": "44M",
        "full": {
            "source": "torchvision 0.20.1: torchvision.models.detection.maskrcnn_resnet50_fpn("
                      "weights=None, weights_backbone=None, min_size=512, max_size=512)",
            "config": "91 classes (COCO), input image 3x512x512 (no batch dim), full post-processing",
        },
        "small": {
            "source": "torchvision 0.20.1: torchvision.models.detection.MaskRCNN with the same tiny "
                      "backbone as faster_rcnn_small, MaskRCNNHeads(16, [16]*4)",
            "config": "5 classes, input image 3x128x128",
        },
        "substitutions": [
            "Whole torchvision model incl. post-processing; mask pasting is exported by torchvision's "
            "ONNX path as a Loop. The number of detections depends on the data.",
        ],
    },
    "tinybert": {
        "paper_name": "TinyBERT",
        "family": "Transformer",
        "paper_params": "15M",
        "full": {
            "source": "transformers 4.46.3: BertModel(BertConfig(num_hidden_layers=4, hidden_size=312, "
                      "num_attention_heads=12, intermediate_size=1200)), attn_implementation='eager'",
            "config": "vocab 30522, seq 128, batch 1; outputs last_hidden_state, pooler_output",
        },
        "small": {
            "source": "transformers 4.46.3: BertModel(BertConfig(vocab 512, hidden 32, 4 heads, "
                      "2 layers, intermediate 64, max_pos 64)), eager attention",
            "config": "seq 16, batch 1",
        },
        "substitutions": [],
    },
    "distilbert": {
        "paper_name": "DistilBERT",
        "family": "Transformer",
        "paper_params": "66M",
        "full": {
            "source": "transformers 4.46.3: DistilBertModel(DistilBertConfig()) (distilbert-base), "
                      "attn_implementation='eager'",
            "config": "6 layers, dim 768, 12 heads, seq 128; output last_hidden_state",
        },
        "small": {
            "source": "transformers 4.46.3: DistilBertModel(DistilBertConfig(vocab 512, dim 64, "
                      "2 heads, 2 layers, hidden_dim 128, max_pos 64)), eager attention",
            "config": "seq 16, batch 1",
        },
        "substitutions": [],
    },
    "albert_base": {
        "paper_name": "ALBERT",
        "family": "Transformer",
        "paper_params": "83M",
        "full": {
            "source": "transformers 4.46.3: AlbertModel(AlbertConfig(albert-base-v2 sizes: vocab 30000, "
                      "embedding 128, hidden 768, 12 layers, 12 heads, intermediate 3072, gelu_new)), "
                      "attn_implementation='eager'",
            "config": "seq 128; outputs last_hidden_state, pooler_output",
        },
        "small": {
            "source": "transformers 4.46.3: AlbertModel(AlbertConfig(vocab 512, embedding 32, hidden 64, "
                      "2 heads, 2 layers, intermediate 128, max_pos 64)), eager attention",
            "config": "seq 16, batch 1",
        },
        "substitutions": [
            "ALBERT-base shares one layer's weights across its 12 layers, so the file holds ~12M "
            "parameters; the paper's 83M presumably counts the unshared per-layer use.",
        ],
    },
    "bert_base": {
        "paper_name": "BERT-base",
        "family": "Transformer",
        "paper_params": "108M",
        "full": {
            "source": "transformers 4.46.3: BertModel(BertConfig()) (bert-base-uncased sizes), "
                      "attn_implementation='eager'",
            "config": "12 layers, hidden 768, 12 heads, seq 128; outputs last_hidden_state, pooler_output",
        },
        "small": {
            "source": "transformers 4.46.3: BertModel(BertConfig(vocab 512, hidden 64, 2 heads, 2 layers, "
                      "intermediate 128, max_pos 64)), eager attention",
            "config": "seq 16, batch 1",
        },
        "substitutions": [],
    },
    "mobilebert": {
        "paper_name": "MobileBERT",
        "family": "Transformer",
        "paper_params": "25M",
        "full": {
            "source": "transformers 4.46.3: MobileBertModel(MobileBertConfig()) (mobilebert-uncased "
                      "sizes: 24 layers, hidden 512, bottleneck 128, 4 FFNs, NoNorm), "
                      "attn_implementation='eager'",
            "config": "seq 128; outputs last_hidden_state, pooler_output",
        },
        "small": {
            "source": "transformers 4.46.3: MobileBertModel(MobileBertConfig(vocab 512, hidden 64, "
                      "embedding 32, bottleneck 32, true_hidden 32, 2 heads, 2 layers, intermediate 64, "
                      "4 FFNs, max_pos 64)), eager attention",
            "config": "seq 16, batch 1",
        },
        "substitutions": [],
    },
    "gpt2": {
        "paper_name": "GPT-2",
        "family": "Transformer",
        "paper_params": "125M",
        "full": {
            "source": "transformers 4.46.3: GPT2LMHeadModel(GPT2Config(use_cache=False)) (gpt2 small, "
                      "124M), attn_implementation='eager'",
            "config": "12 layers, n_embd 768, 12 heads, seq 128; output logits [1,128,50257]",
        },
        "small": {
            "source": "transformers 4.46.3: GPT2LMHeadModel(GPT2Config(vocab 512, n_embd 64, 2 heads, "
                      "2 layers, n_positions 64, use_cache=False)), eager attention",
            "config": "seq 16, batch 1",
        },
        "substitutions": [
            "The LM head is tied to the token embedding; the exporter stores it as a second "
            "(transposed) initializer, so the file counts ~163M parameters for GPT-2's 124M.",
        ],
    },
}

NAMES = list(MODELS)
