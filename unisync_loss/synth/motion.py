"""Motion unrelated to speech: head pose, blinks, brow motion, smiles and small facial nuisance deformations.

Everything is a smooth random function of time drawn from a generator, so that "something moved" is never evidence
of "the mouth moved with the sound".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..validation import check_positive_int
from .face_model import NUM_EXPRESSION


def smooth_noise(rng: np.random.Generator, num_frames: int, fps: float, channels: int, low_hz: float = 0.1,
                 high_hz: float = 0.8, components: int = 3) -> np.ndarray:
    """``(num_frames, channels)`` sums of random sinusoids between ``low_hz`` and ``high_hz``, unit RMS per channel."""
    check_positive_int(num_frames, "num_frames")
    check_positive_int(channels, "channels")
    if not 0 < low_hz <= high_hz:
        raise ValueError(f"low_hz/high_hz: expected 0 < low_hz <= high_hz, got {low_hz!r} and {high_hz!r}")
    t = np.arange(num_frames)[:, None, None] / fps
    freq = rng.uniform(low_hz, high_hz, (1, channels, components))
    phase = rng.uniform(0.0, 2 * np.pi, (1, channels, components))
    amp = rng.uniform(0.5, 1.0, (1, channels, components))
    return (amp * np.sin(2 * np.pi * freq * t + phase)).sum(-1) * np.sqrt(2.0 / (amp ** 2).sum(-1))


@dataclass
class HeadPose:
    """Per-frame pose: ``angles`` (T, 3) yaw, pitch, roll in radians; ``shift`` (T, 2) in crop pixels; ``scale`` (T,)
    relative size (1 = nominal)."""

    angles: np.ndarray
    shift: np.ndarray
    scale: np.ndarray


def head_pose(rng: np.random.Generator, num_frames: int, fps: float, amount: float = 1.0, size: int = 96) -> HeadPose:
    """Small smooth head rotations (about 5, 3 and 2 degrees RMS at ``amount=1``), translations and zoom."""
    if not isinstance(amount, (int, float)) or not 0 <= amount <= 5:
        raise ValueError(f"head_motion: expected a number in [0, 5], got {amount!r}")
    noise = smooth_noise(rng, num_frames, fps, 6, 0.05, 0.6)
    bias = rng.normal(0.0, 1.0, 6) * 0.5
    angles = np.deg2rad((noise[:, :3] + bias[:3]) * np.array([5.0, 3.0, 2.0]) * amount)
    shift = (noise[:, 3:5] + bias[3:5]) * 0.015 * size * amount
    scale = 1.0 + (noise[:, 5] + bias[5]) * 0.015 * amount
    return HeadPose(angles, shift, scale)


def blinks(rng: np.random.Generator, num_frames: int, fps: float, rate_hz: float = 0.3) -> np.ndarray:
    """Eye closure ``(num_frames,)`` in [0, 1]: blinks at random times (Poisson, ``rate_hz``), 0.1-0.25 s long."""
    check_positive_int(num_frames, "num_frames")
    if not isinstance(rate_hz, (int, float)) or not rate_hz > 0:
        raise ValueError(f"rate_hz: expected a positive blink rate in Hz, got {rate_hz!r}")
    closure = np.zeros(num_frames)
    t = np.arange(num_frames) / fps
    start = rng.exponential(1.0 / rate_hz) * 0.5
    while start < num_frames / fps:
        length = rng.uniform(0.1, 0.25)
        phase = (t - start) / length
        lid = np.sin(np.pi * np.clip(phase, 0, 1)) ** 0.7
        closure = np.maximum(closure, np.where((phase >= 0) & (phase <= 1), lid, 0))
        start += length + rng.exponential(1.0 / rate_hz)
    return closure


def nuisance_expression(rng: np.random.Generator, num_frames: int, fps: float, amount: float = 1.0) -> np.ndarray:
    """Expression coefficients 6..63 ``(num_frames, 58)``: smile, brows, blinks, squints and small deformations.

    ``amount`` in [0, 5] scales everything except blinks.
    """
    if not isinstance(amount, (int, float)) or not 0 <= amount <= 5:
        raise ValueError(f"amount: expected a number in [0, 5], got {amount!r}")
    out = np.zeros((num_frames, NUM_EXPRESSION - 6))
    slow = smooth_noise(rng, num_frames, fps, NUM_EXPRESSION - 6, 0.05, 0.5)
    out[:, 0] = np.clip(rng.uniform(-0.2, 0.6) + 0.3 * slow[:, 0], -0.5, 1.0)  # smile
    out[:, 1] = 0.4 * slow[:, 1]  # corner asymmetry
    raise_bumps = np.clip(smooth_noise(rng, num_frames, fps, 1, 0.2, 1.0)[:, 0] - 0.8, 0.0, None)
    out[:, 2:4] = 0.3 * slow[:, 2:4] + raise_bumps[:, None] * 1.2  # brow raises
    out[:, 4:6] = 0.3 * np.clip(slow[:, 4:6], 0.0, None)  # frowns
    closure = blinks(rng, num_frames, fps)
    out[:, 6] = closure
    out[:, 7] = np.clip(closure * rng.uniform(0.9, 1.0), 0.0, 1.0)
    out[:, 8:10] = 0.3 * np.clip(slow[:, 8:10], 0.0, None)  # squints
    out[:, 10:] = 0.4 * slow[:, 10:]
    scaled = np.ones(NUM_EXPRESSION - 6, dtype=bool)
    scaled[6:8] = False  # blinks keep their full size
    out[:, scaled] *= amount
    return out
