"""Readers of GeneFace's binarized data, and their import into a clip store.

- **LRS3 binarized data** (``data/binary/lrs3/{train,val}.data``, GeneFace's ``IndexedDataset``): the ``.data`` file
  starts with a 32-byte little-endian length, then a pickled index ``{"offsets", "id2pos", "meta"}``; item ``i`` is
  the pickle (gzip-compressed if ``meta["gzip"]``) at bytes ``offsets[i]:offsets[i+1]``; when ``meta["chunk_begin"]``
  lists more chunks, they are ``<prefix>.<k>.data`` files. The older layout keeps the index in ``<prefix>.idx``.
  Each item is a dict: ``item_id`` ("<speaker>_<clip>"), ``spk_id``, ``hubert`` (T_a, 1024) at 50 Hz, ``mel``
  (T_a, 80), ``coeff`` (T, 257) Deep3DFaceRecon coefficients at 25 fps, ``lm68`` (T, 68, 2) source pixels,
  ``idexp_lm3d`` (T, 68, 3).
- **Person-specific ``trainval_dataset.npy``** (GeneFace's NeRF binarizer): a pickled dict with ``hubert``
  (T_a, 1024) for the whole video and ``train_samples`` / ``val_samples``, one dict per frame with ``idx``, ``exp``
  (64,) and ``idexp_lm3d`` (68, 3).

Both hold pickles: load only files you trust. Neither holds the waveform, which a clip store needs; the import takes
it from the LRS3 originals (``AUDIO_ROOT/<speaker>/<clip>.wav`` or ``.mp4``) or from the person's video.
"""

from __future__ import annotations

import gzip
import os
import pickle
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from ..progress import progress_bar

from ..validation import describe
from .clip_store import Clip, ClipStore
from .external_arrays import COEFF_SPLIT, check_3dmm_coeffs
from .import_report import ImportReport, SkipEntry

HUBERT_PER_FRAME = 2  # HuBERT runs at 50 Hz, video at 25 fps


@dataclass
class GeneFaceItem:
    """One GeneFace clip: ``exp`` float32 (T, 64) at 25 fps; optional ``hubert`` (T_a, 1024) at 50 Hz, ``coeffs``
    (T, 257), ``idexp_lm3d`` (T, 68, 3), ``lm68`` (T, 68, 2)."""

    item_id: str
    speaker: str
    split: str
    exp: np.ndarray
    hubert: np.ndarray | None = None
    coeffs: np.ndarray | None = None
    idexp_lm3d: np.ndarray | None = None
    lm68: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> "GeneFaceItem":
        t = len(self.exp)
        if self.exp.ndim != 2 or self.exp.shape[1] != 64 or t == 0:
            raise ValueError(f"{self.item_id}: exp must be (T, 64), got {describe(self.exp)}")
        shapes = {"coeffs": (t, 257), "idexp_lm3d": (t, 68, 3), "lm68": (t, 68, 2)}
        for name, shape in shapes.items():
            value = getattr(self, name)
            if value is not None and value.shape != shape:
                raise ValueError(f"{self.item_id}: {name} must be {shape} to match exp, got {describe(value)}")
        if self.hubert is not None:
            if self.hubert.ndim != 2 or abs(len(self.hubert) - HUBERT_PER_FRAME * t) > 2 * HUBERT_PER_FRAME:
                raise ValueError(f"{self.item_id}: hubert must be (about {HUBERT_PER_FRAME * t}, D) for {t} frames, "
                                 f"got {describe(self.hubert)}")
        return self


def read_indexed_dataset(prefix: str | os.PathLike) -> Iterator[Any]:
    """Items of a GeneFace ``IndexedDataset`` at ``prefix`` (``prefix.data`` [+ ``prefix.idx``]), in order."""
    prefix = Path(prefix)
    data_path = prefix.with_name(prefix.name + ".data")
    if not data_path.is_file():
        raise FileNotFoundError(f"prefix: no GeneFace indexed dataset {str(data_path)!r}")
    idx_path = prefix.with_name(prefix.name + ".idx")
    with data_path.open("rb") as file:
        if idx_path.is_file():
            index = np.load(idx_path, allow_pickle=True).item()
            offsets, meta = list(index["offsets"]), {}
        else:
            size = int.from_bytes(file.read(32), "little")
            try:
                index = pickle.loads(file.read(size))
            except Exception as err:
                raise ValueError(f"{data_path}: not a GeneFace indexed dataset ({err})") from err
            offsets, meta = list(index["offsets"]), index.get("meta", {})
    chunks = meta.get("chunk_begin", [0])
    for i in range(len(offsets) - 1):
        chunk = bisect_right(chunks[1:], offsets[i])
        path = data_path if chunk == 0 else prefix.with_name(f"{prefix.name}.{chunk}.data")
        with path.open("rb") as file:
            file.seek(offsets[i] - chunks[chunk])
            blob = file.read(offsets[i + 1] - offsets[i])
        yield pickle.loads(gzip.decompress(blob) if meta.get("gzip") else blob)


def _float(value, name: str, item_id: str) -> np.ndarray | None:
    if value is None:
        return None
    array = np.asarray(value, dtype=np.float32)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{item_id}: {name} has NaN or infinite values")
    return array


def read_geneface_lrs3(binary_dir: str | os.PathLike, split: str = "train") -> Iterator[GeneFaceItem]:
    """Validated items of GeneFace's LRS3 binarized ``split`` (``train`` or ``val``) in ``binary_dir``."""
    if split not in ("train", "val"):
        raise ValueError(f"split: expected 'train' or 'val' (GeneFace's LRS3 prefixes), got {split!r}")
    for raw in read_indexed_dataset(Path(binary_dir) / split):
        if raw is None:
            continue
        item_id = str(raw.get("item_id", ""))
        if "coeff" not in raw or not item_id:
            raise ValueError(f"{binary_dir}/{split}: an item lacks 'coeff' or 'item_id' (keys: {sorted(raw)})")
        coeffs = check_3dmm_coeffs(raw["coeff"], f"{item_id}: coeff")
        start, stop = COEFF_SPLIT["exp"]
        yield GeneFaceItem(
            item_id=item_id, speaker=str(raw.get("spk_id", item_id.rsplit("_", 1)[0])), split=split,
            exp=coeffs[:, start:stop], coeffs=coeffs, hubert=_float(raw.get("hubert"), "hubert", item_id),
            idexp_lm3d=_float(raw.get("idexp_lm3d"), "idexp_lm3d", item_id), lm68=_float(raw.get("lm68"), "lm68", item_id),
        ).validate()


def read_geneface_trainval(path: str | os.PathLike, speaker: str = "person") -> list[GeneFaceItem]:
    """GeneFace's person-specific ``trainval_dataset.npy`` -> one item per split (frames sorted by ``idx``).

    The HuBERT features cover the whole video; each item gets the slice of its own frames when they are contiguous.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no such file {str(path)!r}")
    data = np.load(path, allow_pickle=True).item()
    if not isinstance(data, dict) or "train_samples" not in data:
        raise ValueError(f"{path}: expected GeneFace's trainval dict with 'train_samples', got {type(data).__name__}")
    items = []
    for split in ("train", "val"):
        samples = sorted(data.get(f"{split}_samples", []), key=lambda s: s["idx"])
        if not samples:
            continue
        index = np.array([s["idx"] for s in samples])
        if np.any(np.diff(index) != 1):
            raise ValueError(f"{path}: {split} frames are not consecutive (idx {index[:3]}...), cannot form one clip")
        hubert = data.get("hubert")
        if hubert is not None:
            hubert = np.asarray(hubert, np.float32)[HUBERT_PER_FRAME * index[0]: HUBERT_PER_FRAME * (index[-1] + 1)]
        items.append(GeneFaceItem(
            item_id=f"{speaker}-{split}", speaker=speaker, split=split,
            exp=np.stack([s["exp"] for s in samples]).astype(np.float32), hubert=hubert,
            idexp_lm3d=np.stack([s["idexp_lm3d"] for s in samples]).astype(np.float32) if "idexp_lm3d" in samples[0] else None,
            extra={"first_frame": int(index[0])},
        ).validate())
    return items


def lrs3_audio_finder(audio_root: str | os.PathLike) -> Callable[[GeneFaceItem], Path | None]:
    """Finds ``AUDIO_ROOT/<speaker>/<clip>.{wav,mp4}`` for an LRS3 item (``item_id`` = ``<speaker>_<clip>``)."""
    root = Path(audio_root)

    def find(item: GeneFaceItem) -> Path | None:
        clip = item.item_id[len(item.speaker) + 1:] if item.item_id.startswith(item.speaker + "_") else item.item_id
        for suffix in (".wav", ".mp4"):
            if (root / item.speaker / f"{clip}{suffix}").is_file():
                return root / item.speaker / f"{clip}{suffix}"
        return None

    return find


def import_geneface(items, out: str | os.PathLike, audio_for: Callable[[GeneFaceItem], Path | None],
                    landmarks: str = "idexp_lm3d", progress: bool = True) -> dict:
    """Write GeneFace items into the clip store ``out``: ``coeffs3dmm`` = expression (T, 64), ``landmarks`` =
    ``idexp_lm3d`` (T, 68, 3) or ``lm68`` (T, 68, 2) or none, 16 kHz audio from ``audio_for(item)`` (a file path),
    and the item's HuBERT features into the store's feature cache under the default ``"hubert"``
    representation's key (``unisync_loss.audio.features.feature_config("hubert")``)."""
    from ..audio.features import feature_config
    from ..video.decode import VideoDecodeError, read_audio

    if landmarks not in ("idexp_lm3d", "lm68", "none"):
        raise ValueError(f"landmarks: expected 'idexp_lm3d', 'lm68' or 'none', got {landmarks!r}")
    store = ClipStore.create(out, info={"producer": "geneface import", "landmarks": landmarks})
    store.clean_partial()
    report = ImportReport()
    for item in progress_bar(items, desc="geneface import", unit="clip", disable=not progress):
        try:
            source = audio_for(item)
            if source is None:
                raise SkipEntry("no audio", "no audio file found for this item")
            try:
                audio = read_audio(source)
            except VideoDecodeError as err:
                raise SkipEntry("no audio", str(err)) from err
            frames = min(len(item.exp), len(audio) // 640)
            if frames < len(item.exp) - 1:
                raise SkipEntry("audio too short", f"audio covers {frames} of {len(item.exp)} frames")
            points = None if landmarks == "none" else getattr(item, landmarks)
            if landmarks != "none" and points is None:
                raise SkipEntry("no landmarks", f"the item has no {landmarks}")
            clip = Clip(id=item.item_id, speaker=item.speaker, split=item.split, audio=audio[: frames * 640],
                        coeffs3dmm=np.ascontiguousarray(item.exp[:frames]),
                        landmarks=None if points is None else np.ascontiguousarray(points[:frames]),
                        extra={"source": f"geneface:{item.item_id}", "audio_file": source.name, **item.extra,
                               "landmark_space": landmarks, "sync": None})
        except SkipEntry as err:
            report.skip(item.item_id, err)
            continue
        store.write_clip(clip, overwrite=True)
        if item.hubert is not None and item.hubert.shape[1] == 1024:
            # GeneFace's features are hubert-large-ls960-ft's last layer, i.e. the default "hubert" representation:
            # cache them under its key, so training reads them instead of running HuBERT again.
            hubert = item.hubert[: HUBERT_PER_FRAME * frames]
            store.features(clip.id, feature_config("hubert"), compute=lambda _audio, h=hubert: h)
        report.imported.append(clip.id)
    store.reindex()
    return report.summary()
