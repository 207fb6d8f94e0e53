"""Judging and reporting of the experiment: offsets, distance/confidence, mouth error from coefficients, table."""

import numpy as np
import torch

from integrations.geneface.evaluation import mouth_error, offset_profile, sync_metrics
from integrations.geneface.experiment import ARMS, coeffs_to_mouth, format_table, mouth_basis
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


def test_mouth_error_from_coefficients_uses_the_corpus_face_model(tmp_path):
    store = build_vowel_corpus(tmp_path / "v", {"train": 1, "val": 1, "test": 2}, 1, 0.4, seed=1)
    basis = mouth_basis(store)
    assert basis.shape == (64, 20, 3)
    coeffs = torch.zeros(3, 64)
    opened = coeffs.clone()
    opened[:, 0] = 1.0  # mouth opening moves the mouth; nuisance coefficients do not (much)
    nuisance = coeffs.clone()
    nuisance[:, 40] = 1.0
    err_open = mouth_error(coeffs_to_mouth(opened, basis), coeffs_to_mouth(coeffs, basis))
    err_nuisance = mouth_error(coeffs_to_mouth(nuisance, basis), coeffs_to_mouth(coeffs, basis))
    assert err_open > 10 * err_nuisance > 0


def test_table_has_a_row_per_arm_and_ground_truth():
    row = {"distance": 0.4, "confidence": 0.1, "sync_loss": 0.7, "abs_offset": 0.0, "mouth_error": 0.01, "mse": 0.5}
    rows = {"ground_truth": row, **{arm: row for arm, _ in ARMS}}
    table = format_table(rows, {"judge": {"accuracy": 0.75, "auc": 0.8}}, 12.0)
    lines = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(lines) == 2 + 1 + len(ARMS) and "+ UniSync loss" in table and "judge 0.750 (AUC 0.800)" in table
