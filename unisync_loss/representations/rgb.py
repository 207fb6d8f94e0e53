"""RGB face crops: by default the lower half (3 x 48 x 96) of a 96 x 96 face, as Wav2Lip's expert sees it."""

from __future__ import annotations

import torch
from einops import rearrange
from einops.layers.torch import Rearrange
from torch import nn

from ..layers import image_stem
from ..validation import check_finite, describe
from .base import VisualRepresentation
from .registry import register_representation


@register_representation("rgb")
class RGBRepresentation(VisualRepresentation):
    """Sequence ``(B, T, 3, height, width)`` float RGB in [0, 1] at 25 fps.

    Wav2Lip's layout ``(B, 3, T, H, W)`` is accepted too (recognised when dim 2 is not 3 and dim 1 is).
    """

    defaults = {"height": 48, "width": 96}

    def check_options(self) -> None:
        for key in ("height", "width"):
            if not isinstance(self.options[key], int) or self.options[key] < 16:
                raise ValueError(f"rgb representation: {key} must be an integer >= 16, got {self.options[key]!r}")

    @property
    def frame_shape(self) -> tuple[int, ...]:
        return (3, self.options["height"], self.options["width"])

    def prepare(self, x: torch.Tensor, name: str) -> torch.Tensor:
        if isinstance(x, torch.Tensor) and x.ndim == 5 and x.shape[2] != 3 and x.shape[1] == 3:
            x = rearrange(x, "b c t h w -> b t c h w")
        return super().prepare(x, name)

    def check_values(self, x: torch.Tensor, name: str) -> None:
        check_finite(x, name)
        lo, hi = float(x.detach().min()), float(x.detach().max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(f"{name}: expected RGB values in [0, 1], got range [{lo:.3g}, {hi:.3g}] in {describe(x)}")

    def build_stem(self, channels: int, activation: str) -> nn.Module:
        return nn.Sequential(
            *self.centring(), Rearrange("n t c h w -> n (t c) h w"), image_stem(self.window * 3, channels, activation)
        )
