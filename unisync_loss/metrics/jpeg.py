"""The JPEG round trip of syncnet_python's evaluation, reproduced without writing the frames as RGB.

The reference dumps every frame of its crop video with ``ffmpeg -i VIDEO -threads 1 -f image2 %06d.jpg`` and reads
the files back with OpenCV. For an encoded video that means: decoded 4:2:0 planes (limited range) -> libswscale's
range conversion to full range (``yuvj420p``) -> libavcodec's MJPEG encoder with the command line's defaults (200 kb/s
rate control at 25 fps, quantiser 2..31, one thread, optimal Huffman tables, a JFIF header carrying the sample
aspect ratio) -> libjpeg decoding. The pixels depend on the FFmpeg version: the range conversion changed in
libswscale and the Huffman tables (hence the bit counts the rate control reacts to) in libavcodec. So two encoders:

* ``"ffmpeg"``: the ``ffmpeg`` executable on PATH (the one syncnet_python would call) encodes the planes piped in as
  raw video; the JPEG bytes equal the reference's on the same machine, byte for byte.
* ``"pyav"``: the libraries inside the PyAV wheel, in memory: equal to a reference run whose FFmpeg has the same
  library versions; with other versions a few frames differ (see docs/scoring.md for measured numbers).

``"auto"`` takes ``"ffmpeg"`` when the executable is found, else ``"pyav"``. JPEGs are decoded with libjpeg (Pillow).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from ..validation import check_choice, describe

_PIXEL_FORMATS = {"420": "yuvj420p", "444": "yuvj444p"}
ENCODERS = ("auto", "ffmpeg", "pyav")


def ffmpeg_executable() -> str | None:
    """Path of the ``ffmpeg`` on PATH (what syncnet_python runs), or None."""
    return shutil.which("ffmpeg")


def resolve_encoder(encoder: str) -> str:
    """``"auto"`` -> ``"ffmpeg"`` if the executable is on PATH, else ``"pyav"``; ``"ffmpeg"`` requires it."""
    check_choice(encoder, "encoder", ENCODERS)
    found = ffmpeg_executable()
    if encoder == "ffmpeg" and found is None:
        raise ValueError("encoder: 'ffmpeg' needs the ffmpeg executable on PATH, found none (use 'pyav' or 'auto')")
    if encoder == "auto":
        return "ffmpeg" if found else "pyav"
    return encoder


def _encoder(width: int, height: int, chroma: str, sample_aspect: Fraction | None = None) -> av.CodecContext:
    ctx = av.CodecContext.create("mjpeg", "w")
    ctx.width, ctx.height = width, height
    ctx.pix_fmt = _PIXEL_FORMATS[chroma]
    ctx.time_base = Fraction(1, 25)
    ctx.framerate = Fraction(25)
    ctx.bit_rate = 200_000  # libavcodec's default "b", which the ffmpeg command line leaves in place
    ctx.thread_count = 1
    if sample_aspect:  # written into the JFIF header, so it counts in the rate control's bits
        ctx.sample_aspect_ratio = sample_aspect
    return ctx


def _decode(jpegs: list[bytes]) -> np.ndarray:
    return np.stack([np.asarray(Image.open(io.BytesIO(j)).convert("RGB")) for j in jpegs])


def _encode(ctx: av.CodecContext, pictures, count: int) -> list[bytes]:
    packets = []
    for index, picture in enumerate(pictures):
        picture.pts = index
        packets += [bytes(p) for p in ctx.encode(picture)]
    packets += [bytes(p) for p in ctx.encode(None)]
    if len(packets) != count:
        raise RuntimeError(f"MJPEG encoder returned {len(packets)} pictures for {count} frames")
    return packets


def jpeg_round_trip(frames: np.ndarray, chroma: str = "420") -> np.ndarray:
    """``(T, H, W, 3)`` uint8 RGB -> the same frames after the reference's MJPEG encode and libjpeg decode (PyAV).

    For frames that only exist as RGB (e.g. face crops warped here): "420" stores them as the reference's crop videos
    do (RGB -> limited-range 4:2:0 -> full range for the encoder), "444" as ffmpeg treats an RGB source (-> yuvj444p).
    An encoded video's planes should take :func:`planes_round_trip` instead. Returns ``(T, H, W, 3)`` uint8 RGB.
    """
    check_choice(chroma, "chroma", tuple(_PIXEL_FORMATS))
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames: expected uint8 RGB frames (T, H, W, 3), got {describe(frames)}")
    if len(frames) == 0:
        raise ValueError(f"frames: expected at least one frame, got {describe(frames)}")
    ctx = _encoder(frames.shape[2], frames.shape[1], chroma)

    def pictures():
        for frame in frames:
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            if chroma == "420":
                picture = picture.reformat(format="yuv420p")
            yield picture.reformat(format=ctx.pix_fmt)

    return _decode(_encode(ctx, pictures(), len(frames)))


def planes_round_trip(planes: np.ndarray, sample_aspect: Fraction | None = None, encoder: str = "auto",
                      full_range: bool = False) -> np.ndarray:
    """Decoded 4:2:0 planes -> RGB after the reference's JPEG round trip, with no RGB step before the encoder.

    Args:
        planes: uint8 ``(T, H * 3 / 2, W)`` 4:2:0 frames (Y rows, then U, then V), as
            ``unisync_loss.video.iter_frames(path, pixel_format="yuv420p")`` yields them; H and W even.
        sample_aspect: the video's sample aspect ratio, None when the file does not signal one (it decides the JFIF
            header of each JPEG, whose bytes the rate control counts).
        encoder: "ffmpeg", "pyav" or "auto" (see the module docstring).
        full_range: the planes are full range (a ``yuvj420p`` / "pc" video): they go to the encoder unchanged, as
            in ffmpeg; limited-range planes are converted to full range first.

    Returns ``(T, H, W, 3)`` uint8 RGB.
    """
    if not isinstance(planes, np.ndarray) or planes.ndim != 3 or planes.dtype != np.uint8 or len(planes) == 0:
        raise ValueError(f"planes: expected uint8 yuv420p frames (T, H * 3 / 2, W), got {describe(planes)}")
    height, width = planes.shape[1] * 2 // 3, planes.shape[2]
    if height * 3 // 2 != planes.shape[1] or height % 2 or width % 2:
        raise ValueError(f"planes: expected (T, H * 3 / 2, W) with H and W even, got {describe(planes)}")
    if sample_aspect is not None and (not isinstance(sample_aspect, (Fraction, int)) or sample_aspect <= 0):
        raise ValueError(f"sample_aspect: expected a positive Fraction or None, got {sample_aspect!r}")
    if resolve_encoder(encoder) == "ffmpeg":
        return _decode(_ffmpeg_jpegs(planes, width, height, sample_aspect, full_range))
    ctx = _encoder(width, height, "420", sample_aspect)
    if full_range:
        pictures = (av.VideoFrame.from_ndarray(np.ascontiguousarray(p), format="yuvj420p") for p in planes)
    else:
        pictures = (av.VideoFrame.from_ndarray(np.ascontiguousarray(p), format="yuv420p")
                    .reformat(format="yuvj420p", interpolation="BICUBIC") for p in planes)
    return _decode(_encode(ctx, pictures, len(planes)))


def _ffmpeg_jpegs(planes: np.ndarray, width: int, height: int, sample_aspect: Fraction | None,
                  full_range: bool) -> list[bytes]:
    """The reference's ``-threads 1 -f image2`` command on raw planes piped in: one JPEG file per frame."""
    with tempfile.TemporaryDirectory(prefix="unisync-jpeg-") as folder:
        command = [ffmpeg_executable(), "-nostdin", "-v", "error", "-f", "rawvideo",
                   "-pix_fmt", "yuvj420p" if full_range else "yuv420p",
                   "-s", f"{width}x{height}", "-framerate", "25", "-i", "-"]
        if sample_aspect is not None:
            command += ["-vf", f"setsar={sample_aspect.numerator}/{sample_aspect.denominator}"]
        command += ["-threads", "1", "-f", "image2", str(Path(folder) / "%06d.jpg")]
        done = subprocess.run(command, input=np.ascontiguousarray(planes).tobytes(), capture_output=True)
        if done.returncode != 0:
            raise RuntimeError(f"ffmpeg JPEG encoding failed: {done.stderr.decode(errors='replace')[-500:]}")
        files = sorted(Path(folder).glob("*.jpg"))
        if len(files) != len(planes):
            raise RuntimeError(f"ffmpeg wrote {len(files)} JPEG files for {len(planes)} frames")
        return [f.read_bytes() for f in files]
