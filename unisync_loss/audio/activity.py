"""Is there any sound? Loudness of waveforms, so that silent or empty audio can be told apart downstream.

Silent input still gives finite features (mel clips at -4, HuBERT sees zeros), so callers that must not learn from
silence check :func:`is_silent` on the waveform rather than on the features.
"""

from __future__ import annotations

import torch

from ..validation import check_floating, check_rank


def rms_db(wave: torch.Tensor, floor_db: float = -120.0) -> torch.Tensor:
    """Root-mean-square level ``(B,)`` in dB relative to full scale (1.0) of ``(B, S)`` float waveforms."""
    check_rank(wave, "wave", (2,), "(B, S) waveform")
    check_floating(wave, "wave")
    if wave.shape[1] == 0:
        raise ValueError("wave: expected at least one sample per waveform, got shape " f"{tuple(wave.shape)}")
    power = wave.float().pow(2).mean(dim=1)
    return (10.0 * torch.log10(power.clamp_min(1e-30))).clamp_min(floor_db)


def is_silent(wave: torch.Tensor, threshold_db: float = -60.0) -> torch.Tensor:
    """``(B,)`` bool: True where the RMS level of ``(B, S)`` waveforms is below ``threshold_db`` dBFS."""
    return rms_db(wave) < threshold_db
