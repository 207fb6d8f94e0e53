"""Input checks shared by the audio frontends."""

from __future__ import annotations

import torch

from ..representations.base import SAMPLE_RATE, WINDOW_SECONDS
from ..validation import check_finite, check_floating, check_rank, describe

#: Shortest waveform a frontend accepts: one 0.2 s sync window at 16 kHz.
MIN_SAMPLES = round(WINDOW_SECONDS * SAMPLE_RATE)


def check_waveform(wave: torch.Tensor, name: str = "wave", min_samples: int = MIN_SAMPLES) -> torch.Tensor:
    """Require a floating ``(B, S)`` waveform with ``S >= min_samples``; values are read (NaN/inf refused) on CPU only.

    On CUDA the finiteness check is skipped so that a frontend never synchronises the device.
    """
    check_rank(wave, name, (2,), "(B, S) waveform at 16 kHz")
    check_floating(wave, name)
    if wave.shape[0] == 0:
        raise ValueError(f"{name}: expected a batch of at least one waveform, got {describe(wave)}")
    if wave.shape[1] < min_samples:
        raise ValueError(
            f"{name}: expected at least {min_samples} samples ({min_samples / SAMPLE_RATE:.3f} s at 16 kHz, one sync "
            f"window), got {describe(wave)}"
        )
    if wave.device.type == "cpu":
        check_finite(wave, name)
    return wave


def check_lengths(lengths, wave: torch.Tensor, name: str = "lengths", min_samples: int = MIN_SAMPLES) -> torch.Tensor:
    """Valid samples per item ``(B,)`` int64 on CPU (``None`` means every item fills the whole ``S``)."""
    batch, samples = wave.shape
    if lengths is None:
        return torch.full((batch,), samples, dtype=torch.long)
    lengths = torch.as_tensor(lengths)
    if lengths.shape != (batch,) or lengths.is_floating_point() or lengths.dtype == torch.bool:
        raise ValueError(f"{name}: expected {batch} integer sample counts (one per waveform), got {describe(lengths)}")
    lengths = lengths.detach().to("cpu", torch.long)
    if int(lengths.max()) > samples or int(lengths.min()) < min_samples:
        raise ValueError(
            f"{name}: expected every length in [{min_samples}, {samples}] samples (at least one 0.2 s window, at most "
            f"the padded length), got {lengths.tolist()}"
        )
    return lengths
