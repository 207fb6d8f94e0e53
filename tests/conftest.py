"""Shared fixtures: deterministic seeds and small inputs for every expert pair."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

from unisync_loss import UniSyncExpert

AUDIO_REPS = ("mel", "hubert")
VISUAL_REPS = ("rgb", "parsing", "landmarks", "3dmm")
PAIRS = list(itertools.product(AUDIO_REPS, VISUAL_REPS))

#: Folder of real talking-face clips kept beside the project (absent on some machines).
REAL_CLIPS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real_clips"


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def audio_features(expert: UniSyncExpert, batch: int, frames: int) -> torch.Tensor:
    """Random features ``(B, T_a, F)`` covering ``frames`` video frames (mel clipped to its [-4, 4] range)."""
    rep = expert.audio_rep
    t = int(frames / 25 * rep.rate) + 1
    x = torch.randn(batch, t, rep.feature_dim)
    return x.clamp(-4, 4) if rep.name == "mel" else x


def visual_sequence(expert: UniSyncExpert, batch: int, frames: int) -> torch.Tensor:
    """Random visual sequence ``(B, T, *frame_shape)`` in the representation's valid range (parsing: one-hot)."""
    rep = expert.visual_rep
    if rep.name == "parsing":
        idx = torch.randint(0, rep.options["num_classes"], (batch, frames, *rep.frame_shape[1:]))
        return rep.prepare(idx, "visual")
    return torch.rand(batch, frames, *rep.frame_shape)
