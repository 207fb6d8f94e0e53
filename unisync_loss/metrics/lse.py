"""LSE-D and LSE-C (lip-sync error distance and confidence) exactly as syncnet_python evaluates them.

Protocol, for ``T`` frames at 25 fps and ``S`` samples at 16 kHz:

* ``N = min(T, S // 640) - 5`` windows; window ``v`` is frames ``v..v+4`` and MFCC columns ``4v..4v+19``.
* audio embeddings are zero-padded by ``vshift`` (15) rows at both ends; for each window the Euclidean distance
  (``|x - y + 1e-6|``, as ``pairwise_distance``) to the audio embeddings at offsets ``-vshift..+vshift``;
* the curve is the mean of those distances over windows (padded rows included); offset = the curve's argmin,
  LSE-D = its minimum, LSE-C = its median minus its minimum.

Sign: offset ``o`` means video window ``v`` matches audio window ``v - o`` best, i.e. the sound comes ``o`` frames
(``o * 40`` ms) before the picture; delaying the audio by ``o`` frames synchronises it.

Modes: ``"reference"`` passes the frames through the reference's JPEG round trip first (see :mod:`.jpeg`) and
embeds them as the reference does (windows of 5 frames in batches of 20, curve averaged over rows of the
offset-major distance matrix), so that the float arithmetic, not only the maths, is the reference's;
``"default"`` scores the decoded frames as they are and embeds the whole sequence in one pass (the same network,
results equal to float rounding, about 1e-7 relative).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange

from ..validation import check_choice, check_positive_int, describe
from .jpeg import jpeg_round_trip
from .mfcc import MFCC_PER_FRAME, SAMPLES_PER_FRAME, mfcc_of_samples, to_int16_scale
from .syncnet import CROP_SIZE, MFCC_WINDOW, VIDEO_WINDOW, SyncNet

MODES = ("default", "reference")
#: Offsets searched on each side, in frames.
VSHIFT = 15
#: Kernel of the median filter smoothing the per-window confidence (as the reference prints it).
CONFIDENCE_FILTER = 9
#: Windows per forward pass of syncnet_python's evaluation (reference mode uses it for identical float rounding).
REFERENCE_BATCH = 20


@dataclass
class LSEResult:
    """Scores of one face track. ``distances[k]`` is the mean distance at ``offsets[k]`` (ascending, frames)."""

    offset: int
    lse_d: float
    lse_c: float
    offsets: list[int]
    distances: list[float]
    window_confidence: list[float] = field(repr=False)  # (N,) median-filtered per-window confidence at the offset
    num_windows: int = 0
    mode: str = "default"

    def to_dict(self) -> dict:
        return asdict(self)


def num_windows(num_frames: int, num_samples: int) -> int:
    """Windows the reference scores: ``min(frames, samples // 640) - 5``."""
    return min(num_frames, num_samples // SAMPLES_PER_FRAME) - VIDEO_WINDOW


def channels_first(frames) -> torch.Tensor:
    """A view of the frames as ``(3, T, 224, 224)`` RGB, in the input's dtype and device: no copy, so a long video
    is never duplicated; :func:`to_syncnet_range` converts one chunk at a time.

    ``frames``: ``(T, 224, 224, 3)`` uint8 RGB (numpy or tensor), or ``(T, 3, 224, 224)`` float RGB in [0, 1].
    """
    if isinstance(frames, np.ndarray):
        frames = torch.from_numpy(np.ascontiguousarray(frames))
    if not isinstance(frames, torch.Tensor) or frames.ndim != 4:
        raise ValueError(
            f"frames: expected (T, 224, 224, 3) uint8 or (T, 3, 224, 224) float RGB, got {describe(frames)}"
        )
    if frames.dtype == torch.uint8 and tuple(frames.shape[1:]) == (CROP_SIZE, CROP_SIZE, 3):
        return rearrange(frames, "t h w c -> c t h w")
    if frames.is_floating_point() and tuple(frames.shape[1:]) == (3, CROP_SIZE, CROP_SIZE):
        return rearrange(frames, "t c h w -> c t h w")
    raise ValueError(
        f"frames: expected (T, 224, 224, 3) uint8 or (T, 3, 224, 224) float RGB (syncnet crops are 224x224), "
        f"got {describe(frames)}"
    )


def to_syncnet_range(frames: torch.Tensor) -> torch.Tensor:
    """``(3, T, H, W)`` RGB chunk -> SyncNet's input: BGR float32 in [0, 255] (from uint8, or from float in [0, 1])."""
    bgr = frames.flip(0)
    return bgr.float() if bgr.dtype == torch.uint8 else bgr.float() * 255.0


def mfcc_windows(mfcc: np.ndarray, count: int) -> torch.Tensor:
    """``(13, M)`` MFCCs -> ``(count, 1, 13, 20)`` float32 windows starting every 4 columns (a view, no copy)."""
    columns = torch.from_numpy(mfcc).float()
    needed = MFCC_PER_FRAME * (count - 1) + MFCC_WINDOW
    if columns.shape[1] < needed:
        raise ValueError(f"mfcc: {count} windows need {needed} columns, got {columns.shape[1]}")
    return rearrange(columns.unfold(1, MFCC_WINDOW, MFCC_PER_FRAME)[:, :count], "f n w -> n 1 f w")


@torch.inference_mode()
def embed_clip(syncnet: SyncNet, frames: torch.Tensor, mfcc: np.ndarray, count: int,
               batch_size: int = 64, windows: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Video and audio embeddings ``(count, 1024)`` each, ``batch_size`` windows per forward pass.

    ``frames``: ``(3, T, 224, 224)`` RGB from :func:`channels_first`; ``mfcc``: ``(13, M)`` from :func:`syncnet_mfcc`.
    ``windows``: embed each 5-frame window separately (the reference's arithmetic) instead of the sequence at once.
    """
    device = next(syncnet.parameters()).device
    audio = mfcc_windows(mfcc, count)
    video_out, audio_out = [], []
    for start in range(0, count, batch_size):
        stop = min(count, start + batch_size)
        chunk = to_syncnet_range(frames[:, start:stop + VIDEO_WINDOW - 1].to(device, non_blocking=True))
        if windows:
            stacked = rearrange(chunk.unfold(1, VIDEO_WINDOW, 1), "c n h w t -> n c t h w")
            video_out.append(syncnet.embed_video(stacked.contiguous()))
        else:
            video_out.append(syncnet.embed_video_sequence(chunk))
        audio_out.append(syncnet.embed_audio(audio[start:stop].to(device, non_blocking=True)))
    return torch.cat(video_out), torch.cat(audio_out)


def offset_distances(video: torch.Tensor, audio: torch.Tensor, vshift: int = VSHIFT, chunk: int = 512) -> torch.Tensor:
    """``(N, E), (N, E)`` -> ``(N, 2 vshift + 1)``: column ``k`` = distance of video ``v`` to audio ``v + k - vshift``
    (zero embeddings outside the clip), ``|x - y + 1e-6|`` like ``pairwise_distance``."""
    padded = F.pad(audio, (0, 0, vshift, vshift))
    shifted = padded.unfold(0, 2 * vshift + 1, 1)  # (N, E, 2 vshift + 1), a view
    rows = [torch.linalg.vector_norm(video[s:s + chunk, :, None] - shifted[s:s + chunk] + 1e-6, dim=1)
            for s in range(0, len(video), chunk)]
    return torch.cat(rows)


def median_filter(values: torch.Tensor, kernel: int) -> torch.Tensor:
    """1-D median filter with zero padding (as ``scipy.signal.medfilt``). ``(N,) -> (N,)``."""
    half = kernel // 2
    return F.pad(values, (half, half)).unfold(0, kernel, 1).median(dim=1).values


def summarise(distances: torch.Tensor, vshift: int, mode: str) -> LSEResult:
    """Curve, offset, LSE-D, LSE-C and per-window confidence from ``(N, 2 vshift + 1)`` distances."""
    curve = distances.T.contiguous().mean(dim=1)  # offset-major, as the reference reduces it
    best = int(torch.argmin(curve))
    median = curve.median()
    confidence = median_filter(median - distances[:, best], CONFIDENCE_FILTER)
    return LSEResult(
        offset=vshift - best, lse_d=float(curve[best]), lse_c=float(median - curve[best]),
        offsets=list(range(-vshift, vshift + 1)), distances=curve.flip(0).cpu().tolist(),
        window_confidence=confidence.cpu().tolist(), num_windows=len(distances), mode=mode,
    )


def lse(frames, audio, syncnet: SyncNet, mode: str = "default", vshift: int = VSHIFT,
        batch_size: int = 64, fps: float = 25.0, sample_rate: int = 16000, round_tripped: bool = False) -> LSEResult:
    """LSE-D / LSE-C / offset of one face track, in memory.

    Args:
        frames: 224x224 face crops at 25 fps: ``(T, 224, 224, 3)`` uint8 RGB, or ``(T, 3, 224, 224)`` float RGB in
            [0, 1] (default mode only); ``T >= 6``.
        audio: ``(S,)`` 16 kHz mono, float in [-1, 1] or int16 (numpy or tensor), aligned with frame 0.
        syncnet: a loaded :class:`SyncNet` (see :func:`load_syncnet`), on any device.
        mode: "default" (frames as given) or "reference" (syncnet_python's JPEG round trip first).
        vshift: offsets searched on each side, in frames.
        batch_size: windows per forward pass (reference mode: the reference's 20).
        round_tripped: reference mode only: the frames already went through the JPEG round trip (e.g. from
            :func:`unisync_loss.metrics.reference_input.reference_input`, which starts from the decoded planes).
        fps, sample_rate: what the caller has; SyncNet's protocol needs 25 fps and 16 kHz (convert first, e.g. with
            ``unisync_loss.video.read_video``, which resamples by timestamps).
    """
    if fps != 25 or sample_rate != 16000:
        raise ValueError(
            f"fps/sample_rate: SyncNet scores 25 fps video with 16 kHz audio, got {fps} fps and {sample_rate} Hz; "
            "convert first (unisync_loss.video.read_video decodes any file at 25 fps and 16 kHz)"
        )
    check_choice(mode, "mode", MODES)
    check_positive_int(vshift, "vshift")
    check_positive_int(batch_size, "batch_size")
    if not isinstance(syncnet, SyncNet):
        raise ValueError(f"syncnet: expected a SyncNet (load it with load_syncnet), got {describe(syncnet)}")
    if round_tripped and mode != "reference":
        raise ValueError(f"round_tripped: only meaningful in reference mode, got mode {mode!r}")
    if mode == "reference" and not round_tripped:
        if isinstance(frames, torch.Tensor):
            frames = frames.detach().cpu().numpy()
        if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8:
            raise ValueError(f"frames: reference mode needs uint8 RGB frames (T, 224, 224, 3), got {describe(frames)}")
        channels_first(frames)  # shape check before the slow round trip
        frames = jpeg_round_trip(frames)
    video = channels_first(frames)
    samples = to_int16_scale(audio)
    count = num_windows(video.shape[1], len(samples))
    if count < 1:
        raise ValueError(
            f"frames/audio: a window needs 6 frames (0.24 s) of video and of audio, got {video.shape[1]} frames and "
            f"{len(samples)} samples ({len(samples) / 16000:.3f} s)"
        )
    reference = mode == "reference"
    video_emb, audio_emb = embed_clip(syncnet, video, mfcc_of_samples(samples), count,
                                      REFERENCE_BATCH if reference else batch_size, windows=reference)
    return summarise(offset_distances(video_emb, audio_emb, vshift), vshift, mode)
