"""Sample-rate conversion to the 16 kHz waveforms every frontend expects."""

from __future__ import annotations

import math

import torch
import torchaudio

from ..validation import check_floating, check_rank


def check_sample_rate(rate, name: str) -> int:
    """Require a positive integer number of Hz (floats with an integer value such as 44100.0 are accepted)."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate <= 0:
        raise ValueError(f"{name}: expected a positive sample rate in Hz, got {rate!r}")
    if int(rate) != rate:
        raise ValueError(f"{name}: expected an integer sample rate in Hz, got {rate!r}")
    return int(rate)


def resample(wave: torch.Tensor, orig_rate: int, new_rate: int = 16000) -> torch.Tensor:
    """Band-limited (windowed sinc, torchaudio) resampling along the last axis; ``(..., S) -> (..., S')`` float."""
    check_rank(wave, "wave", (1, 2, 3), "(S,), (B, S) or (B, C, S)")
    check_floating(wave, "wave")
    orig_rate, new_rate = check_sample_rate(orig_rate, "orig_rate"), check_sample_rate(new_rate, "new_rate")
    if orig_rate == new_rate:
        return wave
    return torchaudio.functional.resample(wave, orig_rate, new_rate)
