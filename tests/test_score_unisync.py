"""UniSync-expert scores: probabilities per offset, sign convention shared with LSE, share in sync, drift."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

from unisync_loss import UniSyncExpert
from unisync_loss.metrics import unisync_scores
from unisync_loss.metrics.unisync_scores import probability_matrix

scores_module = importlib.import_module("unisync_loss.metrics.unisync_scores")


@pytest.fixture(scope="module")
def expert():
    torch.manual_seed(0)
    return UniSyncExpert("mel", "rgb", channels=32, embed_dim=64).eval()


def test_probability_matrix_columns_follow_the_offset_sign(expert):
    torch.manual_seed(1)
    frames = 30
    features = torch.rand(frames * 16 // 5 + 20, 80) * 8 - 4  # mel features at 80/s
    visual = torch.rand(frames, 3, 48, 96)
    p = probability_matrix(expert, features, visual, vshift=4)
    assert p.shape == (26, 9)
    # delay the audio by 5 video frames (16 mel frames at 80/s): the pair (v, audio u) moves from offset o to o - 5
    delayed = torch.cat([torch.zeros(16, 80), features])
    q = probability_matrix(expert, delayed, visual, vshift=4)
    torch.testing.assert_close(q[10:20, 0], p[10:20, 5])
    assert torch.isnan(p[0, 8]) and not torch.isnan(p[0, 0])  # offset +4 needs audio before the clip


def test_scores_fields_on_a_waveform(expert):
    torch.manual_seed(2)
    audio = torch.randn(40 * 640) * 0.1
    result = unisync_scores(expert, audio, torch.rand(40, 3, 48, 96), segment=20, hop=10)
    assert result.pair == "mel-rgb" and result.num_windows == 36
    assert len(result.probabilities) == 31 and result.offsets[0] == -15
    assert -15 <= result.offset <= 15 and result.confidence >= 0
    p0 = np.array(result.window_probability, float)
    assert result.in_sync_share == pytest.approx(float((p0 > 0.5).mean()))
    assert [(d.start, d.stop) for d in result.drift] == [(0, 20), (10, 30), (20, 36)]
    assert result.to_dict()["drift"][0]["start_s"] == 0.0


def test_drift_of_a_slowly_sliding_dub_is_found(expert, monkeypatch):
    # synthetic matrix: the peak moves from offset -2 to +3 over 300 windows (12 s)
    n, vshift = 300, 15
    peak = np.round(np.linspace(-2, 3, n)).astype(int)
    p = np.full((n, 2 * vshift + 1), 0.2)
    p[np.arange(n), peak + vshift] = 0.9
    monkeypatch.setattr(scores_module, "probability_matrix", lambda *a, **k: torch.from_numpy(p))
    result = unisync_scores(expert, torch.zeros(1), torch.zeros(1))
    offsets = [d.offset for d in result.drift]
    assert offsets[0] == -2 and offsets[-1] == 3 and offsets == sorted(offsets)
    assert result.drift_per_minute == pytest.approx(5 / 12 * 60, rel=0.15)
    assert result.in_sync_share == pytest.approx(float((peak == 0).mean()))


def test_bad_inputs(expert):
    with pytest.raises(ValueError, match="expert"):
        unisync_scores(object(), torch.zeros(16000), torch.rand(10, 3, 48, 96))
    with pytest.raises(ValueError, match="visual"):
        unisync_scores(expert, torch.zeros(16000), torch.rand(3, 3, 48, 96))
    with pytest.raises(ValueError, match="visual"):
        unisync_scores(expert, torch.zeros(16000), torch.rand(10, 3, 96, 96))
    with pytest.raises(ValueError, match="audio"):
        unisync_scores(expert, torch.zeros(100), torch.rand(10, 3, 48, 96))
