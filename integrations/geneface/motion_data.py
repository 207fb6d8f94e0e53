"""Clips as audio-to-motion training pairs: 50 frames/s features and per-frame motion targets, plus random crops.

Targets: ``"3dmm"`` -> expression coefficients ``(T, 64)`` (257-long Deep3DFaceRecon rows are sliced), ``"landmarks"``
-> ``(T, 68, D)`` landmarks (D = 3 for GeneFace's idexp_lm3d; 2D stores work too).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from unisync_loss.progress import progress_bar

from unisync_loss.data.clip_store import ClipStore
from unisync_loss.validation import check_choice, check_positive_int

from .conventions import HUBERT_PER_VIDEO_FRAME, NUM_LANDMARKS, expression_coeffs, landmark_points, mouth_vector
from .features import AudioFeatureSpec, clip_features

TARGETS = ("3dmm", "landmarks")


@dataclass
class MotionClip:
    """``features (2T, F)`` float32 at 50/s and ``motion (T, *motion_shape)`` float32 at 25 fps."""

    id: str
    speaker: str
    features: np.ndarray
    motion: np.ndarray

    @property
    def num_frames(self) -> int:
        return len(self.motion)


def load_motion_clips(store: ClipStore, split: str, spec: AudioFeatureSpec, target: str,
                      min_frames: int = 10) -> list[MotionClip]:
    """All clips of ``split`` with the ``target`` array, as :class:`MotionClip` (features computed once, cached)."""
    check_choice(target, "target", TARGETS)
    name = "coeffs3dmm" if target == "3dmm" else "landmarks"
    clips = []
    for clip_id in progress_bar(store.clip_ids(split), desc=f"load {split}", unit="clip", leave=False):
        array = store.load_array(clip_id, name, mmap=False)
        if array is None:
            raise ValueError(f"store {store.root}: clip {clip_id} has no {name}.npy, needed for target={target!r}")
        if target == "3dmm":
            motion = expression_coeffs(array)
        else:
            motion = landmark_points(array, f"{clip_id} landmarks", NUM_LANDMARKS, array.shape[-1])
        if len(motion) < min_frames:
            continue
        features = clip_features(store, clip_id, spec, len(motion))
        clips.append(MotionClip(clip_id, store.meta(clip_id)["speaker"], features, np.asarray(motion, np.float32)))
    if not clips:
        raise ValueError(f"store {store.root}: no {split} clips of at least {min_frames} frames")
    return clips


def motion_statistics(clips: list[MotionClip]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-dimension mean and std (floored) of the targets, each ``motion_shape``."""
    stacked = np.concatenate([c.motion for c in clips])
    std = np.maximum(stacked.std(0), 1e-3 * stacked.std() + 1e-8)
    return torch.from_numpy(stacked.mean(0)), torch.from_numpy(std)


def random_crops(clips: list[MotionClip], batch_size: int, frames: int,
                 rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch_size`` random crops: features ``(B, 2 * frames, F)`` and motion ``(B, frames, ...)``."""
    check_positive_int(frames, "frames", 5)
    eligible = [c for c in clips if c.num_frames >= frames]
    if not eligible:
        raise ValueError(f"frames: no clip has {frames} frames (longest has {max(c.num_frames for c in clips)})")
    feats, motions = [], []
    for i in rng.integers(len(eligible), size=batch_size):
        clip = eligible[i]
        start = int(rng.integers(clip.num_frames - frames + 1))
        a = HUBERT_PER_VIDEO_FRAME * start
        feats.append(clip.features[a:a + HUBERT_PER_VIDEO_FRAME * frames])
        motions.append(clip.motion[start:start + frames])
    return torch.from_numpy(np.stack(feats)), torch.from_numpy(np.stack(motions))


def sync_visual(motion, target: str):
    """What an expert sees of the motion: ``(..., 64)`` coefficients, or GeneFace's mouth ``(..., 20 * D)``."""
    if target == "3dmm":
        return motion
    return mouth_vector(motion) if motion.shape[-1] == 3 else motion[..., 48:68, :].reshape(*motion.shape[:-2], -1)
