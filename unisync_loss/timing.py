"""Time alignment between video frames and audio feature frames.

Video frame ``i`` at ``fps`` starts at ``i / fps`` seconds; the audio feature frame that starts the matching window is
``floor(i * rate / fps)``, and a 0.2 s window spans ``round(0.2 * rate)`` feature frames. Special cases:
Wav2Lip (mel, 80/s, 25 fps): start ``int(80 * i / 25)``, 16 frames; GeneFace (HuBERT, 50/s): ``2 i .. 2 i + 10``.
"""

from __future__ import annotations

import math

import torch

from .representations.base import WINDOW_SECONDS
from .validation import is_integer

_EPS = 1e-9  # guards floor() against 15.999999 from binary fractions such as 80 * 0.2


def _check_rate(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return float(value)


def frames_per_window(rate: float, seconds: float = WINDOW_SECONDS) -> int:
    """Feature frames in a window of ``seconds`` at ``rate`` frames/s (16 for mel, 10 for HuBERT, 5 for video)."""
    return round(_check_rate(rate, "rate") * _check_rate(seconds, "seconds"))


def audio_frame_index(video_frame: int, fps: float, rate: float) -> int:
    """Index of the audio feature frame at which video frame ``video_frame`` (at ``fps``) starts."""
    if not is_integer(video_frame) or video_frame < 0:
        raise ValueError(f"video_frame: expected a non-negative integer, got {video_frame!r}")
    return math.floor(video_frame * _check_rate(rate, "rate") / _check_rate(fps, "fps") + _EPS)


def audio_window_indices(video_starts: torch.Tensor, fps: float, rate: float, window: int) -> torch.Tensor:
    """``(N,)`` integer video start frames -> ``(N, window)`` audio feature frame indices, on the same device."""
    if not isinstance(video_starts, torch.Tensor) or video_starts.ndim != 1 or video_starts.is_floating_point():
        raise ValueError(f"video_starts: expected a 1-D integer tensor, got {video_starts!r}")
    scale = _check_rate(rate, "rate") / _check_rate(fps, "fps")
    first = torch.floor(video_starts.double() * scale + _EPS).long()
    return first[:, None] + torch.arange(window, device=video_starts.device)[None, :]


def audio_frames_needed(num_video_frames: int, fps: float, rate: float, stride: int = 1) -> int:
    """Audio feature frames needed to cover every window of a ``num_video_frames`` clip (windows of 0.2 s)."""
    video_window = frames_per_window(fps)
    if num_video_frames < video_window:
        raise ValueError(f"num_video_frames: expected at least {video_window}, got {num_video_frames}")
    last = (num_video_frames - video_window) // stride * stride
    return audio_frame_index(last, fps, rate) + frames_per_window(rate)


def video_frames_in(num_samples: int, fps: float, sample_rate: float = 16000) -> int:
    """Whole video frames at ``fps`` spanned by ``num_samples`` audio samples at ``sample_rate`` Hz."""
    if not is_integer(num_samples) or num_samples < 0:
        raise ValueError(f"num_samples: expected a non-negative integer, got {num_samples!r}")
    return math.floor(num_samples * _check_rate(fps, "fps") / _check_rate(sample_rate, "sample_rate") + _EPS)


def samples_for_video_frames(num_video_frames: int, fps: float, sample_rate: float = 16000) -> int:
    """Audio samples (rounded) spanning ``num_video_frames`` frames at ``fps``: 640 per frame at 25 fps, 16 kHz."""
    if not is_integer(num_video_frames) or num_video_frames < 0:
        raise ValueError(f"num_video_frames: expected a non-negative integer, got {num_video_frames!r}")
    return round(num_video_frames * _check_rate(sample_rate, "sample_rate") / _check_rate(fps, "fps"))


def window_sample_span(video_frame: int, fps: float, sample_rate: float = 16000,
                       seconds: float = WINDOW_SECONDS) -> tuple[int, int]:
    """``(start, stop)`` audio sample indices of the ``seconds`` window starting at video frame ``video_frame``."""
    start = audio_frame_index(video_frame, fps, sample_rate)
    return start, start + round(_check_rate(sample_rate, "sample_rate") * _check_rate(seconds, "seconds"))
