"""Sync correction of a clip store before training: estimate each clip's audio-visual offset, then keep, shift or
drop it, and record what was done.

Estimators: SyncNet weights (offset and LSE-C of :func:`lse` on the clip's face crops resized to 224x224) or a
UniSync expert (offset and confidence of :func:`unisync_scores` on the clip's array for the expert's visual
representation). Decision per clip, offsets in frames at 25 fps:

* confidence below ``min_confidence``, or best offset at the edge of the search (``|offset| == vshift``): dropped;
* ``|offset| <= max_offset`` (default 1): kept as it is;
* otherwise shifted: ``offset > 0`` (sound early) drops the first ``offset`` frames and the last ``offset`` frames'
  audio, ``offset < 0`` the last frames and the first audio, so that frame ``v`` meets its sound; a clip left with
  fewer than ``min_frames`` frames is dropped instead.

Each kept or shifted clip's ``meta.json`` gets ``extra["sync_correction"]``; dropped clips move to
``STORE/dropped/<id>/`` (out of the index, recoverable); ``STORE/sync_correction.json`` lists every decision with
the settings. Clips that already carry a decision are skipped, so an interrupted run resumes. With ``apply=False``
(``--dry-run``) nothing in the store changes: the decisions that would be taken go to ``STORE/sync_estimate.json``.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, replace
from typing import Callable

import numpy as np
import torch

from ..data.clip_store import Clip, ClipStore, landmark_points, visual_array_name
from ..expert import UniSyncExpert
from ..validation import check_positive_int, describe, is_integer
from .lse import VSHIFT, lse
from .mfcc import SAMPLES_PER_FRAME
from .syncnet import CROP_SIZE, SyncNet
from .unisync_scores import unisync_scores
from .video_scoring import unisync_visual

REPORT_NAME = "sync_correction.json"
ESTIMATE_NAME = "sync_estimate.json"
DROPPED_DIR = "dropped"
#: Starting points for ``min_confidence``: LSE-C for SyncNet (LatentSync filters its data at 3), probability
#: margin for a UniSync expert.
DEFAULT_MIN_CONFIDENCE = {"syncnet": 3.0, "unisync": 0.05, "mouth_energy": 0.3}

Estimator = Callable[[Clip], tuple[int, float]]


@dataclass
class SyncDecision:
    """What was done to one clip. ``shift_frames`` is the applied offset (0 unless shifted)."""

    clip_id: str
    offset: int | None
    confidence: float | None
    action: str  # "kept", "shifted", "dropped"
    reason: str
    shift_frames: int = 0


def syncnet_estimator(syncnet: SyncNet, mode: str = "default") -> Estimator:
    """Estimator from SyncNet: the clip's face crops (any size) resized to 224x224 -> (offset, LSE-C)."""
    if not isinstance(syncnet, SyncNet):
        raise ValueError(f"syncnet: expected a SyncNet (load_syncnet), got {describe(syncnet)}")

    def estimate(clip: Clip) -> tuple[int, float]:
        if clip.frames is None:
            raise ValueError(f"clip {clip.id}: has no frames array (SyncNet needs face crops)")
        frames = np.asarray(clip.frames)
        if frames.shape[1:3] != (CROP_SIZE, CROP_SIZE):
            import cv2

            frames = np.stack([cv2.resize(f, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_LINEAR) for f in frames])
        result = lse(frames, np.asarray(clip.audio), syncnet, mode=mode)
        return result.offset, result.lse_c

    return estimate


def unisync_estimator(expert: UniSyncExpert) -> Estimator:
    """Estimator from a UniSync expert: the clip's array for its visual representation -> (offset, confidence)."""
    if not isinstance(expert, UniSyncExpert):
        raise ValueError(f"expert: expected a UniSyncExpert, got {describe(expert)}")
    name = expert.visual_rep.name

    def estimate(clip: Clip) -> tuple[int, float]:
        if name == "rgb":
            if clip.frames is None:
                raise ValueError(f"clip {clip.id}: has no frames array for the {expert.pair} expert")
            visual = unisync_visual(expert, np.asarray(clip.frames))
        else:
            available = list(clip.visual_arrays())
            array_name = visual_array_name(name, expert.visual_rep.options, available)
            array = getattr(clip, array_name, None)
            if array is None:
                raise ValueError(f"clip {clip.id}: has no {array_name} array for the {expert.pair} expert")
            array = np.asarray(array)
            if name == "landmarks":
                array = landmark_points(array, expert.visual_rep.frame_shape[0])
            visual = torch.from_numpy(array if array.dtype == np.uint8 else array.astype(np.float32))
        scores = unisync_scores(expert, torch.from_numpy(np.array(clip.audio, dtype=np.float32)), visual)
        return scores.offset, scores.confidence

    return estimate


def mouth_energy_estimator(max_lag: int = 10) -> Estimator:
    """Estimator that needs no model: the lag of best correlation between the mouth opening (the clip's 68-point
    ``landmarks``) and the audio energy, relative to speech's natural lead
    (:func:`~unisync_loss.metrics.mouth_energy.estimate_offset`) -> (offset, peak correlation)."""
    from ..representations import create_representation
    from .mouth_energy import estimate_offset

    frontend = create_representation("mel").build_frontend()

    def estimate(clip: Clip) -> tuple[int, float]:
        landmarks = getattr(clip, "landmarks", None)
        if landmarks is None or np.asarray(landmarks).shape[1:2] != (68,):
            raise ValueError(f"clip {clip.id}: the mouth-energy estimator needs a 68-point landmarks array")
        with torch.no_grad():
            mel = frontend(torch.from_numpy(np.array(clip.audio, dtype=np.float32))[None])[0].numpy()
        return estimate_offset(np.asarray(landmarks), mel, max_lag)

    return estimate


def decide(clip_id: str, offset: int, confidence: float, num_frames: int, min_confidence: float,
           max_offset: int = 1, vshift: int = VSHIFT, min_frames: int = 25,
           keep_unconfident: bool = False) -> SyncDecision:
    """The keep / shift / drop rule of the module docstring for one estimate (``keep_unconfident``: a clip below
    ``min_confidence`` is kept as it is instead of dropped: the estimate is too weak to act on either way)."""
    if not np.isfinite(confidence) or confidence < min_confidence:
        action = "kept" if keep_unconfident else "dropped"
        return SyncDecision(clip_id, offset, confidence, action, f"confidence {confidence:.3f} < {min_confidence}")
    if abs(offset) >= vshift:
        return SyncDecision(clip_id, offset, confidence, "dropped", f"offset {offset:+d} at the edge of +/-{vshift}")
    if abs(offset) <= max_offset:
        return SyncDecision(clip_id, offset, confidence, "kept", f"|offset| <= {max_offset}")
    if num_frames - abs(offset) < min_frames:
        return SyncDecision(clip_id, offset, confidence, "dropped",
                            f"shifting by {offset:+d} leaves fewer than {min_frames} frames")
    return SyncDecision(clip_id, offset, confidence, "shifted", f"|offset| > {max_offset}", shift_frames=offset)


def shift_clip(clip: Clip, offset: int) -> Clip:
    """Cut ``clip`` so that frame ``v`` meets the audio that was ``offset`` frames earlier (see module docstring)."""
    if not is_integer(offset):
        raise ValueError(f"offset: expected an integer number of frames, got {offset!r}")
    offset = int(offset)
    k, n = abs(offset), clip.num_frames
    if k >= n:
        raise ValueError(f"offset: {offset:+d} frames would leave nothing of clip {clip.id} ({n} frames)")
    frame_cut = slice(k, n) if offset > 0 else slice(0, n - k)
    samples = len(clip.audio) - k * SAMPLES_PER_FRAME
    audio_cut = slice(0, samples) if offset > 0 else slice(k * SAMPLES_PER_FRAME, len(clip.audio))
    arrays = {name: np.ascontiguousarray(arr[frame_cut]) for name, arr in clip.visual_arrays().items()}
    return replace(clip, audio=np.ascontiguousarray(clip.audio[audio_cut], dtype=np.float32), **arrays)


def correct_store(store: ClipStore, estimator: Estimator, scorer: str, min_confidence: float, max_offset: int = 1,
                  min_frames: int = 25, force: bool = False, progress: bool = True,
                  apply: bool = True, keep_unconfident: bool = False) -> list[SyncDecision]:
    """Estimate, decide and apply for every clip of ``store``; returns the decisions made in this run.

    ``scorer`` names the estimator in the records (e.g. ``"syncnet:syncnet_v2.model"``). Clips whose estimate fails
    are dropped with the error as reason. ``apply=False`` only estimates and decides: the clips stay as they are and
    the decisions are written to ``STORE/sync_estimate.json`` (replaced on every such run).
    """
    from ..progress import progress_bar

    if not isinstance(store, ClipStore):
        raise ValueError(f"store: expected a ClipStore, got {describe(store)}")
    check_positive_int(max_offset, "max_offset", 0)
    check_positive_int(min_frames, "min_frames", 6)
    settings = {"scorer": scorer, "min_confidence": min_confidence, "max_offset": max_offset, "min_frames": min_frames,
                "keep_unconfident": keep_unconfident}
    name = REPORT_NAME if apply else ESTIMATE_NAME
    report = _read_report(store) if apply else {"clips": {}}
    decisions = []
    for clip_id in progress_bar(store.clip_ids(), desc="sync correction", unit="clip", disable=not progress):
        if not force and "sync_correction" in store.meta(clip_id).get("extra", {}):
            continue
        clip = store.load_clip(clip_id, mmap=False)
        try:
            offset, confidence = estimator(clip)
            decision = decide(clip_id, int(offset), float(confidence), clip.num_frames, min_confidence, max_offset,
                              min_frames=min_frames, keep_unconfident=keep_unconfident)
        except (ValueError, RuntimeError) as err:
            decision = SyncDecision(clip_id, None, None, "dropped", f"estimate failed: {err}")
        if apply:
            _apply(store, clip, decision, settings)
        report["clips"][clip_id] = asdict(decision)
        decisions.append(decision)
        _write_report(store, report, settings, name)
    if apply:
        store.reindex()
    return decisions


def _apply(store: ClipStore, clip: Clip, decision: SyncDecision, settings: dict) -> None:
    record = {**asdict(decision), **settings}
    record.pop("clip_id")
    if decision.action == "shifted":
        clip = shift_clip(clip, decision.shift_frames)
    clip = replace(clip, extra={**clip.extra, "sync_correction": record})
    if decision.action == "dropped":
        meta_path = store.clip_dir(clip.id) / "meta.json"
        meta = json.loads(meta_path.read_text())
        meta["extra"] = clip.extra
        meta_path.write_text(json.dumps(meta, indent=1))
        target = store.root / DROPPED_DIR / clip.id
        target.parent.mkdir(exist_ok=True)
        if target.exists():
            shutil.rmtree(target)
        os.replace(store.clip_dir(clip.id), target)
    else:
        store.write_clip(clip, overwrite=True)


def _read_report(store: ClipStore) -> dict:
    path = store.root / REPORT_NAME
    return json.loads(path.read_text()) if path.is_file() else {"clips": {}}


def _write_report(store: ClipStore, report: dict, settings: dict, name: str = REPORT_NAME) -> None:
    counts: dict[str, int] = {}
    for entry in report["clips"].values():
        counts[entry["action"]] = counts.get(entry["action"], 0) + 1
    report = {"settings": settings, "counts": counts, "clips": report["clips"]}
    tmp = store.root / f".{name}.tmp"
    tmp.write_text(json.dumps(report, indent=1))
    os.replace(tmp, store.root / name)
