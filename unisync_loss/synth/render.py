"""Rendering: one set of face polygons -> the RGB image and the CelebAMask-HQ parsing map of a frame.

:func:`face_layers` builds the polygons of every face part in model space from the 68 landmarks (plus forehead, hair,
ears, neck, clothes derived from them) and poses them into the crop. :func:`render_parsing` fills them with class
indices, :func:`render_rgb` with colours at twice the resolution (anti-aliased, lit, then downsampled), adding details
that live inside one class (teeth and tongue in the mouth, irises in the eyes, nostrils in the nose), so the two
images agree by construction. ``l_`` classes are the parts on the left of the image (the person's right).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..representations.parsing import CELEBAMASK_HQ_CLASSES
from .appearance import Appearance, Lighting
from .camera import Camera
from .face_model import BROW_L, BROW_R, EYE_L, EYE_R, INNER_LIP, LOWER_INNER, LOWER_OUTER, UPPER_INNER, UPPER_OUTER

CLASS_INDEX = {name: i for i, name in enumerate(CELEBAMASK_HQ_CLASSES)}
_SHIFT = 4  # OpenCV fixed-point bits for sub-pixel polygon vertices
_SUPERSAMPLE = 2


@dataclass
class Layer:
    """A filled polygon (``thickness == 0``) or closed outline in crop pixels ``(N, 2)`` of parsing class ``name``,
    painted ``colour``; ``details`` are colour-only layers clipped to this one."""

    name: str
    points: np.ndarray
    colour: np.ndarray
    thickness: float = 0.0
    details: list["Layer"] = field(default_factory=list)


def _arc(half_width: float, y_end: float, height: float, z: float, count: int = 15, start=0.0, stop=np.pi) -> np.ndarray:
    theta = np.linspace(start, stop, count)
    s = np.sin(theta)
    return np.stack([half_width * np.cos(theta), y_end - height * s ** 0.8, z + 0.4 * s], 1)


def _ellipse(centre, radii, z: float, count: int = 16) -> np.ndarray:
    theta = np.linspace(0.0, 2 * np.pi, count, endpoint=False)
    return np.stack([centre[0] + radii[0] * np.cos(theta), centre[1] + radii[1] * np.sin(theta),
                     np.full(count, z)], 1)


def face_layers(shape: np.ndarray, neutral: np.ndarray, coeffs: np.ndarray, camera: Camera,
                look: Appearance) -> list[Layer]:
    """Painter-ordered layers of one frame. ``shape``/``neutral`` ``(68, 3)`` model units, ``coeffs`` ``(64,)``."""
    def px(points):
        return camera(points)[:, :2]

    skin, hair = look.skin, look.hair
    y_end = (shape[0, 1] + shape[16, 1]) / 2
    half_w = (shape[16, 0] - shape[0, 0]) / 2
    layers = [Layer("cloth", px([[-2.6, 1.5, -0.5], [-0.9, 1.28, -0.5], [0.9, 1.28, -0.5], [2.6, 1.5, -0.5],
                                 [2.6, 3.5, -0.5], [-2.6, 3.5, -0.5]]), look.cloth),
              Layer("neck", px([[-0.55, 0.4, -0.4], [0.55, 0.4, -0.4], [0.62, 1.35, -0.4], [0.62, 3.5, -0.4],
                                [-0.62, 3.5, -0.4], [-0.62, 1.35, -0.4]]), skin * 0.85)]
    if look.hair_style == "long":
        back = _arc(half_w * 1.22, y_end, 1.15, -0.6)
        sides = [[-half_w * 1.3, 1.35, -0.6], [-half_w * 0.9, 1.35, -0.6]]
        layers.append(Layer("hair", px(np.concatenate([back, sides[:1], sides[1:], [[half_w * 0.9, 1.35, -0.6],
                                                                                     [half_w * 1.3, 1.35, -0.6]]])),
                            hair))
    for name, idx, side in (("l_ear", 1, -1.0), ("r_ear", 15, 1.0)):
        centre = shape[idx, :2] + [side * 0.05, -0.08]
        layers.append(Layer(name, px(_ellipse(centre, (0.09, 0.2), -0.5)), skin * 0.92))
    forehead = _arc(half_w, y_end, 0.95, -0.2)
    layers.append(Layer("skin", px(np.concatenate([shape[:17], forehead[1:-1]])), skin))
    fringe_depth = look.hairline if look.hair_style != "buzz" else 0.9
    outer = _arc(half_w * 1.08, y_end, 1.1, 0.0)
    inner = _arc(half_w * 0.95, y_end, 0.95 * fringe_depth, 0.1, start=np.pi, stop=0.0)
    layers.append(Layer("hair", px(np.concatenate([outer, inner])), hair))
    if look.wears_hat:
        layers.append(Layer("hat", px([[-1.25, -0.82, 0.3], [1.25, -0.82, 0.3], [1.0, -1.2, 0.3], [0.8, -2.0, 0.0],
                                       [-0.8, -2.0, 0.0], [-1.0, -1.2, 0.3]]), look.hat))
    brow_colour = hair * 0.8 + skin * 0.1
    for name, sl in (("l_brow", BROW_R), ("r_brow", BROW_L)):
        top = shape[sl]
        taper = np.array([0.5, 0.9, 1.0, 1.0, 0.8]) if sl == BROW_R else np.array([0.8, 1.0, 1.0, 0.9, 0.5])
        bottom = top + np.stack([np.zeros(5), taper * look.brow_thickness, np.zeros(5)], 1)
        layers.append(Layer(name, px(np.concatenate([top, bottom[::-1]])), brow_colour))
    for name, sl in (("l_eye", EYE_R), ("r_eye", EYE_L)):
        eye = shape[sl]
        centre = eye[:, :2].mean(0)
        iris = Layer("iris", px(_ellipse(centre, (0.055, 0.055), eye[:, 2].mean() + 0.01)), look.iris)
        pupil = Layer("pupil", px(_ellipse(centre, (0.024, 0.024), eye[:, 2].mean() + 0.01)), np.full(3, 0.03))
        lid = Layer("lid", px(eye[[0, 1, 2, 3, 2, 1]]), skin * 0.35, thickness=1.0)
        layers.append(Layer(name, px(eye), np.array([0.93, 0.92, 0.88]), details=[iris, pupil, lid]))
    nose = np.concatenate([shape[27:28] + [-0.06, 0, 0], shape[30:31] + [-0.12, 0, -0.05], shape[31:36] + [0, 0.02, 0],
                           shape[30:31] + [0.12, 0, -0.05], shape[27:28] + [0.06, 0, 0]])
    nostrils = [Layer("nostril", px(_ellipse((shape[a, :2] + shape[b, :2]) / 2 + [0, 0.005], (0.045, 0.02),
                                             shape[33, 2])), skin * 0.35) for a, b in ((31, 32), (34, 35))]
    layers.append(Layer("nose", px(nose), skin * 1.01, details=nostrils))
    layers.append(_mouth_layer(shape, neutral, coeffs, px, look))
    layers.append(Layer("u_lip", px(shape[UPPER_OUTER + UPPER_INNER[::-1]]), look.lips))
    lower_lip = Layer("l_lip", px(shape[LOWER_OUTER + [60, 67, 66, 65, 64]]), look.lips * 1.05)
    layers.append(lower_lip)
    if look.glasses:
        for sl in (EYE_R, EYE_L):
            centre = shape[sl, :2].mean(0)
            layers.append(Layer("eye_g", px(_ellipse(centre, (0.22, 0.14), 0.45)), np.full(3, 0.12), thickness=1.2))
        layers.append(Layer("eye_g", px([shape[39] + [0.02, -0.04, 0.2], shape[42] + [-0.02, -0.04, 0.2]]),
                            np.full(3, 0.12), thickness=1.2))
    return layers


def _mouth_layer(shape, neutral, coeffs, px, look: Appearance) -> Layer:
    """Mouth interior with upper teeth (fixed to the skull), lower teeth (follow the jaw) and the tongue."""
    lip_line = neutral[UPPER_INNER]
    drop = shape[66, 1] - neutral[66, 1]
    x0, x1 = lip_line[0, 0] * 0.9, lip_line[-1, 0] * 0.9
    y = lip_line[2, 1]
    z = lip_line[2, 2] - 0.05
    teeth = np.array([0.92, 0.90, 0.82])
    upper = Layer("teeth", px([[x0, y - 0.1, z], [x1, y - 0.1, z], [x1 * 0.9, y + 0.04, z], [0, y + 0.05, z],
                               [x0 * 0.9, y + 0.04, z]]), teeth)
    low_top = y + 0.07 + drop
    lower = Layer("teeth", px([[x0 * 0.85, low_top + 0.02, z], [0, low_top, z], [x1 * 0.85, low_top + 0.02, z],
                               [x1 * 0.85, low_top + 0.2, z], [x0 * 0.85, low_top + 0.2, z]]), teeth * 0.95)
    tongue_up = float(np.clip(coeffs[5], 0.0, 1.0))
    tongue = Layer("tongue", px(_ellipse((0.0, low_top + 0.03 - 0.07 * tongue_up), (0.17, 0.06 + 0.04 * tongue_up),
                                         z + 0.02 * tongue_up)), np.array([0.78, 0.36, 0.38]))
    interior = np.array([0.28, 0.08, 0.09]) * (0.6 + 0.4 * look.skin)
    return Layer("mouth", px(shape[INNER_LIP]), interior, details=[upper, lower, tongue])


def _fixed(points: np.ndarray, factor: float, offset: float, origin: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """OpenCV fixed-point vertices of ``points * factor + offset - origin``."""
    scaled = (points * factor + offset - np.asarray(origin)) * (1 << _SHIFT)
    return np.round(scaled).astype(np.int32).reshape(-1, 1, 2)


def render_parsing(layers: list[Layer], size: int) -> np.ndarray:
    """Class-index map ``(size, size)`` uint8 (CelebAMask-HQ order) painted from ``layers``."""
    label = np.zeros((size, size), np.uint8)
    for layer in layers:
        value = CLASS_INDEX[layer.name]
        pts = _fixed(layer.points, 1.0, 0.0)
        if layer.thickness:
            cv2.polylines(label, [pts], True, value, max(1, int(round(layer.thickness))), cv2.LINE_8, _SHIFT)
        else:
            cv2.fillPoly(label, [pts], value, cv2.LINE_8, _SHIFT)
    return label


def _paint(canvas: np.ndarray, layer: Layer, origin=(0.0, 0.0)) -> None:
    pts = _fixed(layer.points, _SUPERSAMPLE, 0.5 * (_SUPERSAMPLE - 1), origin)
    colour = tuple(float(c) for c in np.clip(layer.colour, 0.0, 1.0))
    if layer.thickness:
        thick = max(1, int(round(layer.thickness * _SUPERSAMPLE)))
        cv2.polylines(canvas, [pts], layer.name != "lid", colour, thick, cv2.LINE_AA, _SHIFT)
    else:
        cv2.fillPoly(canvas, [pts], colour, cv2.LINE_AA, _SHIFT)


def _paint_clipped(canvas: np.ndarray, layer: Layer) -> None:
    """Paint ``layer`` and its details, the details clipped to the layer's polygon (work inside its bounding box)."""
    big = layer.points * _SUPERSAMPLE + 0.5 * (_SUPERSAMPLE - 1)
    h, w = canvas.shape[:2]
    x0, y0 = np.clip(np.floor(big.min(0)).astype(int) - 2, 0, [w, h])
    x1, y1 = np.clip(np.ceil(big.max(0)).astype(int) + 3, 0, [w, h])
    if x1 <= x0 or y1 <= y0:
        return
    roi = canvas[y0:y1, x0:x1]
    patch = roi.copy()
    origin = (float(x0), float(y0))  # in supersampled pixels
    for part in (Layer(layer.name, layer.points, layer.colour), *layer.details):
        _paint(patch, part, origin)
    mask = np.zeros(roi.shape[:2], np.float32)
    cv2.fillPoly(mask, [_fixed(layer.points, _SUPERSAMPLE, 0.5 * (_SUPERSAMPLE - 1), origin)], 1.0, cv2.LINE_AA, _SHIFT)
    roi += (patch - roi) * mask[:, :, None]


def shading(size: int, centre: np.ndarray, radius: float, light: Lighting) -> np.ndarray:
    """Lambertian shading ``(size, size, 1)`` float32 of a sphere of ``radius`` pixels at ``centre`` under ``light``."""
    grid = np.arange(size, dtype=np.float32)
    nx = (grid[None, :] - np.float32(centre[0])) / np.float32(radius)
    ny = (grid[:, None] - np.float32(centre[1])) / np.float32(radius)
    nz = np.sqrt(np.clip(1.0 - nx * nx - ny * ny, 0.0, None))
    norm = np.sqrt(nx * nx + ny * ny + nz * nz) + np.float32(1e-6)
    d = light.direction.astype(np.float32)
    lambert = np.clip((nx * d[0] + ny * d[1] + nz * d[2]) / norm, 0.0, None)
    return (np.float32(light.ambient) + np.float32(light.diffuse) * lambert)[:, :, None]


def background(size: int, look: Appearance) -> np.ndarray:
    """Vertical colour gradient ``(2 size, 2 size, 3)`` float32 at the supersampled resolution."""
    big = size * _SUPERSAMPLE
    ramp = np.linspace(0.0, 1.0, big, dtype=np.float32)[:, None, None]
    canvas = look.background[0] * (1 - ramp) + look.background[1] * ramp
    return np.ascontiguousarray(np.broadcast_to(canvas, (big, big, 3)), dtype=np.float32)


def render_rgb(layers: list[Layer], backdrop: np.ndarray, light: Lighting, face_centre: np.ndarray,
               face_radius: float, brightness: float, rng: np.random.Generator) -> np.ndarray:
    """RGB image ``(S, S, 3)`` uint8: ``layers`` painted at 2x over ``backdrop`` (see :func:`background`),
    downsampled, lit and given sensor noise. ``face_centre`` (2,) and ``face_radius`` are in crop pixels;
    ``brightness`` multiplies the light (flicker)."""
    canvas = backdrop.copy()
    for layer in layers:
        if layer.details:
            _paint_clipped(canvas, layer)
        else:
            _paint(canvas, layer)
    size = canvas.shape[0] // _SUPERSAMPLE
    image = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)
    image *= shading(size, face_centre, face_radius, light)
    image *= (light.tint * brightness * 255.0).astype(np.float32)
    if light.noise:
        image += rng.standard_normal(image.shape, dtype=np.float32) * np.float32(light.noise * 255.0)
    return np.clip(image + 0.5, 0, 255).astype(np.uint8)


def face_centre_pixels(camera: Camera) -> tuple[np.ndarray, float]:
    """Crop pixels of the face centre and the face radius (for shading)."""
    return camera([[0.0, 0.15, 0.0]])[0, :2], 1.15 * camera.unit_pixels
