"""Write a clip as an mp4 (H.264 video + AAC audio) with PyAV, so it can be watched and fed to the real-video path."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import av
import numpy as np


def write_mp4(path: str | os.PathLike, frames: np.ndarray, audio: np.ndarray, fps: int = 25,
              sample_rate: int = 16000, crf: int = 18) -> Path:
    """Encode ``frames`` uint8 (T, H, W, 3) RGB and ``audio`` float32 (S,) mono into ``path`` (atomic rename).

    H and W must be even (yuv420p). Returns the path.
    """
    frames, audio = np.asarray(frames), np.asarray(audio)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[1] % 2 \
            or frames.shape[2] % 2:
        raise ValueError(f"frames: expected uint8 (T, H, W, 3) with even H and W, got {frames.dtype} {frames.shape}")
    if audio.dtype != np.float32 or audio.ndim != 1 or len(audio) == 0:
        raise ValueError(f"audio: expected non-empty float32 (S,), got {audio.dtype} {audio.shape}")
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.mp4")
    try:
        with av.open(str(tmp), "w", format="mp4") as container:
            video = container.add_stream("libx264", rate=fps)
            video.width, video.height, video.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
            video.options = {"crf": str(crf), "preset": "veryfast"}
            sound = container.add_stream("aac", rate=sample_rate, layout="mono")
            for frame in frames:
                container.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
            container.mux(video.encode(None))
            chunk = 1024
            for start in range(0, len(audio), chunk):
                piece = av.AudioFrame.from_ndarray(audio[None, start:start + chunk], format="flt", layout="mono")
                piece.sample_rate = sample_rate
                piece.pts = start
                container.mux(sound.encode(piece))
            container.mux(sound.encode(None))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
