"""A UniSync mel+rgb expert behind the interface of Wav2Lip's ``models.SyncNet_color``.

Wav2Lip's training scripts call ``a, v = syncnet(mel, faces)`` with ``mel`` ``(B, 1, 80, 16)`` and ``faces``
``(B, 15, 48, 96)`` (5 lower-half BGR frames in [0, 1] stacked on channels) and use ``cosine_similarity(a, v)`` as
the sync probability. :class:`UniSyncSyncNet` takes exactly those tensors, converts BGR to RGB and returns
L2-normalised ReLU'd embeddings, so that the upstream cosine *is* UniSync's probability ``cos(relu(a), relu(v))``.
It never leaves eval mode (upstream never calls ``syncnet.eval()``, so its expert's batch norm runs in training mode).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from unisync_loss.checkpoints import resolve_expert_dir
from unisync_loss.expert import UniSyncExpert
from unisync_loss.representations import create_representation

from .models import SYNC_FRAMES, check_mel
from unisync_loss.validation import check_rank, check_same_batch, describe


def check_wav2lip_compatible(expert: UniSyncExpert, source: str | os.PathLike = "expert") -> UniSyncExpert:
    """Require a mel + rgb expert with Wav2Lip's mel settings and lower-half crops of 48x96 or a smaller 1:2 size
    (e.g. the shipped 24x48; Wav2Lip's 48x96 halves are then area-downsampled), else say why not."""
    audio, visual = expert.audio_rep, expert.visual_rep
    if (audio.name, visual.name) != ("mel", "rgb"):
        raise ValueError(
            f"{source}: holds a {audio.name}+{visual.name} UniSync expert; Wav2Lip's generator outputs RGB frames "
            f"and is fed mel windows, so only a mel+rgb expert can supervise it (a {visual.name} expert cannot "
            "judge RGB frames)"
        )
    wav2lip_mel = create_representation("mel").options
    if audio.options != wav2lip_mel:
        changed = {k: v for k, v in audio.options.items() if wav2lip_mel.get(k) != v}
        raise ValueError(f"{source}: its mel settings differ from Wav2Lip's hparams: {changed}")
    _, height, width = visual.frame_shape
    if width != 2 * height or height > 48:
        raise ValueError(f"{source}: its rgb frames are {visual.frame_shape}; Wav2Lip feeds lower halves (3, 48, 96), "
                         "which an expert can take at that size or downsampled to a smaller 1:2 size such as (3, 24, 48)")
    return expert


def resize_halves(frames: torch.Tensor, frame_shape: tuple[int, ...]) -> torch.Tensor:
    """``(..., 3, 48, 96)`` lower halves -> ``(..., *frame_shape)`` by area averaging (differentiable; a no-op at
    48x96)."""
    if tuple(frames.shape[-3:]) == tuple(frame_shape):
        return frames
    lead = frames.shape[:-3]
    small = F.interpolate(frames.reshape(-1, *frames.shape[-3:]), size=tuple(frame_shape[1:]), mode="area")
    return small.reshape(*lead, *frame_shape)


def load_unisync_expert(checkpoint: str | os.PathLike | None) -> UniSyncExpert:
    """Load a UniSync checkpoint folder (or the installed mel-rgb expert when None) and check it suits Wav2Lip."""
    if checkpoint is not None and Path(checkpoint).is_file():
        raise ValueError(f"{checkpoint}: is a file; a UniSync expert is a folder with config.json and "
                         "model.safetensors (a lipsync_expert.pth belongs to --sync-expert wav2lip)")
    path = Path(checkpoint) if checkpoint is not None else resolve_expert_dir("mel", "rgb")
    return check_wav2lip_compatible(UniSyncExpert.from_pretrained(path), path)


def bgr_stack_to_rgb_window(faces: torch.Tensor) -> torch.Tensor:
    """``(B, 15, H, W)`` stacked BGR frames -> ``(B, 5, 3, H, W)`` RGB window."""
    return rearrange(faces, "b (t c) h w -> b t c h w", t=SYNC_FRAMES).flip(2)


class UniSyncSyncNet(nn.Module):
    """Drop-in for ``models.SyncNet_color``: ``forward(mel, faces) -> (audio, face)`` normalised ``(B, E)``.

    Args:
        checkpoint: UniSync mel+rgb checkpoint folder; None uses :attr:`default_checkpoint` (set by
            :meth:`bound_to`), then the installed expert.
        expert: an already loaded expert instead of a checkpoint.

    ``state_dict()``/``load_state_dict()`` are the UniSync expert's, so upstream code that loads
    ``{"state_dict": ...}`` into its syncnet works with a file written by :meth:`save_upstream_checkpoint`.
    """

    default_checkpoint: ClassVar[str | None] = None

    def __init__(self, checkpoint: str | os.PathLike | None = None, *, expert: UniSyncExpert | None = None):
        super().__init__()
        if expert is None:
            expert = load_unisync_expert(checkpoint if checkpoint is not None else self.default_checkpoint)
        self.expert = check_wav2lip_compatible(expert)
        for p in self.expert.parameters():
            p.requires_grad_(False)
        self.train(False)

    @classmethod
    def bound_to(cls, checkpoint: str | os.PathLike | None) -> type["UniSyncSyncNet"]:
        """A subclass whose no-argument constructor loads ``checkpoint`` (what upstream's ``SyncNet()`` calls)."""
        return type("SyncNet_color", (cls,), {"default_checkpoint": None if checkpoint is None else str(checkpoint)})

    def train(self, mode: bool = True) -> "UniSyncSyncNet":
        """Stays in eval mode whatever ``mode`` is: the expert is a frozen judge."""
        return super().train(False)

    def forward(self, mel: torch.Tensor, faces: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_mel(mel)
        check_rank(faces, "faces", (4,), "(B, 15, 48, 96)")
        if tuple(faces.shape[1:]) != (3 * SYNC_FRAMES, 48, 96):
            raise ValueError(f"faces: expected 5 stacked lower-half BGR frames (B, 15, 48, 96), got {describe(faces)}")
        check_same_batch(mel, "mel", faces, "faces")
        window = resize_halves(bgr_stack_to_rgb_window(faces), self.expert.visual_rep.frame_shape)
        a, v = self.expert(mel, window)
        return F.normalize(F.relu(a.float()), dim=1), F.normalize(F.relu(v.float()), dim=1)

    def sync_probability(self, mel: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
        """UniSync probability ``(B,)`` in [0, 1] of upstream-layout inputs."""
        a, v = self(mel, faces)
        return (a * v).sum(dim=1).clamp(0.0, 1.0)

    def save_upstream_checkpoint(self, path: str | os.PathLike) -> Path:
        """Write ``{"state_dict": ...}`` in the layout upstream ``load_checkpoint`` reads into its syncnet."""
        path = Path(path)
        torch.save({"state_dict": self.state_dict(), "global_step": 0, "global_epoch": 0}, path)
        return path
