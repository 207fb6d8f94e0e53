"""Score a video file end to end: decode at 25 fps, find face tracks, crop, LSE-D/LSE-C and UniSync scores.

Two streaming passes over the file (face tracking, then cropping), so a long video never sits in memory; only the
224x224 crops of each track (and 96x96 ones for a UniSync RGB expert) are kept.

Crops: ``"syncnet"`` (default) follows syncnet_python: per face track, box scale 0.4, 224x224. ``"whole"`` is the
variant used on LRS2 in Wav2Lip's evaluation: the whole frame resized to 224x224, no detection, one track.
``"none"``: the file already is a 224x224 face video (what syncnet_python's evaluation takes); in reference mode
its decoded planes go to the JPEG round trip and its audio is extracted as the reference does
(:mod:`.reference_input`), which makes the scores equal to the reference's.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..expert import UniSyncExpert
from ..validation import check_choice, check_positive_int, describe
from .lse import MODES, lse
from .mfcc import SAMPLES_PER_FRAME
from .reference_input import reference_input
from .syncnet import CROP_SIZE, SyncNet
from .unisync_scores import unisync_scores

CROPS = ("syncnet", "whole", "none")
#: Side of the face crop a UniSync RGB expert's window is cut from (Wav2Lip's face size).
UNISYNC_FACE_SIZE = 96


@dataclass
class TrackCrops:
    """Frames ``start .. start + len(syncnet) - 1`` of one face: ``syncnet`` uint8 ``(N, 224, 224, 3)`` RGB and, for
    a UniSync RGB expert, ``face`` uint8 ``(N, 96, 96, 3)`` RGB (Wav2Lip-style crop)."""

    index: int
    start: int
    syncnet: np.ndarray
    face: np.ndarray | None
    detected_fraction: float = 1.0
    landmarks: np.ndarray | None = None  # float32 (N, 468, 3) face mesh in ``face`` crop pixels, when tracked


def _resize(frame: np.ndarray, size: int) -> np.ndarray:
    import cv2

    return cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA)


def face_track_crops(path: str | os.PathLike, crop: str = "syncnet", with_face: bool = False, detector=None,
                     min_track_frames: int = 25, max_frames: int | None = None) -> tuple[list[TrackCrops], int]:
    """Crops of every face track of the video ``path`` (25 fps; only its first ``max_frames`` if given), and the
    number of 25 fps frames read.

    Raises ``ValueError`` when no face track of ``min_track_frames`` frames is found.
    """
    from ..video import crop_transforms, iter_frames, probe_video, track_faces, warp_frame
    from ..video.crops import BORDER_VALUES

    check_choice(crop, "crop", CROPS)
    if max_frames is not None:
        check_positive_int(max_frames, "max_frames", 6)

    def frames():
        return itertools.islice(iter_frames(path), max_frames)

    if crop in ("whole", "none"):
        syncnet, face = [], []
        for frame in frames():
            if crop == "none" and frame.shape[:2] != (CROP_SIZE, CROP_SIZE):
                raise ValueError(f"{Path(path).name}: crop 'none' expects 224x224 face videos (syncnet_python's "
                                 f"evaluation input), got {frame.shape[1]}x{frame.shape[0]}")
            syncnet.append(_resize(frame, CROP_SIZE) if crop == "whole" else frame)
            if with_face:
                face.append(_resize(frame, UNISYNC_FACE_SIZE))
        return [TrackCrops(0, 0, np.stack(syncnet), np.stack(face) if with_face else None)], len(syncnet)
    result = track_faces(frames(), detector, min_frames=min_track_frames)
    if not result.tracks:
        raise ValueError(
            f"{Path(path).name}: no face track of at least {min_track_frames} frames "
            f"({min_track_frames / 25:.2f} s) found in {result.num_frames} frames"
        )
    plans = []
    for i, track in enumerate(result.tracks):
        face_transforms = None
        if with_face:
            info = probe_video(path)
            face_transforms = crop_transforms(track, "wav2lip", (info.height, info.width), UNISYNC_FACE_SIZE)
        plans.append((i, track, crop_transforms(track, "syncnet"), face_transforms, [], []))
    for index, frame in enumerate(frames()):
        for i, track, transforms, face_transforms, crops, faces in plans:
            if track.start <= index < track.end:
                k = index - track.start
                crops.append(warp_frame(frame, transforms[k], CROP_SIZE, BORDER_VALUES["syncnet"]))
                if face_transforms is not None:
                    faces.append(warp_frame(frame, face_transforms[k], UNISYNC_FACE_SIZE))
    tracks = [TrackCrops(i, track.start, np.stack(crops), np.stack(faces) if faces else None, track.detected_fraction,
                         _face_landmarks(track, face_transforms, len(crops)))
              for i, track, _, face_transforms, crops, faces in plans if crops]
    return tracks, result.num_frames


def _face_landmarks(track, face_transforms, count: int) -> np.ndarray | None:
    """The track's mesh moved into the face crop (first ``count`` frames), or None without mesh or face crop."""
    from ..video.landmarks import apply_affine

    if face_transforms is None or track.landmarks is None or track.landmarks.shape[1:] != (468, 3):
        return None
    return apply_affine(track.landmarks[:count], face_transforms[:count])


def check_rgb_expert(expert: UniSyncExpert) -> None:
    """Scoring frames needs an expert whose visual representation is RGB crops."""
    if not isinstance(expert, UniSyncExpert) or expert.visual_rep.name != "rgb":
        got = f"a {expert.pair} expert" if isinstance(expert, UniSyncExpert) else describe(expert)
        raise ValueError(
            f"expert: scoring face crops needs an rgb expert (its input is cut from the frames), got {got}; "
            "score other representations in memory with unisync_scores(expert, audio, visual)"
        )


def check_scoring_expert(expert: UniSyncExpert) -> None:
    """Scoring a video needs an expert whose visual input can be cut from the frames: RGB crops or face-mesh
    landmarks (68 iBUG points, their 20 mouth points, or the 468-point mesh)."""
    if isinstance(expert, UniSyncExpert) and expert.visual_rep.name == "landmarks":
        return
    check_rgb_expert(expert)


def expert_visual(expert: UniSyncExpert, track: TrackCrops) -> torch.Tensor:
    """The expert's visual sequence for one face track: ``(N, 3, h, w)`` RGB or ``(N, K, D)`` landmarks."""
    from ..video.landmarks import mesh_layout

    if expert.visual_rep.name != "landmarks":
        return unisync_visual(expert, track.face)
    if track.landmarks is None:
        raise ValueError("expert: a landmarks expert needs the face mesh of a tracked face (not --lrs2-crop, not a "
                         "box-only detector)")
    num_points, dims = expert.visual_rep.frame_shape
    return torch.from_numpy(mesh_layout(track.landmarks, num_points, dims))


def unisync_visual(expert: UniSyncExpert, faces: np.ndarray) -> torch.Tensor:
    """uint8 ``(N, S, S, 3)`` RGB faces -> the RGB expert's input ``(N, 3, height, width)`` in [0, 1]: the face
    resized to ``width`` and its lower ``height`` rows (the lower half for the default 48x96)."""
    check_rgb_expert(expert)
    if not isinstance(faces, np.ndarray) or faces.ndim != 4 or faces.dtype != np.uint8 or faces.shape[-1] != 3:
        raise ValueError(f"faces: expected uint8 RGB face crops (N, S, S, 3), got {describe(faces)}")
    channels, height, width = expert.visual_rep.frame_shape
    faces = np.stack([_resize(f, width) for f in faces]) if faces.shape[1] != width else faces
    lower = faces[:, width - height:] if height <= width else faces
    return torch.from_numpy(np.ascontiguousarray(lower)).permute(0, 3, 1, 2).float() / 255.0


def score_video(path: str | os.PathLike, *, audio: str | os.PathLike | None = None, syncnet: SyncNet | None = None,
                expert: UniSyncExpert | None = None, mode: str = "default", crop: str = "syncnet",
                detector=None, min_track_frames: int = 25, max_frames: int | None = None,
                encoder: str = "auto") -> dict:
    """Score the video ``path`` (with its own audio track, or the audio file ``audio``): one JSON-able record.

    ``encoder``: JPEG encoder of reference mode for ``crop="none"`` ("ffmpeg", "pyav" or "auto", see :mod:`.jpeg`).

    ``max_frames``: score only the first frames (a quick look at long files). The record has ``tracks`` (per face
    track: ``lse`` from :func:`lse` and/or ``unisync`` from :func:`unisync_scores`) and per-video values averaged
    over tracks weighted by their windows (LSE-D, LSE-C, UniSync probability) plus the offsets of the longest track.
    """
    from ..video import read_audio

    check_choice(mode, "mode", MODES)
    if syncnet is None and expert is None:
        raise ValueError("syncnet/expert: pass SyncNet weights, a UniSync expert, or both")
    if syncnet is not None and not isinstance(syncnet, SyncNet):
        raise ValueError(f"syncnet: expected a SyncNet (load_syncnet), got {describe(syncnet)}")
    if expert is not None:
        check_scoring_expert(expert)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"video: no file at {path}")
    if audio is not None and not Path(audio).is_file():
        raise FileNotFoundError(f"audio: no file at {audio}")
    exact = None
    if syncnet is not None and mode == "reference" and crop == "none":
        exact = reference_input(path, encoder, max_frames, audio=audio)
    if exact is not None and expert is None:  # nothing else needs the RGB frames or the float audio
        wave = exact.audio.astype(np.float32) / 32768.0
        tracks, num_frames = [TrackCrops(0, 0, exact.frames, None)], len(exact.frames)
    else:
        wave = read_audio(audio if audio is not None else path)
        tracks, num_frames = face_track_crops(path, crop, expert is not None, detector, min_track_frames, max_frames)
    warnings = input_warnings(wave, tracks, num_frames)
    if max_frames is None and len(wave) < num_frames * SAMPLES_PER_FRAME - SAMPLES_PER_FRAME:
        warnings.append(f"audio ({len(wave) / 16000:.2f} s) is shorter than the video ({num_frames / 25:.2f} s): "
                        "only the common span is scored")
    results = []
    for track in tracks:
        span = wave[track.start * SAMPLES_PER_FRAME:(track.start + len(track.syncnet)) * SAMPLES_PER_FRAME]
        entry = {"track": track.index, "start_frame": track.start, "num_frames": len(track.syncnet),
                 "detected_fraction": track.detected_fraction}
        if exact is not None:
            entry["lse"] = lse(exact.frames, exact.audio, syncnet, mode=mode, round_tripped=True).to_dict()
            entry["jpeg_encoder"] = exact.encoder
        elif syncnet is not None:
            entry["lse"] = lse(track.syncnet, span, syncnet, mode=mode).to_dict()
        if expert is not None:
            visual = expert_visual(expert, track)
            frames = min(len(visual), len(span) // SAMPLES_PER_FRAME)
            entry["unisync"] = unisync_scores(expert, torch.from_numpy(span[:frames * SAMPLES_PER_FRAME]),
                                              visual[:frames]).to_dict()
        results.append(entry)
    return {"video": str(path), "audio": str(audio) if audio is not None else None, "status": "ok",
            "mode": mode, "crop": crop, "num_frames": num_frames, "warnings": warnings, "tracks": results,
            **video_summary(results)}


def input_warnings(wave: np.ndarray, tracks: list[TrackCrops], num_frames: int) -> list[str]:
    """Plain-language warnings when the audio holds no speech or the face was lost (:mod:`.score_checks`)."""
    from .score_checks import face_warnings, speech_warnings

    spans = [(t.start, len(t.syncnet)) for t in tracks]
    return speech_warnings(wave) + face_warnings(spans, num_frames, [t.detected_fraction for t in tracks])


def video_summary(tracks: list[dict]) -> dict:
    """Per-video values from per-track entries: window-weighted means, offsets of the longest track."""
    summary = {}
    longest = max(tracks, key=lambda t: t["num_frames"])
    if "lse" in longest:
        weights = np.array([t["lse"]["num_windows"] for t in tracks], float)
        for key in ("lse_d", "lse_c"):
            summary[key] = float(np.average([t["lse"][key] for t in tracks], weights=weights))
        summary["offset"] = longest["lse"]["offset"]
    if "unisync" in longest:
        weights = np.array([t["unisync"]["num_windows"] for t in tracks], float)
        for key in ("mean_probability", "in_sync_share"):
            summary[f"unisync_{key}"] = float(np.average([t["unisync"][key] for t in tracks], weights=weights))
        summary["unisync_offset"] = longest["unisync"]["offset"]
        summary["unisync_confidence"] = longest["unisync"]["confidence"]
        summary["unisync_drift_per_minute"] = longest["unisync"]["drift_per_minute"]
    return summary
