"""SyncNet's audio features: MFCCs exactly as syncnet_python computes them.

``python_speech_features.mfcc`` with its defaults on the 16 kHz waveform in int16 scale: 13 cepstra, 26 mel filters,
FFT size 512, 25 ms windows every 10 ms (100 frames/s, 4 per video frame at 25 fps), pre-emphasis 0.97, cepstral
lifter 22, log frame energy in place of the first cepstrum.
"""

from __future__ import annotations

import numpy as np
import torch

from ..validation import describe

SAMPLE_RATE = 16000
#: MFCC frames per second and per 25 fps video frame.
MFCC_RATE, MFCC_PER_FRAME = 100, 4
#: Audio samples per 25 fps video frame.
SAMPLES_PER_FRAME = SAMPLE_RATE // 25
INT16_SCALE = 32768.0


def to_int16_scale(audio) -> np.ndarray:
    """Mono 16 kHz audio as float64 in int16 units: int16 arrays as they are, floats in [-1, 1] times 32768.

    ``audio``: ``(S,)`` numpy array or tensor, int16 or floating point. Floats that came from int16 (x / 32768) map
    back exactly.
    """
    if isinstance(audio, torch.Tensor):
        audio = audio.detach().cpu().numpy()
    if not isinstance(audio, np.ndarray) or audio.ndim != 1 or len(audio) == 0:
        raise ValueError(f"audio: expected a non-empty 1-D 16 kHz waveform (S,), got {describe(audio)}")
    if audio.dtype == np.int16:
        return audio.astype(np.float64)
    if not np.issubdtype(audio.dtype, np.floating):
        raise ValueError(f"audio: expected int16 or float samples in [-1, 1], got {describe(audio)}")
    if not np.isfinite(audio).all():
        raise ValueError(f"audio: expected finite samples, got NaN/inf in {describe(audio)}")
    peak = float(np.abs(audio).max())
    if peak > 1.0 + 1e-6:
        raise ValueError(f"audio: expected float samples in [-1, 1], got peak {peak:.4g} (int16 data? pass it as int16)")
    return audio.astype(np.float64) * INT16_SCALE


def syncnet_mfcc(audio) -> np.ndarray:
    """``(S,)`` 16 kHz waveform (see :func:`to_int16_scale`) -> ``(13, M)`` float64 MFCCs, ``M = 1 + ceil((S-400)/160)``."""
    return mfcc_of_samples(to_int16_scale(audio))


def mfcc_of_samples(samples: np.ndarray) -> np.ndarray:
    """Like :func:`syncnet_mfcc` for samples already checked and in int16 units (float64 ``(S,)``)."""
    try:
        import python_speech_features
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("SyncNet MFCCs need python_speech_features: pip install 'unisync-loss[score]'") from None
    if len(samples) < 400:
        raise ValueError(f"audio: expected at least 400 samples (25 ms at 16 kHz), got {len(samples)}")
    return np.ascontiguousarray(python_speech_features.mfcc(samples, SAMPLE_RATE).T)
