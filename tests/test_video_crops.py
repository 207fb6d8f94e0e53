"""Crop styles as affine maps, landmarks moved into the crop, iBUG subset and similarity normalisation."""

import numpy as np
import pytest

from unisync_loss.video import FaceTrack, crop_faces, crop_transforms, landmarks_in_crop, mesh_to_ibug68
from unisync_loss.video import normalize_landmarks, similarity_transform
from unisync_loss.video.landmarks import MESH_TO_IBUG68, apply_affine


def make_track(box, n=4, landmarks=None):
    boxes = np.tile(np.asarray(box, np.float32), (n, 1))
    return FaceTrack(start=0, boxes=boxes, raw_boxes=boxes, scores=np.ones(n, np.float32),
                     detected=np.ones(n, bool), landmarks=landmarks)


def test_syncnet_crop_matches_syncnet_python_geometry():
    # box 100x100 centred at (150, 150): bs = 50, rows cy - bs .. cy + bs (1 + 2 * 0.4), columns cx +/- bs * 1.4
    (matrix, *_), = [crop_transforms(make_track([100, 100, 200, 200], 1), "syncnet")]
    corners = apply_affine(np.array([[150 - 70, 100.0], [150 + 70, 100 + 140.0]]), matrix)
    np.testing.assert_allclose(corners, [[0, 0], [224, 224]], atol=1e-4)


def test_wav2lip_crop_pads_the_bottom_and_clips_to_the_frame():
    matrix = crop_transforms(make_track([10, 10, 60, 60], 1), "wav2lip", frame_size=(200, 200))[0]
    np.testing.assert_allclose(apply_affine(np.array([[10, 10], [60, 65.0]]), matrix), [[0, 0], [96, 96]], atol=1e-4)
    clipped = crop_transforms(make_track([-10, 150, 40, 198], 1), "wav2lip", frame_size=(200, 200))[0]
    np.testing.assert_allclose(apply_affine(np.array([[0, 150], [40, 200.0]]), clipped), [[0, 0], [96, 96]], atol=1e-4)


def test_crop_faces_cuts_the_right_pixels():
    frames = np.zeros((4, 200, 200, 3), np.uint8)
    frames[:, 100:200, 100:200] = 255  # bottom-right quadrant white
    crops = crop_faces(frames, make_track([100, 100, 190, 190]), "wav2lip")
    assert crops.shape == (4, 96, 96, 3) and crops.dtype == np.uint8 and crops.min() == 255
    syncnet = crop_faces(frames, make_track([0, 0, 90, 90]), "syncnet", size=112)
    assert syncnet.shape == (4, 112, 112, 3) and syncnet[0, 0, 0, 0] == 110  # outside the frame: grey as syncnet


def test_aligned_crop_puts_the_template_points_in_place_and_moves_landmarks():
    rng = np.random.default_rng(0)
    mesh = rng.uniform(50, 150, (4, 468, 3)).astype(np.float32)
    track = make_track([50, 50, 150, 150], landmarks=mesh)
    transforms = crop_transforms(track, "aligned")
    moved = landmarks_in_crop(track, transforms)
    assert moved.shape == (4, 468, 3)
    assert np.allclose(moved[..., :2], apply_affine(mesh[..., :2], transforms), atol=1e-3)
    with pytest.raises(ValueError, match="468-point"):
        crop_transforms(make_track([0, 0, 10, 10]), "aligned")


def test_crop_arguments_are_checked():
    track = make_track([0, 0, 10, 10])
    with pytest.raises(ValueError, match="style"):
        crop_transforms(track, "square")
    with pytest.raises(ValueError, match="frame_size"):
        crop_transforms(track, "wav2lip")
    with pytest.raises(ValueError, match="frames"):
        crop_faces(np.zeros((4, 20, 20), np.uint8), track)
    with pytest.raises(ValueError, match="only 2"):
        crop_faces(np.zeros((2, 20, 20, 3), np.uint8), track)
    with pytest.raises(ValueError, match="size"):
        crop_faces(np.zeros((4, 20, 20, 3), np.uint8), track, size=4)


def test_ibug_subset_of_the_mesh():
    assert len(MESH_TO_IBUG68) == 68 and len(set(MESH_TO_IBUG68.tolist())) == 68 and MESH_TO_IBUG68.max() < 468
    mesh = np.arange(468 * 3, dtype=np.float32).reshape(1, 468, 3)
    assert mesh_to_ibug68(mesh)[0, 8, 0] == 152 * 3  # iBUG 8 (chin) is mesh vertex 152
    with pytest.raises(ValueError, match="mesh"):
        mesh_to_ibug68(np.zeros((68, 2), np.float32))


def test_similarity_transform_and_normalisation_remove_pose():
    rng = np.random.default_rng(1)
    shape = rng.normal(size=(68, 2))
    frames = []
    for angle, scale, shift in [(0.0, 1.0, 0), (0.4, 2.0, 30), (-0.3, 0.5, -7)]:
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        frames.append(shape @ (scale * rot).T + shift)
    frames = np.stack(frames).astype(np.float32)
    matrix = similarity_transform(frames[1], frames[0])
    assert np.allclose(apply_affine(frames[1], matrix), frames[0], atol=1e-4)
    normalised = normalize_landmarks(frames)
    assert normalised.shape == (3, 68, 2) and np.abs(normalised - normalised[0]).max() < 1e-4
    with pytest.raises(ValueError, match="coincide"):
        similarity_transform(np.ones((5, 2)), np.zeros((5, 2)))
