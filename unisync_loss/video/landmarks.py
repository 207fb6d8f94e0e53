"""Landmarks from the MediaPipe face mesh: the 468-point mesh, the 68-point iBUG subset, similarity normalisation.

``MESH_TO_IBUG68[i]`` is the mesh vertex used as iBUG point ``i`` (0-16 jaw, 17-26 brows, 27-35 nose, 36-47 eyes,
48-67 mouth: outer lip 48-59, inner lip 60-67). The map is the one GeneFace++ uses to feed MediaPipe meshes to its
68-point code (``index_lm68_from_lm468`` in its ``data_gen/utils/process_video/extract_lm2d.py``). Mesh vertices
lie on the surface, not on the silhouette, so the jaw points sit slightly inside a dlib jaw line.
"""

from __future__ import annotations

import numpy as np

from ..validation import describe

MESH_TO_IBUG68 = np.array([
    127, 234, 93, 132, 58, 136, 150, 176, 152, 400, 379, 365, 288, 361, 323, 454, 356,  # jaw 0-16
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,                                       # brows 17-26
    168, 197, 5, 4, 75, 97, 2, 326, 305,                                                 # nose 27-35
    33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,                           # eyes 36-47
    61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91,                                  # outer lip 48-59
    78, 81, 13, 311, 308, 402, 14, 178,                                                  # inner lip 60-67
])

#: The 20 mouth points of the iBUG 68 layout (outer lip 48-59, inner lip 60-67).
MOUTH_POINTS = slice(48, 68)
#: Landmark layouts ``(num_points, dims)`` that :func:`mesh_layout` derives from the mesh.
MESH_LAYOUTS = ((68, 2), (68, 3), (20, 2), (20, 3), (468, 2), (468, 3))

#: Mesh vertices of five stable points for alignment: eye corners (two per eye), nose tip, mouth corners.
MESH_EYE_RIGHT, MESH_EYE_LEFT = (33, 133), (362, 263)
MESH_NOSE_TIP, MESH_MOUTH_CORNERS = 4, (61, 291)

#: Where those five points go in an aligned crop, as fractions of its side (x, y): eye centres, nose tip, mouth corners.
ALIGNED_TEMPLATE = np.array([[0.35, 0.38], [0.65, 0.38], [0.50, 0.56], [0.375, 0.725], [0.625, 0.725]], np.float64)


def _check_points(points, name: str, num_points: int | None = None) -> np.ndarray:
    points = np.asarray(points)
    if points.ndim < 2 or points.shape[-1] not in (2, 3) or not np.issubdtype(points.dtype, np.floating) or (
            num_points is not None and points.shape[-2] != num_points):
        expected = f"(..., {num_points or 'K'}, 2 or 3) float"
        raise ValueError(f"{name}: expected {expected} coordinates, got {describe(points)}")
    return points


def mesh_to_ibug68(mesh: np.ndarray) -> np.ndarray:
    """``(..., 468, D)`` MediaPipe mesh -> ``(..., 68, D)`` iBUG-ordered points (same units)."""
    return _check_points(mesh, "mesh", 468)[..., MESH_TO_IBUG68, :]


def mesh_layout(mesh: np.ndarray, num_points: int = 68, dims: int = 2) -> np.ndarray:
    """``(..., 468, 3)`` mesh -> ``(..., num_points, dims)`` float32: the 68 iBUG points, their 20 mouth points
    (48-67) or the whole mesh; ``dims=2`` drops z."""
    if (num_points, dims) not in MESH_LAYOUTS:
        raise ValueError(f"num_points/dims: expected one of {list(MESH_LAYOUTS)}, got ({num_points!r}, {dims!r})")
    points = _check_points(mesh, "mesh", 468)
    if dims > points.shape[-1]:
        raise ValueError(f"mesh: {dims} coordinates asked for, but it has {describe(points)}")
    if num_points != 468:
        points = points[..., MESH_TO_IBUG68, :]
        points = points[..., MOUTH_POINTS, :] if num_points == 20 else points
    return np.ascontiguousarray(points[..., :dims], dtype=np.float32)


def mesh_five_points(mesh: np.ndarray) -> np.ndarray:
    """``(..., 468, D)`` mesh -> ``(..., 5, 2)``: right eye centre, left eye centre, nose tip, mouth corners."""
    mesh = _check_points(mesh, "mesh", 468)[..., :2]
    return np.stack([mesh[..., list(MESH_EYE_RIGHT), :].mean(-2), mesh[..., list(MESH_EYE_LEFT), :].mean(-2),
                     mesh[..., MESH_NOSE_TIP, :], mesh[..., MESH_MOUTH_CORNERS[0], :],
                     mesh[..., MESH_MOUTH_CORNERS[1], :]], axis=-2)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) mapping ``src`` (K, 2) onto ``dst`` (K, 2).

    Returns the ``(2, 3)`` matrix ``M`` with ``dst ~ src @ M[:, :2].T + M[:, 2]`` (Umeyama's closed form, no reflection).
    """
    src, dst = _check_points(src, "src")[:, :2].astype(np.float64), _check_points(dst, "dst")[:, :2].astype(np.float64)
    if src.shape != dst.shape or len(src) < 2:
        raise ValueError(f"src and dst: expected the same (K >= 2, 2) shape, got {src.shape} and {dst.shape}")
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    var = (s ** 2).sum() / len(src)
    if var <= 1e-12:
        raise ValueError("src: the points coincide, no similarity transform is defined")
    u, sigma, vt = np.linalg.svd(d.T @ s / len(src))
    sign = np.diag([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rotation = u @ sign @ vt
    scale = (sigma * np.diag(sign)).sum() / var
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = mu_d - matrix[:, :2] @ mu_s
    return matrix


def apply_affine(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Map ``(..., K, D)`` points by a ``(..., 2, 3)`` affine; a z coordinate is scaled by the mean axis scale."""
    points = _check_points(points, "points")
    matrix = np.asarray(matrix, np.float64)
    if matrix.shape[-2:] != (2, 3):
        raise ValueError(f"matrix: expected (..., 2, 3) affine matrices, got {describe(matrix)}")
    xy = np.einsum("...ij,...kj->...ki", matrix[..., :2], points[..., :2]) + matrix[..., None, :, 2]
    if points.shape[-1] == 2:
        return xy.astype(np.float32)
    scale = np.sqrt(np.abs(np.linalg.det(matrix[..., :2])))[..., None, None]
    return np.concatenate([xy, points[..., 2:] * scale], axis=-1).astype(np.float32)


def normalize_landmarks(points: np.ndarray, reference: np.ndarray | None = None, iterations: int = 2) -> np.ndarray:
    """Similarity-align every frame of ``(T, K, D)`` points to a mean shape: head position, in-plane rotation and
    scale are removed, mouth and jaw motion stay. Returns ``(T, K, 2)`` float32 in units of the reference's size.

    ``reference`` ``(K, 2)``: the mean shape to align to; default the sequence's own mean shape (generalised
    Procrustes, ``iterations`` rounds), centred with unit RMS radius.
    """
    points = _check_points(points, "points")
    if points.ndim != 3:
        raise ValueError(f"points: expected (T, K, 2 or 3) coordinates, got {describe(points)}")
    xy = points[..., :2].astype(np.float64)

    def unit(shape: np.ndarray) -> np.ndarray:
        centred = shape - shape.mean(0)
        return centred / np.sqrt((centred ** 2).sum(-1).mean())

    if reference is not None:
        reference = _check_points(reference, "reference", points.shape[1])[:, :2]
        rounds, target = 1, unit(reference.astype(np.float64))
    else:
        rounds, target = max(1, iterations), unit(xy[0])
    for _ in range(rounds):
        aligned = np.stack([apply_affine(frame, similarity_transform(frame, target)) for frame in xy])
        if reference is None:
            target = unit(aligned.mean(0))
    return aligned.astype(np.float32)
