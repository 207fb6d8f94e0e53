"""One real video -> clips: decode at 25 fps (streamed), detect and track faces, keep each face track of at least
``min_frames`` frames (split into clips of at most ``max_clip_frames``), crop it, move its landmarks into the crop,
cut the 16 kHz audio to exactly the clip's frames. A video that cannot give a clean clip (decode error, no audio,
silent audio, no face, several faces at once, face lost too often) raises :class:`SkipVideo` with a kind and reason.
Running this over many videos, resumably and in parallel, is :mod:`.run`.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from ..audio.activity import is_silent
from ..data.clip_store import SPLITS, Clip
from ..data.import_report import SkipEntry as SkipVideo
from ..validation import check_choice, check_positive_int
from .crops import BORDER_VALUES, CROP_STYLES, DEFAULT_SIZES, crop_transforms, warp_frame
from .decode import VideoDecodeError, first_frame_time, iter_frames, probe_video, read_audio
from .faces import FaceDetector, MediaPipeFaceDetection, MediaPipeFaceMesh
from .inputs import VideoJob, check_split_fractions, speaker_split
from .landmarks import apply_affine, mesh_layout
from .parsing_model import FaceParser
from .tracking import FaceTrack, track_faces

FPS, SAMPLE_RATE = 25.0, 16000
SAMPLES_PER_FRAME = int(SAMPLE_RATE / FPS)
SILENCE_DB = -60.0  # whole-track RMS below this: nothing to learn lip sync from
#: Landmark layouts a store can hold: ``all`` writes the 68 iBUG points, the 468-point mesh and the 20 mouth points.
LANDMARK_CHOICES = ("ibug68", "mesh468", "all", "none")


@dataclass
class FrameReport:
    """Where the 25 fps frames of one video went. ``dropped``: frames left out of every clip, by reason."""

    frames: int = 0                   # frames decoded at 25 fps
    face_frames: int = 0              # frames where the detector found at least one face
    several_face_frames: int = 0      # frames where it found two or more
    kept_frames: int = 0              # frames in the written clips
    interpolated_frames: int = 0      # kept frames where a lost face was bridged by interpolation
    dropped: dict[str, int] = field(default_factory=dict)


def _frame_report(report: FrameReport, result, selected: list[FaceTrack], segments, num_audio_frames: int,
                  config: "PreprocessConfig") -> None:
    """Fill ``report`` from the tracking result, the kept tracks and the clip segments (see :class:`FrameReport`)."""
    n = result.num_frames
    kept = np.zeros(n, bool)
    for track, first, stop in segments:
        kept[first:stop] = True
        report.interpolated_frames += int((~track.detected[first - track.start:stop - track.start]).sum())
    report.kept_frames = int(kept.sum())
    reason = np.full(n, "", dtype=object)
    faces = np.asarray(result.faces_per_frame[:n])
    reason[:len(faces)][faces == 0] = "no face detected"
    reason[reason == ""] = f"face track shorter than min_frames ({config.min_frames})"
    for track in result.tracks:
        if any(track is t for t in selected):
            continue
        lost = track.detected_fraction < config.min_detected
        reason[track.start:track.end] = (f"face detected in too few frames of its track (< {config.min_detected:.0%})"
                                         if lost else "another face was kept")
    reason[num_audio_frames:] = "after the end of the audio"
    reason = reason[~kept]
    report.dropped = {str(r): int((reason == r).sum()) for r in dict.fromkeys(reason.tolist())}


@dataclass
class PreprocessConfig:
    """Settings of a preprocessing run (they are stored in the store header, so one store holds one setting)."""

    crop: str = "wav2lip"             # wav2lip | syncnet | aligned
    size: int | None = None           # crop side in pixels (default per style: 96, 224, 96)
    detector: str = "mesh"            # mesh (MediaPipe face mesh, landmarks) | blazeface (boxes only)
    landmarks: str = "ibug68"         # ibug68 (68 x 2) | mesh468 (468 x 3) | all (68 x 2, 468 x 3, mouth 20 x 2) | none
    min_frames: int = 25              # shortest clip (1 s)
    max_clip_frames: int = 750        # longer tracks are split into clips of at most this many frames (30 s)
    max_missing: int = 5              # lost-face frames bridged by interpolation; more ends the track
    min_detected: float = 0.95        # fraction of a track's frames where the face was really detected
    several_faces: str = "skip"       # skip | largest: what to do when two face tracks overlap in time
    val_fraction: float = 0.05        # speakers sent to "val" (by a hash of the speaker id; see .inputs)
    test_fraction: float = 0.0        # speakers sent to "test" (likewise)
    split_seed: int = 0               # seed of the balanced split of a manifest's speakers
    split: str | None = None          # force every clip into this split instead
    parsing_weights: str | None = None  # BiSeNet weights file: also store face-parsing maps of the crops
    parsing_size: int = 512           # BiSeNet input side (512 as trained; smaller is faster and coarser)
    device: str = "cpu"               # torch device of the parsing network (cuda for speed)

    def validate(self) -> "PreprocessConfig":
        check_choice(self.crop, "crop", CROP_STYLES)
        check_choice(self.detector, "detector", ("mesh", "blazeface"))
        check_choice(self.landmarks, "landmarks", LANDMARK_CHOICES)
        check_choice(self.several_faces, "several_faces", ("skip", "largest"))
        if self.split is not None:
            check_choice(self.split, "split", SPLITS)
        if self.size is not None:
            check_positive_int(self.size, "size", 8)
        check_positive_int(self.min_frames, "min_frames", 5)
        # at least twice min_frames, so that splitting a long track never leaves a piece shorter than min_frames
        check_positive_int(self.max_clip_frames, "max_clip_frames", 2 * self.min_frames)
        check_positive_int(self.max_missing, "max_missing", 0)
        if not 0.0 <= self.min_detected <= 1.0:
            raise ValueError(f"min_detected: expected a fraction in [0, 1], got {self.min_detected!r}")
        check_split_fractions(self.val_fraction, self.test_fraction)
        check_positive_int(self.split_seed, "split_seed", 0)
        if self.parsing_weights is not None and not Path(self.parsing_weights).is_file():
            raise FileNotFoundError(f"parsing_weights: no such BiSeNet weights file {self.parsing_weights!r}")
        if self.crop == "aligned" and self.detector != "mesh":
            raise ValueError("crop: the aligned crop needs landmarks, use detector='mesh'")
        if self.landmarks != "none" and self.detector != "mesh":
            raise ValueError(f"landmarks: {self.landmarks!r} needs detector='mesh' (blazeface gives boxes only)")
        return self

    def store_info(self) -> dict:
        """Header info of the store: the settings that change what a clip holds."""
        info = {k: v for k, v in asdict(self).items()
                if k not in ("val_fraction", "test_fraction", "split_seed", "split", "parsing_weights", "device")}
        parsing = Path(self.parsing_weights).name if self.parsing_weights else None
        return {"producer": "unisync preprocess", **info, "size": self.size or DEFAULT_SIZES[self.crop],
                "parsing_weights": parsing}

def make_detector(config: PreprocessConfig) -> FaceDetector:
    if config.detector == "mesh":
        return MediaPipeFaceMesh(max_faces=2, video_mode=True)
    return MediaPipeFaceDetection(full_range=True)


def make_parser(config: PreprocessConfig) -> FaceParser | None:
    """The face-parsing network of ``config`` (None without ``parsing_weights``)."""
    if not config.parsing_weights:
        return None
    return FaceParser(config.parsing_weights, device=config.device, input_size=config.parsing_size)


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


def preprocess_video(job: VideoJob, config: PreprocessConfig, detector: FaceDetector | None = None,
                     parser: FaceParser | None = None, report: FrameReport | None = None) -> Iterator[Clip]:
    """Clips of one video (yielded one by one so that a long video never sits in memory). Raises SkipVideo.

    ``parser`` (built from ``config.parsing_weights`` when None) adds face-parsing maps of the crops. ``report``, if
    given, is filled with where the video's frames went (as far as the video got before a SkipVideo)."""
    config.validate()
    report = FrameReport() if report is None else report
    path = Path(job.path)
    try:
        info = probe_video(path)
        if info.audio_codec is None:
            raise SkipVideo("no audio", "no audio stream")
        start_time = first_frame_time(path)
        try:
            audio = read_audio(path, SAMPLE_RATE, start_time=start_time)
        except VideoDecodeError as err:
            raise SkipVideo("no audio", str(err)) from err
        if bool(is_silent(torch.from_numpy(audio)[None], SILENCE_DB)[0]):
            raise SkipVideo("silent audio", f"the audio track is silent (RMS below {SILENCE_DB} dBFS)")
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
        faces = np.asarray(result.faces_per_frame)
        report.frames, report.face_frames = result.num_frames, int((faces > 0).sum())
        report.several_face_frames = int((faces > 1).sum())
        selected = _select_tracks(result.tracks, config)
        num_audio_frames = len(audio) // SAMPLES_PER_FRAME
        segments = _segments(selected, num_audio_frames, config)
        _frame_report(report, result, selected, segments, num_audio_frames, config)
        if parser is None and config.parsing_weights:
            parser = make_parser(config)
        for clip in _crop_segments(path, job, config, segments, audio, info, start_time):
            if parser is not None:
                clip.parsing = parser(clip.frames)
            yield clip
    except VideoDecodeError as err:
        raise SkipVideo("decode error", str(err)) from err


def _crop_segments(path: Path, job: VideoJob, config: PreprocessConfig, segments, audio: np.ndarray, info,
                   start_time: float) -> Iterator[Clip]:
    size = config.size or DEFAULT_SIZES[config.crop]
    transforms = {id(track): crop_transforms(track, config.crop, (info.height, info.width), size)
                  for track in {id(t): t for t, _, _ in segments}.values()}
    pending = sorted(segments, key=lambda s: s[1])
    open_segments: list[tuple[FaceTrack, int, int, list]] = []
    split = job.split or config.split or speaker_split(job.speaker, config.val_fraction, config.test_fraction)
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
    arrays = {}
    if config.landmarks != "none":
        mesh = apply_affine(track.landmarks[local], transforms[local])  # (N, 468, 3) in crop pixels
        if config.landmarks == "all":
            arrays = {"landmarks": mesh_layout(mesh, 68, 2), "mesh_landmarks": mesh,
                      "mouth_landmarks": mesh_layout(mesh, 20, 2)}
        else:
            arrays = {"landmarks": mesh_layout(mesh, 68, 2) if config.landmarks == "ibug68" else mesh}
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
                frames=np.stack(crops), extra=extra, **arrays)
