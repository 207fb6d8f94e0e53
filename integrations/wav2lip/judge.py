"""LSE-D / LSE-C of a generated clip from an independent judge expert (or syncnet_python's SyncNet).

With a UniSync judge the embeddings are ``relu`` + L2-normalised, so the distance of a pair is ``sqrt(2 - 2 p)``; pairs
whose audio falls outside the clip get distance 1 (a zero audio embedding, as syncnet_python's zero padding). The
``(windows, offsets)`` distance matrix then goes through the LSE formulas of :mod:`unisync_loss.metrics.lse`:
LSE-D = minimum of the mean-distance curve over offsets -15..15, LSE-C = its median minus that minimum. Distances lie
in [0, 1.41], so the numbers are on another scale than syncnet_python's; rows scored by one judge compare.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from einops import rearrange

from unisync_loss.expert import UniSyncExpert
from unisync_loss.metrics.lse import LSEResult, lse, summarise
from unisync_loss.metrics.syncnet import CROP_SIZE, SyncNet
from unisync_loss.metrics.unisync_scores import VSHIFT, probability_matrix

from .expert_adapter import resize_halves


def lower_halves(frames: np.ndarray) -> torch.Tensor:
    """``(T, 96, 96, 3)`` uint8 RGB faces -> ``(T, 3, 48, 96)`` float RGB in [0, 1] (what an rgb expert sees)."""
    faces = torch.from_numpy(np.ascontiguousarray(frames)).float() / 255.0
    return rearrange(faces[:, faces.shape[1] // 2:], "t h w c -> t c h w")


@torch.no_grad()
def judge_lse(judge: UniSyncExpert, frames: np.ndarray, audio: np.ndarray, vshift: int = VSHIFT) -> LSEResult:
    """LSE of one clip: ``frames`` ``(T, 96, 96, 3)`` uint8 RGB at 25 fps, ``audio`` ``(S,)`` float 16 kHz."""
    halves = resize_halves(lower_halves(frames), judge.visual_rep.frame_shape)
    p = probability_matrix(judge, torch.from_numpy(audio), halves, vshift)
    distances = torch.where(torch.isnan(p), torch.ones_like(p), torch.sqrt((2 - 2 * p).clamp_min(0)))
    # probability_matrix's column j pairs video v with audio v - (j - vshift); lse's column k with v + k - vshift.
    return summarise(distances.flip(1).float(), vshift, "default")


def syncnet_lse(syncnet: SyncNet, frames: np.ndarray, audio: np.ndarray) -> LSEResult:
    """syncnet_python's LSE on whole face frames resized to 224x224 (the synthetic crops are already faces)."""
    big = np.stack([cv2.resize(f, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_CUBIC) for f in frames])
    return lse(big, audio, syncnet)
