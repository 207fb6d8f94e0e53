"""Sample-rate conversion and channel mixing to the 16 kHz mono waveforms every frontend expects."""

from __future__ import annotations

import math

import torch
import torchaudio

from ..validation import check_floating, check_rank


def resample(wave: torch.Tensor, orig_rate: int, new_rate: int = 16000) -> torch.Tensor:
    """Band-limited (windowed sinc) resampling along the last axis; ``(..., S) -> (..., S')`` float."""
    check_rank(wave, "wave", (1, 2, 3), "(S,), (B, S) or (B, C, S)")
    check_floating(wave, "wave")
    for name, rate in (("orig_rate", orig_rate), ("new_rate", new_rate)):
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate <= 0:
            raise ValueError(f"{name}: expected a positive sample rate in Hz, got {rate!r}")
        if int(rate) != rate:
            raise ValueError(f"{name}: expected an integer sample rate in Hz, got {rate!r}")
    orig_rate, new_rate = int(orig_rate), int(new_rate)
    if orig_rate == new_rate:
        return wave
    return torchaudio.functional.resample(wave, orig_rate, new_rate)
