"""GeneFace conventions pinned by fixtures built from the published code and BFM files."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.io import savemat

from integrations.geneface import conventions as C

FACTS = json.loads((Path(__file__).parent / "fixtures" / "geneface" / "conventions.json").read_text())


def test_coefficient_split_and_expression_slice():
    assert {k: list(v) for k, v in C.COEFF_SPLIT.items()} == FACTS["coeff_split"]
    coeffs = np.arange(2 * 3 * 257, dtype=np.float32).reshape(2, 3, 257)
    parts = C.split_coeffs(coeffs)
    assert sum(p.shape[-1] for p in parts.values()) == 257
    assert parts["gamma"].shape[-1] == 27 and parts["translation"][0, 0, 0] == 254
    np.testing.assert_array_equal(C.expression_coeffs(coeffs), coeffs[..., 80:144])
    exp = torch.zeros(4, 64)
    assert C.expression_coeffs(exp) is exp


@pytest.mark.parametrize("length, hint", [(144, "identity \\+ expression"), (70, "257 \\(full"), (80, "64")])
def test_unknown_coefficient_lengths_are_refused(length, hint):
    with pytest.raises(ValueError, match=hint):
        C.expression_coeffs(np.zeros((5, length), np.float32))
    with pytest.raises(ValueError, match="coeffs: last axis must be one of 257"):
        C.split_coeffs(np.zeros((5, 64), np.float32))


def test_keypoints_and_landmark_subsets():
    assert list(C.BFM_FRONT_KEYPOINTS) == FACTS["bfm_front_keypoints"]
    np.testing.assert_array_equal(C.deep3d_keypoint_rows(), C.geneface_keypoint_rows() - 1)
    assert [C.MOUTH.start, C.MOUTH.stop] == FACTS["mouth_range"] and [C.EYES.start, C.EYES.stop] == FACTS["eye_range"]
    lm = np.arange(7 * 68 * 3, dtype=np.float32).reshape(7, 68, 3)
    mouth = C.mouth_vector(lm)
    assert mouth.shape == (7, 60)
    np.testing.assert_array_equal(mouth[:, :3], lm[:, 48])  # point-major: x, y, z of point 48 first
    np.testing.assert_array_equal(C.mouth_vector(lm.reshape(7, 204)), mouth)
    assert C.mouth_landmarks(torch.zeros(2, 9, 68, 3)).shape == (2, 9, 20, 3)


def test_idexp_lm3d_uses_genefaces_keypoint_rows(tmp_path):
    rng = np.random.default_rng(0)
    vertices = C.NUM_BFM_FRONT_VERTICES
    id_base = np.zeros((3 * vertices, 80), np.float32)
    exp_base = np.zeros((3 * vertices, 64), np.float32)
    rows = C.geneface_keypoint_rows()
    id_base.reshape(vertices, 3, 80)[rows] = rng.normal(size=(68, 3, 80))
    exp_base.reshape(vertices, 3, 64)[rows] = rng.normal(size=(68, 3, 64))
    path = tmp_path / "BFM_model_front.mat"
    savemat(path, {"idBase": id_base, "exBase": exp_base, "keypoints": np.array(C.BFM_FRONT_KEYPOINTS, float)[None]})
    basis = C.load_keypoint_basis(path)
    identity, expression = rng.normal(size=(4, 80)), rng.normal(size=(4, 64))
    lm = C.idexp_lm3d(identity, expression, basis)
    keyed_id = id_base.reshape(vertices, 3, 80)[rows].reshape(204, 80)
    keyed_exp = exp_base.reshape(vertices, 3, 64)[rows].reshape(204, 64)
    expected = (identity @ keyed_id.T + expression @ keyed_exp.T).reshape(4, 68, 3) * FACTS["idexp_scale"]
    np.testing.assert_allclose(lm, expected, rtol=1e-4, atol=1e-4)
    # Deep3DFaceRecon's rows (one lower) pick other vertices: here all zeros.
    shifted = C.KeypointBasis.from_full_bases(id_base, exp_base, C.deep3d_keypoint_rows())
    assert not np.allclose(C.idexp_lm3d(identity, expression, shifted), lm)
    with pytest.raises(FileNotFoundError, match="BFM_model_front"):
        C.load_keypoint_basis(tmp_path / "missing.mat")


@pytest.mark.parametrize("shape, message", [
    ((5, 468, 3), "468-point MediaPipe"),
    ((5, 468 * 3), "468-point MediaPipe"),
    ((5, 68, 2), "2D landmarks given where 3D"),
    ((5, 136), "flattened 68x2"),
    ((5, 20, 3), "expected 68 points"),
])
def test_wrong_landmark_conventions_are_named(shape, message):
    with pytest.raises(ValueError, match=message):
        C.mouth_vector(np.zeros(shape, np.float32))


def test_hubert_lengths_padding_and_windows():
    for samples, frames in FACTS["hubert_frames_for_samples"]:
        assert C.hubert_num_frames(samples) == frames
    for lengths, expected in FACTS["padded_lengths"]:
        assert C.padded_lengths(lengths) == tuple(expected)
    for start, (first, last) in FACTS["hubert_window_for_video_start"]:
        window = C.hubert_window_indices(start)
        assert (window[0], window[-1], len(window)) == (first, last, 10)
    with pytest.raises(ValueError, match="num_samples"):
        C.hubert_num_frames(399)


def test_hubert_rate_is_checked_against_the_video():
    aligned = C.align_hubert_to_video(np.ones((197, 8), np.float32), 100)
    assert aligned.shape == (200, 8) and aligned[196:].sum() == 8 and aligned[197:].sum() == 0
    assert C.align_hubert_to_video(np.ones((203, 8), np.float32), 100).shape == (200, 8)
    with pytest.raises(ValueError, match="looks like 25 Hz"):
        C.align_hubert_to_video(np.ones((100, 8), np.float32), 100)
    with pytest.raises(ValueError, match="same span"):
        C.check_hubert_rate(150, 100)
