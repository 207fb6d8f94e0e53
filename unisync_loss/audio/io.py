"""Read audio from any file FFmpeg understands (wav/flac/mp3, or the audio track of mp4/avi/mkv) and bring samples
of any integer or float type, channel count and sample rate to the 16 kHz mono float32 waveform the frontends expect.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ..representations.base import SAMPLE_RATE
from ..validation import describe, is_integer
from .resample import check_sample_rate, resample

#: Integer sample types and the value that maps to full scale (1.0).
_INT_SCALES = {np.dtype("int16"): 32768.0, np.dtype("int32"): 2147483648.0, np.dtype("int8"): 128.0}
_MAX_CHANNELS = 16


def to_float(samples, name: str = "samples") -> np.ndarray:
    """int8/int16/int32 PCM (full scale -> [-1, 1)), uint8 (offset 128) or float -> float32, same shape."""
    array = samples.detach().cpu().numpy() if isinstance(samples, torch.Tensor) else np.asarray(samples)
    if array.dtype in _INT_SCALES:
        return (array.astype(np.float32) / _INT_SCALES[array.dtype]).astype(np.float32)
    if array.dtype == np.uint8:
        return (array.astype(np.float32) - 128.0) / 128.0
    if np.issubdtype(array.dtype, np.floating):
        return array.astype(np.float32, copy=False)
    raise ValueError(f"{name}: expected int8/int16/int32/uint8 PCM or float samples, got {describe(array)}")


def as_waveform(samples, sample_rate: int, name: str = "samples") -> torch.Tensor:
    """Samples ``(S,)``, ``(C, S)`` or ``(S, C)`` (C <= 16 channels) at ``sample_rate`` Hz -> ``(S',)`` float32 mono
    at 16 kHz. Channels are averaged; the rate is changed with a band-limited resampler; NaN/inf are refused."""
    check_sample_rate(sample_rate, "sample_rate")
    wave = to_float(samples, name)
    if wave.ndim == 2:
        if wave.shape[0] <= _MAX_CHANNELS < wave.shape[1]:
            wave = wave.mean(axis=0)
        elif wave.shape[1] <= _MAX_CHANNELS < wave.shape[0]:
            wave = wave.mean(axis=1)
        else:
            raise ValueError(f"{name}: expected (S,), (C, S) or (S, C) with C <= {_MAX_CHANNELS}, got {describe(wave)}")
    elif wave.ndim != 1:
        raise ValueError(f"{name}: expected (S,), (C, S) or (S, C) samples, got {describe(wave)}")
    if wave.size == 0:
        raise ValueError(f"{name}: expected at least one sample, got {describe(wave)}")
    if not np.isfinite(wave).all():
        raise ValueError(f"{name}: expected finite samples, got {int((~np.isfinite(wave)).sum())} NaN/inf values")
    return resample(torch.from_numpy(np.ascontiguousarray(wave)), sample_rate, SAMPLE_RATE)


def read_audio(path: str | os.PathLike, stream: int = 0) -> tuple[np.ndarray, int]:
    """Decode audio track ``stream`` of a file at its own rate: ``((C, S) float32, sample_rate)``.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file when it cannot be decoded,
    has no audio track or holds no samples.
    """
    import av

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such audio or video file")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as err:
        raise ValueError(f"{path}: unreadable as an audio or video file ({err})") from err
    with container:
        tracks = container.streams.audio
        if len(tracks) == 0:
            kinds = ", ".join(f"{s.type} ({s.codec_context.name})" for s in container.streams) or "none"
            raise ValueError(f"{path}: has no audio track (streams: {kinds})")
        if not is_integer(stream) or not 0 <= stream < len(tracks):
            raise ValueError(f"stream: {path} has {len(tracks)} audio track(s), got index {stream!r}")
        track = tracks[stream]
        planar = av.AudioResampler(format="fltp")  # sample format only: rate and channels are kept as they are
        blocks = []
        try:
            for frame in container.decode(track):
                blocks.extend(f.to_ndarray() for f in planar.resample(frame))
            blocks.extend(f.to_ndarray() for f in planar.resample(None))
        except av.FFmpegError as err:
            raise ValueError(f"{path}: audio track {stream} could not be decoded ({err})") from err
        rate = track.codec_context.sample_rate or track.rate
    if not blocks or sum(b.shape[1] for b in blocks) == 0:
        raise ValueError(f"{path}: audio track {stream} holds no samples")
    return np.concatenate(blocks, axis=1).astype(np.float32, copy=False), int(rate)


def load_audio(path: str | os.PathLike, stream: int = 0) -> torch.Tensor:
    """The audio of a file as a ``(S,)`` float32 mono waveform at 16 kHz (channels averaged, rate converted)."""
    samples, rate = read_audio(path, stream)
    return as_waveform(samples, rate, name=str(path))
