"""A compact audio-to-motion model: 50 frames/s audio features -> per-video-frame facial motion at 25 fps.

``(B, 2T, F)`` features -> 1-D convolutions (dilated residual blocks, about +-0.5 s of context) -> a stride-2 conv
to the video rate -> ``(B, T, *motion_shape)``: 64 3DMM expression coefficients ``(64,)`` or 68 3D landmarks
``(68, 3)``. The output is de-standardised with the training set's per-dimension mean and std (buffers), so it is in
the data's units.
"""

from __future__ import annotations

import math

import torch
from einops import rearrange
from torch import nn

from unisync_loss.validation import check_floating, check_rank, describe

from .conventions import HUBERT_PER_VIDEO_FRAME


class ResidualConv(nn.Module):
    """``(B, C, T) -> (B, C, T)``: dilated conv + group norm + GELU, added to the input."""

    def __init__(self, channels: int, dilation: int):
        super().__init__()
        self.net = nn.Sequential(nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation),
                                 nn.GroupNorm(8, channels), nn.GELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


class AudioToMotion(nn.Module):
    """``forward(features (B, 2T, audio_dim)) -> motion (B, T, *motion_shape)``.

    Args:
        audio_dim: feature size (80 for "mel50", 1024 for HuBERT-large).
        motion_shape: ``(64,)`` for expression coefficients or ``(68, 3)`` for 3D landmarks.
        hidden: channels of the convolutions.
        mean, std: per-dimension statistics of the targets, ``motion_shape`` each (identity when None).
    """

    def __init__(self, audio_dim: int, motion_shape: tuple[int, ...], hidden: int = 128,
                 mean: torch.Tensor | None = None, std: torch.Tensor | None = None):
        super().__init__()
        self.audio_dim, self.motion_shape = audio_dim, tuple(motion_shape)
        out_dim = math.prod(self.motion_shape)
        self.encoder = nn.Sequential(nn.Conv1d(audio_dim, hidden, 3, padding=1), nn.GELU(),
                                     *(ResidualConv(hidden, d) for d in (1, 2, 4, 8)))
        self.downsample = nn.Conv1d(hidden, hidden, 4, stride=HUBERT_PER_VIDEO_FRAME, padding=1)
        self.decoder = nn.Sequential(*(ResidualConv(hidden, d) for d in (1, 2, 4)), nn.Conv1d(hidden, out_dim, 1))
        self.register_buffer("mean", torch.zeros(out_dim) if mean is None else mean.reshape(out_dim).float())
        self.register_buffer("std", torch.ones(out_dim) if std is None else std.reshape(out_dim).float())

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        check_rank(features, "features", (3,), f"(B, 2T, {self.audio_dim})")
        check_floating(features, "features")
        if features.shape[2] != self.audio_dim or features.shape[1] % HUBERT_PER_VIDEO_FRAME:
            raise ValueError(f"features: expected (B, 2T, {self.audio_dim}) at 50 frames/s (an even length), "
                             f"got {describe(features)}")
        x = self.encoder(rearrange(features, "b t f -> b f t"))
        y = self.decoder(self.downsample(x))  # (B, out_dim, T)
        y = rearrange(y, "b d t -> b t d") * self.std + self.mean
        return y.reshape(*y.shape[:2], *self.motion_shape)
