"""Facial landmarks: K points x 2 or 3 coordinates per frame (68 iBUG points by default)."""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn

from ..layers import VectorLift
from .base import VisualRepresentation
from .registry import register_representation

class NormalizeLandmarks(nn.Module):
    """Remove position and scale: centre each frame on its centroid and divide the window by its RMS radius.

    ``(N, T, K, D) -> (N, T, K * D)``. Shape of the motion (mouth opening relative to face size) is kept.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        centred = x - x.mean(dim=2, keepdim=True)
        scale = centred.pow(2).sum(dim=-1).mean(dim=(1, 2), keepdim=True).sqrt().unsqueeze(-1)
        return rearrange(centred / (scale + 1e-6), "n t k d -> n t (k d)")


@register_representation("landmarks")
class LandmarksRepresentation(VisualRepresentation):
    """Sequence ``(B, T, num_points, dims)`` float coordinates (any unit: pixels or normalised) at 25 fps.

    Layouts in use: 68 (iBUG), 468 (MediaPipe face mesh), 20 (mouth only, iBUG 48:68).
    """

    defaults = {"num_points": 68, "dims": 2}

    def check_options(self) -> None:
        if self.options["dims"] not in (2, 3):
            raise ValueError(f"landmarks representation: dims must be 2 or 3, got {self.options['dims']!r}")
        if not isinstance(self.options["num_points"], int) or self.options["num_points"] < 3:
            raise ValueError(f"landmarks representation: num_points must be an integer >= 3, got {self.options['num_points']!r}")

    @property
    def frame_shape(self) -> tuple[int, ...]:
        return (self.options["num_points"], self.options["dims"])

    def build_stem(self, channels: int, activation: str) -> nn.Module:
        k, d = self.frame_shape
        return nn.Sequential(NormalizeLandmarks(), *self.centring(),
                             VectorLift(k * d, channels, height=16, activation=activation))
