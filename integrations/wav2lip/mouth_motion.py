"""Does a generated mouth move with the real one? A pixel measure that needs no expert.

The mouth's inside is darker than the lips and skin around it, so the mean darkness of a box around the mouth rises
as the mouth opens. :func:`mouth_darkness` measures it per frame from the pixels, in a box placed by the real clip's
landmarks (the generator keeps the head pose of its masked input, so the box fits the generated frames too).
:func:`mouth_agreement` compares a generated clip with the real one: the correlation of the two darkness series
(1 for the real clip itself; about 0 for a mouth that ignores the audio) and the ratio of their standard deviations
(about 0 for a mouth that does not move).
"""

from __future__ import annotations

import numpy as np

MOUTH_POINTS = slice(48, 68)  # iBUG 68-point layout: outer and inner lips


def mouth_boxes(landmarks: np.ndarray, frame_size: int, margin: float = 0.15) -> np.ndarray:
    """``(T, 68, 2)`` pixel landmarks -> ``(T, 4)`` int boxes ``(x0, y0, x1, y1)`` around the lips, widened by
    ``margin`` of the lips' size on each side and clipped to the ``frame_size`` square."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.ndim != 3 or landmarks.shape[1:] != (68, 2):
        raise ValueError(f"landmarks: expected (T, 68, 2) iBUG points in pixels, got shape {landmarks.shape}")
    lips = landmarks[:, MOUTH_POINTS]
    low, high = lips.min(axis=1), lips.max(axis=1)
    pad = margin * (high - low)
    boxes = np.concatenate([np.floor(low - pad), np.ceil(high + pad)], axis=1)
    return np.clip(boxes, 0, frame_size).astype(int)


def mouth_darkness(frames: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """``(T, H, W, 3)`` uint8 RGB frames and ``(T, 4)`` boxes -> ``(T,)`` mean darkness ``1 - luma`` in [0, 1]."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames: expected (T, H, W, 3) uint8 RGB, got {frames.dtype} {frames.shape}")
    if len(boxes) != len(frames):
        raise ValueError(f"boxes: expected one per frame ({len(frames)}), got {len(boxes)}")
    luma = frames.astype(np.float64) @ np.array([0.299, 0.587, 0.114]) / 255.0
    out = np.empty(len(frames))
    for t, (x0, y0, x1, y1) in enumerate(boxes):
        patch = luma[t, y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)]
        out[t] = 1.0 - patch.mean() if patch.size else np.nan
    return out


def mouth_agreement(generated: np.ndarray, real: np.ndarray, landmarks: np.ndarray) -> dict[str, float]:
    """``{"mouth_corr", "mouth_motion"}`` of a generated clip against the real one (both ``(T, S, S, 3)`` uint8
    RGB, ``landmarks`` ``(T, 68, 2)`` of the real clip): the correlation of the mouth-darkness series and the ratio of
    their standard deviations."""
    generated, real = np.asarray(generated), np.asarray(real)
    if generated.shape != real.shape:
        raise ValueError(f"generated, real: expected equal shapes, got {generated.shape} and {real.shape}")
    boxes = mouth_boxes(landmarks[:len(real)], real.shape[1])
    fake, true = mouth_darkness(generated, boxes), mouth_darkness(real, boxes)
    if true.std() < 1e-9:
        raise ValueError("real: its mouth region never changes, so agreement with it is undefined")
    corr = float(np.corrcoef(fake, true)[0, 1]) if fake.std() > 1e-9 else 0.0
    return {"mouth_corr": corr, "mouth_motion": float(fake.std() / true.std())}
