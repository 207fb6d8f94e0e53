"""The hand-made mouth-opening / audio-energy signal: window score, lag curve, clip offset, and its estimator."""

from __future__ import annotations

import numpy as np
import pytest

from unisync_loss.metrics.mouth_energy import (NATURAL_LEAD, energy_per_frame, estimate_offset, lag_curve,
                                               mouth_opening, window_score)


def _face(opening: np.ndarray) -> np.ndarray:
    """68 points at rest, inner lips 62 / 66 apart by ``opening`` pixels."""
    points = np.zeros((len(opening), 68, 2))
    points[:, 66, 1] = opening
    return points


def _mel(energy_per_video_frame: np.ndarray) -> np.ndarray:
    """Log-mel at 80 frames/s whose per-frame mean follows ``energy`` at 25 fps."""
    index = (np.arange(int(len(energy_per_video_frame) * 3.2)) / 3.2).astype(int)  # 3.2 mel frames per video frame
    return np.repeat(energy_per_video_frame[index][:, None], 80, axis=1)


def test_opening_and_energy_shapes_and_errors():
    assert np.allclose(mouth_opening(_face(np.array([0.0, 2.0, 5.0]))), [0, 2, 5])
    assert energy_per_frame(np.ones((16, 80)), 5).shape == (5,)
    with pytest.raises(ValueError, match="68"):
        mouth_opening(np.zeros((5, 20, 2)))
    with pytest.raises(ValueError, match="n_mels"):
        energy_per_frame(np.ones(16), 5)


def test_window_score_is_high_for_matching_and_low_for_opposite_motion():
    opening = np.array([0.0, 3.0, 6.0, 3.0, 0.0])
    assert window_score(_face(opening), _mel(opening)[:16]) > 0.95
    assert window_score(_face(opening), _mel(-opening)[:16]) < 0.05
    assert window_score(_face(np.ones(5)), _mel(opening)[:16]) == 0.5  # constant mouth: no evidence


@pytest.mark.parametrize("delay", [-4, 0, 3])
def test_estimated_offset_recovers_a_known_delay(delay):
    rng = np.random.default_rng(0)
    energy = np.convolve(rng.normal(size=200), np.ones(3) / 3, mode="same")
    energy -= energy.min()  # an opening is a distance: non-negative
    opening = np.roll(energy, NATURAL_LEAD)  # the mouth a frame ahead, as in sync speech
    sound = np.roll(energy, -delay)  # delay > 0: the sound comes `delay` frames early
    offset, confidence = estimate_offset(_face(opening), _mel(sound))
    assert offset == delay and confidence > 0.9
    lags, values = lag_curve(opening, energy, max_lag=5)
    assert lags[np.argmax(values)] == NATURAL_LEAD
    with pytest.raises(ValueError, match="frames"):
        lag_curve(opening[:8], energy[:8], max_lag=5)
