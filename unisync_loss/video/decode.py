"""Decoding real videos with PyAV (FFmpeg inside the wheel, no subprocess): constant-rate frames and 16 kHz mono audio.

Frame-rate rule (the one of ffmpeg's ``fps`` filter with its defaults, ``-vf fps=25``): each source frame ``i`` with
presentation time ``t_i`` gets the output slot ``s_i = round((t_i - t0) * fps)``, rounded to nearest with ties
(exact half slots) going up, computed exactly on the rational timestamps (``t0`` = first video frame). Output frame
``n`` is the last source frame with ``s_i <= n``: a source frame is repeated until the next one's slot and dropped
when a later frame takes the same slot. The stream ends at the slot of the last frame's end time
(``round((t_end - t0) * fps)``), the last frame shown at least once. A 22.13 fps, 30 fps or variable-rate source
therefore becomes exactly 25 fps with frames repeated or dropped by their timestamps, never by their count. This is
not what ``-r 25`` as an output option does (ffmpeg's frame-rate conversion at the encoder, with its own
thresholds); see docs/preprocess.md for the measured difference.
Audio sample 0 is the sound at ``t0``: leading audio before the first frame is cut, a late-starting audio stream is
padded with silence, so the two streams keep the alignment the container gives them.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

DEFAULT_FPS = 25.0
DEFAULT_SAMPLE_RATE = 16000
#: Pixel formats :func:`iter_frames` yields: RGB ``(H, W, 3)``, or the 4:2:0 planes ``(H * 3 / 2, W)`` (Y, then U,
#: then V, as ``VideoFrame.to_ndarray`` gives them) as decoded, in the video's own range (``VideoInfo.full_range``).
PIXEL_FORMATS = ("rgb24", "yuv420p")

log = logging.getLogger(__name__)


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
    sample_aspect: Fraction | None = None  # pixel aspect ratio of the video stream; None: not signalled
    full_range: bool = False   # YUV in full (JPEG, "pc") range rather than limited ("tv") range


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
            start_time=_stream_start(video, path),
            video_codec=video.codec_context.name,
            audio_codec=audio.codec_context.name if audio else None,
            audio_sample_rate=audio.codec_context.sample_rate if audio else None,
            audio_channels=audio.codec_context.channels if audio else None,
            sample_aspect=Fraction(video.sample_aspect_ratio) if video.sample_aspect_ratio else None,
            full_range=_is_full_range(video.codec_context.pix_fmt, getattr(video.codec_context, "color_range", 0)),
        )


def _is_full_range(pixel_format: str | None, color_range: int | None) -> bool:
    return bool(pixel_format and pixel_format.startswith("yuvj")) or color_range == 2  # AVCOL_RANGE_JPEG


def _stream_start(stream, path: Path) -> float:
    """Start time (s) the container announces for ``stream``; 0 (logged, as it can shift audio against video) when
    it announces none."""
    if stream.start_time is not None and stream.time_base:
        return float(stream.start_time * stream.time_base)
    log.warning("%s: the %s stream announces no start time; assuming 0 s (audio and video may be shifted against "
                "each other by the difference)", path.name, stream.type)
    return 0.0


def _frame_array(frame: av.VideoFrame, pixel_format: str) -> np.ndarray:
    if pixel_format == "rgb24":
        return frame.to_ndarray(format="rgb24")
    if frame.format.name in ("yuv420p", "yuvj420p"):  # the same planes; the range is the stream's
        return frame.to_ndarray()
    return frame.reformat(format="yuv420p").to_ndarray()  # other YUV layouts or depths: converted by libswscale


def _timed_frames(path: Path, max_gap: float, pixel_format: str = "rgb24"
                  ) -> Iterator[tuple[Fraction, Fraction, np.ndarray]]:
    """Yield ``(time_s, duration_s, picture)`` of each decodable source frame in presentation order, times exact.

    ``picture``: uint8 ``(H, W, 3)`` RGB, or ``(H * 3 / 2, W)`` 4:2:0 planes (see :data:`PIXEL_FORMATS`).
    """
    with _open(path) as container:
        stream = _video_stream(container, path)
        rate = stream.average_rate or stream.guessed_rate
        nominal = 1 / Fraction(rate) if rate else Fraction(1, int(DEFAULT_FPS))
        size, last_time = None, None
        try:
            for frame in container.decode(stream):
                if frame.pts is not None and frame.time_base:
                    time = frame.pts * Fraction(frame.time_base)
                else:
                    time = (last_time if last_time is not None else Fraction(0)) + nominal
                    log.warning("%s: a video frame without timestamp after %s s; placed one nominal frame "
                                "(%.4f s) later, which can shift audio against video", path.name,
                                "no frame" if last_time is None else f"{float(last_time):.3f}", float(nominal))
                if size is None:
                    size = (frame.width, frame.height)
                elif (frame.width, frame.height) != size:
                    raise VideoDecodeError(
                        f"{path.name}: frame size changes mid-stream from {size[0]}x{size[1]} to "
                        f"{frame.width}x{frame.height} at {float(time):.3f} s"
                    )
                if last_time is not None and time < last_time - max_gap:
                    raise VideoDecodeError(
                        f"{path.name}: timestamps jump back from {float(last_time):.3f} s to {float(time):.3f} s")
                if last_time is not None and time <= last_time:
                    continue  # duplicate or slightly out-of-order timestamp: ffmpeg drops these too
                if last_time is not None and time - last_time > max_gap:
                    raise VideoDecodeError(
                        f"{path.name}: {float(time - last_time):.3f} s without video frames at "
                        f"{float(last_time):.3f} s "
                        f"(more than max_gap={max_gap} s)"
                    )
                duration = frame.duration * Fraction(frame.time_base) if frame.duration and frame.time_base else nominal
                last_time = time
                yield time, duration, _frame_array(frame, pixel_format)
        except av.FFmpegError as err:
            raise VideoDecodeError(f"{path.name}: video decoding failed ({err})") from err
        if size is None:
            raise VideoDecodeError(f"{path.name}: the video stream holds no decodable frame")


def iter_frames(path: str | os.PathLike, fps: float = DEFAULT_FPS, max_gap: float = 0.5,
                pixel_format: str = "rgb24") -> Iterator[np.ndarray]:
    """Stream the video of ``path`` at a constant ``fps`` (the rule of the module docstring, ffmpeg's ``fps`` filter).

    Yields uint8 ``(H, W, 3)`` RGB frames, or with ``pixel_format="yuv420p"`` the decoded 4:2:0 planes
    ``(H * 3 / 2, W)`` without any RGB conversion, in the video's own range (``probe_video(path).full_range``; a
    source in another layout is converted to limited-range yuv420p).
    Only one source frame is held at a time, so a video of any length streams in
    constant memory. Raises VideoDecodeError (a ValueError) for a file without decodable video, a frame size that
    changes mid-stream, or a hole longer than ``max_gap`` seconds between timestamps (which would otherwise be
    filled with a frozen frame).
    """
    path = _check_path(path)
    rate = Fraction(_check_rate(fps, "fps"))
    max_gap = _check_rate(max_gap, "max_gap")
    if pixel_format not in PIXEL_FORMATS:
        raise ValueError(f"pixel_format: expected one of {PIXEL_FORMATS}, got {pixel_format!r}")
    t0, previous, emitted, end, slot = None, None, 0, Fraction(0), 0
    for time, duration, picture in _timed_frames(path, max_gap, pixel_format):
        if t0 is None:
            t0 = time
        slot = _slot(time - t0, rate)
        while previous is not None and emitted < slot:
            yield previous
            emitted += 1
        previous, end = picture, time + duration
    # The last source frame stays on screen until its end time, and is shown at least once.
    total = max(_slot(end - t0, rate), slot + 1)
    while emitted < total:
        yield previous
        emitted += 1


def _slot(elapsed: Fraction, rate: Fraction) -> int:
    """Output slot of a time ``elapsed`` after the first frame: nearest, exact half slots rounded up."""
    return math.floor(elapsed * rate + Fraction(1, 2))


def first_frame_time(path: str | os.PathLike) -> float:
    """Presentation time (s) of the first decodable video frame: the time origin of frames and audio."""
    for time, _, _ in _timed_frames(_check_path(path), max_gap=float("inf")):
        return float(time)
    raise VideoDecodeError(f"{Path(path).name}: the video stream holds no decodable frame")  # pragma: no cover


def _audio_start_time(path: Path) -> float:
    """Presentation time (s) of the first decoded audio sample (after the decoder dropped any priming samples)."""
    with _open(path) as container:
        stream = container.streams.audio[0]
        try:
            for frame in container.decode(stream):
                if frame.time is not None:
                    return float(frame.time)
                break
        except av.FFmpegError:
            pass
        log.warning("%s: the first audio frame has no readable timestamp; using the stream's announced start",
                    path.name)
        return _stream_start(stream, path)


def read_audio(path: str | os.PathLike, sample_rate: int = DEFAULT_SAMPLE_RATE, start_time: float | None = None
               ) -> np.ndarray:
    """Audio of ``path`` as float32 ``(S,)`` mono (channel mean) at ``sample_rate`` Hz, in [-1, 1].

    Decoding and resampling are :func:`unisync_loss.audio.io.read_audio` and :func:`~unisync_loss.audio.io.as_waveform`
    (band-limited, to 16 kHz); this adds the alignment: ``start_time`` is the source time (s) that becomes sample 0,
    by default the first video frame's time (audio-only files: the audio's own start). Raises VideoDecodeError when
    there is no audio stream or no decodable audio.
    """
    from ..audio.io import as_waveform, read_audio as decode_audio
    from ..audio.resample import resample

    path = _check_path(path)
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ValueError(f"sample_rate: expected a positive integer in Hz, got {sample_rate!r}")
    with _open(path) as container:
        has_video, has_audio = bool(container.streams.video), bool(container.streams.audio)
    if not has_audio:
        raise VideoDecodeError(f"{path.name}: no audio stream")
    try:
        samples, rate = decode_audio(path)
        wave = resample(as_waveform(samples, rate, name=path.name), DEFAULT_SAMPLE_RATE, sample_rate).numpy()
    except ValueError as err:
        raise VideoDecodeError(f"{path.name}: {err}") from err
    if start_time is None and has_video:
        start_time = first_frame_time(path)
    if start_time is not None:
        shift = int(round((_audio_start_time(path) - start_time) * sample_rate))
        wave = np.concatenate([np.zeros(shift, np.float32), wave]) if shift > 0 else wave[-shift:]
    return np.clip(wave, -1.0, 1.0).astype(np.float32)


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
