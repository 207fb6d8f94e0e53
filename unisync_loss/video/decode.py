"""Decoding real videos with PyAV (FFmpeg inside the wheel, no subprocess): constant-rate frames and 16 kHz mono audio.

Frames are resampled in time like ffmpeg's ``-r 25``: output frame ``n`` shows the source frame on screen at time
``t0 + n / fps`` (``t0`` = first video frame), i.e. source frame ``i`` fills the output slots from
``round((t_i - t0) * fps)`` up to the slot of the next source frame. A 22.13 fps, 30 fps or variable-rate source
therefore becomes exactly 25 fps with frames repeated or dropped by their timestamps, never by their count.
Audio sample 0 is the sound at ``t0``: leading audio before the first frame is cut, a late-starting audio stream is
padded with silence, so the two streams keep the alignment the container gives them.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import av
import numpy as np

DEFAULT_FPS = 25.0
DEFAULT_SAMPLE_RATE = 16000


class VideoDecodeError(ValueError):
    """A file that cannot be used as a talking-face clip; ``str(err)`` says why (logged as a skip reason)."""


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a file (no frame is decoded)."""

    path: str
    width: int
    height: int
    source_fps: float          # average frame rate of the video stream
    duration: float            # seconds, video stream (container duration when the stream has none)
    start_time: float          # seconds, first video timestamp announced by the container
    video_codec: str
    audio_codec: str | None    # None: no audio stream
    audio_sample_rate: int | None
    audio_channels: int | None


@dataclass
class VideoData:
    """A decoded clip: ``frames`` uint8 ``(T, H, W, 3)`` RGB at ``fps``, ``audio`` float32 ``(S,)`` in [-1, 1].

    ``audio`` is None when read with ``with_audio=False``. ``start_time`` is the source time (s) of frame 0 and
    audio sample 0.
    """

    frames: np.ndarray
    audio: np.ndarray | None
    fps: float
    sample_rate: int
    source_fps: float
    start_time: float
    info: VideoInfo

    @property
    def num_frames(self) -> int:
        return len(self.frames)

    @property
    def duration(self) -> float:
        return len(self.frames) / self.fps


def _check_path(path: str | os.PathLike) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"path: expected a file path (str or PathLike), got {type(path).__name__} {path!r}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no such video file {str(path)!r}")
    return path


def _check_rate(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return float(value)


def _open(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as err:
        raise VideoDecodeError(f"{path.name}: cannot open as a media file ({err})") from err


def _video_stream(container, path: Path):
    if not container.streams.video:
        raise VideoDecodeError(f"{path.name}: no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    return stream


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Read the container header of ``path``: sizes, rates, codecs, duration. Raises VideoDecodeError if unusable."""
    path = _check_path(path)
    with _open(path) as container:
        video = _video_stream(container, path)
        audio = container.streams.audio[0] if container.streams.audio else None
        tb = float(video.time_base) if video.time_base else 0.0
        duration = video.duration * tb if video.duration else (container.duration or 0) / av.time_base
        rate = video.average_rate or video.guessed_rate or video.base_rate
        return VideoInfo(
            path=str(path), width=video.codec_context.width, height=video.codec_context.height,
            source_fps=float(rate) if rate else float("nan"), duration=float(duration),
            start_time=float(video.start_time * tb) if video.start_time is not None else 0.0,
            video_codec=video.codec_context.name,
            audio_codec=audio.codec_context.name if audio else None,
            audio_sample_rate=audio.codec_context.sample_rate if audio else None,
            audio_channels=audio.codec_context.channels if audio else None,
        )


def _timed_frames(path: Path, max_gap: float) -> Iterator[tuple[float, float, np.ndarray]]:
    """Yield ``(time_s, duration_s, rgb uint8 (H, W, 3))`` of each decodable source frame in presentation order."""
    with _open(path) as container:
        stream = _video_stream(container, path)
        rate = stream.average_rate or stream.guessed_rate
        nominal = 1.0 / float(rate) if rate else 1.0 / DEFAULT_FPS
        size, last_time = None, None
        try:
            for frame in container.decode(stream):
                time = frame.time if frame.time is not None else (last_time or 0.0) + nominal
                if size is None:
                    size = (frame.width, frame.height)
                elif (frame.width, frame.height) != size:
                    raise VideoDecodeError(
                        f"{path.name}: frame size changes mid-stream from {size[0]}x{size[1]} to "
                        f"{frame.width}x{frame.height} at {time:.3f} s"
                    )
                if last_time is not None and time < last_time - max_gap:
                    raise VideoDecodeError(f"{path.name}: timestamps jump back from {last_time:.3f} s to {time:.3f} s")
                if last_time is not None and time <= last_time:
                    continue  # duplicate or slightly out-of-order timestamp: ffmpeg drops these too
                if last_time is not None and time - last_time > max_gap:
                    raise VideoDecodeError(
                        f"{path.name}: {time - last_time:.3f} s without video frames at {last_time:.3f} s "
                        f"(more than max_gap={max_gap} s)"
                    )
                duration = float(frame.duration * frame.time_base) if frame.duration and frame.time_base else nominal
                last_time = time
                yield time, duration, frame.to_ndarray(format="rgb24")
        except av.FFmpegError as err:
            raise VideoDecodeError(f"{path.name}: video decoding failed ({err})") from err
        if size is None:
            raise VideoDecodeError(f"{path.name}: the video stream holds no decodable frame")


def iter_frames(path: str | os.PathLike, fps: float = DEFAULT_FPS, max_gap: float = 0.5) -> Iterator[np.ndarray]:
    """Stream the video of ``path`` at a constant ``fps``: yields uint8 ``(H, W, 3)`` RGB frames.

    Only one source frame is held at a time, so a video of any length streams in constant memory. Raises
    VideoDecodeError (a ValueError) for a file without decodable video, a frame size that changes mid-stream, or a
    hole longer than ``max_gap`` seconds between timestamps (which would otherwise be filled with a frozen frame).
    """
    path = _check_path(path)
    fps = _check_rate(fps, "fps")
    max_gap = _check_rate(max_gap, "max_gap")
    t0, previous, emitted, end = None, None, 0, 0.0
    for time, duration, rgb in _timed_frames(path, max_gap):
        if t0 is None:
            t0 = time
        slot = math.floor((time - t0) * fps + 0.5)
        while previous is not None and emitted < slot:
            yield previous
            emitted += 1
        previous, end = rgb, time + duration
    # The last source frame stays on screen until its end time.
    last_slot = math.floor((end - t0) * fps + 0.5)
    while emitted < max(last_slot, emitted + (emitted == 0)):
        yield previous
        emitted += 1


def first_frame_time(path: str | os.PathLike) -> float:
    """Presentation time (s) of the first decodable video frame: the time origin of frames and audio."""
    for time, _, _ in _timed_frames(_check_path(path), max_gap=float("inf")):
        return time
    raise VideoDecodeError(f"{Path(path).name}: the video stream holds no decodable frame")  # pragma: no cover


def read_audio(path: str | os.PathLike, sample_rate: int = DEFAULT_SAMPLE_RATE, start_time: float | None = None
               ) -> np.ndarray:
    """Audio of ``path`` as float32 ``(S,)`` mono (channel mean) at ``sample_rate`` Hz, resampled while decoding.

    ``start_time``: source time (s) that becomes sample 0; default the first video frame's time (audio-only files:
    the audio stream's own start). Raises VideoDecodeError when there is no audio stream or no decodable audio.
    """
    path = _check_path(path)
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ValueError(f"sample_rate: expected a positive integer in Hz, got {sample_rate!r}")
    if start_time is None:
        with _open(path) as container:
            has_video = bool(container.streams.video)
        start_time = first_frame_time(path) if has_video else None
    chunks, audio_start = [], None
    with _open(path) as container:
        if not container.streams.audio:
            raise VideoDecodeError(f"{path.name}: no audio stream")
        stream = container.streams.audio[0]
        resampler = None
        try:
            for frame in container.decode(stream):
                if resampler is None:
                    audio_start = frame.time if frame.time is not None else 0.0
                    resampler = av.AudioResampler(format="fltp", layout=frame.layout.name, rate=sample_rate)
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().mean(axis=0))
            if resampler is not None:
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray().mean(axis=0))
        except av.FFmpegError as err:
            raise VideoDecodeError(f"{path.name}: audio decoding failed ({err})") from err
    wave = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    if len(wave) == 0:
        raise VideoDecodeError(f"{path.name}: the audio stream holds no decodable samples")
    if start_time is not None:
        shift = int(round((audio_start - start_time) * sample_rate))
        wave = np.concatenate([np.zeros(shift, np.float32), wave]) if shift > 0 else wave[-shift:]
    return np.clip(wave, -1.0, 1.0)


def read_video(path: str | os.PathLike, fps: float = DEFAULT_FPS, sample_rate: int = DEFAULT_SAMPLE_RATE,
               with_audio: bool = True, max_gap: float = 0.5) -> VideoData:
    """Decode ``path`` whole: frames at a constant ``fps`` and (unless ``with_audio=False``) aligned 16 kHz audio.

    For long videos prefer :func:`iter_frames` (streaming). Raises VideoDecodeError for unusable files.
    """
    path = _check_path(path)
    info = probe_video(path)
    frames = list(iter_frames(path, fps=fps, max_gap=max_gap))
    start = first_frame_time(path)
    audio = read_audio(path, sample_rate, start_time=start) if with_audio else None
    return VideoData(frames=np.stack(frames), audio=audio, fps=float(fps), sample_rate=sample_rate,
                     source_fps=info.source_fps, start_time=start, info=info)
