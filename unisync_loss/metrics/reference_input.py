"""What syncnet_python's evaluation feeds SyncNet for an encoded video: its frames after the JPEG round trip and its
16 kHz int16 audio, made without the RGB detour (see :mod:`.jpeg`).

Frames: the decoded 4:2:0 planes at 25 fps (:func:`unisync_loss.video.iter_frames`, ffmpeg's ``fps`` filter rule;
a 25 fps constant-rate file passes unchanged) -> :func:`.jpeg.planes_round_trip`. Exact for 4:2:0 videos in limited
or full range (nearly all H.264/HEVC/MPEG-4 files); other layouts are converted to yuv420p first, which ffmpeg
would not do. Audio: with the ``ffmpeg``
encoder, the reference's own command (``-async 1 -ac 1 -vn -acodec pcm_s16le -ar 16000``, piped); with ``pyav``,
:func:`unisync_loss.video.read_audio` rounded to int16 (equal to the reference for 16 kHz mono sources; other
sources go through a different resampler).
"""

from __future__ import annotations

import itertools
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..validation import check_positive_int
from .jpeg import ffmpeg_executable, planes_round_trip, resolve_encoder


@dataclass
class ReferenceInput:
    """``frames`` uint8 ``(T, H, W, 3)`` RGB after the JPEG round trip; ``audio`` int16 ``(S,)`` at 16 kHz."""

    frames: np.ndarray
    audio: np.ndarray
    encoder: str


def reference_audio(path: str | os.PathLike, encoder: str = "auto") -> np.ndarray:
    """16 kHz mono int16 ``(S,)`` audio of ``path`` as the reference extracts it (see the module docstring)."""
    if resolve_encoder(encoder) == "pyav":
        from ..video import read_audio

        wave = read_audio(path).astype(np.float64) * 32768.0
        return np.clip(np.rint(wave), -32768, 32767).astype(np.int16)
    base = [ffmpeg_executable(), "-nostdin", "-v", "error", "-i", str(path)]
    tail = ["-ac", "1", "-vn", "-acodec", "pcm_s16le", "-ar", "16000", "-f", "s16le", "-"]
    done = subprocess.run(base + ["-async", "1"] + tail, capture_output=True)
    if done.returncode != 0:  # FFmpeg releases without the deprecated -async option
        done = subprocess.run(base + tail, capture_output=True)
    if done.returncode != 0:
        raise ValueError(f"{Path(path).name}: ffmpeg could not extract audio: "
                         f"{done.stderr.decode(errors='replace')[-300:]}")
    if not done.stdout:
        raise ValueError(f"{Path(path).name}: no audio stream")
    return np.frombuffer(done.stdout, np.int16).copy()


def reference_input(path: str | os.PathLike, encoder: str = "auto", max_frames: int | None = None,
                    audio: str | os.PathLike | None = None) -> ReferenceInput:
    """Frames and audio of the video ``path`` exactly as syncnet_python's evaluation gives them to SyncNet.

    ``path``: a pre-cropped face video (the reference's evaluation input: 224x224; any frame rate is brought to
    25 fps first). ``encoder``: "ffmpeg", "pyav" or "auto". ``max_frames``: only the first frames. ``audio``: take
    the sound from this file instead of ``path``.
    """
    from ..video import iter_frames, probe_video

    if max_frames is not None:
        check_positive_int(max_frames, "max_frames", 6)
    used = resolve_encoder(encoder)
    info = probe_video(path)
    planes = np.stack(list(itertools.islice(iter_frames(path, pixel_format="yuv420p"), max_frames)))
    frames = planes_round_trip(planes, info.sample_aspect, used, full_range=info.full_range)
    sound = reference_audio(audio if audio is not None else path, used)
    if max_frames is not None:
        sound = sound[:max_frames * 640]
    return ReferenceInput(frames=frames, audio=sound, encoder=used)
