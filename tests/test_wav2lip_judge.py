"""The judge's LSE keeps the offset convention of the expert's probability matrix and of syncnet_python."""

from types import SimpleNamespace

import numpy as np
import torch

from integrations.wav2lip import judge


def test_judge_offset_sign_and_lse_values(monkeypatch):
    vshift, best_offset = 15, 3
    p = torch.full((20, 2 * vshift + 1), 0.1)
    p[:, best_offset + vshift] = 0.9  # column j of probability_matrix is offset j - vshift
    p[:2, :3] = float("nan")  # audio outside the clip: distance 1, as zero padding
    monkeypatch.setattr(judge, "probability_matrix", lambda *args, **kwargs: p)
    stub = SimpleNamespace(visual_rep=SimpleNamespace(frame_shape=(3, 48, 96)))  # only its input size is read
    result = judge.judge_lse(stub, np.zeros((24, 96, 96, 3), np.uint8), np.zeros(16000, np.float32), vshift)
    assert result.offset == best_offset
    assert abs(result.lse_d - np.sqrt(2 - 2 * 0.9)) < 1e-5
    far = np.sqrt(2 - 2 * 0.1)
    assert abs(result.lse_c - (far - np.sqrt(0.2))) < 1e-3


def test_lower_halves_layout():
    frames = np.zeros((3, 96, 96, 3), np.uint8)
    frames[:, 48:, :, 0] = 255
    halves = judge.lower_halves(frames)
    assert halves.shape == (3, 3, 48, 96) and torch.all(halves[:, 0] == 1) and torch.all(halves[:, 1:] == 0)


def test_halves_are_area_downsampled_to_a_smaller_judge():
    from integrations.wav2lip.expert_adapter import resize_halves

    halves = torch.zeros(2, 3, 48, 96)
    halves[:, :, :24, :48] = 1.0  # the top-left quarter is white
    small = resize_halves(halves, (3, 24, 48))
    assert small.shape == (2, 3, 24, 48)
    assert torch.all(small[:, :, :12, :24] == 1) and torch.all(small[:, :, 12:, 24:] == 0)
    assert resize_halves(halves, (3, 48, 96)) is halves
