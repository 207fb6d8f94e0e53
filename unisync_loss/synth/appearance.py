"""How a speaker looks and how a clip is lit: colours, hair style, glasses, hat; light direction and strength."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_SKIN_TONES = np.array([[0.96, 0.80, 0.69], [0.92, 0.72, 0.58], [0.85, 0.64, 0.50], [0.74, 0.54, 0.40],
                        [0.60, 0.42, 0.30], [0.45, 0.30, 0.22], [0.33, 0.22, 0.16]])
_HAIR_COLOURS = np.array([[0.08, 0.06, 0.05], [0.25, 0.16, 0.09], [0.45, 0.30, 0.16], [0.75, 0.60, 0.35],
                          [0.55, 0.25, 0.10], [0.60, 0.60, 0.60], [0.85, 0.85, 0.82]])
_IRIS_COLOURS = np.array([[0.25, 0.15, 0.08], [0.35, 0.50, 0.70], [0.35, 0.45, 0.25], [0.15, 0.10, 0.05]])
HAIR_STYLES = ("short", "long", "buzz")


@dataclass
class Appearance:
    """Colours are RGB floats in [0, 1]; ``hairline`` is the forehead height covered by the fringe (0..1)."""

    skin: np.ndarray
    lips: np.ndarray
    hair: np.ndarray
    iris: np.ndarray
    background: np.ndarray  # (2, 3): top and bottom colour of a vertical gradient
    cloth: np.ndarray
    hat: np.ndarray
    hair_style: str
    hairline: float
    glasses: bool
    wears_hat: bool
    brow_thickness: float

    @classmethod
    def sample(cls, rng: np.random.Generator) -> "Appearance":
        skin = np.clip(_SKIN_TONES[rng.integers(len(_SKIN_TONES))] * rng.uniform(0.93, 1.07, 3), 0, 1)
        lips = np.clip(skin * [0.85, 0.55, 0.55] + rng.uniform(0.0, 0.08) * np.array([1.0, 0.1, 0.2]), 0, 1)
        hair = np.clip(_HAIR_COLOURS[rng.integers(len(_HAIR_COLOURS))] * rng.uniform(0.85, 1.15, 3), 0, 1)
        return cls(skin=skin, lips=lips, hair=hair, iris=_IRIS_COLOURS[rng.integers(len(_IRIS_COLOURS))],
                   background=rng.uniform(0.1, 0.9, (2, 3)), cloth=rng.uniform(0.05, 0.9, 3),
                   hat=rng.uniform(0.05, 0.9, 3), hair_style=HAIR_STYLES[rng.integers(len(HAIR_STYLES))],
                   hairline=float(rng.uniform(0.62, 0.85)), glasses=bool(rng.random() < 0.2),
                   wears_hat=bool(rng.random() < 0.1), brow_thickness=float(rng.uniform(0.035, 0.07)))


@dataclass
class Lighting:
    """A directional light: ``direction`` (3,) unit vector (z towards the camera), ``ambient`` and ``diffuse``
    strengths, a colour ``tint`` (3,), per-frame ``flicker`` (relative std) and camera ``noise`` (std, 0..1 units)."""

    direction: np.ndarray
    ambient: float
    diffuse: float
    tint: np.ndarray
    flicker: float
    noise: float

    @classmethod
    def sample(cls, rng: np.random.Generator, amount: float = 1.0) -> "Lighting":
        """Random lighting; ``amount`` in [0, 5] scales how far it strays from flat, white, noiseless light."""
        if not isinstance(amount, (int, float)) or not 0 <= amount <= 5:
            raise ValueError(f"lighting: expected a number in [0, 5], got {amount!r}")
        direction = np.array([rng.normal(0, 0.6 * amount), rng.normal(-0.3, 0.4 * amount), 1.0])
        diffuse = float(np.clip(rng.uniform(0.2, 0.5) * amount, 0.0, 0.8))
        return cls(direction=direction / np.linalg.norm(direction), ambient=float(1.0 - 0.75 * diffuse),
                   diffuse=diffuse, tint=np.clip(1.0 + rng.normal(0, 0.06 * amount, 3), 0.6, 1.4),
                   flicker=0.02 * amount, noise=0.012 * amount)
