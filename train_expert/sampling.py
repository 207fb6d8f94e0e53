"""Training pairs: balanced positives and negatives, each carrying its :class:`SampleKind`.

Pair ``i`` of epoch ``e`` is a pure function of ``(seed, e, i)``, so the data are the same whatever the number of
workers, and a resumed run sees exactly the batches it would have seen. Kinds follow the configured shares exactly
over every prefix of the index (a low-discrepancy rule, not coin flips):

* positive: audio and video of the same clip at the same window start;
* same-speaker negative: the same clip's audio shifted by ``min_shift <= |d| <= max_shift`` video frames, or (at
  ``other_clip_share`` of them) a window of another clip of the same speaker;
* cross-speaker negative (``cross_share`` of the negatives): a window of a clip of another speaker.

A speaker with a single clip gets shifted negatives only; a split with a single speaker cannot give cross negatives.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler, Sampler

from unisync_loss import SampleKind
from unisync_loss.validation import check_positive_int

from .windows import WindowSource

_EPS = 1e-9


def _takes(index: int, share: float) -> bool:
    """Whether item ``index`` of a sequence is among the ``share`` taken: exact over every prefix."""
    return math.floor((index + 1) * share + _EPS) > math.floor(index * share + _EPS)


def _count_taken(index: int, share: float) -> int:
    """How many of items ``0 .. index - 1`` :func:`_takes` takes."""
    return math.floor(index * share + _EPS)


class SyncPairDataset(Dataset):
    """``length`` pairs per epoch drawn from ``source``; item -> dict of tensors (see :meth:`__getitem__`).

    Args:
        source: windows of one split.
        length: pairs per epoch.
        seed: base seed; call :meth:`set_epoch` to draw new pairs each epoch.
        positive_share, cross_share, other_clip_share, min_shift, max_shift: see the module docstring.
    """

    def __init__(self, source: WindowSource, length: int, seed: int = 0, positive_share: float = 0.5,
                 cross_share: float = 0.2, other_clip_share: float = 0.5, min_shift: int = 2, max_shift: int = 15):
        check_positive_int(length, "length")
        check_positive_int(min_shift, "min_shift")
        if max_shift < min_shift:
            raise ValueError(f"max_shift: expected >= min_shift ({min_shift}), got {max_shift}")
        for name, value in (("positive_share", positive_share), ("cross_share", cross_share),
                            ("other_clip_share", other_clip_share)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}: expected a share in [0, 1], got {value!r}")
        if cross_share > 0 and len(source.clips_of_speaker) < 2:
            raise ValueError(
                f"cross_share: {cross_share} needs at least two speakers in the {source.split} split, found "
                f"{len(source.clips_of_speaker)}; set cross_share to 0"
            )
        self.source, self.length, self.seed, self.epoch = source, length, seed, 0
        self.positive_share, self.cross_share, self.other_clip_share = positive_share, cross_share, other_clip_share
        self.min_shift, self.max_shift = min_shift, max_shift
        starts = np.array([c.num_starts for c in source.clips])
        too_short = [c.clip_id for c in source.clips if c.num_starts <= min_shift]
        if too_short:
            raise ValueError(
                f"min_shift: clips {too_short[:5]} have {min_shift} or fewer windows, too few for a shifted negative; "
                f"build the WindowSource with min_starts > {min_shift}"
            )
        self._cumulative = np.concatenate([[0], np.cumsum(starts)])

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.length

    def kind_of(self, index: int) -> tuple[SampleKind, bool]:
        """``(kind, from_other_clip)`` of item ``index`` of the epoch (same for every epoch)."""
        if _takes(index, self.positive_share):
            return SampleKind.POSITIVE, False
        negative = index - _count_taken(index + 1, self.positive_share)
        if _takes(negative, self.cross_share):
            return SampleKind.CROSS_SPEAKER, True
        same = negative - _count_taken(negative + 1, self.cross_share)
        return SampleKind.SAME_SPEAKER, _takes(same, self.other_clip_share)

    def __getitem__(self, index: int) -> dict[str, Any]:
        """Dict: ``audio`` float ``(audio window, F)``, ``visual`` ``(5, *frame_shape)``, ``kind`` int64 (SampleKind),
        ``offset`` (audio start - video start in frames; 0 for other-clip pairs), ``audio_speaker``,
        ``visual_speaker``, ``audio_clip``, ``visual_clip`` (indices into the source)."""
        if not 0 <= index < self.length:
            raise IndexError(f"index: expected 0 <= index < {self.length}, got {index}")
        rng = np.random.default_rng([self.seed, self.epoch, index])
        kind, other_clip = self.kind_of(index)
        clip, start = self._random_window(rng)
        audio_clip, audio_start = clip, start
        speaker = self.source.clips[clip].speaker
        if kind == SampleKind.CROSS_SPEAKER:
            audio_clip, audio_start = self._window_of(rng, [s for s in self.source.clips_of_speaker if s != speaker])
        elif kind == SampleKind.SAME_SPEAKER:
            others = [c for c in self.source.clips_of_speaker[speaker] if c != clip]
            if other_clip and others:
                audio_clip = int(rng.choice(others))
                audio_start = int(rng.integers(self.source.clips[audio_clip].num_starts))
            else:
                audio_start = start + self._shift(rng, start, self.source.clips[clip].num_starts)
        source = self.source
        return {
            "audio": torch.from_numpy(source.audio_window(audio_clip, audio_start)),
            "visual": torch.from_numpy(source.visual_window(clip, start)),
            "kind": torch.tensor(int(kind)),
            "offset": torch.tensor(audio_start - start if audio_clip == clip else 0),
            "audio_speaker": torch.tensor(source.clips[audio_clip].speaker),
            "visual_speaker": torch.tensor(speaker),
            "audio_clip": torch.tensor(audio_clip),
            "visual_clip": torch.tensor(clip),
        }

    def _random_window(self, rng: np.random.Generator) -> tuple[int, int]:
        flat = int(rng.integers(self._cumulative[-1]))
        clip = int(np.searchsorted(self._cumulative, flat, side="right") - 1)
        return clip, flat - int(self._cumulative[clip])

    def _window_of(self, rng: np.random.Generator, speakers: list[int]) -> tuple[int, int]:
        candidates = [c for s in speakers for c in self.source.clips_of_speaker[s]]
        clip = int(rng.choice(candidates))
        return clip, int(rng.integers(self.source.clips[clip].num_starts))

    def _shift(self, rng: np.random.Generator, start: int, num_starts: int) -> int:
        magnitudes = np.arange(self.min_shift, self.max_shift + 1)
        offsets = np.concatenate([-magnitudes, magnitudes])
        valid = offsets[(start + offsets >= 0) & (start + offsets < num_starts)]
        return int(rng.choice(valid))

    def describe(self) -> str:
        """The pair distribution in words (for reports)."""
        return (
            f"{self.positive_share:.0%} positives; negatives: {self.cross_share:.0%} cross-speaker, "
            f"{1 - self.cross_share:.0%} same-speaker (of which {self.other_clip_share:.0%} from another clip of the "
            f"speaker when it has one, the rest the same clip shifted by {self.min_shift}..{self.max_shift} frames)"
        )


class ResumableDistributedSampler(Sampler[int]):
    """:class:`DistributedSampler` order for an epoch, started at a given batch (to resume mid-epoch).

    ``set_position(epoch, batches_done)`` skips the first ``batches_done * batch_size`` indices of this rank.
    """

    def __init__(self, dataset: Dataset, num_replicas: int, rank: int, batch_size: int, seed: int = 0):
        self.inner = DistributedSampler(dataset, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed,
                                        drop_last=True)
        self.batch_size, self.skip = batch_size, 0

    def set_position(self, epoch: int, batches_done: int = 0) -> None:
        self.inner.set_epoch(epoch)
        self.skip = batches_done * self.batch_size

    def __iter__(self):
        return iter(list(self.inner)[self.skip:])

    def __len__(self) -> int:
        return max(0, len(self.inner) - self.skip)
