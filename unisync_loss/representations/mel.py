"""Log-mel spectrogram frames (Wav2Lip's audio features): 80 frames/s, 80 bins, values in [-4, 4]."""

from __future__ import annotations

import torch
from einops import rearrange
from einops.layers.torch import Rearrange
from torch import nn

from ..layers import ConvBlock
from ..validation import describe
from .base import SAMPLE_RATE, AudioRepresentation
from .registry import register_representation


@register_representation("mel")
class MelRepresentation(AudioRepresentation):
    """Sequence ``(B, T, n_mels)`` at ``sample_rate / hop_length`` frames/s (80 by default; 16 per window).

    Wav2Lip's own layout ``(B, 1, n_mels, T)`` is accepted too.
    """

    defaults = {
        "n_mels": 80, "n_fft": 800, "hop_length": 200, "win_length": 800, "fmin": 55.0, "fmax": 7600.0,
        "preemphasis": 0.97, "ref_level_db": 20.0, "min_level_db": -100.0, "max_abs_value": 4.0,
    }

    @property
    def rate(self) -> float:
        return SAMPLE_RATE / self.options["hop_length"]

    @property
    def feature_dim(self) -> int:
        return self.options["n_mels"]

    def prepare(self, x: torch.Tensor, name: str) -> torch.Tensor:
        if isinstance(x, torch.Tensor) and x.ndim == 4:
            if x.shape[1] != 1 or x.shape[2] != self.feature_dim:
                raise ValueError(f"{name}: expected Wav2Lip layout (B, 1, {self.feature_dim}, T), got {describe(x)}")
            x = rearrange(x, "b 1 m t -> b t m")
        elif isinstance(x, torch.Tensor) and x.ndim == 3 and x.shape[-1] != self.feature_dim:
            hint = " (it looks like (B, n_mels, T): transpose it)" if x.shape[1] == self.feature_dim else ""
            raise ValueError(f"{name}: expected shape {self.layout}{hint}, got {describe(x)}")
        return super().prepare(x, name)

    def build_stem(self, channels: int, activation: str) -> nn.Module:
        return nn.Sequential(
            Rearrange("n t m -> n 1 m t"),
            ConvBlock(1, 32, 3, activation=activation),
            ConvBlock(32, 32, 3, residual=True, activation=activation),
            ConvBlock(32, 64, 3, stride=(2, 1), activation=activation),
            ConvBlock(64, 64, 3, residual=True, activation=activation),
            ConvBlock(64, channels, 3, stride=2, activation=activation),
        )

    def build_frontend(self) -> nn.Module:
        from ..audio.mel import MelFrontend

        return MelFrontend(sample_rate=SAMPLE_RATE, **self.options)
