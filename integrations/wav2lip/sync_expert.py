"""The pluggable sync expert of generator training: UniSync (via the adapter) or Wav2Lip's own SyncNet_color.

Both take upstream's ``(mel (B, 1, 80, 16), faces (B, 15, 48, 96))`` and return embeddings whose cosine is the sync
probability, so the sync loss below is the same code for both: ``-log p`` of the generated lower halves.
"""

from __future__ import annotations

import os

import torch
from einops import rearrange
from torch import nn

from .expert_adapter import UniSyncSyncNet
from .models import IMG_SIZE
from .weights import load_model

EXPERTS = ("unisync", "wav2lip")


def load_sync_expert(kind: str, path: str | os.PathLike | None, device: str | torch.device = "cpu") -> nn.Module:
    """Frozen expert in eval mode: ``"unisync"`` + checkpoint folder, or ``"wav2lip"`` + ``lipsync_expert.pth``."""
    if kind not in EXPERTS:
        raise ValueError(f"sync_expert: expected one of {EXPERTS}, got {kind!r}")
    if kind == "unisync":
        expert = UniSyncSyncNet(path)
    else:
        if path is None:
            raise ValueError("expert: --sync-expert wav2lip needs the path of lipsync_expert.pth")
        if os.path.isdir(path):
            raise ValueError(f"expert: {path} is a folder (a UniSync checkpoint?); --sync-expert wav2lip needs "
                             "a lipsync_expert.pth file, --sync-expert unisync takes a UniSync folder")
        expert = load_model("syncnet", path)
    for p in expert.parameters():
        p.requires_grad_(False)
    return expert.to(device).eval()


def sync_probability(expert: nn.Module, mel: torch.Tensor, generated: torch.Tensor) -> torch.Tensor:
    """Sync probability ``(B,)`` of generated windows ``(B, 3, 5, 96, 96)`` BGR against mels ``(B, 1, 80, 16)``."""
    lower = rearrange(generated[:, :, :, IMG_SIZE // 2:], "b c t h w -> b (t c) h w")
    a, v = expert(mel, lower)
    return torch.cosine_similarity(a.float(), v.float(), dim=1).clamp(0.0, 1.0)


def sync_loss(expert: nn.Module, mel: torch.Tensor, generated: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Mean ``-log p`` (upstream's BCE against 1), computed in float32."""
    return -torch.log(sync_probability(expert, mel, generated).clamp_min(eps)).mean()
