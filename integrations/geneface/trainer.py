"""Training the audio-to-motion model: reconstruction + continuity + an optional sync loss with GeneFace's schedule.

Loss per step (targets standardised per dimension, so every coordinate counts alike)::

    mse + 3 * continuity + w_sync * sync          (GeneFace's weights; w_sync = 0.01 by default)

``continuity`` is GeneFace's: the squared error of frame-to-frame differences plus that of the first frame.
``sync`` is any sequence sync loss (UniSync's or GeneFace's expert, see :mod:`.sync_criteria`). Schedules:
``"geneface"`` switches the sync term on once the validation sync loss is below ``sync_threshold`` (0.75) and keeps it
on; ``"always"`` from the first step; ``"off"`` never (the twin without sync loss).

The sync term needs no motion, only audio: with ``sync_clips`` it is computed on crops of those clips' audio instead
of the reconstruction batch (GeneFace's person-specific post-net applies its sync loss to LRS3 audio, for which the
target person has no motion).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import torch
from unisync_loss.progress import progress_bar

from unisync_loss.validation import check_choice, check_positive_int

from .motion_data import MotionClip, motion_statistics, random_crops
from .motion_model import AudioToMotion

SyncCriterion = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
SCHEDULES = ("geneface", "always", "off")


@dataclass
class MotionTrainConfig:
    """Settings of one motion-model run (same budget for every arm of an experiment)."""

    steps: int = 400
    batch_size: int = 8
    crop_frames: int = 32
    lr: float = 1e-3
    hidden: int = 128
    continuity_weight: float = 3.0
    sync_weight: float = 0.01
    sync_schedule: str = "geneface"
    sync_threshold: float = 0.75
    val_every: int = 50
    seed: int = 0

    def __post_init__(self):
        check_choice(self.sync_schedule, "sync_schedule", SCHEDULES)
        for name in ("steps", "batch_size", "val_every", "hidden"):
            check_positive_int(getattr(self, name), name)
        check_positive_int(self.crop_frames, "crop_frames", 5)
        if self.sync_weight < 0:
            raise ValueError(f"sync_weight: expected >= 0, got {self.sync_weight!r}")


@dataclass
class TrainResult:
    model: AudioToMotion
    config: MotionTrainConfig
    history: list[dict] = field(default_factory=list)
    sync_enabled_at: int | None = None

    def summary(self) -> dict:
        return {"config": asdict(self.config), "history": self.history, "sync_enabled_at": self.sync_enabled_at}


def standardised_losses(pred: torch.Tensor, target: torch.Tensor, std: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """GeneFace's MSE and continuity terms on ``(B, T, ...)`` motion, divided by the per-dimension ``std``."""
    p = pred.flatten(2) / std
    g = target.flatten(2) / std
    mse = (p - g).pow(2).mean()
    diff_error = (p[:, 1:] - p[:, :-1]) - (g[:, 1:] - g[:, :-1])
    continuity = (diff_error.pow(2).sum() + (p[:, 0] - g[:, 0]).pow(2).sum()) / p.numel()
    return mse, continuity


@torch.no_grad()
def predict(model: AudioToMotion, clip: MotionClip) -> torch.Tensor:
    """The whole clip's predicted motion ``(T, ...)``."""
    model.eval()
    return model(torch.from_numpy(clip.features)[None])[0]


@torch.no_grad()
def validate(model: AudioToMotion, clips: list[MotionClip], sync: SyncCriterion | None) -> dict[str, float]:
    """Mean standardised MSE and (if given) sync loss over whole validation clips."""
    mses, syncs = [], []
    for clip in clips:
        pred = predict(model, clip)[None]
        target = torch.from_numpy(clip.motion)[None]
        mses.append(float(standardised_losses(pred, target, model.std)[0]))
        if sync is not None:
            syncs.append(float(sync(torch.from_numpy(clip.features)[None], pred)))
    model.train()
    out = {"val_mse": float(np.mean(mses))}
    if syncs:
        out["val_sync"] = float(np.mean(syncs))
    return out


def train_motion_model(train_clips: list[MotionClip], val_clips: list[MotionClip], config: MotionTrainConfig,
                       sync: SyncCriterion | None = None, desc: str = "motion",
                       sync_clips: list[MotionClip] | None = None) -> TrainResult:
    """Train an :class:`AudioToMotion` on random crops of ``train_clips``; ``sync`` is required unless the schedule is
    "off". ``sync_clips``: clips whose audio the sync term sees (their motion is not used; default: the same batch as
    the reconstruction terms)."""
    if config.sync_schedule != "off" and sync is None:
        raise ValueError(f"sync: a sync criterion is needed for sync_schedule={config.sync_schedule!r}")
    if sync_clips is not None and not sync_clips:
        raise ValueError("sync_clips: expected None (use the training batch) or at least one clip, got an empty list")
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    mean, std = motion_statistics(train_clips)
    model = AudioToMotion(train_clips[0].features.shape[1], train_clips[0].motion.shape[1:], config.hidden, mean, std)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    result = TrainResult(model, config)
    enabled = config.sync_schedule == "always"
    if enabled:
        result.sync_enabled_at = 0
    model.train()
    bar = progress_bar(range(1, config.steps + 1), desc=desc, unit="step", leave=False)
    for step in bar:
        features, target = random_crops(train_clips, config.batch_size, config.crop_frames, rng)
        pred = model(features)
        mse, continuity = standardised_losses(pred, target, model.std)
        loss = mse + config.continuity_weight * continuity
        logged = {"step": step, "mse": mse.item(), "continuity": continuity.item()}
        if enabled and config.sync_weight > 0:
            if sync_clips is not None:
                features, _ = random_crops(sync_clips, config.batch_size, config.crop_frames, rng)
                pred = model(features)
            sync_loss = sync(features, pred)
            loss = loss + config.sync_weight * sync_loss
            logged["sync"] = sync_loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % config.val_every == 0 or step == config.steps:
            logged.update(validate(model, val_clips, sync if config.sync_schedule != "off" else None))
            if not enabled and config.sync_schedule == "geneface" and logged["val_sync"] < config.sync_threshold:
                enabled, result.sync_enabled_at = True, step
            logged["sync_enabled"] = enabled
            result.history.append(logged)
            bar.set_postfix(mse=f"{logged['val_mse']:.3f}", sync=f"{logged.get('val_sync', float('nan')):.3f}")
    model.eval()
    return result

