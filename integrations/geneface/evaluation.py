"""Judging predicted motion: an independent expert's sync scores at the true offset and around it, and mouth error.

For each offset ``k`` in ``[-max_offset, max_offset]`` video frames, the judge scores every window of the motion
against the audio shifted by ``k`` frames; ``d_k = 1 - mean p``. As syncnet_python does with its distances:
``distance = min_k d_k`` (lower is better), ``confidence = median_k d_k - min_k d_k`` (higher is better),
``offset = argmin_k d_k`` (0 when in sync). ``sync_loss`` is the judge's mean ``-log p`` at offset 0.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from unisync_loss.metrics.offsets import best_offset
from unisync_loss.validation import check_positive_int

from .conventions import HUBERT_PER_VIDEO_FRAME, MOUTH, VIDEO_WINDOW

WindowScorer = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (1, 2T, F), (1, T, ...) -> (1, T - 4)


@torch.no_grad()
def offset_profile(score: WindowScorer, features: torch.Tensor, motion: torch.Tensor,
                   max_offset: int = 6) -> dict[int, np.ndarray]:
    """Per-window sync probabilities of ``motion (T, ...)`` against ``features (2T, F)`` shifted by each offset."""
    check_positive_int(max_offset, "max_offset", 0)
    t = motion.shape[0]
    if t < VIDEO_WINDOW + max_offset:
        raise ValueError(f"motion: {t} frames are too few for offsets up to {max_offset} "
                         f"(need {VIDEO_WINDOW + max_offset})")
    profile = {}
    for k in range(-max_offset, max_offset + 1):
        vis = motion[max(0, -k):t - max(0, k)]
        a0 = HUBERT_PER_VIDEO_FRAME * max(0, k)
        aud = features[a0:a0 + HUBERT_PER_VIDEO_FRAME * len(vis)]
        profile[k] = score(aud[None], vis[None])[0].cpu().numpy()
    return profile


def clip_sync_metrics(profile: dict[int, np.ndarray]) -> dict[str, float]:
    """One clip's ``distance``, ``confidence``, ``offset``, ``abs_offset``, ``sync_loss`` and ``p_sync`` (mean p at
    offset 0) from its :func:`offset_profile` (NumPy scalars, in the profile's precision)."""
    if 0 not in profile:
        raise ValueError(f"profile: expected offsets including 0, got {sorted(profile)}")
    offsets = sorted(profile)
    d = np.array([1.0 - profile[k].mean() for k in offsets])
    offset, confidence = best_offset(d, offsets, lower_is_better=True)
    p0 = np.clip(profile[0], 1e-6, 1.0)
    return {"distance": d.min(), "confidence": confidence, "offset": offset, "abs_offset": abs(offset),
            "sync_loss": float(-np.log(p0).mean()), "p_sync": float(profile[0].mean())}


def sync_metrics(profiles: list[dict[int, np.ndarray]]) -> dict[str, float]:
    """Distance, confidence, offset and sync loss pooled over clips (windows weighted equally within a clip)."""
    per_clip = [clip_sync_metrics(profile) for profile in profiles]
    return {key: float(np.mean([c[key] for c in per_clip])) for key in per_clip[0]}


def shifted_pair(features: torch.Tensor, motion: torch.Tensor, shift: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``features (2T, F)``, ``motion (T, ...)`` -> a pair ``shift`` video frames out of sync: motion frame ``i``
    shows what the audio says at frame ``i + shift`` (both cut to ``T - |shift|`` frames)."""
    t = motion.shape[0]
    if isinstance(shift, bool) or not isinstance(shift, int) or not 0 <= abs(shift) < t:
        raise ValueError(f"shift: expected an integer with |shift| < {t} frames, got {shift!r}")
    if features.shape[0] < HUBERT_PER_VIDEO_FRAME * t:
        raise ValueError(f"features: expected (2T, F) with T = {t}, got {tuple(features.shape)}")
    vis = motion[max(0, shift):t + min(0, shift)]
    a0 = HUBERT_PER_VIDEO_FRAME * max(0, -shift)
    return features[a0:a0 + HUBERT_PER_VIDEO_FRAME * len(vis)], vis


def mouth_error(pred: torch.Tensor, target: torch.Tensor, centred: bool = False) -> float:
    """Mean Euclidean distance of the 20 mouth landmarks, ``(T, 68, D)`` each, in the data's units. ``centred``: each
    sequence's mean mouth is subtracted first, so only the motion around it counts (not a constant shape offset)."""
    if pred.shape != target.shape or pred.ndim != 3 or pred.shape[1] != 68:
        raise ValueError(f"pred, target: expected two (T, 68, D) landmark sequences, got {tuple(pred.shape)} and "
                         f"{tuple(target.shape)}")
    p, g = pred[:, MOUTH], target[:, MOUTH]
    if centred:
        p, g = p - p.mean(0), g - g.mean(0)
    return float((p - g).norm(dim=-1).mean())
