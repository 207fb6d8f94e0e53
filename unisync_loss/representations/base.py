"""What every input representation must say about itself.

A representation is a spec (per-frame shape, dtype and range, frame rate, frames per 0.2 s window) plus the stem that
turns one window into a 2D feature map for the shared extraction layers of the expert. Subclasses live one per
module in this package and are registered by name in :mod:`unisync_loss.representations.registry`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import torch
from torch import nn

from ..validation import check_finite, check_floating, check_rank, describe

#: Length of one sync window in seconds (5 video frames at 25 fps).
WINDOW_SECONDS = 0.2
#: Video frame rate every visual representation is sampled at.
VIDEO_FPS = 25.0
#: Waveform sample rate of every audio frontend, in Hz.
SAMPLE_RATE = 16000


class Representation(ABC):
    """Spec of one representation, configured by keyword options (stored in checkpoints' ``config.json``).

    Sequences are time-major: ``(B, T, *frame_shape)``. A window is ``(N, window, *frame_shape)``.
    """

    name: ClassVar[str]
    modality: ClassVar[str]  # "audio" or "visual"
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, **options: Any) -> None:
        defaults = self.option_defaults()
        unknown = sorted(set(options) - set(defaults))
        if unknown:
            raise ValueError(
                f"{self.name} representation: unknown options {unknown}; expected some of {sorted(defaults)}"
            )
        self.options = {**defaults, **options}
        self.check_options()

    @classmethod
    def option_defaults(cls) -> dict[str, Any]:
        """Every option this representation takes, with its default."""
        return dict(cls.defaults)

    # ----------------------------------------------------------------------------------------------- the spec
    @property
    @abstractmethod
    def rate(self) -> float:
        """Frames per second of the sequence (video fps, or audio feature frames per second)."""

    @property
    def window(self) -> int:
        """Frames in one 0.2 s window."""
        return round(WINDOW_SECONDS * self.rate)

    @property
    @abstractmethod
    def frame_shape(self) -> tuple[int, ...]:
        """Shape of one frame after :meth:`prepare`."""

    @property
    def layout(self) -> str:
        """Human-readable expected sequence layout, used in error messages."""
        return "(B, T, " + ", ".join(str(d) for d in self.frame_shape) + ")"

    def check_options(self) -> None:
        """Validate ``self.options``; raise ``ValueError`` naming the bad option."""

    def config(self) -> dict[str, Any]:
        """JSON-serialisable description: ``{"name": ..., **options}``."""
        return {"name": self.name, **self.options}

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({opts})"

    # ----------------------------------------------------------------------------------------------- inputs
    def prepare(self, x: torch.Tensor, name: str) -> torch.Tensor:
        """Validate a sequence and bring it to ``(B, T, *frame_shape)`` floating point.

        Checks only shapes and dtypes (never values), so it never synchronises with the device.
        """
        check_rank(x, name, (1 + 1 + len(self.frame_shape),), self.layout)
        check_floating(x, name)
        if tuple(x.shape[2:]) != self.frame_shape:
            raise ValueError(f"{name}: expected shape {self.layout} for {self!r}, got {describe(x)}")
        return x

    def check_values(self, x: torch.Tensor, name: str) -> None:
        """Value checks (range, finiteness) on a prepared sequence. Reads the tensor: may synchronise."""
        check_finite(x, name)

    # ----------------------------------------------------------------------------------------------- model
    @abstractmethod
    def build_stem(self, channels: int, activation: str) -> nn.Module:
        """Module mapping a window ``(N, window, *frame_shape)`` to a feature map ``(N, channels, h, w)``."""


class AudioRepresentation(Representation):
    """An audio feature sequence computed from a 16 kHz waveform."""

    modality = "audio"

    @property
    @abstractmethod
    def feature_dim(self) -> int:
        """Features per frame (the F of ``(B, T, F)``)."""

    @property
    def frame_shape(self) -> tuple[int, ...]:
        return (self.feature_dim,)

    @abstractmethod
    def build_frontend(self) -> nn.Module:
        """Module mapping a waveform ``(B, S)`` float at 16 kHz to features ``(B, T, F)`` at :attr:`rate`."""


class VisualRepresentation(Representation):
    """A per-video-frame visual sequence at 25 fps.

    Option shared by every visual representation: ``temporal_centring`` (default false): the stem subtracts each
    window's mean frame (:class:`~unisync_loss.layers.TemporalCentring`; landmarks after their per-window
    normalisation), so that only what moves within the 0.2 s window reaches the network. Inputs are unchanged.
    """

    modality = "visual"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if not isinstance(self.options["temporal_centring"], bool):
            raise ValueError(f"{self.name} representation: temporal_centring must be true or false, got "
                             f"{self.options['temporal_centring']!r}")

    @classmethod
    def option_defaults(cls) -> dict[str, Any]:
        return {**cls.defaults, "temporal_centring": False}

    def centring(self) -> list[nn.Module]:
        """``[TemporalCentring()]`` when the option is on, else ``[]`` (to splice into a stem)."""
        from ..layers import TemporalCentring

        return [TemporalCentring()] if self.options["temporal_centring"] else []

    @property
    def rate(self) -> float:
        return VIDEO_FPS

