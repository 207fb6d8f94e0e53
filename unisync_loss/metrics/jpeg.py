"""The JPEG round trip of syncnet_python's evaluation, reproduced in memory.

The reference dumps every frame of its crop video with ``ffmpeg -f image2 %06d.jpg`` (libavcodec's MJPEG encoder
with the command line's defaults: 200 kb/s rate control at 25 fps, quantiser 2..31, one thread, full-range YUV) and
reads the files back with OpenCV. This module runs the same encoder through PyAV, frame after frame with the same
rate-control state, and decodes with libjpeg (Pillow), without writing a file.

The crop videos the reference scores are limited-range 4:2:0, which ffmpeg converts to full range for the encoder, so
by default frames take that path (RGB -> yuv420p -> yuvj420p); ``chroma="444"`` is what ffmpeg chooses for an RGB
source (RGB -> yuvj444p). Both give JPEG pictures whose decoded pixels equal the reference's bit for bit.
"""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np
from PIL import Image

from ..validation import check_choice, describe

_PIXEL_FORMATS = {"420": "yuvj420p", "444": "yuvj444p"}


def _encoder(width: int, height: int, chroma: str) -> av.CodecContext:
    ctx = av.CodecContext.create("mjpeg", "w")
    ctx.width, ctx.height = width, height
    ctx.pix_fmt = _PIXEL_FORMATS[chroma]
    ctx.time_base = Fraction(1, 25)
    ctx.framerate = Fraction(25)
    ctx.bit_rate = 200_000  # libavcodec's default "b", which the ffmpeg command line leaves in place
    ctx.thread_count = 1
    return ctx


def jpeg_round_trip(frames: np.ndarray, chroma: str = "420") -> np.ndarray:
    """``(T, H, W, 3)`` uint8 RGB -> the same frames after the reference's MJPEG encode and libjpeg decode.

    ``chroma``: "420" (the reference's crop videos) or "444" (an RGB source). Returns ``(T, H, W, 3)`` uint8 RGB.
    """
    check_choice(chroma, "chroma", tuple(_PIXEL_FORMATS))
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames: expected uint8 RGB frames (T, H, W, 3), got {describe(frames)}")
    if len(frames) == 0:
        raise ValueError(f"frames: expected at least one frame, got {describe(frames)}")
    height, width = frames.shape[1:3]
    ctx = _encoder(width, height, chroma)
    packets = []
    for index, frame in enumerate(frames):
        picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        if chroma == "420":  # as stored in the crop video: limited-range 4:2:0, then full range for the encoder
            picture = picture.reformat(format="yuv420p")
        picture = picture.reformat(format=ctx.pix_fmt)
        picture.pts = index
        packets += [bytes(p) for p in ctx.encode(picture)]
    packets += [bytes(p) for p in ctx.encode(None)]
    if len(packets) != len(frames):
        raise RuntimeError(f"MJPEG encoder returned {len(packets)} pictures for {len(frames)} frames")
    return np.stack([np.asarray(Image.open(io.BytesIO(p)).convert("RGB")) for p in packets])
