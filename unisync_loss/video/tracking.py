"""Per-frame face detections -> continuous face tracks: IoU linking, shot cuts, lost faces, temporal smoothing.

A track links each frame's detection to the previous one by box overlap (IoU). A face lost for at most
``max_missing`` frames is bridged by linear interpolation (marked in ``FaceTrack.detected``); a longer loss or a shot
cut ends the track. Boxes are then median-filtered over time (centre and size, window ``smooth_window`` frames; 13 as
in syncnet_python), so crops do not jitter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
from ..progress import progress_bar

from ..validation import check_positive_int, describe
from .faces import Detection, FaceDetector, check_frame, default_detector


@dataclass
class FaceTrack:
    """One face followed over frames ``start .. start + len - 1`` of the (25 fps) video.

    ``boxes`` float32 ``(N, 4)`` smoothed x0, y0, x1, y1 pixels; ``raw_boxes`` the same before smoothing;
    ``scores`` float32 ``(N,)``; ``landmarks`` float32 ``(N, K, D)`` pixels or None; ``detected`` bool ``(N,)``,
    False where the face was lost and the frame interpolated.
    """

    start: int
    boxes: np.ndarray
    raw_boxes: np.ndarray
    scores: np.ndarray
    detected: np.ndarray
    landmarks: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.boxes)

    @property
    def end(self) -> int:
        """One past the last frame index."""
        return self.start + len(self.boxes)

    @property
    def detected_fraction(self) -> float:
        return float(self.detected.mean()) if len(self.detected) else 0.0

    @property
    def mean_size(self) -> float:
        """Mean larger box side in pixels."""
        return float(np.maximum(self.boxes[:, 2] - self.boxes[:, 0], self.boxes[:, 3] - self.boxes[:, 1]).mean())


@dataclass
class TrackingResult:
    """Everything :func:`track_faces` saw: the tracks, the frame count, shot-cut frames and faces per frame."""

    tracks: list[FaceTrack]
    num_frames: int
    cuts: list[int] = field(default_factory=list)
    faces_per_frame: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of boxes ``(N, 4)`` x ``(M, 4)`` (x0, y0, x1, y1) -> ``(N, M)``."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(hi - lo, 0, None).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).prod(-1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def median_filter_time(values: np.ndarray, window: int) -> np.ndarray:
    """Median over a centred window of ``window`` frames along axis 0 (edges use the nearest frames)."""
    values = np.asarray(values)
    if window <= 1 or len(values) < 2:
        return values.copy()
    half = window // 2
    padded = np.concatenate([np.repeat(values[:1], half, 0), values, np.repeat(values[-1:], half, 0)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1, axis=0)
    return np.median(windows, axis=-1).astype(values.dtype)


def smooth_boxes(boxes: np.ndarray, window: int) -> np.ndarray:
    """Median-filter box centre and size over time, ``(N, 4) -> (N, 4)`` (shape kept square-free as in the input)."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    size = boxes[:, 2:] - boxes[:, :2]
    centre, size = median_filter_time(centre, window), median_filter_time(size, window)
    return np.concatenate([centre - size / 2, centre + size / 2], axis=1).astype(np.float32)


class ShotCutDetector:
    """Flags a frame as a shot cut when its colour histogram differs from the previous frame's by more than
    ``threshold`` (total-variation distance in [0, 1]; consecutive frames of one shot stay far below 0.2)."""

    def __init__(self, threshold: float = 0.4, bins: int = 16):
        if not 0.0 < float(threshold) < 1.0:
            raise ValueError(f"threshold: expected a number in (0, 1), got {threshold!r}")
        self.threshold, self.bins, self._previous = float(threshold), check_positive_int(bins, "bins", 2), None

    def histogram(self, frame: np.ndarray) -> np.ndarray:
        step = max(1, min(frame.shape[:2]) // 64)
        small = frame[::step, ::step].reshape(-1, 3).astype(np.int64) * self.bins // 256
        hist = np.stack([np.bincount(small[:, c], minlength=self.bins) for c in range(3)]).astype(np.float64)
        return hist / hist.sum(axis=1, keepdims=True)

    def __call__(self, frame: np.ndarray) -> bool:
        hist = self.histogram(frame)
        previous, self._previous = self._previous, hist
        if previous is None:
            return False
        return float(0.5 * np.abs(hist - previous).sum(axis=1).mean()) > self.threshold


class FaceTracker:
    """Incremental linker: feed ``update(detections, cut)`` once per frame, then ``finish()`` for the tracks."""

    def __init__(self, iou_threshold: float = 0.3, max_missing: int = 5, min_frames: int = 25, smooth_window: int = 13):
        if not 0.0 < float(iou_threshold) < 1.0:
            raise ValueError(f"iou_threshold: expected a number in (0, 1), got {iou_threshold!r}")
        self.iou_threshold = float(iou_threshold)
        self.max_missing = check_positive_int(max_missing, "max_missing", 0)
        self.min_frames = check_positive_int(min_frames, "min_frames")
        self.smooth_window = check_positive_int(smooth_window, "smooth_window")
        self.frame = 0
        self._active: list[dict] = []
        self._done: list[dict] = []

    def update(self, detections: list[Detection], cut: bool = False) -> None:
        """Link this frame's detections to the active tracks (greedy by IoU); a cut closes every active track."""
        if cut:
            self._done += self._active
            self._active = []
        unmatched = list(range(len(detections)))
        if self._active and detections:
            last = np.stack([t["dets"][-1][1].box for t in self._active])
            iou = box_iou(last, np.stack([d.box for d in detections]))
            for flat in np.argsort(-iou, axis=None):
                ti, di = np.unravel_index(flat, iou.shape)
                if iou[ti, di] < self.iou_threshold:
                    break
                track = self._active[ti]
                if di in unmatched and track["dets"][-1][0] != self.frame:
                    track["dets"].append((self.frame, detections[di]))
                    unmatched.remove(di)
        for di in unmatched:
            self._active.append({"dets": [(self.frame, detections[di])]})
        still = []
        for track in self._active:
            (self._done if self.frame - track["dets"][-1][0] > self.max_missing else still).append(track)
        self._active = still
        self.frame += 1

    def finish(self) -> list[FaceTrack]:
        """Close every track; keep those spanning at least ``min_frames`` frames, sorted by start frame."""
        raw, self._done, self._active = self._done + self._active, [], []
        tracks = [self._build(t["dets"]) for t in raw]
        return sorted((t for t in tracks if len(t) >= self.min_frames), key=lambda t: (t.start, -t.mean_size))

    def _build(self, dets: list[tuple[int, Detection]]) -> FaceTrack:
        frames = np.array([f for f, _ in dets])
        start, length = int(frames[0]), int(frames[-1] - frames[0] + 1)
        grid = np.arange(start, start + length)

        def interpolate(values: np.ndarray) -> np.ndarray:
            flat = values.reshape(len(values), -1)
            out = np.stack([np.interp(grid, frames, flat[:, j]) for j in range(flat.shape[1])], axis=1)
            return out.reshape(length, *values.shape[1:]).astype(np.float32)

        boxes = interpolate(np.stack([d.box for _, d in dets]))
        scores = interpolate(np.array([d.score for _, d in dets], np.float32))
        marks = [d.landmarks for _, d in dets]
        same_shape = marks[0] is not None and all(m is not None and m.shape == marks[0].shape for m in marks)
        detected = np.zeros(length, bool)
        detected[frames - start] = True
        return FaceTrack(start=start, boxes=smooth_boxes(boxes, self.smooth_window), raw_boxes=boxes, scores=scores,
                         detected=detected, landmarks=interpolate(np.stack(marks)) if same_shape else None)


def track_faces(frames: Iterable[np.ndarray], detector: FaceDetector | None = None, *, iou_threshold: float = 0.3,
                max_missing: int = 5, min_frames: int = 25, smooth_window: int = 13, cut_threshold: float = 0.4,
                progress: bool = False) -> TrackingResult:
    """Detect and track faces in ``frames`` (uint8 ``(T, H, W, 3)`` RGB array or any iterable of frames, streamed).

    ``detector`` defaults to :func:`default_detector` (MediaPipe face mesh); it is reset at shot cuts.
    """
    if isinstance(frames, np.ndarray) and (frames.ndim != 4 or frames.dtype != np.uint8 or frames.shape[-1] != 3):
        raise ValueError(f"frames: expected uint8 (T, H, W, 3) RGB, got {describe(frames)}")
    if detector is not None and not callable(detector):
        raise ValueError(f"detector: expected a callable frame -> list[Detection], got {describe(detector)}")
    owned = detector is None
    detector = default_detector() if owned else detector
    tracker = FaceTracker(iou_threshold, max_missing, min_frames, smooth_window)
    cut_detector = ShotCutDetector(cut_threshold)
    cuts, counts = [], []
    try:
        frames = progress_bar(frames, desc="faces", unit="frame", disable=not progress, leave=False)
        for index, frame in enumerate(frames):
            check_frame(frame, f"frames[{index}]")
            cut = cut_detector(frame)
            if cut:
                cuts.append(index)
                if hasattr(detector, "reset"):
                    detector.reset()
            detections = detector(frame)
            counts.append(len(detections))
            tracker.update(detections, cut=cut)
    finally:
        if owned:
            detector.close()
    return TrackingResult(tracker.finish(), tracker.frame, cuts, np.array(counts, np.int32))


def detect_face_tracks(frames: Iterable[np.ndarray], detector: FaceDetector | None = None, **options) -> list[FaceTrack]:
    """Face tracks in ``frames`` (see :func:`track_faces` for the options), sorted by start frame."""
    return track_faces(frames, detector, **options).tracks
