"""The clip store: one on-disk format for preprocessed talking-face clips (synthetic or real).

Layout::

    STORE/
      store.json                 {"format": "unisync-clip-store", "version": 1, "fps": 25, "sample_rate": 16000,
                                  "info": {...what produced it: generator settings, crop style...}}
      index.json                 {"clips": [{"id", "speaker", "split", "num_frames"}, ...]}  (rebuilt by reindex())
      clips/<id>/meta.json       {"id", "speaker", "split", "fps", "sample_rate", "num_frames", "num_samples",
                                  "arrays": {name: {"shape", "dtype"}}, "extra": {...}}
      clips/<id>/audio.npy       float32 (S,)              16 kHz mono waveform in [-1, 1]
      clips/<id>/frames.npy      uint8 (T, H, W, 3)        RGB face crops at 25 fps        (optional)
      clips/<id>/landmarks.npy   float32 (T, K, D)         pixel coordinates in the crop   (optional)
      clips/<id>/landmarks3d.npy float32 (T, K, 3)         x, y in crop pixels, z towards the camera (optional)
      clips/<id>/mesh_landmarks.npy   float32 (T, 468, 3)  MediaPipe face mesh in crop pixels (optional)
      clips/<id>/mouth_landmarks.npy  float32 (T, 20, 2)   iBUG mouth points 48-67 in crop pixels (optional)
      clips/<id>/parsing.npy     uint8 (T, H, W)           CelebAMask-HQ class indices     (optional)
      clips/<id>/coeffs3dmm.npy  float32 (T, C)            3DMM expression coefficients   (optional)
      clips/<id>/features/<rep>-<hash>.npy   cached audio features (T_a, F), keyed by the feature settings

Every array is a plain ``.npy`` file, so it loads with memory mapping. A clip is written into a temporary folder and
renamed into place, so a killed writer never leaves a half-written clip.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

FORMAT = "unisync-clip-store"
VERSION = 1
SPLITS = ("train", "val", "test")

#: Optional per-frame arrays: name -> (dtype, rank).
FRAME_ARRAYS = {"frames": ("uint8", 4), "landmarks": ("float32", 3), "parsing": ("uint8", 3), "coeffs3dmm": ("float32", 2),
                "landmarks3d": ("float32", 3), "mesh_landmarks": ("float32", 3), "mouth_landmarks": ("float32", 3)}

#: Array of a clip that holds each visual representation (landmarks: see :func:`visual_array_name`).
REPRESENTATION_ARRAYS = {"rgb": "frames", "parsing": "parsing", "landmarks": "landmarks", "3dmm": "coeffs3dmm"}
#: Landmark layouts ``(num_points, dims)`` with an array of their own.
LANDMARK_ARRAYS = {(68, 2): "landmarks", (68, 3): "landmarks3d", (468, 3): "mesh_landmarks", (20, 2): "mouth_landmarks"}


def visual_array_name(name: str, options: dict[str, Any] | None = None, available=None) -> str:
    """The clip array read for the visual representation ``name`` with ``options``: ``frames`` for rgb,
    ``coeffs3dmm`` for 3dmm; for landmarks, the array of its ``(num_points, dims)`` layout (68 x 2 ``landmarks``,
    68 x 3 ``landmarks3d``, 468 x 3 ``mesh_landmarks``, 20 x 2 ``mouth_landmarks``), ``landmarks`` otherwise or
    when ``available`` (the clip's array names) lacks the layout's own array (:func:`landmark_points` then cuts
    the 20 mouth points from the 68)."""
    if name not in REPRESENTATION_ARRAYS:
        raise ValueError(f"visual representation: expected one of {sorted(REPRESENTATION_ARRAYS)}, got {name!r}")
    if name == "landmarks":
        options = options or {}
        layout = LANDMARK_ARRAYS.get((options.get("num_points", 68), options.get("dims", 2)), "landmarks")
        return "landmarks" if available is not None and layout not in available else layout
    return REPRESENTATION_ARRAYS[name]


def landmark_points(values: np.ndarray, num_points: int) -> np.ndarray:
    """``(T, 68, D)`` iBUG points -> their ``(T, 20, D)`` mouth points (48-67) when ``num_points`` is 20; any other
    case is returned unchanged (the caller checks the shape)."""
    if num_points == 20 and values.ndim == 3 and values.shape[1] == 68:
        return values[:, 48:68]
    return values


@dataclass
class Clip:
    """One clip: 16 kHz mono audio plus any per-frame visual arrays at 25 fps (first axis = frame)."""

    id: str
    speaker: str
    split: str
    audio: np.ndarray
    fps: float = 25.0
    sample_rate: int = 16000
    frames: np.ndarray | None = None
    landmarks: np.ndarray | None = None
    parsing: np.ndarray | None = None
    coeffs3dmm: np.ndarray | None = None
    landmarks3d: np.ndarray | None = None
    mesh_landmarks: np.ndarray | None = None
    mouth_landmarks: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        lengths = {len(a) for a in self.visual_arrays().values()}
        return lengths.pop() if len(lengths) == 1 else int(round(len(self.audio) / self.sample_rate * self.fps))

    def visual_arrays(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in FRAME_ARRAYS if getattr(self, k) is not None}

    def validate(self) -> None:
        """Raise ``ValueError`` naming the field if shapes, dtypes or lengths disagree."""
        if not self.id or any(c in self.id for c in "/\\") or self.id.startswith("."):
            raise ValueError(f"clip id: expected a non-empty name without slashes or leading dot, got {self.id!r}")
        if self.split not in SPLITS:
            raise ValueError(f"clip {self.id}: split must be one of {SPLITS}, got {self.split!r}")
        if self.fps != 25.0 or self.sample_rate != 16000:
            raise ValueError(f"clip {self.id}: expected 25 fps and 16000 Hz, got {self.fps} fps, {self.sample_rate} Hz")
        audio = np.asarray(self.audio)
        if audio.ndim != 1 or audio.dtype != np.float32 or len(audio) == 0:
            raise ValueError(f"clip {self.id}: audio must be float32 (S,), got {audio.dtype} {audio.shape}")
        arrays = self.visual_arrays()
        for name, arr in arrays.items():
            dtype, rank = FRAME_ARRAYS[name]
            if arr.dtype != np.dtype(dtype) or arr.ndim != rank:
                raise ValueError(f"clip {self.id}: {name} must be {dtype} of rank {rank}, got {arr.dtype} {arr.shape}")
        lengths = {name: len(arr) for name, arr in arrays.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"clip {self.id}: per-frame arrays differ in length: {lengths}")
        if arrays:
            t = next(iter(lengths.values()))
            expected = t / self.fps * self.sample_rate
            if abs(len(audio) - expected) > self.sample_rate / self.fps:
                raise ValueError(
                    f"clip {self.id}: {t} frames span {t / self.fps:.3f} s but audio has {len(audio)} samples "
                    f"({len(audio) / self.sample_rate:.3f} s); they must agree within one frame"
                )


def feature_key(config: dict[str, Any]) -> str:
    """Cache key ``<name>-<hash>`` of an audio representation config: any change of settings changes the key."""
    blob = json.dumps(config, sort_keys=True).encode()
    return f"{config.get('name', 'features')}-{hashlib.sha1(blob).hexdigest()[:12]}"


class ClipStore:
    """A clip store folder. Open an existing one with ``ClipStore(root)``, make one with :meth:`create`."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        path = self.root / "store.json"
        if not path.is_file():
            raise FileNotFoundError(f"{self.root}: not a clip store (no store.json); create one with ClipStore.create")
        self.header = json.loads(path.read_text())
        if self.header.get("format") != FORMAT:
            raise ValueError(f"{path}: format {self.header.get('format')!r} is not {FORMAT!r}")
        self._index: list[dict[str, Any]] | None = None

    @classmethod
    def create(cls, root: str | os.PathLike, info: dict[str, Any] | None = None) -> "ClipStore":
        """Create (or reopen) a store; reopening with different ``info`` is an error, so corpora never mix."""
        root = Path(root)
        header = {"format": FORMAT, "version": VERSION, "fps": 25.0, "sample_rate": 16000, "info": info or {}}
        path = root / "store.json"
        if path.is_file():
            existing = json.loads(path.read_text())
            if existing.get("info") != header["info"]:
                raise ValueError(
                    f"{root}: holds a different store (its info {existing.get('info')} differs from {header['info']}); "
                    "choose another folder or delete it"
                )
            return cls(root)
        if root.exists() and any(root.iterdir()):
            raise ValueError(f"{root}: exists and is not an empty folder nor a clip store")
        (root / "clips").mkdir(parents=True, exist_ok=True)
        _atomic_write_text(path, json.dumps(header, indent=2))
        return cls(root)

    # ----------------------------------------------------------------------------------------------- writing
    def clip_dir(self, clip_id: str) -> Path:
        return self.root / "clips" / clip_id

    def has_clip(self, clip_id: str) -> bool:
        return (self.clip_dir(clip_id) / "meta.json").is_file()

    def write_clip(self, clip: Clip, overwrite: bool = False) -> Path:
        """Write ``clip`` atomically (temporary folder, then rename). Returns its folder."""
        clip.validate()
        target = self.clip_dir(clip.id)
        if target.exists() and not overwrite:
            raise FileExistsError(f"{target}: clip {clip.id!r} already exists (pass overwrite=True)")
        tmp = self.root / "clips" / f".tmp-{clip.id}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        arrays = {"audio": np.asarray(clip.audio, dtype=np.float32), **clip.visual_arrays()}
        for name, arr in arrays.items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(arr))
        meta = {
            "id": clip.id, "speaker": clip.speaker, "split": clip.split, "fps": clip.fps,
            "sample_rate": clip.sample_rate, "num_frames": clip.num_frames, "num_samples": int(len(clip.audio)),
            "arrays": {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in arrays.items()},
            "extra": clip.extra,
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
        self._index = None
        return target

    def clean_partial(self) -> int:
        """Remove temporary folders left by killed writers; returns how many were removed."""
        leftovers = list((self.root / "clips").glob(".tmp-*"))
        for path in leftovers:
            shutil.rmtree(path, ignore_errors=True)
        return len(leftovers)

    def reindex(self) -> list[dict[str, Any]]:
        """Rebuild ``index.json`` from the clips' ``meta.json`` files (sorted by id)."""
        entries = []
        for meta_path in sorted((self.root / "clips").glob("*/meta.json")):
            if meta_path.parent.name.startswith("."):
                continue
            meta = json.loads(meta_path.read_text())
            entries.append({k: meta[k] for k in ("id", "speaker", "split", "num_frames")})
        _atomic_write_text(self.root / "index.json", json.dumps({"clips": entries}, indent=1))
        self._index = entries
        return entries

    # ----------------------------------------------------------------------------------------------- reading
    def index(self) -> list[dict[str, Any]]:
        """Index entries ``{"id", "speaker", "split", "num_frames"}`` (read from index.json, rebuilt if missing)."""
        if self._index is None:
            path = self.root / "index.json"
            self._index = json.loads(path.read_text())["clips"] if path.is_file() else self.reindex()
        return self._index

    def clip_ids(self, split: str | None = None) -> list[str]:
        if split is not None and split not in SPLITS:
            raise ValueError(f"split: expected one of {SPLITS} or None, got {split!r}")
        return [e["id"] for e in self.index() if split is None or e["split"] == split]

    def speakers(self, split: str | None = None) -> list[str]:
        return sorted({e["speaker"] for e in self.index() if split is None or e["split"] == split})

    def __len__(self) -> int:
        return len(self.index())

    def __iter__(self) -> Iterator[Clip]:
        return (self.load_clip(i) for i in self.clip_ids())

    def meta(self, clip_id: str) -> dict[str, Any]:
        path = self.clip_dir(clip_id) / "meta.json"
        if not path.is_file():
            raise KeyError(f"{self.root}: no clip {clip_id!r}")
        return json.loads(path.read_text())

    def load_array(self, clip_id: str, name: str, mmap: bool = True) -> np.ndarray | None:
        """One array of a clip (memory-mapped by default), or None if the clip has no such array."""
        path = self.clip_dir(clip_id) / f"{name}.npy"
        if not path.is_file():
            return None
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)

    def load_clip(self, clip_id: str, mmap: bool = True) -> Clip:
        """The whole clip, arrays memory-mapped unless ``mmap=False``."""
        meta = self.meta(clip_id)
        arrays = {name: self.load_array(clip_id, name, mmap) for name in ("audio", *FRAME_ARRAYS)}
        return Clip(id=meta["id"], speaker=meta["speaker"], split=meta["split"], fps=meta["fps"],
                    sample_rate=meta["sample_rate"], extra=meta.get("extra", {}), **arrays)

    # ----------------------------------------------------------------------------------------------- features
    def features(self, clip_id: str, config: dict[str, Any], compute: Callable[[np.ndarray], np.ndarray],
                 mmap: bool = True) -> np.ndarray:
        """Cached audio features of a clip for the settings ``config``; computed by ``compute(audio)`` on a miss."""
        path = self.clip_dir(clip_id) / "features" / f"{feature_key(config)}.npy"
        if not path.is_file():
            audio = self.load_array(clip_id, "audio", mmap=False)
            if audio is None:
                raise KeyError(f"{self.root}: no clip {clip_id!r}")
            values = np.ascontiguousarray(compute(audio), dtype=np.float32)
            path.parent.mkdir(exist_ok=True)
            tmp = path.with_suffix(f".tmp{uuid.uuid4().hex[:6]}.npy")
            np.save(tmp, values)
            os.replace(tmp, path)
            (path.with_suffix(".json")).write_text(json.dumps(config, sort_keys=True))
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}")
    tmp.write_text(text)
    os.replace(tmp, path)
