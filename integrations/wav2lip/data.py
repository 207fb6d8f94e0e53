"""Wav2Lip training samples from the clip store, with the original data flow.

Each sample is a random 5-frame window of a random clip: the target frames with their lower half zeroed, a random
other window of the same clip as identity reference, the 0.2 s mel window of the target (for the sync expert) and one
0.2 s mel window per target frame (for the generator). Images are BGR in [0, 1] (the official models' colour order).
Mel windows follow upstream's indexing: the window of frame ``j`` starts at mel frame ``floor(80 (j - 1) / 25)``.

Unlike upstream, sampling is a pure function of ``(seed, sample index)`` (so training resumes exactly and workers or
ranks never repeat each other), and clips that cannot give a sample are listed once in :attr:`skipped` instead of
being retried forever.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from einops import rearrange
from torch.utils.data import Dataset

from unisync_loss.data.clip_store import ClipStore
from unisync_loss.representations import create_representation
from unisync_loss.timing import audio_frame_index

from .models import IMG_SIZE, MEL_STEPS, SYNC_FRAMES

FPS, MEL_RATE = 25.0, 80.0


def mel_config() -> dict:
    """Wav2Lip's mel settings (UniSync's ``mel`` representation defaults), the clip store's feature-cache key."""
    return create_representation("mel").config()


def clip_mel(store: ClipStore, clip_id: str) -> np.ndarray:
    """Cached Wav2Lip log-mel ``(T_mel, 80)`` of a clip (80 frames/s, values in [-4, 4])."""
    frontend = create_representation("mel").build_frontend()

    def compute(audio: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return frontend(torch.from_numpy(np.asarray(audio, dtype=np.float32))[None])[0].numpy()

    return store.features(clip_id, mel_config(), compute)


def mel_window(mel: np.ndarray, video_frame: int) -> np.ndarray:
    """``(80, 16)`` mel window starting at video frame ``video_frame``'s time."""
    start = audio_frame_index(video_frame, FPS, MEL_RATE)
    return np.ascontiguousarray(mel[start:start + MEL_STEPS].T)


def to_bgr96(frames: np.ndarray) -> np.ndarray:
    """``(T, H, W, 3)`` uint8 RGB -> ``(T, 96, 96, 3)`` float32 BGR in [0, 1]."""
    out = [f if f.shape[:2] == (IMG_SIZE, IMG_SIZE) else cv2.resize(f, (IMG_SIZE, IMG_SIZE), interpolation=cv2.INTER_AREA)
           for f in np.asarray(frames)]
    return np.stack(out)[..., ::-1].astype(np.float32) / 255.0


@dataclass
class ClipWindows:
    """Where windows may start in one clip: ``first <= start <= last`` (inclusive)."""

    clip_id: str
    first: int
    last: int


def usable_windows(store: ClipStore, clip_id: str) -> tuple[ClipWindows | None, str]:
    """Valid window starts of a clip, or None and the reason it cannot give a sample."""
    meta = store.meta(clip_id)
    if "frames" not in meta.get("arrays", {}):
        return None, "no RGB frames (frames.npy)"
    num_frames = meta["num_frames"]
    if num_frames <= 3 * SYNC_FRAMES:
        return None, f"{num_frames} frames; at least {3 * SYNC_FRAMES + 1} are needed"
    num_mel = len(clip_mel(store, clip_id))
    # Per-frame mel windows of frames start..start+4 begin at frames start-1..start+3 (upstream indexing).
    last = num_frames - SYNC_FRAMES
    while last >= 1 and audio_frame_index(last + SYNC_FRAMES - 2, FPS, MEL_RATE) + MEL_STEPS > num_mel:
        last -= 1
    if last < 2:
        seconds = meta["num_samples"] / meta["sample_rate"]
        return None, f"audio ({seconds:.2f} s) is shorter than its {num_frames} frames need"
    return ClipWindows(clip_id, 1, last), ""


class Wav2LipWindows(Dataset):
    """Samples ``(x, indiv_mels, mel, y)`` of a clip-store split, as upstream's dataset returns them.

    * ``x`` ``(6, 5, 96, 96)``: masked target window (lower half 0) and reference window, BGR in [0, 1]
    * ``indiv_mels`` ``(5, 1, 80, 16)``: one mel window per target frame
    * ``mel`` ``(1, 80, 16)``: the target window's mel (what the sync expert sees)
    * ``y`` ``(3, 5, 96, 96)``: the unmasked target window

    Args:
        store: a clip store (or its folder) whose clips have ``frames``.
        split: "train", "val" or "test".
        seed: sampling seed; item ``i`` depends only on ``(seed, i)``.
        length: the number of distinct items (sampling is with replacement, so any length works).
    """

    def __init__(self, store: ClipStore | str, split: str, seed: int = 0, length: int = 10**9):
        self.store = store if isinstance(store, ClipStore) else ClipStore(store)
        self.split, self.seed, self.length = split, seed, length
        self.clips: list[ClipWindows] = []
        self.skipped: dict[str, str] = {}
        for clip_id in self.store.clip_ids(split):
            windows, reason = usable_windows(self.store, clip_id)
            if windows is None:
                self.skipped[clip_id] = reason
            else:
                self.clips.append(windows)
        if not self.clips:
            reasons = "; ".join(f"{k}: {v}" for k, v in list(self.skipped.items())[:5]) or "the split is empty"
            raise ValueError(f"{self.store.root}: no usable {split!r} clips for Wav2Lip training ({reasons})")

    def __len__(self) -> int:
        return self.length

    def describe_skipped(self) -> str:
        """One line per skipped clip (empty when none)."""
        return "\n".join(f"skipped clip {k}: {v}" for k, v in self.skipped.items())

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([self.seed, int(index)])
        clip = self.clips[rng.integers(len(self.clips))]
        start = int(rng.integers(clip.first, clip.last + 1))
        ref = int(rng.integers(clip.first, clip.last))  # any other window of the clip
        ref += ref >= start
        frames = self.store.load_array(clip.clip_id, "frames")
        mel = clip_mel(self.store, clip.clip_id)
        target = to_bgr96(frames[start:start + SYNC_FRAMES])
        reference = to_bgr96(frames[ref:ref + SYNC_FRAMES])
        y = rearrange(torch.from_numpy(target.copy()), "t h w c -> c t h w")
        masked = y.clone()
        masked[:, :, IMG_SIZE // 2:] = 0.0
        x = torch.cat([masked, rearrange(torch.from_numpy(reference.copy()), "t h w c -> c t h w")], dim=0)
        indiv = np.stack([mel_window(mel, j - 1) for j in range(start, start + SYNC_FRAMES)])
        return (x, torch.from_numpy(indiv)[:, None], torch.from_numpy(mel_window(mel, start))[None], y)
