"""Judging and reporting of the experiment: offsets, distance/confidence, mouth error from coefficients, intervals,
separation checks, the table; and a reduced run of the whole experiment (plumbing + a judge that tells synchronised
from shifted motion)."""

import json

import numpy as np
import pytest
import torch

from integrations.geneface.evaluation import mouth_error, offset_profile, shifted_pair, sync_metrics
from integrations.geneface.experiment import ARMS, build_parser, person_clips, run
from integrations.geneface.face_projection import FaceProjection, expression_basis
from integrations.geneface.motion_data import MotionClip
from integrations.geneface.report import format_table, separation, summarise
from integrations.geneface.sync_criteria import ProjectedSyncLoss
from integrations.geneface.vowel_corpus import build_vowel_corpus


def matching_scorer(features, motion):
    """A fake judge: p = 0.9 for windows whose first motion frame equals the paired audio frame, else 0.2."""
    a, m = features[0, ::2, 0], motion[0, :, 0]
    hit = torch.isclose(a[:m.shape[0] - 4], m[:m.shape[0] - 4])
    return torch.where(hit, 0.9, 0.2)[None]


def test_offset_profile_finds_the_offset_and_a_positive_confidence():
    signal = torch.randn(60)
    features = signal.repeat_interleave(2)[:, None]  # (120, 1) at 50/s
    for lag in (0, 2):
        motion = torch.roll(signal, -lag)[:, None]  # motion frame i shows audio frame i + lag
        profile = offset_profile(matching_scorer, features, motion, max_offset=4)
        metrics = sync_metrics([profile])
        assert set(profile) == set(range(-4, 5))
        assert metrics["offset"] == lag and metrics["confidence"] > 0.5
        assert np.isclose(metrics["distance"], 0.1)
    assert np.isclose(sync_metrics([offset_profile(matching_scorer, features, signal[:, None], 2)])["sync_loss"],
                      -np.log(0.9))


def test_shifted_pair_moves_the_best_offset_by_the_shift():
    signal = torch.randn(60)
    features = signal.repeat_interleave(2)[:, None]
    for shift in (3, -2):
        feats, motion = shifted_pair(features, signal[:, None], shift)
        assert len(motion) == 60 - abs(shift) and len(feats) == 2 * len(motion)
        assert sync_metrics([offset_profile(matching_scorer, feats, motion, max_offset=4)])["offset"] == shift
    with pytest.raises(ValueError, match="shift"):
        shifted_pair(features, signal[:, None], 60)


def test_mouth_error_from_coefficients_uses_the_corpus_face_model(tmp_path):
    store = build_vowel_corpus(tmp_path / "v", {"train": 1, "val": 1, "test": 2}, 1, 0.4, seed=1)
    face, mouth = FaceProjection(expression_basis(store)), FaceProjection(expression_basis(store), mouth_only=True)
    coeffs = torch.zeros(3, 64)
    opened = coeffs.clone()
    opened[:, 0] = 1.0  # mouth opening moves the mouth; nuisance coefficients do not (much)
    nuisance = coeffs.clone()
    nuisance[:, 40] = 1.0
    err_open = mouth_error(face(opened), face(coeffs))
    err_nuisance = mouth_error(face(nuisance), face(coeffs))
    assert err_open > 10 * err_nuisance > 0
    # a constant opening is a shape offset, not motion: the centred error ignores it, and counts motion around it
    assert mouth_error(face(opened), face(coeffs), centred=True) < 1e-6
    moving = coeffs.clone()
    moving[1, 0] = 1.0
    assert mouth_error(face(moving), face(coeffs), centred=True) > 0.5 * mouth_error(face(moving), face(coeffs)) > 0
    with pytest.raises(ValueError, match=r"expected two \(T, 68, D\)"):
        mouth_error(face(opened)[:, :20], face(coeffs)[:, :20])
    assert torch.equal(mouth(opened), face(opened)[:, 48:68]) and mouth(opened).shape == (3, 20, 3)
    with pytest.raises(ValueError, match="expected .*64"):
        face(torch.zeros(3, 60))


def test_a_landmark_loss_reaches_the_coefficients_that_move_the_mouth():
    from unisync_loss.synth.face_model import expression_basis as synth_basis

    class MouthEnergy(torch.nn.Module):
        def sync_probability(self, features, motion):
            return motion.pow(2).mean(dim=(-1, -2))

        def forward(self, features, motion):
            return self.sync_probability(features, motion).mean()

    loss = ProjectedSyncLoss(MouthEnergy(), FaceProjection(synth_basis(), mouth_only=True))
    coeffs = torch.randn(2, 9, 64, requires_grad=True)
    loss(torch.zeros(2, 18, 80), coeffs).backward()
    moving = coeffs.grad.abs().sum(dim=(0, 1))
    assert (moving[[0, 1, 2, 4]] > 0).all() and (moving[16:] == 0).all()  # 16-63 move no mouth point


def clip_rows(values_per_seed):
    return [[{"sync_loss": v} for v in seed] for seed in values_per_seed]


def test_summaries_average_seeds_per_clip_and_separation_needs_a_gap_beyond_the_spread():
    rows = clip_rows([[0.5, 0.7, 0.6, 0.8], [0.7, 0.9, 0.8, 1.0]])
    result = summarise(rows, "sync_loss")
    assert np.isclose(result["mean"], 0.75) and np.isclose(result["seed_sd"], np.std([0.65, 0.85], ddof=1))
    assert result["ci"][0] < 0.75 < result["ci"][1]
    good = clip_rows([[0.2, 0.25, 0.22, 0.21, 0.24, 0.23]])
    far = clip_rows([[0.6, 0.65, 0.62, 0.61, 0.64, 0.63]])
    near = clip_rows([[0.21, 0.35, 0.10, 0.30, 0.20, 0.26]])
    assert separation(good, far)["separated"] and not separation(good, near)["separated"]
    assert np.isclose(separation(good, far)["gap"], 0.4)


def test_table_has_a_row_per_arm_with_intervals_and_seed_spread():
    names = {"ground_truth": "Ground-truth motion", **ARMS}
    per_clip = [[{"sync_loss": 0.7 + 0.01 * i + 0.02 * s, "p_sync": 0.5, "distance": 0.4, "confidence": 0.1,
                  "abs_offset": 0.0, "mouth_error": 0.01, "mouth_motion_error": 0.005, "syncnet_judge_loss": 0.6,
                  "mse": 0.5} for i in range(4)]
                for s in range(3)]
    row = {m: summarise(per_clip, m) for m in per_clip[0][0]}
    table = format_table({key: row for key in names}, names)
    lines = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(lines) == 2 + len(names) and "+ UniSync loss, {audio} + 3DMM" in table
    assert "0.735 [0.7" in table and "±0.020" in table


@pytest.mark.slow
def test_reduced_run_reports_every_row_and_its_judge_tells_synchronised_from_shifted_motion(tmp_path):
    """The whole experiment, reduced (``--quick`` on the vowel corpus, whose 24 short clips are generated in a
    second where the speech corpus takes half a minute; a few steps, one seed):
    rows, JSON keys and checks are there, and the judge rates the ground truth above the same motion 4 frames off."""
    threads = torch.get_num_threads()
    args = build_parser().parse_args(["--out", str(tmp_path), "--quick", "--corpus", "vowel", "--seeds", "0",
                                      "--shift", "4"])
    try:
        summary = run(args)
    finally:
        torch.set_num_threads(threads)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert set(saved["rows"]) == {"ground_truth", "shifted", *ARMS}
    assert set(saved["experts"]) == {"judge", "judge_syncnet", "geneface", "unisync_landmarks", "unisync_3dmm"}
    assert {"unisync_landmarks_vs_geneface@syncnet_judge_loss", "ground_truth_vs_none@syncnet_judge_loss"} \
        <= set(saved["checks"])
    assert "Judge check, + UniSync loss, mel + 3DMM vs + GeneFace SyncNet loss (mouth landmarks): syncnet_judge_loss" \
        in (tmp_path / "table.md").read_text()
    assert {"sync_loss", "p_sync", "distance", "mouth_error", "mouth_motion_error", "syncnet_judge_loss", "mse"} \
        <= set(saved["rows"]["none"])
    assert set(saved["rows"]["none"]["sync_loss"]) == {"mean", "ci", "seed_sd", "per_seed"}
    assert (tmp_path / "offsets.png").stat().st_size > 0 and "| + GeneFace SyncNet loss" in (tmp_path / "table.md").read_text()
    check = summary["checks"]["ground_truth_vs_shifted"]
    assert check["separated"], check
    assert summary["rows"]["shifted"]["abs_offset"]["mean"] >= 2.0
    assert summary["rows"]["ground_truth"]["mouth_error"]["mean"] == 0.0
    assert len(saved["motion_speakers"]["0"]) == 1
    assert "sync term on the audio of every train speaker." in (tmp_path / "table.md").read_text()


def test_person_clips_draws_whole_speakers_by_seed(tmp_path):
    clips = [MotionClip(f"s{i}_{j}", f"s{i}", np.zeros((20, 80), np.float32), np.zeros((10, 64), np.float32))
             for i in range(6) for j in range(3)]
    one = person_clips(clips, 1, seed=0)
    assert len(one) == 3 and len({c.speaker for c in one}) == 1
    assert [c.id for c in person_clips(clips, 1, seed=0)] == [c.id for c in one]
    assert len({person_clips(clips, 1, seed=s)[0].speaker for s in range(10)}) > 1
    assert len(person_clips(clips, 2, seed=3)) == 6
    assert person_clips(clips, 0, seed=0) == clips and person_clips(clips, 9, seed=0) == clips
    with pytest.raises(ValueError, match="motion_speakers"):
        run(build_parser().parse_args(["--motion-speakers", "-1", "--out", str(tmp_path / "unused")]))
