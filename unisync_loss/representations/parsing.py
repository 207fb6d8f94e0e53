"""Face-parsing maps: per-pixel classes in the 19-class CelebAMask-HQ / BiSeNet label order."""

from __future__ import annotations

import torch
from einops.layers.torch import Rearrange
from torch import nn

from ..layers import image_stem
from ..validation import check_finite, check_rank, describe
from .base import VisualRepresentation
from .registry import register_representation

#: Label order of CelebAMask-HQ as used by BiSeNet face-parsing models (index = class id).
CELEBAMASK_HQ_CLASSES = (
    "background", "skin", "l_brow", "r_brow", "l_eye", "r_eye", "eye_g", "l_ear", "r_ear", "ear_r",
    "nose", "mouth", "u_lip", "l_lip", "neck", "neck_l", "cloth", "hair", "hat",
)


@register_representation("parsing")
class ParsingRepresentation(VisualRepresentation):
    """Sequence of class-index maps ``(B, T, H, W)`` (integer) or one-hot/probabilities ``(B, T, C, H, W)``.

    Prepared as float one-hot ``(B, T, num_classes, height, width)``; defaults: 19 classes, 48 x 96 (lower face).
    """

    defaults = {"num_classes": 19, "height": 48, "width": 96}

    def check_options(self) -> None:
        for key, low in (("num_classes", 2), ("height", 16), ("width", 16)):
            if not isinstance(self.options[key], int) or self.options[key] < low:
                raise ValueError(f"parsing representation: {key} must be an integer >= {low}, got {self.options[key]!r}")

    @property
    def frame_shape(self) -> tuple[int, ...]:
        return (self.options["num_classes"], self.options["height"], self.options["width"])

    def prepare(self, x: torch.Tensor, name: str) -> torch.Tensor:
        c, h, w = self.frame_shape
        check_rank(x, name, (4, 5), f"(B, T, {h}, {w}) class indices or (B, T, {c}, {h}, {w}) one-hot")
        if x.ndim == 4:
            if x.is_floating_point() or x.dtype == torch.bool:
                raise ValueError(f"{name}: class-index maps (B, T, H, W) must be integers, got {describe(x)}")
            if tuple(x.shape[2:]) != (h, w):
                raise ValueError(f"{name}: expected class-index maps (B, T, {h}, {w}), got {describe(x)}")
            if x.device.type == "cpu" and x.numel() and (int(x.min()) < 0 or int(x.max()) >= c):
                raise ValueError(f"{name}: expected class indices in [0, {c - 1}], got [{int(x.min())}, {int(x.max())}]")
            one_hot = torch.zeros(*x.shape[:2], c, h, w, device=x.device, dtype=torch.float32)
            return one_hot.scatter_(2, x.long().unsqueeze(2), 1.0)
        return super().prepare(x, name)

    def check_values(self, x: torch.Tensor, name: str) -> None:
        check_finite(x, name)
        lo, hi = float(x.detach().min()), float(x.detach().max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(f"{name}: expected one-hot or probabilities in [0, 1], got range [{lo:.3g}, {hi:.3g}]")

    def build_stem(self, channels: int, activation: str) -> nn.Module:
        return nn.Sequential(
            *self.centring(),
            Rearrange("n t c h w -> n (t c) h w"),
            image_stem(self.window * self.options["num_classes"], channels, activation),
        )
