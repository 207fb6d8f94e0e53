"""Face parsing from a user-supplied BiSeNet weights file (facexlib's ``parsing_bisenet.pth`` or face-parsing.PyTorch's
``79999_iter.pth``): crops -> CelebAMask-HQ label maps (19 classes, ``representations.parsing.CELEBAMASK_HQ_CLASSES``).

The network is BiSeNet with a ResNet-18 context path and the ResNet's 1/8 features as spatial path; module names
follow those checkpoints' state-dict keys (``cp.resnet.*``, ``cp.arm16.*``, ``ffm.*``, ``conv_out.*``), so they load
strictly. Input: RGB resized to ``input_size`` (512 as trained), ImageNet mean/std normalisation; output: argmax of
the main head, resized back to the crop with nearest neighbour. Nothing is downloaded: pass the file's path.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..validation import describe

NUM_CLASSES = 19
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class ConvBNReLU(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int = 3):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if cin != cout or stride != 1:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        branch = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(branch + (x if self.downsample is None else self.downsample(x)))


class ResNet18Features(nn.Module):
    """ResNet-18 trunk returning the 1/8, 1/16 and 1/32 feature maps (128, 256, 512 channels)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        widths = [(64, 64, 1), (64, 128, 2), (128, 256, 2), (256, 512, 2)]
        for i, (cin, cout, stride) in enumerate(widths, 1):
            setattr(self, f"layer{i}", nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout)))

    def forward(self, x):
        x = self.layer1(self.maxpool(F.relu(self.bn1(self.conv1(x)))))
        f8 = self.layer2(x)
        f16 = self.layer3(f8)
        return f8, f16, self.layer4(f16)


class AttentionRefinement(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = ConvBNReLU(cin, cout)
        self.conv_atten = nn.Conv2d(cout, cout, 1, bias=False)
        self.bn_atten = nn.BatchNorm2d(cout)

    def forward(self, x):
        feat = self.conv(x)
        return feat * torch.sigmoid(self.bn_atten(self.conv_atten(feat.mean(dim=(2, 3), keepdim=True))))


class ContextPath(nn.Module):
    def __init__(self):
        super().__init__()
        self.resnet = ResNet18Features()
        self.arm16, self.arm32 = AttentionRefinement(256, 128), AttentionRefinement(512, 128)
        self.conv_head32, self.conv_head16 = ConvBNReLU(128, 128), ConvBNReLU(128, 128)
        self.conv_avg = ConvBNReLU(512, 128, kernel=1)

    def forward(self, x):
        f8, f16, f32 = self.resnet(x)
        context = self.conv_avg(f32.mean(dim=(2, 3), keepdim=True))
        up32 = self.conv_head32(F.interpolate(self.arm32(f32) + context, f16.shape[2:], mode="nearest"))
        up16 = self.conv_head16(F.interpolate(self.arm16(f16) + up32, f8.shape[2:], mode="nearest"))
        return f8, up16, up32


class FeatureFusion(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.convblk = ConvBNReLU(cin, cout, kernel=1)
        self.conv1 = nn.Conv2d(cout, cout // 4, 1, bias=False)
        self.conv2 = nn.Conv2d(cout // 4, cout, 1, bias=False)

    def forward(self, spatial, context):
        feat = self.convblk(torch.cat([spatial, context], dim=1))
        attention = torch.sigmoid(self.conv2(F.relu(self.conv1(feat.mean(dim=(2, 3), keepdim=True)))))
        return feat * attention + feat


class OutputHead(nn.Module):
    def __init__(self, cin: int, mid: int, classes: int):
        super().__init__()
        self.conv = ConvBNReLU(cin, mid)
        self.conv_out = nn.Conv2d(mid, classes, 1, bias=False)

    def forward(self, x):
        return self.conv_out(self.conv(x))


class BiSeNet(nn.Module):
    """``(N, 3, H, W)`` normalised RGB -> ``(N, classes, H, W)`` logits of the main head (auxiliary heads kept for
    strict loading of trained checkpoints)."""

    def __init__(self, classes: int = NUM_CLASSES):
        super().__init__()
        self.cp = ContextPath()
        self.ffm = FeatureFusion(256, 256)
        self.conv_out = OutputHead(256, 256, classes)
        self.conv_out16 = OutputHead(128, 64, classes)
        self.conv_out32 = OutputHead(128, 64, classes)

    def forward(self, x):
        f8, context8, _ = self.cp(x)
        logits = self.conv_out(self.ffm(f8, context8))
        return F.interpolate(logits, x.shape[2:], mode="bilinear", align_corners=True)


class FaceParser:
    """Label maps for face crops from a BiSeNet weights file: ``parser(crops uint8 (N, S, S, 3)) -> uint8 (N, S, S)``."""

    def __init__(self, weights: str | os.PathLike, device: str = "cpu", input_size: int = 512, batch_size: int = 8):
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(f"weights: no such BiSeNet weights file {str(path)!r}")
        if isinstance(input_size, bool) or not isinstance(input_size, int) or input_size < 32 or input_size % 32:
            raise ValueError(f"input_size: expected a multiple of 32 (512 as trained), got {input_size!r}")
        state = torch.load(path, map_location="cpu", weights_only=True)
        state = state.get("state_dict", state) if isinstance(state, dict) else state
        if not isinstance(state, dict):
            raise ValueError(f"weights: {path.name} holds {type(state).__name__}, expected a state dict")
        self.model = BiSeNet()
        missing, unexpected = self.model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(f"weights: {path.name} is not a BiSeNet face-parsing checkpoint "
                             f"(missing {list(missing)[:4]}, unexpected {list(unexpected)[:4]})")
        self.model.eval().to(device)
        self.device, self.input_size, self.batch_size = device, input_size, batch_size
        self.mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)

    @torch.no_grad()
    def __call__(self, crops: np.ndarray) -> np.ndarray:
        if not isinstance(crops, np.ndarray) or crops.dtype != np.uint8 or crops.ndim != 4 or crops.shape[-1] != 3:
            raise ValueError(f"crops: expected uint8 (N, S, S, 3) RGB, got {describe(crops)}")
        height, width = crops.shape[1:3]
        labels = []
        for start in range(0, len(crops), self.batch_size):
            batch = torch.from_numpy(crops[start:start + self.batch_size]).to(self.device)
            x = batch.permute(0, 3, 1, 2).float().div(255)
            x = F.interpolate(x, (self.input_size, self.input_size), mode="bilinear", align_corners=False)
            logits = self.model((x - self.mean) / self.std)
            top = logits.argmax(1, keepdim=True).float()
            labels.append(F.interpolate(top, (height, width), mode="nearest")[:, 0].to(torch.uint8).cpu().numpy())
        return np.concatenate(labels) if labels else np.zeros((0, height, width), np.uint8)
