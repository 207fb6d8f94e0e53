"""Camera: model-space points -> posed 3D points in crop pixels (weak perspective, as an aligned face crop sees them).

A crop of ``size`` pixels puts the model origin at ``(0.5, 0.46) * size`` and one model unit (half a face width) at
``0.45 * size`` pixels, so eyes sit near 32 % and the mouth near 72 % of the crop height (the mouth is in the lower
half, as in Wav2Lip's crops). Pixel coordinates follow OpenCV: integer values are pixel centres.
"""

from __future__ import annotations

import numpy as np

ORIGIN = (0.5, 0.46)
UNIT = 0.45


def rotation(angles: np.ndarray) -> np.ndarray:
    """Rotation matrix ``(3, 3)`` from yaw, pitch, roll (radians); y points down, z towards the camera."""
    yaw, pitch, roll = angles
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return rz @ rx @ ry


class Camera:
    """The pose of one frame: ``angles`` (3,) yaw/pitch/roll in radians, ``shift`` (2,) in pixels, relative
    ``scale`` and crop ``size`` in pixels."""

    def __init__(self, angles: np.ndarray, shift: np.ndarray, scale: float, size: int):
        if np.shape(angles) != (3,) or np.shape(shift) != (2,) or not scale > 0 or not size > 0:
            raise ValueError(f"angles/shift/scale/size: expected (3,), (2,), > 0 and > 0, got {np.shape(angles)}, "
                             f"{np.shape(shift)}, {scale!r} and {size!r}")
        self.matrix = rotation(angles).T * (UNIT * size * scale)
        self.offset = np.array([ORIGIN[0] * size + shift[0], ORIGIN[1] * size + shift[1], 0.0])
        self.unit_pixels = UNIT * size * scale

    def __call__(self, points) -> np.ndarray:
        """Posed points ``(..., 3)``: x, y in crop pixels, z (towards the camera) in the same pixel unit."""
        return np.asarray(points, np.float64) @ self.matrix + self.offset
