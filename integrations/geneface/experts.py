"""Training the sync experts of the experiment on motion clips: UniSync's expert and GeneFace's SyncNet.

Both see the same windows from the same sampler: 0.2 s of audio features (10 frames at 50/s) against 5 video frames
of motion. Half the pairs are in sync; the negatives are same-speaker (the clip's own audio shifted by 2 to 8 frames,
or another clip of the speaker) and cross-speaker (``cross_share`` of all pairs, 0.2 as in the paper). The UniSync
expert learns with the margin BCE (margins 0 / 0.1 / 0.3), GeneFace's SyncNet with plain BCE on its cosine.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from unisync_loss import MarginBCELoss, SampleKind, UniSyncExpert
from unisync_loss.validation import check_positive_int

from .conventions import HUBERT_PER_VIDEO_FRAME, HUBERT_WINDOW, VIDEO_WINDOW
from .features import AudioFeatureSpec
from .motion_data import MotionClip, sync_visual
from .syncnet import GeneFaceSyncNet


def sample_windows(clips: list[MotionClip], n: int, rng: np.random.Generator, cross_share: float = 0.2,
                   positive_share: float = 0.5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n`` window pairs: audio ``(n, 10, F)``, motion ``(n, 5, ...)``, kind ``(n,)`` (:class:`SampleKind`)."""
    by_speaker: dict[str, list[int]] = {}
    for i, clip in enumerate(clips):
        by_speaker.setdefault(clip.speaker, []).append(i)
    if len(by_speaker) < 2 and cross_share > 0:
        raise ValueError("clips: cross-speaker negatives need clips of at least two speakers")
    audio, motion, kinds = [], [], []
    for _ in range(n):
        ci = int(rng.integers(len(clips)))
        clip = clips[ci]
        start = int(rng.integers(clip.num_frames - VIDEO_WINDOW + 1))
        draw = rng.random()
        source, a_start, kind = clip, start, SampleKind.POSITIVE
        if draw >= positive_share:
            if draw < positive_share + cross_share:
                others = [i for s, idx in by_speaker.items() if s != clip.speaker for i in idx]
                source, kind = clips[others[int(rng.integers(len(others)))]], SampleKind.CROSS_SPEAKER
                a_start = int(rng.integers(source.num_frames - VIDEO_WINDOW + 1))
            else:
                kind = SampleKind.SAME_SPEAKER
                mates = by_speaker[clip.speaker]
                if len(mates) > 1 and rng.random() < 0.5:
                    source = clips[mates[int(rng.integers(len(mates)))]]
                    a_start = int(rng.integers(source.num_frames - VIDEO_WINDOW + 1))
                if source is clip:
                    shifts = [d for d in range(-8, 9) if abs(d) >= 2 and 0 <= start + d <= clip.num_frames - 5]
                    a_start = start + shifts[int(rng.integers(len(shifts)))]
        a = HUBERT_PER_VIDEO_FRAME * a_start
        audio.append(source.features[a:a + HUBERT_WINDOW])
        motion.append(clip.motion[start:start + VIDEO_WINDOW])
        kinds.append(int(kind))
    return torch.from_numpy(np.stack(audio)), torch.from_numpy(np.stack(motion)), torch.tensor(kinds)


def unisync_expert_for(spec: AudioFeatureSpec, motion_shape: tuple[int, ...], channels: int = 16,
                       embed_dim: int = 32) -> UniSyncExpert:
    """A fresh UniSync expert for these features and this motion (3DMM ``(64,)`` or landmarks ``(68, D)``)."""
    if len(motion_shape) == 1:
        visual = {"name": "3dmm", "num_coeffs": motion_shape[0]}
    else:
        visual = {"name": "landmarks", "num_points": motion_shape[0], "dims": motion_shape[1]}
    return UniSyncExpert(audio=spec.representation(), visual=visual, channels=channels, embed_dim=embed_dim)


def train_unisync_expert(expert: UniSyncExpert, clips: list[MotionClip], steps: int, seed: int,
                         batch_size: int = 32, lr: float = 3e-3, desc: str = "UniSync expert") -> UniSyncExpert:
    """Train ``expert`` in place with the margin BCE and Adam; returns it frozen in eval mode."""
    check_positive_int(steps, "steps")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    loss_fn = MarginBCELoss(0.0, 0.1, 0.3)
    optimizer = torch.optim.Adam(expert.parameters(), lr=lr)
    expert.train()
    for _ in tqdm(range(steps), desc=desc, unit="step", leave=False):
        audio, motion, kind = sample_windows(clips, batch_size, rng)
        loss = loss_fn(expert.sync_probability(audio, motion), kind)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    recalibrate_batch_norm(expert, lambda: expert.sync_probability(*sample_windows(clips, 64, rng)[:2]))
    return expert.eval().requires_grad_(False)


def train_geneface_syncnet(clips: list[MotionClip], target: str, steps: int, seed: int, batch_size: int = 32,
                           lr: float = 5e-4, desc: str = "GeneFace SyncNet") -> GeneFaceSyncNet:
    """GeneFace's SyncNet on these features and the motion's sync view (mouth landmarks or coefficients)."""
    check_positive_int(steps, "steps")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    probe = sync_visual(torch.from_numpy(clips[0].motion[:1]), target)
    model = GeneFaceSyncNet(audio_dim=clips[0].features.shape[1], mouth_dim=probe.shape[-1])
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)  # GeneFace: lr 5e-4, betas (0.9, 0.999)
    model.train()
    for _ in tqdm(range(steps), desc=desc, unit="step", leave=False):
        audio, motion, kind = sample_windows(clips, batch_size, rng)
        labels = (kind == SampleKind.POSITIVE).float()
        loss = model.bce_loss(*_syncnet_inputs((audio, motion, kind), target), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    recalibrate_batch_norm(model, lambda: model.sync_probability(
        *_syncnet_inputs(sample_windows(clips, 64, rng), target)))
    return model.eval().requires_grad_(False)


def _syncnet_inputs(windows, target):
    audio, motion, _ = windows
    return audio, sync_visual(motion, target)


@torch.no_grad()
def recalibrate_batch_norm(model: nn.Module, forward, batches: int = 20) -> None:
    """Re-estimate every batch norm's running mean/var as the plain average over ``batches`` calls of ``forward()``."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    model.train()
    for _ in range(batches):
        forward()
    for m, momentum in zip(norms, saved):
        m.momentum = momentum
    model.eval()


@torch.no_grad()
def window_accuracy(score, clips: list[MotionClip], n: int = 512, seed: int = 123) -> float:
    """Share of held-out pairs that ``score(audio, motion) -> p`` classifies right at the 0.5 threshold."""
    audio, motion, kind = sample_windows(clips, n, np.random.default_rng(seed))
    p = score(audio, motion)
    return float(((p > 0.5) == (kind == SampleKind.POSITIVE)).float().mean())
