"""Folders of real videos -> a clip store: multiprocess, resumable, every skipped video logged with its reason.

Per video: decode at 25 fps (streamed), detect and track faces, keep each face track of at least ``min_frames``
frames (split into clips of at most ``max_clip_frames``), crop it, move its landmarks into the crop, cut the
16 kHz audio to exactly the clip's frames, and write the clip atomically. A video that cannot give a clean clip
(decode error, no audio, silent audio, no face, several faces at once, face lost too often) is skipped and counted.

Resuming: ``STORE/preprocess_log.jsonl`` gets one line per finished video (done or skipped); a restarted run skips
those and removes half-written clip folders left by a killed run.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import time
import zlib
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from tqdm import tqdm

from ..data.clip_store import SPLITS, Clip, ClipStore
from ..data.import_report import SkipEntry as SkipVideo
from ..validation import check_choice, check_positive_int
from .crops import BORDER_VALUES, CROP_STYLES, DEFAULT_SIZES, crop_transforms, warp_frame
from .decode import VideoDecodeError, first_frame_time, iter_frames, probe_video, read_audio
from .faces import FaceDetector, MediaPipeFaceDetection, MediaPipeFaceMesh
from .landmarks import apply_affine, mesh_to_ibug68
from .tracking import FaceTrack, track_faces

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".mp4", ".mkv", ".avi", ".mov", ".webm", ".mpg", ".mpeg", ".m4v", ".flv", ".ts")
LOG_NAME, SUMMARY_NAME = "preprocess_log.jsonl", "preprocess_summary.json"
FPS, SAMPLE_RATE = 25.0, 16000
SAMPLES_PER_FRAME = int(SAMPLE_RATE / FPS)


@dataclass
class PreprocessConfig:
    """Settings of a preprocessing run (they are stored in the store header, so one store holds one setting)."""

    crop: str = "wav2lip"             # wav2lip | syncnet | aligned
    size: int | None = None           # crop side in pixels (default per style: 96, 224, 96)
    detector: str = "mesh"            # mesh (MediaPipe face mesh, landmarks) | blazeface (boxes only)
    landmarks: str = "ibug68"         # ibug68 (68 x 2) | mesh468 (468 x 3) | none
    min_frames: int = 25              # shortest clip (1 s)
    max_clip_frames: int = 750        # longer tracks are split into clips of at most this many frames (30 s)
    max_missing: int = 5              # lost-face frames bridged by interpolation; more ends the track
    min_detected: float = 0.95        # fraction of a track's frames where the face was really detected
    several_faces: str = "skip"       # skip | largest: what to do when two face tracks overlap in time
    val_fraction: float = 0.05        # speakers sent to "val" (by a hash of the speaker id)
    split: str | None = None          # force every clip into this split instead

    def validate(self) -> "PreprocessConfig":
        check_choice(self.crop, "crop", CROP_STYLES)
        check_choice(self.detector, "detector", ("mesh", "blazeface"))
        check_choice(self.landmarks, "landmarks", ("ibug68", "mesh468", "none"))
        check_choice(self.several_faces, "several_faces", ("skip", "largest"))
        if self.split is not None:
            check_choice(self.split, "split", SPLITS)
        if self.size is not None:
            check_positive_int(self.size, "size", 8)
        check_positive_int(self.min_frames, "min_frames", 5)
        check_positive_int(self.max_clip_frames, "max_clip_frames", self.min_frames)
        check_positive_int(self.max_missing, "max_missing", 0)
        if not 0.0 <= self.min_detected <= 1.0:
            raise ValueError(f"min_detected: expected a fraction in [0, 1], got {self.min_detected!r}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction: expected a fraction in [0, 1), got {self.val_fraction!r}")
        if self.crop == "aligned" and self.detector != "mesh":
            raise ValueError("crop: the aligned crop needs landmarks, use detector='mesh'")
        if self.landmarks != "none" and self.detector != "mesh":
            raise ValueError(f"landmarks: {self.landmarks!r} needs detector='mesh' (blazeface gives boxes only)")
        return self

    def store_info(self) -> dict:
        """Header info of the store: the settings that change what a clip holds."""
        info = {k: v for k, v in asdict(self).items() if k not in ("val_fraction", "split")}
        return {"producer": "unisync preprocess", **info, "size": self.size or DEFAULT_SIZES[self.crop]}


@dataclass
class VideoJob:
    """One input video: its path, the clip id prefix and speaker derived from its place under the input folder."""

    path: str
    name: str
    speaker: str
    split: str | None = None


@dataclass
class VideoResult:
    """What happened to one video (one line of the log)."""

    name: str
    path: str
    status: str                       # done | skipped
    kind: str = ""                    # skip category: decode error, no audio, silent audio, no face, several faces...
    reason: str = ""
    clips: list[str] = field(default_factory=list)
    source_seconds: float = 0.0
    seconds: float = 0.0


def find_videos(source: str | os.PathLike) -> list[VideoJob]:
    """Jobs for a folder (searched recursively for video files) or a list file (one ``path [split]`` a line, paths
    relative to the list's folder). Clip names join the relative path parts with ``-``; the speaker is the first
    folder under the input folder (VoxCeleb2/LRS3 layout), or the file stem for files directly in it."""
    source = Path(source)
    if source.is_dir():
        base, entries = source, [(p, None) for p in sorted(source.rglob("*")) if p.suffix.lower() in VIDEO_SUFFIXES]
    elif source.is_file():
        base, entries = source.parent, []
        for number, line in enumerate(source.read_text().splitlines(), 1):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            if len(parts) > 2 or (len(parts) == 2 and parts[1] not in SPLITS):
                raise ValueError(f"{source}:{number}: expected 'path [split]' with split in {SPLITS}, got {line!r}")
            path = Path(parts[0]) if Path(parts[0]).is_absolute() else source.parent / parts[0]
            entries.append((path, parts[1] if len(parts) == 2 else None))
    else:
        raise FileNotFoundError(f"input: no such folder or list file {str(source)!r}")
    jobs = []
    for path, split in entries:
        try:
            rel = path.resolve().relative_to(base.resolve()).with_suffix("")
        except ValueError:
            rel = Path(path.stem)
        parts = [p.replace(" ", "_") for p in rel.parts]
        jobs.append(VideoJob(str(path), "-".join(parts), parts[0], split))
    names = Counter(j.name for j in jobs)
    if any(n > 1 for n in names.values()):
        raise ValueError(f"input: several videos map to the same clip name: {[k for k, n in names.items() if n > 1]}")
    return jobs


def speaker_split(speaker: str, val_fraction: float) -> str:
    """Deterministic split by speaker: a speaker's clips all land in the same split."""
    return "val" if (zlib.crc32(speaker.encode()) % 10_000) / 10_000 < val_fraction else "train"


def make_detector(config: PreprocessConfig) -> FaceDetector:
    if config.detector == "mesh":
        return MediaPipeFaceMesh(max_faces=2, video_mode=True)
    return MediaPipeFaceDetection(full_range=True)


def _select_tracks(tracks: list[FaceTrack], config: PreprocessConfig) -> list[FaceTrack]:
    if not tracks:
        raise SkipVideo("no face", f"no face track of at least {config.min_frames} frames")
    kept: list[FaceTrack] = []
    for track in sorted(tracks, key=lambda t: -t.mean_size):
        rivals = [k for k in kept if min(k.end, track.end) - max(k.start, track.start) > config.max_missing]
        if rivals and config.several_faces == "skip":
            overlap = min(rivals[0].end, track.end) - max(rivals[0].start, track.start)
            raise SkipVideo("several faces", f"two face tracks overlap for {overlap} frames")
        if not rivals:
            kept.append(track)
    good = [t for t in kept if t.detected_fraction >= config.min_detected]
    if not good:
        worst = min(kept, key=lambda t: t.detected_fraction)
        raise SkipVideo("face lost", f"face detected in {worst.detected_fraction:.0%} of the track's frames "
                        f"(min_detected={config.min_detected:.0%})")
    return sorted(good, key=lambda t: t.start)


def _segments(tracks: list[FaceTrack], num_audio_frames: int, config: PreprocessConfig) -> list[tuple[FaceTrack, int, int]]:
    """``(track, first, stop)`` video frame ranges of the clips: tracks cut to the audio and to max_clip_frames."""
    segments = []
    for track in tracks:
        stop = min(track.end, num_audio_frames)
        count = max(0, stop - track.start)
        pieces = max(1, -(-count // config.max_clip_frames))
        bounds = np.linspace(track.start, stop, pieces + 1).round().astype(int)
        segments += [(track, int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b - a >= config.min_frames]
    if not segments:
        raise SkipVideo("no face", f"no face track of at least {config.min_frames} frames overlaps the audio")
    return segments


def preprocess_video(job: VideoJob, config: PreprocessConfig, detector: FaceDetector | None = None
                     ) -> Iterator[Clip]:
    """Clips of one video (yielded one by one so that a long video never sits in memory). Raises SkipVideo."""
    config.validate()
    path = Path(job.path)
    try:
        info = probe_video(path)
        if info.audio_codec is None:
            raise SkipVideo("no audio", "no audio stream")
        start_time = first_frame_time(path)
        audio = read_audio(path, SAMPLE_RATE, start_time=start_time)
        if float(np.abs(audio).max()) < 1e-4:
            raise SkipVideo("silent audio", "the audio track is silent")
        owned = detector is None
        detector = make_detector(config) if owned else detector
        if not owned and hasattr(detector, "reset"):
            detector.reset()
        try:
            result = track_faces(iter_frames(path), detector, max_missing=config.max_missing,
                                 min_frames=config.min_frames)
        finally:
            if owned and hasattr(detector, "close"):
                detector.close()
        segments = _segments(_select_tracks(result.tracks, config), len(audio) // SAMPLES_PER_FRAME, config)
        yield from _crop_segments(path, job, config, segments, audio, info, start_time)
    except VideoDecodeError as err:
        raise SkipVideo("decode error", str(err)) from err


def _crop_segments(path: Path, job: VideoJob, config: PreprocessConfig, segments, audio: np.ndarray, info,
                   start_time: float) -> Iterator[Clip]:
    size = config.size or DEFAULT_SIZES[config.crop]
    transforms = {id(track): crop_transforms(track, config.crop, (info.height, info.width), size)
                  for track in {id(t): t for t, _, _ in segments}.values()}
    pending = sorted(segments, key=lambda s: s[1])
    open_segments: list[tuple[FaceTrack, int, int, list]] = []
    split = job.split or config.split or speaker_split(job.speaker, config.val_fraction)
    for index, frame in enumerate(iter_frames(path)):
        while pending and pending[0][1] == index:
            open_segments.append((*pending.pop(0), []))
        for track, first, stop, crops in open_segments:
            matrix = transforms[id(track)][index - track.start]
            crops.append(warp_frame(frame, matrix, size, BORDER_VALUES[config.crop]))
        for segment in [s for s in open_segments if s[2] == index + 1]:
            open_segments.remove(segment)
            yield _make_clip(job, config, split, segment, transforms[id(segment[0])], audio, info, start_time, len(segments))
        if not pending and not open_segments:
            break
    if open_segments or pending:
        raise SkipVideo("decode error", "the second decoding pass ended early (file changed or truncated)")


def _make_clip(job, config, split, segment, transforms, audio, info, start_time, total) -> Clip:
    track, first, stop, crops = segment
    local = slice(first - track.start, stop - track.start)
    landmarks = None
    if config.landmarks != "none":
        points = track.landmarks[local]
        points = mesh_to_ibug68(points)[..., :2] if config.landmarks == "ibug68" else points
        landmarks = apply_affine(points, transforms[local])
    clip_id = job.name if total == 1 else f"{job.name}-{first:06d}"
    extra = {
        "source": os.path.basename(job.path), "source_fps": info.source_fps, "source_size": [info.width, info.height],
        "video_codec": info.video_codec, "audio_codec": info.audio_codec,
        "start_frame": first, "start_seconds": round(start_time + first / FPS, 4),
        "crop": config.crop, "crop_size": len(crops[0]), "landmarks": config.landmarks,
        "detected_fraction": round(float(track.detected[local].mean()), 4),
        "interpolated_frames": int((~track.detected[local]).sum()), "face_size_px": round(track.mean_size, 1),
        "sync": None,
    }
    return Clip(id=clip_id, speaker=job.speaker, split=split,
                audio=np.ascontiguousarray(audio[first * SAMPLES_PER_FRAME: stop * SAMPLES_PER_FRAME]),
                frames=np.stack(crops), landmarks=landmarks, extra=extra)


# ------------------------------------------------------------------------------------------------- the whole run
_worker_state: dict = {}


def _init_worker(config: PreprocessConfig, store_root: str, detector_factory) -> None:
    _worker_state.update(config=config, store=ClipStore(store_root), detector=detector_factory(config))


def _run_job(job: VideoJob) -> VideoResult:
    config, store = _worker_state["config"], _worker_state["store"]
    started = time.perf_counter()
    result = VideoResult(job.name, job.path, "done")
    try:
        result.source_seconds = round(probe_video(job.path).duration, 3)
    except (VideoDecodeError, FileNotFoundError):
        pass
    try:
        for clip in preprocess_video(job, config, _worker_state.get("detector")):
            store.write_clip(clip, overwrite=True)
            result.clips.append(clip.id)
    except SkipVideo as err:
        result.status, result.kind, result.reason = "skipped", err.kind, str(err)
    except Exception as err:  # one bad file must never stop the run: log it with its type
        result.status, result.kind, result.reason = "skipped", "error", f"{type(err).__name__}: {err}"
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _read_log(path: Path) -> dict[str, dict]:
    done = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a kill
            done[record["name"]] = record
    return done


def preprocess(source: str | os.PathLike, out: str | os.PathLike, config: PreprocessConfig | None = None,
               workers: int = 1, detector_factory: Callable[[PreprocessConfig], FaceDetector] | None = None,
               progress: bool = True) -> dict:
    """Preprocess every video of ``source`` (folder or list file) into the clip store ``out``; returns the summary.

    ``workers`` processes run videos in parallel (1: in this process). ``detector_factory(config)`` builds a custom
    detector in each worker (it must be picklable, e.g. a module-level function). Already logged videos are skipped.
    """
    config = (config or PreprocessConfig()).validate()
    check_positive_int(workers, "workers")
    jobs = find_videos(source)
    store = ClipStore.create(out, info=config.store_info())
    removed = store.clean_partial()
    log_path = store.root / LOG_NAME
    previous = _read_log(log_path)
    todo = [j for j in jobs if j.name not in previous]
    if removed:
        log.warning("removed %d half-written clip folders from an interrupted run", removed)
    results: list[dict] = [previous[j.name] for j in jobs if j.name in previous]
    started = time.perf_counter()
    bar = tqdm(total=len(todo), desc="preprocess", unit="video", disable=not progress)
    init_args = (config, str(store.root), detector_factory or make_detector)
    with log_path.open("a") as log_file:
        if workers == 1 or len(todo) <= 1:
            _init_worker(*init_args)
            outcomes = map(_run_job, todo)
            pool = None
        else:
            pool = mp.get_context("spawn").Pool(min(workers, len(todo)), _init_worker, init_args)
            outcomes = pool.imap_unordered(_run_job, todo)
        try:
            for outcome in outcomes:
                record = asdict(outcome)
                log_file.write(json.dumps(record) + "\n")
                log_file.flush()
                results.append(record)
                if outcome.status == "skipped":
                    log.warning("skipped %s: %s", outcome.path, outcome.reason)
                bar.update(1)
                bar.set_postfix(clips=sum(len(r["clips"]) for r in results))
        finally:
            bar.close()
            if pool is not None:
                pool.terminate()
                pool.join()
            if hasattr(_worker_state.get("detector"), "close"):
                _worker_state["detector"].close()
            _worker_state.clear()
    store.reindex()
    summary = summarize(results, time.perf_counter() - started, workers, resumed=len(jobs) - len(todo))
    (store.root / SUMMARY_NAME).write_text(json.dumps(summary, indent=1))
    return summary


def summarize(results: list[dict], wall_seconds: float, workers: int, resumed: int = 0) -> dict:
    """Counts of done/skipped videos, clips, skip reasons (first words grouped) and throughput of this run."""
    skipped = [r for r in results if r["status"] == "skipped"]
    reasons = Counter(r.get("kind") or "error" for r in skipped)
    source = sum(r.get("source_seconds", 0.0) for r in results)
    busy = sum(r.get("seconds", 0.0) for r in results)
    return {
        "videos": len(results), "done": len(results) - len(skipped), "skipped": len(skipped),
        "resumed_from_log": resumed, "clips": sum(len(r["clips"]) for r in results),
        "skip_reasons": dict(reasons.most_common()), "source_seconds": round(source, 2),
        "wall_seconds": round(wall_seconds, 2), "workers": workers,
        "source_seconds_per_busy_second": round(source / busy, 3) if busy else None,
        "skipped_videos": [{"path": r["path"], "kind": r.get("kind"), "reason": r["reason"]} for r in skipped],
    }
