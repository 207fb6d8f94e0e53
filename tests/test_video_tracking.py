"""Face tracks from per-frame detections: IoU linking, lost faces, shot cuts, smoothing, several faces."""

import numpy as np
import pytest
from test_video_media import square_frame

from unisync_loss.video import Detection, FaceTracker, ShotCutDetector, detect_face_tracks, track_faces
from unisync_loss.video.tracking import box_iou, median_filter_time


def det(x0, y0, size=40.0):
    return Detection(box=np.array([x0, y0, x0 + size, y0 + size]))


def feed(tracker, per_frame, cuts=()):
    for i, detections in enumerate(per_frame):
        tracker.update(detections, cut=i in cuts)
    return tracker.finish()


def test_iou():
    a = np.array([[0, 0, 10, 10]])
    iou = box_iou(a, np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]]))
    np.testing.assert_allclose(iou, [[1.0, 1 / 3, 0.0]])


def test_one_moving_face_is_one_track():
    tracks = feed(FaceTracker(min_frames=10), [[det(10 + i, 20)] for i in range(30)])
    assert len(tracks) == 1 and len(tracks[0]) == 30 and tracks[0].detected.all()


def test_short_loss_is_interpolated_and_marked():
    frames = [[det(10 + i, 20)] if not 10 <= i < 13 else [] for i in range(30)]
    (track,) = feed(FaceTracker(min_frames=10, max_missing=5, smooth_window=1), frames)
    assert len(track) == 30 and (~track.detected).sum() == 3 and not track.detected[10:13].any()
    assert track.boxes[11, 0] == pytest.approx(21.0)  # linear between frames 9 and 13


def test_long_loss_splits_the_track():
    frames = [[det(10, 20)] if not 10 <= i < 20 else [] for i in range(40)]
    tracks = feed(FaceTracker(min_frames=5, max_missing=5), frames)
    assert [(t.start, t.end) for t in tracks] == [(0, 10), (20, 40)]


def test_shot_cut_ends_a_track_even_if_boxes_overlap():
    tracks = feed(FaceTracker(min_frames=5), [[det(10, 20)] for _ in range(20)], cuts=(10,))
    assert [(t.start, t.end) for t in tracks] == [(0, 10), (10, 20)]


def test_two_faces_give_two_tracks_and_short_tracks_are_dropped():
    frames = [[det(0, 0), det(100, 0)] + ([det(200, 200)] if i < 3 else []) for i in range(20)]
    tracks = feed(FaceTracker(min_frames=10), frames)
    assert len(tracks) == 2 and {round(float(t.boxes[0, 0])) for t in tracks} == {0, 100}


def test_smoothing_removes_single_frame_jitter():
    jitter = [[det(10 + (15 if i == 7 else 0), 20)] for i in range(20)]
    (track,) = feed(FaceTracker(min_frames=5, smooth_window=5, iou_threshold=0.2), jitter)
    assert track.raw_boxes[7, 0] == pytest.approx(25) and track.boxes[7, 0] == pytest.approx(10)


def test_median_filter_keeps_constant_and_edges():
    values = np.arange(10, dtype=np.float32)[:, None]
    assert np.allclose(median_filter_time(values, 3), values)


def test_shot_cut_detector():
    cut = ShotCutDetector()
    same = [cut(square_frame(i)) for i in range(5)]
    other = np.full((96, 128, 3), (200, 30, 30), np.uint8)
    assert not any(same) and cut(other) and not cut(other)


class SquareDetector:
    """Finds bright squares (the "faces" of square_frame)."""

    def __call__(self, frame):
        mask = frame[..., 0] > 128
        found = []
        columns = np.flatnonzero(mask.any(0))
        if len(columns) == 0:
            return found
        groups = np.split(columns, np.flatnonzero(np.diff(columns) > 1) + 1)
        for group in groups:
            rows = np.flatnonzero(mask[:, group].any(1))
            found.append(Detection(box=np.array([group[0], rows[0], group[-1] + 1, rows[-1] + 1], np.float32)))
        return found


def test_track_faces_on_frames_with_a_plugged_detector():
    frames = np.stack([square_frame(i) for i in range(30)])
    result = track_faces(frames, SquareDetector(), min_frames=10)
    assert result.num_frames == 30 and result.faces_per_frame.tolist() == [1] * 30
    (track,) = result.tracks
    assert track.boxes[0].tolist() == pytest.approx([40, 30, 72, 62])
    assert len(detect_face_tracks(iter(frames), SquareDetector(), min_frames=10)) == 1  # streamed input


def test_track_faces_rejects_bad_input():
    with pytest.raises(ValueError, match="frames"):
        track_faces(np.zeros((3, 8, 8), np.uint8), SquareDetector())
    with pytest.raises(ValueError, match="detector"):
        track_faces(np.zeros((3, 8, 8, 3), np.uint8), detector="mediapipe")
    with pytest.raises(ValueError, match=r"frames\[1\]"):
        track_faces([np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.float32)], SquareDetector())
    with pytest.raises(ValueError, match="box"):
        Detection(box=np.array([10, 10, 5, 20]))
