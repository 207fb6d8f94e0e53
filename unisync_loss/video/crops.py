"""Face crops from a face track. Every style is an affine map from source pixels to crop pixels, so the same
matrices crop the frames (``cv2.warpAffine``) and move landmarks into crop coordinates.

Styles (``size`` = output side in pixels):

- ``"wav2lip"`` (96): the track box stretched to a square, as Wav2Lip's ``cv2.resize(face, (96, 96))``, with Wav2Lip's
  bottom padding so the chin stays in: the box grows downwards by ``bottom_pad`` of its height (default 0.1: Wav2Lip
  adds 10 pixels to detector boxes of about 100 pixels on LRS2 frames) and is clipped to the frame like Wav2Lip's.
- ``"syncnet"`` (224): syncnet_python's crop: half-size ``bs = max(w, h) / 2`` of the smoothed box, rows from
  ``cy - bs`` to ``cy + bs (1 + 2 cs)``, columns ``cx +/- bs (1 + cs)`` with ``cs = 0.4``, outside filled with 110.
- ``"aligned"`` (96): similarity alignment of eye centres, nose tip and mouth corners (from the landmarks, smoothed
  over 5 frames) onto a fixed template, so head roll and scale are removed; needs a track with 468-point landmarks.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from ..validation import check_choice, describe
from .landmarks import ALIGNED_TEMPLATE, apply_affine, mesh_five_points, similarity_transform
from .tracking import FaceTrack, median_filter_time

CROP_STYLES = ("wav2lip", "syncnet", "aligned")
DEFAULT_SIZES = {"wav2lip": 96, "syncnet": 224, "aligned": 96}
BORDER_VALUES = {"wav2lip": 0, "syncnet": 110, "aligned": 0}
SYNCNET_CROP_SCALE = 0.4


def _scale_translate(sx: np.ndarray, sy: np.ndarray, x0: np.ndarray, y0: np.ndarray) -> np.ndarray:
    """``(N, 2, 3)`` matrices mapping ``(x, y) -> (sx (x - x0), sy (y - y0))``."""
    m = np.zeros((len(sx), 2, 3))
    m[:, 0, 0], m[:, 1, 1] = sx, sy
    m[:, 0, 2], m[:, 1, 2] = -sx * x0, -sy * y0
    return m


def crop_transforms(track: FaceTrack, style: str = "syncnet", frame_size: tuple[int, int] | None = None,
                    size: int | None = None, bottom_pad: float = 0.1, crop_scale: float = SYNCNET_CROP_SCALE
                    ) -> np.ndarray:
    """Affine matrices ``(N, 2, 3)`` (float64) taking source pixels of each track frame to crop pixels.

    ``frame_size`` = (height, width) of the source, needed by ``"wav2lip"`` (its box is clipped to the frame).
    """
    check_choice(style, "style", CROP_STYLES)
    if not isinstance(track, FaceTrack):
        raise ValueError(f"track: expected a FaceTrack, got {describe(track)}")
    size = _check_size(size, style)
    boxes = track.boxes.astype(np.float64)
    if style == "wav2lip":
        if frame_size is None:
            raise ValueError("frame_size: the wav2lip crop clips its box to the frame, so pass (height, width)")
        height, width = frame_size
        x0, y0 = np.clip(boxes[:, 0], 0, width), np.clip(boxes[:, 1], 0, height)
        x1 = np.clip(boxes[:, 2], 0, width)
        y1 = np.clip(boxes[:, 3] + bottom_pad * (boxes[:, 3] - boxes[:, 1]), 0, height)
        return _scale_translate(size / np.maximum(x1 - x0, 1), size / np.maximum(y1 - y0, 1), x0, y0)
    if style == "syncnet":
        half = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) / 2
        cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
        scale = size / (2 * half * (1 + crop_scale))
        return _scale_translate(scale, scale, cx - half * (1 + crop_scale), cy - half)
    if track.landmarks is None or track.landmarks.shape[1] != 468:
        raise ValueError("track: the aligned crop needs 468-point mesh landmarks (use the MediaPipe face mesh detector)")
    points = median_filter_time(mesh_five_points(track.landmarks).astype(np.float64), 5)
    return np.stack([similarity_transform(p, ALIGNED_TEMPLATE * size) for p in points])


def _check_size(size, style: str) -> int:
    size = DEFAULT_SIZES[style] if size is None else size
    if isinstance(size, bool) or not isinstance(size, int) or size < 8:
        raise ValueError(f"size: expected an integer crop side >= 8 pixels, got {size!r}")
    return size


def warp_frame(frame: np.ndarray, matrix: np.ndarray, size: int, border_value: int = 0) -> np.ndarray:
    """One crop: uint8 ``(H, W, 3)`` frame and ``(2, 3)`` matrix -> uint8 ``(size, size, 3)`` (area/linear filter)."""
    import cv2

    scale = np.sqrt(abs(np.linalg.det(matrix[:, :2])))
    flags = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.warpAffine(np.ascontiguousarray(frame), matrix.astype(np.float64), (size, size), flags=flags,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(border_value,) * 3)


def iter_crops(frames: Iterable[np.ndarray], transforms: np.ndarray, size: int, border_value: int = 0
               ) -> Iterator[np.ndarray]:
    """Stream crops: the i-th frame of ``frames`` is warped by ``transforms[i]`` (stops when either runs out)."""
    for frame, matrix in zip(frames, transforms):
        yield warp_frame(frame, matrix, size, border_value)


def crop_faces(frames: np.ndarray, track: FaceTrack, style: str = "syncnet", size: int | None = None,
               **options) -> np.ndarray:
    """Crop ``track`` from the whole video ``frames`` uint8 ``(T, H, W, 3)`` -> uint8 ``(N, S, S, 3)`` RGB,
    ``N = len(track)`` (frames ``track.start .. track.end - 1``). ``options``: ``bottom_pad``, ``crop_scale``."""
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.dtype != np.uint8 or frames.shape[-1] != 3:
        raise ValueError(f"frames: expected uint8 (T, H, W, 3) RGB, got {describe(frames)}")
    if not isinstance(track, FaceTrack):
        raise ValueError(f"track: expected a FaceTrack, got {describe(track)}")
    if track.end > len(frames):
        raise ValueError(f"track: spans frames {track.start}..{track.end - 1} but frames has only {len(frames)}")
    size = _check_size(size, style)
    transforms = crop_transforms(track, style, frames.shape[1:3], size, **options)
    crops = iter_crops(frames[track.start:track.end], transforms, size, BORDER_VALUES[style])
    return np.stack(list(crops))


def landmarks_in_crop(track: FaceTrack, transforms: np.ndarray) -> np.ndarray:
    """The track's landmarks ``(N, K, D)`` moved into crop pixel coordinates by ``transforms`` ``(N, 2, 3)``."""
    if track.landmarks is None:
        raise ValueError("track: has no landmarks (the detector gave boxes only)")
    if len(transforms) != len(track):
        raise ValueError(f"transforms: expected {len(track)} matrices (one per track frame), got {len(transforms)}")
    return apply_affine(track.landmarks, transforms)
