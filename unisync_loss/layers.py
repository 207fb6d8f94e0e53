"""Building blocks shared by the representation stems and the expert's extraction layers."""

from __future__ import annotations

from einops.layers.torch import Rearrange
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "gelu": nn.GELU, "silu": nn.SiLU}


def make_activation(name: str) -> nn.Module:
    """Activation module by name (one of :data:`ACTIVATIONS`)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]()


class ConvBlock(nn.Module):
    """2D conv + batch norm + activation, with an optional identity residual.

    ``(N, C_in, H, W) -> (N, C_out, H', W')``. The residual needs ``C_in == C_out`` and stride 1.
    """

    def __init__(self, c_in, c_out, kernel=3, stride=1, padding=None, residual=False, activation="relu"):
        super().__init__()
        if residual and (c_in != c_out or stride not in (1, (1, 1))):
            raise ValueError(f"ConvBlock: a residual needs c_in == c_out and stride 1, got {c_in}->{c_out}, {stride}")
        padding = kernel // 2 if padding is None else padding
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False)
        self.norm = nn.BatchNorm2d(c_out)
        self.act = make_activation(activation)
        self.residual = residual

    def forward(self, x):
        y = self.norm(self.conv(x))
        return self.act(y + x if self.residual else y)


class VectorLift(nn.Module):
    """Lift a window of per-frame vectors to a 2D map: ``(N, T, F) -> (N, C, height, T)``.

    A linear layer maps each frame to ``C * height`` values; frames become the map's width.
    """

    def __init__(self, in_features: int, channels: int, height: int = 16, activation: str = "relu"):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, channels * height),
            Rearrange("n t (c h) -> n c h t", c=channels, h=height),
            nn.BatchNorm2d(channels),
            make_activation(activation),
            ConvBlock(channels, channels, 3, residual=True, activation=activation),
        )

    def forward(self, x):
        return self.net(x)


class TemporalCentring(nn.Module):
    """Subtract the window's mean frame: ``(N, T, ...) -> (N, T, ...)``, so that only what changes within the window
    (the moving mouth) remains and the face's identity and lighting, constant over 0.2 s, cancel out."""

    def forward(self, x):
        return x - x.mean(dim=1, keepdim=True)


def image_stem(in_channels: int, channels: int, activation: str) -> nn.Sequential:
    """Reduce a stack of images ``(N, in_channels, H, W)`` to ``(N, channels, H/4, W/4)``."""
    mid = max(32, channels // 4)
    return nn.Sequential(
        ConvBlock(in_channels, mid, 7, activation=activation),
        ConvBlock(mid, 2 * mid, 5, stride=2, activation=activation),
        ConvBlock(2 * mid, 2 * mid, 3, residual=True, activation=activation),
        ConvBlock(2 * mid, channels, 3, stride=2, activation=activation),
        ConvBlock(channels, channels, 3, residual=True, activation=activation),
    )
