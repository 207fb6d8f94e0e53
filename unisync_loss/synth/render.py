"""Rendering: the layers of a frame (see :mod:`.layers`) -> its RGB image and its CelebAMask-HQ parsing map.

:func:`render_parsing` fills the polygons with class indices; :func:`render_rgb` fills the same polygons with colours
at twice the resolution (anti-aliased), adds the details that live inside one class (teeth and tongue in the mouth,
irises in the eyes, nostrils in the nose), downsamples, lights and adds sensor noise. The two images therefore agree
by construction.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..representations.parsing import CELEBAMASK_HQ_CLASSES
from ..validation import check_positive_int
from .appearance import Appearance, Lighting
from .camera import Camera
from .layers import Layer

CLASS_INDEX = {name: i for i, name in enumerate(CELEBAMASK_HQ_CLASSES)}
_SHIFT = 4  # OpenCV fixed-point bits for sub-pixel polygon vertices
_SUPERSAMPLE = 2


def _fixed(points: np.ndarray, factor: float, offset: float, origin: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """OpenCV fixed-point vertices ``(N, 1, 2)`` int32 of ``points * factor + offset - origin``."""
    one = 1 << _SHIFT
    bias = ((offset - origin[0]) * one, (offset - origin[1]) * one)
    return np.rint(points * (factor * one) + bias).astype(np.int32).reshape(-1, 1, 2)


def render_parsing(layers: list[Layer], size: int) -> np.ndarray:
    """Class-index map ``(size, size)`` uint8 (CelebAMask-HQ order) painted from ``layers``."""
    check_positive_int(size, "size", minimum=16)
    label = np.zeros((size, size), np.uint8)
    for layer in layers:
        value = CLASS_INDEX[layer.name]
        pts = _fixed(layer.points, 1.0, 0.0)
        if layer.thickness:
            cv2.polylines(label, [pts], layer.closed, value, max(1, int(round(layer.thickness))), cv2.LINE_8, _SHIFT)
        else:
            cv2.fillPoly(label, [pts], value, cv2.LINE_8, _SHIFT)
    return label


def _paint(canvas: np.ndarray, layer: Layer, origin=(0.0, 0.0)) -> None:
    pts = _fixed(layer.points, _SUPERSAMPLE, 0.5 * (_SUPERSAMPLE - 1), origin)
    colour = np.clip(layer.colour, 0.0, 1.0).tolist()
    if layer.thickness:
        thick = max(1, int(round(layer.thickness * _SUPERSAMPLE)))
        cv2.polylines(canvas, [pts], layer.closed, colour, thick, cv2.LINE_AA, _SHIFT)
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
    check_positive_int(size, "size", minimum=16)
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
