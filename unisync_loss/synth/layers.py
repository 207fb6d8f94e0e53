"""Face geometry as painter-ordered polygon layers: the 68 landmarks plus the parts derived from them (forehead, hair,
ears, neck, clothes, teeth, tongue, irises, nostrils, glasses), posed into the crop.

Each :class:`Layer` carries its CelebAMask-HQ class name and its colour, so the parsing map and the RGB image are
painted from the very same polygons. ``l_`` classes are the parts on the left of the image (the person's right).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .appearance import Appearance
from .camera import Camera
from .face_model import BROW_L, BROW_R, EYE_L, EYE_R, INNER_LIP, LOWER_OUTER, UPPER_INNER, UPPER_OUTER

_TEETH = np.array([0.92, 0.90, 0.82])
_DARK = np.full(3, 0.12)


@dataclass
class Layer:
    """A filled polygon (``thickness == 0``) or an outline (``closed`` or open) in crop pixels ``(N, 2)`` of parsing
    class ``name``, painted ``colour``; ``details`` are colour-only layers clipped to this one."""

    name: str
    points: np.ndarray
    colour: np.ndarray
    thickness: float = 0.0
    closed: bool = True
    details: list["Layer"] = field(default_factory=list)


def _arc(half_width: float, y_end: float, height: float, z: float, count: int = 15, start: float = 0.0,
         stop: float = np.pi) -> np.ndarray:
    """``(count, 3)`` model points on an arch from ``(half_width, y_end)`` over the top to ``(-half_width, y_end)``."""
    theta = np.linspace(start, stop, count)
    s = np.sin(theta)
    return np.stack([half_width * np.cos(theta), y_end - height * s ** 0.8, z + 0.4 * s], 1)


def _ellipse(centre, radii, z: float, count: int = 16) -> np.ndarray:
    """``(count, 3)`` model points on an ellipse in the plane at depth ``z``."""
    theta = np.linspace(0.0, 2 * np.pi, count, endpoint=False)
    return np.stack([centre[0] + radii[0] * np.cos(theta), centre[1] + radii[1] * np.sin(theta),
                     np.full(count, z)], 1)


def face_layers(shape: np.ndarray, neutral: np.ndarray, coeffs: np.ndarray, camera: Camera,
                look: Appearance) -> list[Layer]:
    """Painter-ordered layers of one frame. ``shape``/``neutral`` ``(68, 3)`` model units, ``coeffs`` ``(64,)``."""
    if np.shape(shape) != (68, 3) or np.shape(neutral) != (68, 3) or np.ndim(coeffs) != 1:
        raise ValueError(f"shape/neutral/coeffs: expected (68, 3), (68, 3) and (64,), got {np.shape(shape)}, "
                         f"{np.shape(neutral)} and {np.shape(coeffs)}")
    def px(points):
        return camera(points)[:, :2]

    return [*_head_layers(shape, px, look), *_brow_layers(shape, px, look), *_eye_layers(shape, px, look),
            _nose_layer(shape, px, look), _mouth_layer(shape, neutral, coeffs, px, look),
            # the lower lip first: when it tucks under the upper teeth (/f v/) the upper lip covers it
            Layer("l_lip", px(shape[LOWER_OUTER + [60, 67, 66, 65, 64]]), look.lips * 1.05),
            Layer("u_lip", px(shape[UPPER_OUTER + UPPER_INNER[::-1]]), look.lips),
            *_glasses_layers(shape, px, look)]


def _head_layers(shape, px, look: Appearance) -> list[Layer]:
    """Clothes, neck, back hair, ears, the face skin up to the forehead, the fringe and a hat."""
    y_end = (shape[0, 1] + shape[16, 1]) / 2
    half_w = (shape[16, 0] - shape[0, 0]) / 2
    layers = [Layer("cloth", px([[-2.6, 1.5, -0.5], [-0.9, 1.28, -0.5], [0.9, 1.28, -0.5], [2.6, 1.5, -0.5],
                                 [2.6, 3.5, -0.5], [-2.6, 3.5, -0.5]]), look.cloth),
              Layer("neck", px([[-0.55, 0.4, -0.4], [0.55, 0.4, -0.4], [0.62, 1.35, -0.4], [0.62, 3.5, -0.4],
                                [-0.62, 3.5, -0.4], [-0.62, 1.35, -0.4]]), look.skin * 0.85)]
    if look.hair_style == "long":
        back = _arc(half_w * 1.22, y_end, 1.15, -0.6)
        sides = [[-half_w * 1.3, 1.35, -0.6], [-half_w * 0.9, 1.35, -0.6], [half_w * 0.9, 1.35, -0.6],
                 [half_w * 1.3, 1.35, -0.6]]
        layers.append(Layer("hair", px(np.concatenate([back, sides])), look.hair))
    for name, idx, side in (("l_ear", 1, -1.0), ("r_ear", 15, 1.0)):
        centre = shape[idx, :2] + [side * 0.05, -0.08]
        layers.append(Layer(name, px(_ellipse(centre, (0.09, 0.2), -0.5)), look.skin * 0.92))
    forehead = _arc(half_w, y_end, 0.95, -0.2)
    layers.append(Layer("skin", px(np.concatenate([shape[:17], forehead[1:-1]])), look.skin))
    fringe_depth = look.hairline if look.hair_style != "buzz" else 0.9
    outer = _arc(half_w * 1.08, y_end, 1.1, 0.0)
    inner = _arc(half_w * 0.95, y_end, 0.95 * fringe_depth, 0.1, start=np.pi, stop=0.0)
    layers.append(Layer("hair", px(np.concatenate([outer, inner])), look.hair))
    if look.wears_hat:
        layers.append(Layer("hat", px([[-1.25, -0.82, 0.3], [1.25, -0.82, 0.3], [1.0, -1.2, 0.3], [0.8, -2.0, 0.0],
                                       [-0.8, -2.0, 0.0], [-1.0, -1.2, 0.3]]), look.hat))
    return layers


def _brow_layers(shape, px, look: Appearance) -> list[Layer]:
    """Brows: the five landmarks are the upper edge, thickened downwards and tapered at the ends."""
    layers = []
    tapers = ([0.5, 0.9, 1.0, 1.0, 0.8], [0.8, 1.0, 1.0, 0.9, 0.5])
    for name, sl, taper in (("l_brow", BROW_R, tapers[0]), ("r_brow", BROW_L, tapers[1])):
        top = shape[sl]
        bottom = top + np.stack([np.zeros(5), np.asarray(taper) * look.brow_thickness, np.zeros(5)], 1)
        layers.append(Layer(name, px(np.concatenate([top, bottom[::-1]])), look.hair * 0.8 + look.skin * 0.1))
    return layers


def _eye_layers(shape, px, look: Appearance) -> list[Layer]:
    """Eye openings with iris, pupil and upper-lid line inside (a blink closes the opening)."""
    layers = []
    for name, sl in (("l_eye", EYE_R), ("r_eye", EYE_L)):
        eye = shape[sl]
        centre, z = eye[:, :2].mean(0), eye[:, 2].mean() + 0.01
        details = [Layer("iris", px(_ellipse(centre, (0.055, 0.055), z)), look.iris),
                   Layer("pupil", px(_ellipse(centre, (0.024, 0.024), z)), np.full(3, 0.03)),
                   Layer("lid", px(eye[[0, 1, 2, 3]]), look.skin * 0.35, thickness=1.0, closed=False)]
        layers.append(Layer(name, px(eye), np.array([0.93, 0.92, 0.88]), details=details))
    return layers


def _nose_layer(shape, px, look: Appearance) -> Layer:
    """Nose from the bridge (27-30) widening to the nostril base (31-35), with dark nostrils inside."""
    outline = np.concatenate([shape[27:28] + [-0.06, 0, 0], shape[30:31] + [-0.12, 0, -0.05],
                              shape[31:36] + [0, 0.02, 0], shape[30:31] + [0.12, 0, -0.05],
                              shape[27:28] + [0.06, 0, 0]])
    nostrils = [Layer("nostril", px(_ellipse((shape[a, :2] + shape[b, :2]) / 2 + [0, 0.005], (0.045, 0.02),
                                             shape[33, 2])), look.skin * 0.35) for a, b in ((31, 32), (34, 35))]
    return Layer("nose", px(outline), look.skin * 1.01, details=nostrils)


def _mouth_layer(shape, neutral, coeffs, px, look: Appearance) -> Layer:
    """Mouth interior with upper teeth (fixed to the skull), lower teeth (follow the jaw) and the tongue."""
    lip_line = neutral[UPPER_INNER]
    drop = shape[66, 1] - neutral[66, 1]
    x0, x1 = lip_line[0, 0] * 0.9, lip_line[-1, 0] * 0.9
    y, z = lip_line[2, 1], lip_line[2, 2] - 0.05
    upper = Layer("teeth", px([[x0, y - 0.1, z], [x1, y - 0.1, z], [x1 * 0.9, y + 0.04, z], [0, y + 0.05, z],
                               [x0 * 0.9, y + 0.04, z]]), _TEETH)
    low_top = y + 0.07 + drop
    lower = Layer("teeth", px([[x0 * 0.85, low_top + 0.02, z], [0, low_top, z], [x1 * 0.85, low_top + 0.02, z],
                               [x1 * 0.85, low_top + 0.2, z], [x0 * 0.85, low_top + 0.2, z]]), _TEETH * 0.95)
    raised = float(np.clip(coeffs[5], 0.0, 1.0))
    tongue = Layer("tongue", px(_ellipse((0.0, low_top + 0.03 - 0.07 * raised), (0.17, 0.06 + 0.04 * raised),
                                         z + 0.02 * raised)), np.array([0.78, 0.36, 0.38]))
    interior = np.array([0.28, 0.08, 0.09]) * (0.6 + 0.4 * look.skin)
    return Layer("mouth", px(shape[INNER_LIP]), interior, details=[upper, lower, tongue])


def _glasses_layers(shape, px, look: Appearance) -> list[Layer]:
    """Glasses frames (outlines) around both eyes and across the nose bridge, if the speaker wears them."""
    if not look.glasses:
        return []
    rims = [Layer("eye_g", px(_ellipse(shape[sl, :2].mean(0), (0.22, 0.14), 0.45)), _DARK, thickness=1.2)
            for sl in (EYE_R, EYE_L)]
    bridge = Layer("eye_g", px([shape[39] + [0.02, -0.04, 0.2], shape[42] + [-0.02, -0.04, 0.2]]), _DARK,
                   thickness=1.2)
    return [*rims, bridge]
