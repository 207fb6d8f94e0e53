"""HuBERT hidden states (GeneFace's audio features): 50 frames/s, 1024-d (hubert-large) or 768-d (base)."""

from __future__ import annotations

from torch import nn

from ..layers import VectorLift
from .base import AudioRepresentation
from .registry import register_representation


@register_representation("hubert")
class HubertRepresentation(AudioRepresentation):
    """Sequence ``(B, T, dim)`` at 50 frames/s (10 per window) from a transformers ``HubertModel``.

    ``model`` is a Hugging Face name or a local folder; ``layer`` is the hidden-state index (-1 = last).
    """

    defaults = {"dim": 1024, "model": "facebook/hubert-large-ls960-ft", "layer": -1}

    def check_options(self) -> None:
        if not isinstance(self.options["dim"], int) or self.options["dim"] < 1:
            raise ValueError(f"hubert representation: dim must be positive, got {self.options['dim']!r}")

    @property
    def rate(self) -> float:
        return 50.0

    @property
    def feature_dim(self) -> int:
        return self.options["dim"]

    def build_stem(self, channels: int, activation: str) -> nn.Module:
        return VectorLift(self.feature_dim, channels, height=16, activation=activation)

    def build_frontend(self) -> nn.Module:
        from ..audio.hubert import HubertFrontend

        return HubertFrontend(self.options["model"], layer=self.options["layer"], expected_dim=self.feature_dim)
