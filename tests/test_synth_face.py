"""Articulation, face model, motion and rendering of the synthetic corpus, one frame or one phoneme at a time."""

import numpy as np
import pytest

from unisync_loss.synth.appearance import Appearance, Lighting
from unisync_loss.synth.camera import Camera
from unisync_loss.synth.face_model import MOUTH_COEFFS, NUM_EXPRESSION, NUM_IDENTITY, FaceModel
from unisync_loss.synth.motion import blinks, head_pose, nuisance_expression
from unisync_loss.synth.layers import face_layers
from unisync_loss.synth.render import CLASS_INDEX, background, face_centre_pixels, render_parsing, render_rgb
from unisync_loss.synth.visemes import MOUTH_PARAMS, ArticulationStyle, phoneme_segments, trajectory

STYLE = ArticulationStyle(amplitude=np.ones(6), lead=0.04, span=0.035, jitter=0.0)


def _track(phonemes, durations, fps=25.0):
    ends = np.cumsum(durations)
    starts = ends - np.asarray(durations)
    frames = int(np.ceil(ends[-1] * fps))
    return trajectory(phoneme_segments(phonemes, starts, ends), frames, fps, STYLE, np.random.default_rng(0)), starts


def test_vowel_targets_shape_the_mouth():
    track, _ = _track(["", "ɑː", "", "iː", "", "uː", ""], [0.3] * 7)
    mid = {p: track[int((0.3 * k + 0.15) * 25)] for k, p in enumerate(["_", "a", "_", "i", "_", "u", "_"])}
    col = {n: i for i, n in enumerate(MOUTH_PARAMS)}
    assert mid["a"][col["open"]] > mid["i"][col["open"]] > mid["_"][col["open"]]
    assert mid["i"][col["spread"]] > mid["u"][col["spread"]]
    assert mid["u"][col["round"]] > 0.8 > 0.1 > mid["i"][col["round"]]


def test_bilabial_closes_and_the_mouth_anticipates():
    track, starts = _track(["", "ɑː", "m", "ɑː", ""], [0.4, 0.3, 0.08, 0.3, 0.4])
    close = track[:, MOUTH_PARAMS.index("close")]
    m_frame = int(starts[2] * 25)
    assert close[m_frame - 1:m_frame + 3].max() > 0.95 and close[: m_frame - 4].max() < 0.05
    # anticipation: the opening for the first vowel starts before its sound
    opening = track[:, 0]
    vowel_frame = int(starts[1] * 25)
    assert opening[vowel_frame - 1] > opening[vowel_frame - 5] + 0.1


def test_labiodental_and_dental_gestures():
    track, starts = _track(["", "f", "ɑː", "θ", ""], [0.3, 0.1, 0.3, 0.1, 0.3])
    assert track[int(starts[1] * 25) + 1, MOUTH_PARAMS.index("tuck")] > 0.7
    assert track[int(starts[3] * 25) + 1, MOUTH_PARAMS.index("tongue")] > 0.7


def test_articulation_bad_input():
    with pytest.raises(ValueError, match="phonemes"):
        phoneme_segments(["a"], np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="num_frames"):
        trajectory(phoneme_segments(["a"], np.zeros(1), np.ones(1)), 0, 25.0, STYLE, np.random.default_rng(0))
    with pytest.raises(ValueError, match="variability"):
        ArticulationStyle.sample(np.random.default_rng(0), variability=-1)


def test_face_model_layout_and_bases():
    model = FaceModel.default()
    mean = model.mean
    assert mean.shape == (68, 3) and model.expression.shape == (NUM_EXPRESSION, 68, 3)
    assert model.identity.shape == (NUM_IDENTITY, 68, 3)
    # iBUG layout: brows above eyes above nose tip above mouth above chin; 36-41 on the image left
    assert mean[17:27, 1].max() < mean[36:48, 1].min() < mean[33, 1] < mean[48:68, 1].min() < mean[8, 1]
    assert mean[36:42, 0].max() < 0 < mean[42:48, 0].min() and mean[8, 0] == pytest.approx(0.0)
    # mouth coefficients only move the mouth and jaw; the rest never move the lips
    assert np.abs(model.expression[MOUTH_COEFFS][:, 17:48]).max() == 0.0
    assert np.abs(model.expression[6 + 2:, 48:68]).max() == 0.0
    coeffs = np.zeros((3, NUM_EXPRESSION))
    coeffs[1, 0], coeffs[2, 0] = 0.5, 1.0
    shape = model.shape(np.zeros(NUM_IDENTITY), coeffs)
    gap = shape[:, 66, 1] - shape[:, 62, 1]
    assert gap[0] == pytest.approx(0.0, abs=0.01) and gap[2] - gap[0] == pytest.approx(2 * (gap[1] - gap[0]))
    assert gap[2] > 0.25
    blink = np.zeros((1, NUM_EXPRESSION))
    blink[0, 12] = blink[0, 13] = 1.0
    eyes = model.shape(np.zeros(NUM_IDENTITY), blink)[0]
    assert np.abs(eyes[[37, 38, 43, 44], 1] - eyes[[41, 40, 47, 46], 1]).max() < 0.01
    with pytest.raises(ValueError, match="expression"):
        model.shape(np.zeros(NUM_IDENTITY), np.zeros((2, 10)))
    with pytest.raises(ValueError, match="identity"):
        model.shape(np.zeros(3), np.zeros((2, NUM_EXPRESSION)))


def test_motion_is_smooth_and_bounded():
    rng = np.random.default_rng(1)
    pose = head_pose(rng, 200, 25.0, amount=1.0)
    assert np.abs(np.rad2deg(pose.angles)).max() < 25 and np.abs(np.diff(pose.angles, axis=0)).max() < 0.02
    still = head_pose(rng, 50, 25.0, amount=0.0)
    assert np.abs(still.angles).max() == 0 and np.abs(still.shift).max() == 0
    closure = blinks(np.random.default_rng(2), 500, 25.0)
    assert 0.0 <= closure.min() and closure.max() <= 1.0 and (closure > 0.5).sum() >= 2
    assert nuisance_expression(rng, 10, 25.0).shape == (10, NUM_EXPRESSION - 6)
    with pytest.raises(ValueError, match="head_motion"):
        head_pose(rng, 10, 25.0, amount=9.0)


@pytest.mark.parametrize("size", [96, 192])
def test_render_one_frame_in_both_representations(size):
    rng = np.random.default_rng(3)
    model = FaceModel.default()
    look = Appearance.sample(rng)
    coeffs = np.zeros((1, NUM_EXPRESSION))
    coeffs[0, 0] = 0.8
    shape = model.shape(np.zeros(NUM_IDENTITY), coeffs)[0]
    neutral = model.shape(np.zeros(NUM_IDENTITY), np.zeros((1, NUM_EXPRESSION)))[0]
    camera = Camera(np.zeros(3), np.zeros(2), 1.0, size)
    layers = face_layers(shape, neutral, coeffs[0], camera, look)
    parsing = render_parsing(layers, size)
    centre, radius = face_centre_pixels(camera)
    rgb = render_rgb(layers, background(size, look), Lighting.sample(rng), centre, radius, 1.0, rng)
    assert parsing.shape == (size, size) and rgb.shape == (size, size, 3) and rgb.dtype == np.uint8
    present = set(np.unique(parsing))
    for name in ("skin", "nose", "mouth", "u_lip", "l_lip", "l_eye", "r_eye", "l_brow", "r_brow"):
        assert CLASS_INDEX[name] in present, name
    lm = camera(shape)[:, :2]
    mouth_box = parsing[int(lm[62, 1]) + 2:int(lm[66, 1]) - 1, int(lm[61, 0]) + 1:int(lm[63, 0])]
    assert mouth_box.size and np.isin(mouth_box, [CLASS_INDEX["mouth"]]).mean() > 0.9
    # the mouth interior is in the lower half of the crop, as in Wav2Lip's face crops
    rows = np.nonzero((parsing == CLASS_INDEX["mouth"]).any(1))[0]
    assert rows.min() > size // 2


def test_geometry_and_rendering_bad_input():
    with pytest.raises(ValueError, match="angles"):
        Camera(np.zeros(2), np.zeros(2), 1.0, 96)
    with pytest.raises(ValueError, match="size"):
        render_parsing([], 8)
    with pytest.raises(ValueError, match="num_frames"):
        blinks(np.random.default_rng(0), 0, 25.0)
    with pytest.raises(ValueError, match="rate_hz"):
        blinks(np.random.default_rng(0), 10, 25.0, rate_hz=0)
    look = Appearance.sample(np.random.default_rng(0))
    with pytest.raises(ValueError, match="shape"):
        face_layers(np.zeros((20, 3)), np.zeros((68, 3)), np.zeros(64), Camera(np.zeros(3), np.zeros(2), 1.0, 96), look)
