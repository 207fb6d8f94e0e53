"""A small linear morphable model of 68 iBUG facial landmarks in 3D.

``shape = mean + identity_basis @ identity + expression_basis @ expression`` with shapes ``(68, 3)``, units of half
the face width (x right, y down, z towards the camera; origin between the eyes' midpoint and the mouth).

Expression coefficients (64, the "3DMM" representation of the corpus):

====  ======================================================================
 0    mouth opening (jaw drop with lips apart), 0..1
 1    lip spread (corners apart, lips thinned), 0..1
 2    lip rounding (corners together, lips forward), 0..1
 3    lip closure (inner lips pressed together; rendered, no landmark motion)
 4    lower-lip tuck under the upper teeth (/f v/), 0..1
 5    tongue tip visible (/th/; rendered inside the mouth, no landmark motion)
 6-7  smile, lip-corner asymmetry (speech-unrelated)
 8-11 brows: raise right/left, frown right/left
12-13 eye closure right/left (blinks), 14-15 squint right/left
16-63 small localised deformations of brows, eyes, nose, cheeks and jaw line (speech-unrelated)
====  ======================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NUM_LANDMARKS = 68
NUM_EXPRESSION = 64
NUM_IDENTITY = 16
MOUTH_COEFFS = slice(0, 6)
JAW, BROW_R, BROW_L, NOSE_BRIDGE, NOSE_BASE = slice(0, 17), slice(17, 22), slice(22, 27), slice(27, 31), slice(31, 36)
EYE_R, EYE_L, OUTER_LIP, INNER_LIP = slice(36, 42), slice(42, 48), slice(48, 60), slice(60, 68)
UPPER_OUTER, LOWER_OUTER = [48, 49, 50, 51, 52, 53, 54], [54, 55, 56, 57, 58, 59, 48]
UPPER_INNER, LOWER_INNER = [60, 61, 62, 63, 64], [64, 65, 66, 67, 60]
_MODEL_SEED = 20240611  # the model itself is fixed: its random parts are drawn from this seed


def mean_shape() -> np.ndarray:
    """The neutral face ``(68, 3)`` float64, mouth closed, in model units."""
    pts = np.zeros((NUM_LANDMARKS, 3))
    angle = np.linspace(0.0, np.pi, 17)
    c, s = np.cos(angle), np.sin(angle)
    pts[JAW] = np.stack([-np.sign(c) * np.abs(c) ** 0.75, -0.25 + 1.22 * s ** 1.4, -0.55 * np.abs(c) ** 1.5], 1)
    brow_x = np.array([-0.78, -0.62, -0.45, -0.29, -0.13])
    brow_y = np.array([-0.50, -0.60, -0.63, -0.61, -0.55])
    brow_z = np.array([0.10, 0.22, 0.30, 0.34, 0.36])
    pts[BROW_R] = np.stack([brow_x, brow_y, brow_z], 1)
    pts[BROW_L] = np.stack([-brow_x[::-1], brow_y[::-1], brow_z[::-1]], 1)
    pts[NOSE_BRIDGE] = np.stack([np.zeros(4), np.linspace(-0.40, 0.12, 4), np.linspace(0.42, 0.70, 4)], 1)
    pts[NOSE_BASE] = np.stack([np.linspace(-0.20, 0.20, 5), [0.22, 0.25, 0.27, 0.25, 0.22],
                               [0.42, 0.50, 0.56, 0.50, 0.42]], 1)
    eye = np.array([[-0.21, 0.0], [-0.10, -0.075], [0.05, -0.075], [0.16, 0.0], [0.05, 0.055], [-0.10, 0.055]])
    for sl, cx, flip in ((EYE_R, -0.40, 1.0), (EYE_L, 0.40, -1.0)):
        order = [0, 1, 2, 3, 4, 5] if flip > 0 else [3, 2, 1, 0, 5, 4]
        e = eye[order] * [flip, 1.0]
        pts[sl] = np.stack([cx + e[:, 0], -0.30 + e[:, 1], 0.28 - 0.15 * np.abs(e[:, 0])], 1)
    outer = [(-0.36, 0.58), (-0.24, 0.52), (-0.09, 0.49), (0.0, 0.51), (0.09, 0.49), (0.24, 0.52), (0.36, 0.58),
             (0.24, 0.66), (0.11, 0.70), (0.0, 0.71), (-0.11, 0.70), (-0.24, 0.66)]
    pts[OUTER_LIP] = [(x, y, 0.42 - 0.35 * x * x) for x, y in outer]
    inner = [(-0.29, 0.585), (-0.10, 0.575), (0.0, 0.578), (0.10, 0.575), (0.29, 0.585), (0.10, 0.578), (0.0, 0.58),
             (-0.10, 0.578)]
    pts[INNER_LIP] = [(x, y, 0.40 - 0.35 * x * x) for x, y in inner]
    return pts


def _weights(points: np.ndarray, centre, radius: float) -> np.ndarray:
    """Smooth falloff ``(68, 1)`` around ``centre`` (x, y) with ``radius``."""
    d2 = ((points[:, :2] - np.asarray(centre)) ** 2).sum(1, keepdims=True)
    return np.exp(-d2 / (2 * radius ** 2))


def expression_basis() -> np.ndarray:
    """``(64, 68, 3)`` displacement per unit of each expression coefficient (see the module table)."""
    mean = mean_shape()
    basis = np.zeros((NUM_EXPRESSION, NUM_LANDMARKS, 3))
    lower_lip = [55, 56, 57, 58, 59, 65, 66, 67]
    upper_lip = [49, 50, 51, 52, 53, 61, 62, 63]
    corners = [48, 54, 60, 64]
    # 0: opening. Lower lip and chin drop (middle most), corners follow a little, upper lip lifts slightly.
    centre_x = 1.0 - np.clip(np.abs(mean[:, 0]) / 0.4, 0.0, 1.0) ** 2
    basis[0, lower_lip, 1] = 0.22 + 0.08 * centre_x[lower_lip]
    basis[0, corners, 1] = 0.08
    basis[0, upper_lip, 1] = -0.02 * centre_x[upper_lip]
    basis[0, [61, 62, 63], 1] -= 0.02
    basis[0, JAW, 1] = 0.30 * np.clip(mean[JAW, 1] + 0.1, 0.0, None) ** 1.2
    # 1: spread. Corners outward, lips thinner.
    basis[1, corners, 0] = np.sign(mean[corners, 0]) * 0.09
    basis[1, [49, 53, 55, 59], 0] = np.sign(mean[[49, 53, 55, 59], 0]) * 0.05
    basis[1, [50, 51, 52], 1], basis[1, [56, 57, 58], 1] = 0.012, -0.012
    # 2: rounding. Corners inward, lips forward and bulging, inner opening narrows sideways.
    basis[2, corners, 0] = -np.sign(mean[corners, 0]) * 0.10
    basis[2, [60, 64], 0] -= np.sign(mean[[60, 64], 0]) * 0.04
    basis[2, [49, 53, 55, 59], 0] = -np.sign(mean[[49, 53, 55, 59], 0]) * 0.05
    basis[2, OUTER_LIP, 2], basis[2, INNER_LIP, 2] = 0.10, 0.10
    basis[2, [50, 51, 52], 1], basis[2, [56, 57, 58], 1] = -0.02, 0.02
    # 4: tuck. Lower lip rises towards the upper teeth and moves back.
    basis[4, lower_lip, 1], basis[4, lower_lip, 2] = -0.03, -0.06
    basis[4, [49, 50, 51, 52, 53], 1] = -0.015
    # 6: smile, 7: asymmetric corner pull.
    basis[6, corners, 0] = np.sign(mean[corners, 0]) * 0.05
    basis[6, corners, 1] = -0.05
    basis[6, [1, 2, 3, 13, 14, 15], 0] = np.sign(mean[[1, 2, 3, 13, 14, 15], 0]) * 0.02
    basis[7, [48, 60], 1], basis[7, [54, 64], 1] = -0.04, 0.02
    # 8-11: brows.
    for k, sl, sign in ((8, BROW_R, -1), (9, BROW_L, 1)):
        basis[k, sl, 1] = -0.10
        basis[k + 2, sl, 1] = 0.05 * np.linspace(0.3, 1.0, 5)[::sign]
        basis[k + 2, sl, 0] = -sign * 0.03 * np.linspace(0.3, 1.0, 5)[::sign]
    # 12-15: eyes. Closure brings the upper lid onto the lower lid; squint lifts the lower lid.
    for k, sl in ((12, EYE_R), (13, EYE_L)):
        idx = np.arange(NUM_LANDMARKS)[sl]
        upper, lower = idx[[1, 2]], idx[[5, 4]]
        basis[k, upper, 1] = mean[lower, 1] - mean[upper, 1] - 0.005
        basis[k + 2, lower, 1] = -0.03
    # 16-63: small random localised deformations away from the mouth.
    rng = np.random.default_rng(_MODEL_SEED)
    non_mouth = np.arange(48)
    for k in range(16, NUM_EXPRESSION):
        centre = mean[rng.choice(non_mouth), :2]
        direction = rng.normal(size=3) * [1.0, 1.0, 0.5]
        basis[k] = _weights(mean, centre, 0.15) * direction / np.linalg.norm(direction) * 0.025
        basis[k, 48:] = 0.0
    return basis


def identity_basis() -> np.ndarray:
    """``(16, 68, 3)`` identity displacements: 8 designed proportions and 8 random smooth ones."""
    mean = mean_shape()
    basis = np.zeros((NUM_IDENTITY, NUM_LANDMARKS, 3))
    basis[0, :, 0] = 0.08 * mean[:, 0] * (mean[:, 1] > 0.1)  # jaw width
    basis[1, :, 1] = 0.10 * np.clip(mean[:, 1], 0.0, None)  # lower face length
    basis[2, 36:48, 0] = 0.05 * np.sign(mean[36:48, 0])  # eye spacing
    basis[3, 27:36, 1] = np.linspace(-0.04, 0.04, 9)  # nose length
    basis[3, 31:36, 0] = 0.05 * mean[31:36, 0] / 0.2  # nose width
    basis[4, 48:68, 0] = 0.10 * mean[48:68, 0]  # mouth width
    basis[5, UPPER_OUTER[1:-1], 1] = -0.025  # upper lip thickness
    basis[6, LOWER_OUTER[1:-1], 1] = 0.03  # lower lip thickness
    basis[7, 17:27, 1] = -0.05  # brow height
    rng = np.random.default_rng(_MODEL_SEED + 1)
    for k in range(8, NUM_IDENTITY):
        centre = rng.uniform([-0.8, -0.6], [0.8, 1.0])
        basis[k] = _weights(mean, centre, 0.35) * rng.normal(size=3) * 0.03
    return basis


@dataclass
class FaceModel:
    """The morphable model: ``mean`` (68, 3), ``identity`` (16, 68, 3), ``expression`` (64, 68, 3)."""

    mean: np.ndarray
    identity: np.ndarray
    expression: np.ndarray

    @classmethod
    def default(cls) -> "FaceModel":
        return cls(mean_shape(), identity_basis(), expression_basis())

    def shape(self, identity: np.ndarray, expression: np.ndarray) -> np.ndarray:
        """Landmarks ``(T, 68, 3)`` from identity ``(16,)`` and expression coefficients ``(T, 64)``."""
        identity, expression = np.asarray(identity, np.float64), np.asarray(expression, np.float64)
        if identity.shape != (NUM_IDENTITY,):
            raise ValueError(f"identity: expected shape ({NUM_IDENTITY},), got {identity.shape}")
        if expression.ndim != 2 or expression.shape[1] != NUM_EXPRESSION:
            raise ValueError(f"expression: expected shape (T, {NUM_EXPRESSION}), got {expression.shape}")
        neutral = self.mean + np.einsum("k,kpd->pd", identity, self.identity)
        return neutral[None] + np.einsum("tk,kpd->tpd", expression, self.expression)
