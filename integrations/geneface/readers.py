"""Readers for GeneFace's binarized data: as motion clips to train on directly, or written into a clip store.

* **LRS3** (``data/binary/lrs3/{train,val}.data``, GeneFace's indexed dataset): one pickled dict per clip with
  ``item_id`` ("<speaker>_<clip>"), ``spk_id``, ``hubert (T_a, 1024)``, ``mel``, ``f0``, ``coeff (T, 257)``,
  ``lm68``, ``lm5`` and ``idexp_lm3d (T, 68, 3)``.
* **One person** (``data/binary/videos/<id>/trainval_dataset.npy``): a pickled dict with the whole video's
  ``hubert (T_a, 1024)`` and per-frame ``train_samples`` / ``val_samples`` (``idx``, ``exp (64,)``,
  ``idexp_lm3d (68, 3)``, ...); GeneFace keeps the first 10/11 of the frames for training, the rest for validation.

Both hold pickles: read only files you produced or trust. :func:`iter_lrs3_clips` / :func:`read_person_clips`
give :class:`~.motion_data.MotionClip` (HuBERT aligned to 2 frames per video frame, idexp_lm3d or expression
targets) for :func:`~.trainer.train_motion_model`. :func:`write_clip_store` puts them into a clip store (the
project's training format, which ``train_expert`` trains experts from) with the 16 kHz waveforms, which the binarized
data lacks (LRS3: ``<audio_dir>/<speaker>/<clip>.wav``; a person: ``data/processed/videos/<id>/aud.wav``), and caches
the HuBERT features under the ``hubert`` representation's default settings in the store's feature cache, so
``train_expert`` finds them instead of running HuBERT again.
"""

from __future__ import annotations

import bisect
import gzip
import json
import pickle
from pathlib import Path
from typing import Iterator

import numpy as np
from unisync_loss.progress import progress_bar

from unisync_loss.audio.features import feature_config
from unisync_loss.data.clip_store import Clip, ClipStore, feature_key
from unisync_loss.validation import check_choice

from .conventions import HUBERT_PER_VIDEO_FRAME, align_hubert_to_video, expression_coeffs, landmark_points
from .motion_data import MotionClip

FPS, SAMPLE_RATE = 25, 16000


# ================================================================================================= LRS3
class IndexedDatasetReader:
    """Read-only access to GeneFace's ``<prefix>.data`` indexed dataset (and its ``<prefix>.<n>.data`` chunks)."""

    def __init__(self, prefix: str | Path):
        self.prefix = Path(prefix)
        data = Path(f"{self.prefix}.data")
        if not data.is_file():
            raise FileNotFoundError(f"{data}: no GeneFace indexed dataset (expected <prefix>.data, e.g. "
                                    "data/binary/lrs3/train.data)")
        with open(data, "rb") as f:
            size = int.from_bytes(f.read(32), "little")
            index = pickle.loads(f.read(size))
        if not isinstance(index, dict) or "offsets" not in index:
            raise ValueError(f"{data}: header is not GeneFace's index (no 'offsets')")
        self.offsets = list(index["offsets"])
        self.meta = index.get("meta", {})
        self.chunk_begin = list(self.meta.get("chunk_begin", [0]))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> dict:
        if not 0 <= i < len(self):
            raise IndexError(f"item {i} out of range for {len(self)} items")
        chunk = bisect.bisect(self.chunk_begin[1:], self.offsets[i])
        path = Path(f"{self.prefix}.data") if chunk == 0 else Path(f"{self.prefix}.{chunk}.data")
        with open(path, "rb") as f:
            f.seek(self.offsets[i] - self.chunk_begin[chunk])
            blob = f.read(self.offsets[i + 1] - self.offsets[i])
        return pickle.loads(gzip.decompress(blob) if self.meta.get("gzip") else blob)

    def __iter__(self) -> Iterator[dict]:
        return (self[i] for i in range(len(self)))


def lrs3_motion_clip(item: dict, target: str = "landmarks") -> MotionClip:
    """One LRS3 item -> :class:`MotionClip` (HuBERT ``(2T, 1024)``, ``idexp_lm3d (T, 68, 3)`` or ``exp (T, 64)``)."""
    check_choice(target, "target", ("landmarks", "3dmm"))
    name = item.get("item_id", "?")
    for key in ("hubert", "coeff", "idexp_lm3d"):
        if key not in item:
            raise ValueError(f"LRS3 item {name}: no '{key}' (has {sorted(item)})")
    motion = (landmark_points(np.asarray(item["idexp_lm3d"], np.float32), f"{name} idexp_lm3d")
              if target == "landmarks" else expression_coeffs(np.asarray(item["coeff"], np.float32)))
    hubert = align_hubert_to_video(np.asarray(item["hubert"], np.float32), len(motion), f"{name} hubert")
    speaker = str(item.get("spk_id", name.rsplit("_", 1)[0]))
    return MotionClip(id=name, speaker=speaker, features=hubert, motion=np.asarray(motion, np.float32))


def iter_lrs3_clips(binary_dir: str | Path, split: str, target: str = "landmarks") -> Iterator[MotionClip]:
    """Motion clips of ``<binary_dir>/<split>.data`` (split "train" or "val", as GeneFace binarizes LRS3)."""
    for item in IndexedDatasetReader(Path(binary_dir) / split):
        yield lrs3_motion_clip(item, target)


# ================================================================================================= one person's video
def load_person_dataset(path: str | Path) -> dict:
    """The dict saved in ``trainval_dataset.npy``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no trainval_dataset.npy (GeneFace's data/binary/videos/<id>/)")
    data = np.load(path, allow_pickle=True).item()
    missing = [k for k in ("hubert", "train_samples", "val_samples") if k not in data]
    if missing:
        raise ValueError(f"{path}: not GeneFace's person dataset, missing {missing}")
    return data


def read_person_clips(path: str | Path, target: str = "landmarks") -> dict[str, MotionClip]:
    """``{"train": clip, "val": clip}`` of one person's video (frames in ``idx`` order, HuBERT cut to match)."""
    check_choice(target, "target", ("landmarks", "3dmm"))
    data = load_person_dataset(path)
    video_id = Path(path).parent.name
    hubert = np.asarray(data["hubert"], np.float32)
    total = len(data["train_samples"]) + len(data["val_samples"])
    hubert = align_hubert_to_video(hubert, total, f"{path} hubert")
    clips = {}
    for split in ("train", "val"):
        samples = sorted(data[f"{split}_samples"], key=lambda s: int(s["idx"]))
        idx = np.array([int(s["idx"]) for s in samples])
        if len(idx) == 0 or np.any(np.diff(idx) != 1):
            raise ValueError(f"{path}: {split} frames are not one contiguous run of indices")
        key = "idexp_lm3d" if target == "landmarks" else "exp"
        motion = np.stack([np.asarray(s[key], np.float32) for s in samples])
        if target == "landmarks":
            motion = landmark_points(motion, f"{split} idexp_lm3d")
        a = HUBERT_PER_VIDEO_FRAME * int(idx[0])
        clips[split] = MotionClip(id=f"{video_id}-{split}", speaker=video_id,
                                  features=hubert[a:a + HUBERT_PER_VIDEO_FRAME * len(idx)], motion=motion)
    return clips


def default_person_audio(path: str | Path) -> Path:
    """``data/binary/videos/<id>/trainval_dataset.npy`` -> ``data/processed/videos/<id>/aud.wav``."""
    path = Path(path).resolve()
    return path.parents[3] / "processed" / "videos" / path.parent.name / "aud.wav"


# ================================================================================================= clip store
def read_wav_16k(path: str | Path) -> np.ndarray:
    """A wav file as float32 mono at 16 kHz."""
    from scipy.io import wavfile

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such wav file (GeneFace's binarized data holds no waveform; "
                                "point to the 16 kHz wav it was made from)")
    rate, wave = wavfile.read(path)
    wave = wave.astype(np.float32) / (np.iinfo(wave.dtype).max + 1 if wave.dtype.kind in "iu" else 1.0)
    wave = wave.mean(axis=1) if wave.ndim == 2 else wave
    if rate != SAMPLE_RATE:
        import torch

        from unisync_loss.audio.resample import resample

        wave = resample(torch.from_numpy(wave), int(rate), SAMPLE_RATE).numpy()
    return np.ascontiguousarray(wave, dtype=np.float32)


def write_clip_store(root: str | Path, clips: list[tuple[MotionClip, str, np.ndarray]],
                     expression: dict[str, np.ndarray] | None = None, info: dict | None = None,
                     audio: str | dict = "hubert", extra: dict | None = None) -> ClipStore:
    """Write ``(clip, split, waveform)`` triples into a clip store: ``(T, K, D)`` motion as ``landmarks``,
    ``(T, C)`` motion as ``coeffs3dmm``.

    ``expression`` optionally maps clip id -> ``(T, 64)`` coefficients (stored as ``coeffs3dmm``). The clips'
    features (``2 T`` frames, as GeneFace aligns HuBERT) go into the store's feature cache under the ``audio``
    representation (default: ``hubert`` with its default settings, ``facebook/hubert-large-ls960-ft``, last layer),
    where :mod:`train_expert` finds them instead of running the frontend. ``extra`` is stored with every clip
    (default: the landmark space of GeneFace's ``idexp_lm3d``).
    """
    store = ClipStore.create(root, info={"source": "GeneFace binarized data", **(info or {})})
    cache_config = feature_config(audio)  # the key the project's feature cache (and train_expert) uses
    extra = {"landmark_space": "GeneFace idexp_lm3d (x10, no pose)"} if extra is None else extra
    for clip, split, wave in progress_bar(clips, desc="write clips", unit="clip", leave=False):
        expected = clip.num_frames * SAMPLE_RATE // FPS
        wave = np.asarray(wave, np.float32)[:expected]
        if len(wave) < expected - SAMPLE_RATE // FPS:
            raise ValueError(f"clip {clip.id}: audio has {len(wave)} samples, {clip.num_frames} frames need {expected}")
        if len(wave) < expected:
            wave = np.pad(wave, (0, expected - len(wave)))
        landmarks = clip.motion if clip.motion.ndim == 3 else None
        coeffs = (expression or {}).get(clip.id, clip.motion if clip.motion.ndim == 2 else None)
        store.write_clip(Clip(id=clip.id, speaker=clip.speaker, split=split, audio=wave, landmarks=landmarks,
                              coeffs3dmm=None if coeffs is None else np.asarray(coeffs, np.float32),
                              extra=extra), overwrite=True)
        cache = store.clip_dir(clip.id) / "features" / f"{feature_key(cache_config)}.npy"
        cache.parent.mkdir(exist_ok=True)
        np.save(cache, clip.features)
        cache.with_suffix(".json").write_text(json.dumps(cache_config, sort_keys=True))
    store.reindex()
    return store


def lrs3_to_clip_store(binary_dir: str | Path, audio_dir: str | Path, root: str | Path) -> ClipStore:
    """GeneFace's binarized LRS3 (train and val) + its raw 16 kHz wavs -> a clip store at ``root``."""
    triples, expression = [], {}
    for split in ("train", "val"):
        for item in progress_bar(IndexedDatasetReader(Path(binary_dir) / split), desc=f"LRS3 {split}", unit="clip"):
            clip = lrs3_motion_clip(item)
            speaker, clip_name = clip.id.rsplit("_", 1)
            expression[clip.id] = expression_coeffs(np.asarray(item["coeff"], np.float32))
            triples.append((clip, split, read_wav_16k(Path(audio_dir) / speaker / f"{clip_name}.wav")))
    return write_clip_store(root, triples, expression, {"dataset": "lrs3"})


def person_to_clip_store(path: str | Path, root: str | Path, audio_path: str | Path | None = None) -> ClipStore:
    """One person's ``trainval_dataset.npy`` (+ its ``aud.wav``) -> a clip store with a train and a val clip."""
    clips = read_person_clips(path)
    wave = read_wav_16k(audio_path or default_person_audio(path))
    data, triples = load_person_dataset(path), []
    for split, clip in clips.items():
        start = min(int(s["idx"]) for s in data[f"{split}_samples"])
        s0 = start * SAMPLE_RATE // FPS
        triples.append((clip, split, wave[s0:s0 + clip.num_frames * SAMPLE_RATE // FPS]))
    exp = read_person_clips(path, target="3dmm")
    return write_clip_store(root, triples, {c.id: exp[s].motion for s, c in clips.items()},
                            {"dataset": "person", "video": Path(path).parent.name})
