"""Small media files made with PyAV for the video tests (imported by the other test_video_* modules)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

def index_frame(index: int, size=(64, 64)) -> np.ndarray:
    """A frame showing ``index`` in binary as 8 black/white vertical stripes (survives lossy coding)."""
    frame = np.zeros((*size, 3), np.uint8)
    for bit, columns in enumerate(np.array_split(np.arange(size[1]), 8)):
        frame[:, columns] = 255 * ((index >> bit) & 1)
    return frame


def frame_index(frame: np.ndarray) -> int:
    """Inverse of :func:`index_frame`."""
    stripes = np.array_split(np.arange(frame.shape[1]), 8)
    return sum(1 << bit for bit, columns in enumerate(stripes) if frame[:, columns[1:-1]].mean() > 128)


def square_frame(index: int, size=(96, 128), boxes=((40, 30, 72, 62),)) -> np.ndarray:
    """Dark background with bright squares ("faces") at ``boxes`` (x0, y0, x1, y1), slightly noisy."""
    rng = np.random.default_rng(index)
    frame = rng.integers(20, 40, (*size, 3), dtype=np.uint8)
    for x0, y0, x1, y1 in boxes:
        frame[y0:y1, x0:x1] = 220
    return frame


def tone(seconds: float, rate: int = 44100, freq: float = 440.0, channels: int = 2) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return np.tile((0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), (channels, 1))


def write_video(path: Path, frames, fps: float = 25.0, audio: np.ndarray | None = None, audio_rate: int = 44100,
                codec: str = "mpeg4", times: list[float] | None = None, container: str | None = None,
                audio_codec: str | None = None) -> Path:
    """Encode ``frames`` (uint8 (H, W, 3)) at ``fps`` (or at explicit presentation ``times`` in seconds) plus
    optional ``audio`` float32 (C, S) as AAC (mp4) or PCM (other containers)."""
    frames = list(frames)
    with av.open(str(path), "w", format=container) as out:
        rate = Fraction(fps).limit_denominator(1000)
        stream = out.add_stream(codec, rate=rate)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = stream.time_base = Fraction(1, 1000)
        times = times if times is not None else [i / fps for i in range(len(frames))]
        astream = None
        if audio is not None:
            acodec = audio_codec or ("aac" if str(path).endswith((".mp4", ".m4v", ".ts")) else "pcm_s16le")
            astream = out.add_stream(acodec, rate=audio_rate, layout="stereo" if len(audio) == 2 else "mono")
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = int(round(times[i] * 1000))
            frame.time_base = Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        if astream is not None:
            fmt = "s16" if astream.codec_context.name.startswith("pcm") else "fltp"
            chunk = astream.codec_context.frame_size or 1024
            for start in range(0, audio.shape[1], chunk):
                block = audio[:, start:start + chunk]
                if fmt == "s16":
                    data = (np.clip(block, -1, 1) * 32767).astype(np.int16).T.reshape(1, -1)
                    frame = av.AudioFrame.from_ndarray(data, format="s16", layout=astream.layout.name)
                else:
                    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format="fltp", layout=astream.layout.name)
                frame.sample_rate, frame.pts = audio_rate, start
                for packet in astream.encode(frame):
                    out.mux(packet)
            for packet in astream.encode():
                out.mux(packet)
    return path


def write_wav(path: Path, wave: np.ndarray, rate: int = 16000) -> Path:
    import wave as wavmod

    with wavmod.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes((np.clip(wave, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def test_written_video_has_the_requested_rate_and_audio(tmp_path):
    path = write_video(tmp_path / "a.mp4", [index_frame(i) for i in range(10)], fps=30, audio=tone(0.4))
    with av.open(str(path)) as container:
        assert float(container.streams.video[0].average_rate) == pytest.approx(30, rel=1e-3)
        assert container.streams.audio[0].codec_context.name == "aac"
