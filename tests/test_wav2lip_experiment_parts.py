"""The Table VI experiment's parts: job ordering, leak-free regeneration, mouth agreement, report statistics."""

import numpy as np
import pytest
import torch

from integrations.wav2lip.jobs import Job, run_jobs
from integrations.wav2lip.mouth_motion import mouth_agreement, mouth_boxes, mouth_darkness
from integrations.wav2lip.models import Wav2LipGenerator
from integrations.wav2lip.regenerate import frame_mels, reference_order, regenerate
from integrations.wav2lip.report import format_table, paired_difference, separation, summarise_row


def test_jobs_run_after_their_dependencies_in_order_and_in_a_pool():
    log = []
    jobs = [Job("b", dict, {"x": 2}, after=("a",)), Job("a", dict, {"x": 1}), Job("c", dict, {"y": 3}, after=("b",))]
    assert run_jobs(jobs, workers=1, log=log.append) == {"a": {"x": 1}, "b": {"x": 2}, "c": {"y": 3}}
    assert [line.split("]")[0] for line in log if "started" in line] == ["[a", "[b", "[c"]
    assert run_jobs(jobs, workers=2, log=lambda _: None)["c"] == {"y": 3}


def test_jobs_refuse_unknown_dependencies_cycles_and_bad_workers():
    with pytest.raises(ValueError, match="unknown jobs"):
        run_jobs([Job("a", dict, after=("z",))])
    with pytest.raises(ValueError, match="circular"):
        run_jobs([Job("a", dict, after=("b",)), Job("b", dict, after=("a",))], log=lambda _: None)
    with pytest.raises(ValueError, match="workers"):
        run_jobs([Job("a", dict)], workers=0)


def test_reference_is_half_a_clip_away_and_mels_follow_training_indexing():
    order = reference_order(10)
    assert order.tolist() == [5, 6, 7, 8, 9, 0, 1, 2, 3, 4]
    mel = np.arange(200 * 80, dtype=np.float32).reshape(200, 80)
    windows = frame_mels(mel, 50)
    assert windows.shape == (50, 1, 80, 16)
    # frame 10's window starts at frame 9's time: mel frame floor(80 * 9 / 25) = 28
    assert torch.equal(windows[10, 0], torch.from_numpy(mel[28:44].T.copy()))
    assert torch.equal(windows[0, 0], torch.from_numpy(mel[0:16].T.copy()))  # clamped at the start
    with pytest.raises(ValueError, match="T_mel"):
        frame_mels(mel[:5], 3)


def test_regenerated_lower_halves_come_from_the_reference_not_the_real_frame():
    class CopyReference(torch.nn.Module):  # a "generator" that copies its reference: the leak regenerate avoids
        def forward(self, mels, faces):
            return faces[:, 3:]

    frames = np.zeros((8, 96, 96, 3), np.uint8)
    frames[np.arange(8), 60, 40] = (np.arange(8)[:, None] * 30).astype(np.uint8)  # a per-frame marker in the mouth
    out = regenerate(CopyReference(), frames, np.zeros((40, 80), np.float32))
    assert out.shape == frames.shape and out.dtype == np.uint8
    assert out[:, 60, 40, 0].tolist() == frames[reference_order(8), 60, 40, 0].tolist()
    generated = regenerate(Wav2LipGenerator(0.0625), frames, np.zeros((40, 80), np.float32))
    assert generated.shape == frames.shape
    with pytest.raises(ValueError, match="uint8 RGB faces"):
        regenerate(CopyReference(), frames[:, :48], np.zeros((40, 80), np.float32))


def _talking_mouths(openings, size=96):
    frames = np.full((len(openings), size, size, 3), 200, np.uint8)
    for t, h in enumerate(openings):
        frames[t, 70 - int(h):70 + int(h), 40:56] = 20  # a dark opening of half-height h
    landmarks = np.zeros((len(openings), 68, 2))
    landmarks[:, 48:68] = [[38, 62], [58, 78]] * 10  # lips span x 38..58, y 62..78
    return frames, landmarks


def test_mouth_agreement_is_one_for_the_real_clip_and_low_for_a_still_or_shuffled_mouth():
    rng = np.random.default_rng(0)
    openings = rng.integers(0, 7, 40)
    real, landmarks = _talking_mouths(openings)
    assert mouth_boxes(landmarks, 96)[0].tolist() == [35, 59, 61, 81]
    assert mouth_darkness(real, mouth_boxes(landmarks, 96)).shape == (40,)
    same = mouth_agreement(real, real, landmarks)
    assert same["mouth_corr"] == pytest.approx(1.0) and same["mouth_motion"] == pytest.approx(1.0)
    still = mouth_agreement(_talking_mouths(np.full(40, 3))[0], real, landmarks)
    assert still["mouth_corr"] == 0.0 and still["mouth_motion"] == 0.0
    shuffled = mouth_agreement(_talking_mouths(rng.permutation(openings))[0], real, landmarks)
    assert abs(shuffled["mouth_corr"]) < 0.5 and shuffled["mouth_motion"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="68, 2"):
        mouth_boxes(np.zeros((3, 20, 2)), 96)


def _scores(lse_c, offsets=None):
    offsets = offsets if offsets is not None else [0] * len(lse_c)
    return [{"clip": f"c{i}", "lse_d": 1.0 - c, "lse_c": c, "offset": o, "mouth_corr": c, "mouth_motion": 1.0}
            for i, (c, o) in enumerate(zip(lse_c, offsets))]


def test_separation_needs_a_gap_beyond_the_interval_and_the_clip_spread():
    rng = np.random.default_rng(1)
    real = [_scores(0.30 + 0.01 * rng.standard_normal(20))]
    still = [_scores(0.02 + 0.01 * rng.standard_normal(20), offsets=[9] * 20)]
    check = separation(real, still)
    assert check["separated"] and check["gap"] == pytest.approx(0.28, abs=0.02) and check["low"] > 0
    noisy = [_scores(0.28 + 0.3 * rng.standard_normal(20))]
    assert not separation(real, noisy)["separated"]
    assert not separation(real, real)["separated"]
    lse_d = separation(real, still, key="lse_d")
    assert lse_d["separated"] and lse_d["gap"] < 0


def test_row_summary_and_table_average_clips_over_seeds():
    seeds = [_scores([0.1, 0.3, 0.5], offsets=[0, 1, 5]), _scores([0.3, 0.5, 0.7], offsets=[0, 3, 5])]
    summary = summarise_row(seeds)
    assert summary["lse_c"]["mean"] == pytest.approx(0.4)
    assert summary["lse_c"]["seed_sd"] == pytest.approx(np.std([0.3, 0.5], ddof=1))
    assert summary["in_sync"]["mean"] == pytest.approx(0.5)  # clip 0 in sync twice, clip 1 once, clip 2 never
    assert paired_difference(seeds[1:], seeds[:1])["mean"] == pytest.approx(0.2)
    table = format_table({"Real videos": summary, "UniSync expert": summary}, [0, 1], "note")
    assert "| UniSync expert | -" not in table and "0.400 [" in table and "±0.141" in table
    with pytest.raises(ValueError, match="same clips"):
        summarise_row([seeds[0], seeds[1][::-1]])
