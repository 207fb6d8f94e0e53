"""Sequence-level sync losses for motion training: a frozen expert scores every 0.2 s window of a predicted motion.

* :func:`unisync_criterion` wraps :class:`unisync_loss.UniSyncLoss` (mean ``-log p`` over windows).
* :class:`GeneFaceSyncLoss` does the same with GeneFace's SyncNet, as GeneFace's audio-to-motion task does
  (BCE against label 1 on the cosine, i.e. ``-log cos``), over all windows at stride 1 rather than random ones.
* :class:`ProjectedSyncLoss` puts a map in front of either (e.g. :class:`.face_projection.FaceProjection`: a model
  that predicts coefficients, supervised by a landmark expert through the corpus' linear face model).

Both take ``features (B, 2T, F)`` at 50 frames/s and ``motion (B, T, ...)`` at 25 fps and keep their expert frozen and
in eval mode whatever ``.train()`` calls they receive.
"""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn

from unisync_loss import UniSyncExpert, UniSyncLoss
from unisync_loss.frozen import FrozenHolder
from unisync_loss.validation import check_rank, describe

from .conventions import HUBERT_PER_VIDEO_FRAME, HUBERT_WINDOW, VIDEO_WINDOW
from .motion_data import sync_visual
from .syncnet import GeneFaceSyncNet


def unisync_criterion(expert: UniSyncExpert, reduction: str = "mean") -> UniSyncLoss:
    """``UniSyncLoss`` on ``expert`` (its own audio/visual pair), called as ``loss(features, motion)``."""
    return UniSyncLoss(expert.audio_rep.name, expert.visual_rep.name, expert=expert, reduction=reduction)


class GeneFaceSyncLoss(FrozenHolder):
    """``forward(features (B, 2T, F), motion (B, T, ...)) -> mean -log cos`` over all windows (or ``(B, T - 4)``)."""

    def __init__(self, syncnet: GeneFaceSyncNet, target: str, reduction: str = "mean", eps: float = 1e-7):
        super().__init__()
        if reduction not in ("mean", "none"):
            raise ValueError(f"reduction: expected 'mean' or 'none', got {reduction!r}")
        self.target, self.reduction, self.eps = target, reduction, eps
        self.hold("syncnet", syncnet)

    @property
    def syncnet(self) -> GeneFaceSyncNet:
        return self.held("syncnet")

    def sync_probability(self, features: torch.Tensor, motion: torch.Tensor) -> torch.Tensor:
        """Cosine of every window, ``(B, T - 4)``."""
        check_rank(features, "features", (3,), "(B, 2T, F)")
        b, t = motion.shape[:2]
        if t < VIDEO_WINDOW or features.shape[0] != b or features.shape[1] < HUBERT_PER_VIDEO_FRAME * t:
            raise ValueError(f"features, motion: expected (B, 2T, F) and (B, T >= 5, ...), got {describe(features)} "
                             f"and {describe(motion)}")
        audio = rearrange(features.unfold(1, HUBERT_WINDOW, HUBERT_PER_VIDEO_FRAME)[:, :t - VIDEO_WINDOW + 1],
                          "b n f w -> (b n) w f")
        visual = sync_visual(motion, self.target)
        visual = rearrange(visual.unfold(1, VIDEO_WINDOW, 1), "b n v w -> (b n) w v")
        return rearrange(self.syncnet.sync_probability(audio, visual), "(b n) -> b n", b=b)

    def forward(self, features: torch.Tensor, motion: torch.Tensor) -> torch.Tensor:
        loss = -torch.log(self.sync_probability(features, motion).clamp_min(self.eps))
        return loss.mean() if self.reduction == "mean" else loss


class ProjectedSyncLoss(nn.Module):
    """``criterion(features, project(motion))``: the criterion's loss and ``sync_probability`` on projected motion
    (``project`` must be differentiable for the loss to reach the motion)."""

    def __init__(self, criterion: nn.Module, project: nn.Module):
        super().__init__()
        if not callable(getattr(criterion, "sync_probability", None)) or not isinstance(project, nn.Module):
            raise ValueError(f"criterion, project: expected a sync loss with sync_probability and an nn.Module, got "
                             f"{type(criterion).__name__} and {type(project).__name__}")
        self.criterion, self.project = criterion, project

    def sync_probability(self, features: torch.Tensor, motion: torch.Tensor) -> torch.Tensor:
        return self.criterion.sync_probability(features, self.project(motion))

    def forward(self, features: torch.Tensor, motion: torch.Tensor) -> torch.Tensor:
        return self.criterion(features, self.project(motion))
