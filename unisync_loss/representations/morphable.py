"""3DMM expression coefficients (BFM, as Deep3DFaceRecon and GeneFace use): 64 per frame by default."""

from __future__ import annotations

from torch import nn

from ..layers import VectorLift
from .base import VisualRepresentation
from .registry import register_representation


@register_representation("3dmm")
class MorphableModelRepresentation(VisualRepresentation):
    """Sequence ``(B, T, num_coeffs)`` float expression coefficients at 25 fps."""

    defaults = {"num_coeffs": 64}

    def check_options(self) -> None:
        if not isinstance(self.options["num_coeffs"], int) or self.options["num_coeffs"] < 1:
            raise ValueError(f"3dmm representation: num_coeffs must be a positive integer, got {self.options['num_coeffs']!r}")

    @property
    def frame_shape(self) -> tuple[int, ...]:
        return (self.options["num_coeffs"],)

    def build_stem(self, channels: int, activation: str) -> nn.Module:
        return nn.Sequential(*self.centring(),
                             VectorLift(self.options["num_coeffs"], channels, height=16, activation=activation))
