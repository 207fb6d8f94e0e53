"""Importers for per-frame arrays made by tools users already run: BiSeNet face-parsing maps and Deep3DFaceRecon
3DMM coefficients. Everything is validated on import, so a wrong file fails here with a clear message, not in training.

Formats accepted:

- **Parsing maps** (BiSeNet / face-parsing.PyTorch, CelebAMask-HQ labels 0-18, see
  ``representations.parsing.CELEBAMASK_HQ_CLASSES``): a folder of per-frame label PNGs named by frame number
  (``0.png, 1.png, ...``), or one ``.npy`` of shape ``(T, H, W)``; integer labels, not colour visualisations.
- **3DMM coefficients** (Deep3DFaceRecon, BFM09): 257 per frame split as identity 0:80, expression 80:144,
  texture 144:224, angles 224:227, gamma 227:254, translation 254:257. As a ``(T, 257)`` / ``(257,)`` ``.npy``, a
  ``.mat`` with keys ``id, exp, tex, angle, gamma, trans`` (each ``(T, n)``, as Deep3DFaceRecon's ``save_coeff``
  writes), or a folder of per-frame ``.mat`` files named by frame number.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..representations.parsing import CELEBAMASK_HQ_CLASSES
from ..validation import describe

#: Deep3DFaceRecon's 257-coefficient layout: name -> (start, stop); ``.mat`` files use the short keys.
COEFF_SPLIT = {"id": (0, 80), "exp": (80, 144), "tex": (144, 224), "angle": (224, 227), "gamma": (227, 254),
               "trans": (254, 257)}
NUM_COEFFS = 257


def numbered_files(folder: Path, suffix: str) -> list[Path]:
    """Files ``<number><suffix>`` of ``folder`` sorted by number; raises ValueError if numbers are not 0..N-1."""
    found = {}
    for path in folder.iterdir():
        match = re.fullmatch(r"(\d+)" + re.escape(suffix), path.name)
        if match:
            found[int(match.group(1))] = path
    if not found:
        raise ValueError(f"{folder}: expected per-frame files named 0{suffix}, 1{suffix}, ...; found none")
    missing = sorted(set(range(max(found) + 1)) - set(found))
    if missing or min(found) != 0:
        raise ValueError(f"{folder}: frame files must be numbered 0..{max(found)} without gaps; missing {missing[:5]}")
    return [found[i] for i in range(len(found))]


def _check_path(path, name: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"{name}: expected a file or folder path, got {describe(path)}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{name}: no such file or folder {str(path)!r}")
    return path


def load_parsing_maps(path: str | os.PathLike, size: tuple[int, int] | None = None) -> np.ndarray:
    """Label maps -> uint8 ``(T, H, W)`` class indices in 0..18; ``size=(H, W)`` resizes with nearest neighbour."""
    path = _check_path(path, "path")
    if path.is_dir():
        import cv2

        maps = []
        for file in numbered_files(path, ".png"):
            image = cv2.imread(str(file), cv2.IMREAD_UNCHANGED)
            if image is None:
                raise ValueError(f"{file}: not a readable PNG")
            if image.ndim == 3:
                if not (np.all(image[..., 0] == image[..., 1]) and np.all(image[..., 1] == image[..., 2])):
                    raise ValueError(f"{file}: expected a single-channel label map, got a colour image {image.shape}")
                image = image[..., 0]
            maps.append(image)
        if len({m.shape for m in maps}) != 1:
            raise ValueError(f"{path}: label maps differ in size: {sorted({m.shape for m in maps})}")
        maps = np.stack(maps)
    elif path.suffix == ".npy":
        maps = np.load(path, allow_pickle=False)
    else:
        raise ValueError(f"path: expected a folder of numbered .png label maps or a .npy, got {path.name!r}")
    return check_parsing_maps(maps, str(path), size)


def check_parsing_maps(maps: np.ndarray, name: str = "maps", size: tuple[int, int] | None = None) -> np.ndarray:
    """Validate (and optionally resize) integer label maps ``(T, H, W)`` -> uint8."""
    maps = np.asarray(maps)
    if maps.ndim != 3 or not np.issubdtype(maps.dtype, np.integer) or len(maps) == 0:
        raise ValueError(f"{name}: expected integer label maps (T, H, W), got {describe(maps)}")
    top = int(maps.max())
    if int(maps.min()) < 0 or top >= len(CELEBAMASK_HQ_CLASSES):
        raise ValueError(f"{name}: labels must be CelebAMask-HQ classes 0..{len(CELEBAMASK_HQ_CLASSES) - 1}, "
                         f"got values in [{int(maps.min())}, {top}]")
    maps = maps.astype(np.uint8)
    if size is not None:
        import cv2

        height, width = size
        maps = np.stack([cv2.resize(m, (width, height), interpolation=cv2.INTER_NEAREST) for m in maps])
    return maps


def load_3dmm_coeffs(path: str | os.PathLike) -> np.ndarray:
    """Deep3DFaceRecon coefficients from a ``.npy``, a ``.mat`` or a folder of per-frame ``.mat`` -> float32 (T, 257)."""
    path = _check_path(path, "path")
    if path.is_dir():
        coeffs = np.concatenate([_mat_coeffs(f) for f in numbered_files(path, ".mat")])
    elif path.suffix == ".mat":
        coeffs = _mat_coeffs(path)
    elif path.suffix == ".npy":
        coeffs = np.load(path, allow_pickle=False)
        coeffs = coeffs[None] if coeffs.ndim == 1 else coeffs
    else:
        raise ValueError(f"path: expected a .npy, a .mat or a folder of numbered .mat files, got {path.name!r}")
    return check_3dmm_coeffs(coeffs, str(path))


def _mat_coeffs(path: Path) -> np.ndarray:
    from scipy.io import loadmat

    try:
        data = loadmat(str(path))
    except Exception as err:
        raise ValueError(f"{path}: not a readable MATLAB file ({err})") from err
    missing = [k for k in COEFF_SPLIT if k not in data]
    if missing:
        raise ValueError(f"{path}: expected Deep3DFaceRecon keys {list(COEFF_SPLIT)}, missing {missing}")
    parts = []
    for key, (start, stop) in COEFF_SPLIT.items():
        value = np.asarray(data[key], dtype=np.float64)
        value = value.reshape(1, -1) if value.ndim == 1 else value
        if value.ndim != 2 or value.shape[1] != stop - start:
            raise ValueError(f"{path}: {key!r} must be (T, {stop - start}), got {value.shape}")
        parts.append(value)
    if len({p.shape[0] for p in parts}) != 1:
        raise ValueError(f"{path}: the coefficient groups disagree in frame count: {[p.shape[0] for p in parts]}")
    return np.concatenate(parts, axis=1)


def check_3dmm_coeffs(coeffs: np.ndarray, name: str = "coeffs") -> np.ndarray:
    """Validate ``(T, 257)`` finite coefficients -> float32."""
    coeffs = np.asarray(coeffs)
    if coeffs.ndim != 2 or coeffs.shape[1] != NUM_COEFFS or len(coeffs) == 0 or not np.issubdtype(coeffs.dtype, np.number):
        raise ValueError(f"{name}: expected Deep3DFaceRecon coefficients (T, {NUM_COEFFS}), got {describe(coeffs)}")
    if not np.all(np.isfinite(coeffs)):
        raise ValueError(f"{name}: {int((~np.isfinite(coeffs)).sum())} coefficients are NaN or infinite")
    return coeffs.astype(np.float32)


def split_3dmm(coeffs: np.ndarray) -> dict[str, np.ndarray]:
    """``(T, 257)`` -> views ``{"id", "exp", "tex", "angle", "gamma", "trans"}`` of shapes (T, 80/64/80/3/27/3)."""
    coeffs = check_3dmm_coeffs(coeffs)
    return {key: coeffs[:, start:stop] for key, (start, stop) in COEFF_SPLIT.items()}
