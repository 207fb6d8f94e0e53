"""The UniSync expert: a dual-stream audio-visual sync model over any pair of representations.

Each stream: representation stem -> adaptive average pooling to ``pooled_size x pooled_size`` -> shared extraction
layers (conv + batch norm + activation, residual where shapes allow) -> ``embed_dim`` embedding. The sync
probability of a window is the cosine similarity of the ReLU'd embeddings, which lies in [0, 1].
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from einops.layers.torch import Rearrange
from safetensors.torch import load_file, save_file
from torch import nn

from .version import __version__
from .layers import ConvBlock
from .representations import SAMPLE_RATE, VIDEO_FPS, WINDOW_SECONDS, Representation, create_representation
from .validation import check_rank, check_same_batch, describe

WEIGHTS_NAME = "model.safetensors"


def extraction_layers(channels: int, embed_dim: int, residual: bool, activation: str) -> nn.Sequential:
    """Shared trunk: ``(N, channels, 8, 8) -> (N, embed_dim)`` (three halvings, then a 2x2 conv to 1x1)."""
    c1, c2, c3 = channels, 2 * channels, 4 * channels
    return nn.Sequential(
        ConvBlock(c1, c1, 3, residual=residual, activation=activation),
        ConvBlock(c1, c2, 3, stride=2, activation=activation),
        ConvBlock(c2, c2, 3, residual=residual, activation=activation),
        ConvBlock(c2, c3, 3, stride=2, activation=activation),
        ConvBlock(c3, c3, 3, residual=residual, activation=activation),
        ConvBlock(c3, embed_dim, 2, padding=0, activation=activation),
        nn.Conv2d(embed_dim, embed_dim, 1),
        Rearrange("n e 1 1 -> n e"),
    )


class Stream(nn.Module):
    """One modality's encoder: stem -> adaptive pooling -> extraction layers. ``(N, window, ...) -> (N, E)``."""

    def __init__(self, rep: Representation, channels: int, pooled_size: int, embed_dim: int, residual: bool,
                 activation: str):
        super().__init__()
        self.stem = rep.build_stem(channels, activation)
        self.pool = nn.AdaptiveAvgPool2d(pooled_size)
        self.extract = extraction_layers(channels, embed_dim, residual, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.extract(self.pool(self.stem(x)))


def sync_probability(audio_embedding: torch.Tensor, visual_embedding: torch.Tensor) -> torch.Tensor:
    """``cos(relu(a), relu(v))`` in [0, 1], computed in float32. ``(N, E), (N, E) -> (N,)``."""
    a = F.relu(audio_embedding.float())
    v = F.relu(visual_embedding.float())
    return F.cosine_similarity(a, v, dim=-1, eps=1e-8).clamp(0.0, 1.0)


def pairwise_sync_probability(audio_embedding: torch.Tensor, visual_embedding: torch.Tensor) -> torch.Tensor:
    """:func:`sync_probability` of every (visual i, audio j) pair, in float32: ``(Na, E), (Nv, E) -> (Nv, Na)``."""
    check_rank(audio_embedding, "audio_embedding", (2,), "(Na, E)")
    check_rank(visual_embedding, "visual_embedding", (2,), "(Nv, E)")
    if audio_embedding.shape[1] != visual_embedding.shape[1]:
        raise ValueError(f"audio_embedding, visual_embedding: expected one embedding size, got "
                         f"{describe(audio_embedding)} and {describe(visual_embedding)}")
    a = F.normalize(F.relu(audio_embedding.float()), dim=-1, eps=1e-8)
    v = F.normalize(F.relu(visual_embedding.float()), dim=-1, eps=1e-8)
    return (v @ a.T).clamp(0.0, 1.0)


class UniSyncExpert(nn.Module, ConfigMixin):
    """Dual-stream sync expert. ``forward(audio_window, visual_window) -> (a, v)`` embeddings ``(N, embed_dim)``.

    Args:
        audio: audio representation name or config dict, e.g. ``"mel"`` or ``{"name": "hubert", "dim": 768}``.
        visual: visual representation name or config dict, e.g. ``"rgb"`` or ``{"name": "landmarks", "dims": 3}``.
        channels: channels of the pooled feature map (the trunk widens to 2x and 4x).
        pooled_size: side of the map every stem is pooled to.
        embed_dim: embedding size of both streams.
        residual: identity residuals in the extraction layers.
        activation: "relu", "leaky_relu", "gelu" or "silu".
    """

    config_name = "config.json"

    @register_to_config
    def __init__(
        self,
        audio: str | dict[str, Any] = "mel",
        visual: str | dict[str, Any] = "rgb",
        channels: int = 128,
        pooled_size: int = 8,
        embed_dim: int = 512,
        residual: bool = True,
        activation: str = "relu",
        fps: float = VIDEO_FPS,
        sample_rate: int = SAMPLE_RATE,
        window_seconds: float = WINDOW_SECONDS,
        unisync_version: str = __version__,
    ):
        super().__init__()
        if pooled_size != 8:
            raise ValueError(f"pooled_size: the extraction layers expect 8, got {pooled_size!r}")
        if (fps, sample_rate, window_seconds) != (VIDEO_FPS, SAMPLE_RATE, WINDOW_SECONDS):
            raise ValueError(
                f"expert timing: expected fps={VIDEO_FPS}, sample_rate={SAMPLE_RATE}, window_seconds={WINDOW_SECONDS}, "
                f"got {fps}, {sample_rate}, {window_seconds}"
            )
        self.audio_rep = create_representation(audio, "audio")
        self.visual_rep = create_representation(visual, "visual")
        # Store the fully resolved options so that config.json records every feature setting.
        self.register_to_config(audio=self.audio_rep.config(), visual=self.visual_rep.config())
        args = (channels, pooled_size, embed_dim, residual, activation)
        self.audio_encoder = Stream(self.audio_rep, *args)
        self.visual_encoder = Stream(self.visual_rep, *args)

    @property
    def pair(self) -> str:
        """``"<audio>-<visual>"``, e.g. ``"mel-rgb"``."""
        return f"{self.audio_rep.name}-{self.visual_rep.name}"

    # ---------------------------------------------------------------------------------------------- forward
    def embed_audio(self, audio_window: torch.Tensor) -> torch.Tensor:
        """``(N, audio window, F)`` -> ``(N, embed_dim)``; mel also as Wav2Lip's ``(N, 1, 80, 16)``."""
        x = self.audio_rep.prepare(audio_window, "audio_window")
        self._check_window(x, self.audio_rep, "audio_window")
        return self.audio_encoder(x.to(self._dtype()))

    def embed_visual(self, visual_window: torch.Tensor) -> torch.Tensor:
        """``(N, 5, *frame_shape)`` -> ``(N, embed_dim)``."""
        x = self.visual_rep.prepare(visual_window, "visual_window")
        self._check_window(x, self.visual_rep, "visual_window")
        return self.visual_encoder(x.to(self._dtype()))

    def forward(self, audio_window: torch.Tensor, visual_window: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_rank(audio_window, "audio_window", (3, 4), f"(N, {self.audio_rep.window}, F)")
        check_rank(visual_window, "visual_window", (3, 4, 5), f"(N, {self.visual_rep.window}, ...)")
        check_same_batch(audio_window, "audio_window", visual_window, "visual_window")
        return self.embed_audio(audio_window), self.embed_visual(visual_window)

    def sync_probability(self, audio_window: torch.Tensor, visual_window: torch.Tensor) -> torch.Tensor:
        """Sync probability ``(N,)`` in [0, 1] of each window pair; 0.5 is the decision threshold."""
        return sync_probability(*self(audio_window, visual_window))

    def _check_window(self, x: torch.Tensor, rep: Representation, name: str) -> None:
        if x.shape[1] != rep.window:
            raise ValueError(f"{name}: expected {rep.window} {rep.name} frames (0.2 s) per window, got {describe(x)}")

    def _dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    # ---------------------------------------------------------------------------------------------- files
    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``config.json`` and ``model.safetensors`` into ``directory`` (created if needed)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.save_config(directory)
        state = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        save_file(state, str(directory / WEIGHTS_NAME), metadata={"format": "pt", "pair": self.pair})
        return directory

    @classmethod
    def read_config(cls, directory: str | Path) -> dict[str, Any]:
        """The checkpoint's ``config.json`` as a dict, with a clear error if the folder is not a checkpoint."""
        directory = Path(directory)
        path = directory / cls.config_name
        if not path.is_file():
            raise FileNotFoundError(f"{directory}: not a UniSync expert checkpoint (no {cls.config_name})")
        return json.loads(path.read_text())

    @classmethod
    def from_pretrained(cls, directory: str | Path, map_location: str | torch.device = "cpu") -> "UniSyncExpert":
        """Load a folder written by :meth:`save_pretrained`; keys and shapes must match exactly."""
        directory = Path(directory)
        config = cls.read_config(directory)
        weights = directory / WEIGHTS_NAME
        if not weights.is_file():
            raise FileNotFoundError(f"{directory}: {WEIGHTS_NAME} is missing beside {cls.config_name}")
        model = cls.from_config(config)
        state = load_file(str(weights), device=str(map_location))
        try:
            missing, unexpected = model.load_state_dict(state, strict=False)
        except RuntimeError as err:  # shape mismatches
            raise ValueError(f"{weights}: weights do not fit the {model.pair} expert of its config: {err}") from None
        if missing or unexpected:
            raise ValueError(
                f"{weights}: weights do not fit the {model.pair} expert of its config; "
                f"missing keys {missing[:5]}{'...' if len(missing) > 5 else ''}, "
                f"unexpected keys {unexpected[:5]}{'...' if len(unexpected) > 5 else ''}"
            )
        return model.eval()
