"""Clip-grouped batches: ``clips_per_batch`` clips x ``windows_per_clip`` windows of each, every audio window of the
batch scored against every visual window.

One batch of ``N = G * W`` aligned windows gives ``N`` positives and ``N * (N - 1)`` negatives for the price of ``N``
audio and ``N`` visual forward passes: the windows of one clip are each other's same-speaker shifted negatives (the
hard ones, same face and voice), the other clips supply other-clip and cross-speaker negatives. Which pairs the
objective uses, and with what label, is decided from the batch's ``clip``, ``start`` and ``speaker`` tensors
(:mod:`train_expert.objectives`).

Batch ``i`` of epoch ``e`` is a pure function of ``(seed, e, i)``, as for :class:`~train_expert.sampling.SyncPairDataset`,
so resumed runs and any number of loader workers see the same batches.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from unisync_loss.validation import check_positive_int

from .windows import WindowSource


class ClipGroupBatches(Dataset):
    """``length`` batches per epoch; item ``i`` is a whole batch (use ``DataLoader(batch_size=None)``).

    Args:
        source: windows of one split.
        length: batches per epoch.
        clips_per_batch: distinct clips in a batch (``G``); clips are drawn in proportion to their length.
        windows_per_clip: distinct window starts per clip (``W``); a clip must have at least ``W`` starts.
        seed: base seed; :meth:`set_epoch` draws new batches each epoch.
    """

    def __init__(self, source: WindowSource, length: int, clips_per_batch: int, windows_per_clip: int, seed: int = 0):
        for name, value in (("length", length), ("clips_per_batch", clips_per_batch),
                            ("windows_per_clip", windows_per_clip)):
            check_positive_int(value, name)
        if clips_per_batch > len(source.clips):
            raise ValueError(f"clips_per_batch: {clips_per_batch} exceeds the {len(source.clips)} usable clips of the "
                             f"{source.split} split")
        starts = np.array([c.num_starts for c in source.clips], dtype=float)
        if starts.min() < windows_per_clip:
            raise ValueError(f"windows_per_clip: {windows_per_clip} needs clips with at least that many windows; build "
                             f"the WindowSource with min_starts >= {windows_per_clip}")
        self.source, self.length, self.seed, self.epoch = source, length, seed, 0
        self.clips_per_batch, self.windows_per_clip = clips_per_batch, windows_per_clip
        self._weights = starts / starts.sum()

    @property
    def batch_size(self) -> int:
        """Windows per batch, ``G * W``."""
        return self.clips_per_batch * self.windows_per_clip

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Any]:
        """Dict: ``audio`` ``(N, audio window, F)``, ``visual`` ``(N, 5, *frame_shape)``, ``clip``, ``start``,
        ``speaker`` int64 ``(N,)`` (indices into the source; windows of one clip are contiguous)."""
        if not 0 <= index < self.length:
            raise IndexError(f"index: expected 0 <= index < {self.length}, got {index}")
        rng = np.random.default_rng([self.seed, self.epoch, index, 7])
        clips = rng.choice(len(self.source.clips), size=self.clips_per_batch, replace=False, p=self._weights)
        audio, visual, clip_ids, starts, speakers = [], [], [], [], []
        for clip in (int(c) for c in clips):
            entry = self.source.clips[clip]
            for start in np.sort(rng.choice(entry.num_starts, size=self.windows_per_clip, replace=False)):
                audio.append(self.source.audio_window(clip, int(start)))
                visual.append(self.source.visual_window(clip, int(start)))
                clip_ids.append(clip)
                starts.append(int(start))
                speakers.append(entry.speaker)
        return {
            "audio": torch.from_numpy(np.stack(audio)),
            "visual": torch.from_numpy(np.stack(visual)),
            "clip": torch.tensor(clip_ids),
            "start": torch.tensor(starts),
            "speaker": torch.tensor(speakers),
        }
