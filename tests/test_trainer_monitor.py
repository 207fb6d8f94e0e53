"""Monitoring: the chance-level warning and its advice, evaluation plots."""

from __future__ import annotations

import numpy as np
import pytest

from train_expert.monitor import ChanceLevelWarning, Monitor, chance_advice, plot_evaluation
from unisync_loss import SampleKind


def test_advice_names_the_likely_cause():
    assert "collapsed" in chance_advice({"embedding_spread": 1e-5, "dead_embeddings": 0.0, "p_gap": 0.2, "lr": 1e-4})
    assert "synchronised" in chance_advice({"embedding_spread": 0.1, "p_gap": 0.001, "lr": 1e-4})
    assert "learning rate" in chance_advice({"embedding_spread": 0.1, "p_gap": 0.2, "lr": 0.05})
    assert "train longer" in chance_advice({"embedding_spread": 0.1, "p_gap": 0.2, "lr": 3e-4, "grad_norm": 1.0})


def test_chance_warning_once_after_the_configured_steps(tmp_path):
    monitor = Monitor(tmp_path, enabled=True, total_steps=10, chance_check_steps=5, tensorboard=False, progress=False)
    for step in range(1, 5):
        monitor.step(step, {"loss": 0.7, "bce": 0.693, "accuracy": 0.5}, log=True)
        assert monitor.check_chance(step, {"p_gap": 0.0}) is None  # too early
    with pytest.warns(ChanceLevelWarning, match="unsynchronised|synchronised"):
        assert monitor.check_chance(5, {"p_gap": 0.0, "embedding_spread": 0.1, "lr": 1e-4}) is not None
    assert monitor.check_chance(6, {"p_gap": 0.0}) is None  # once
    learning = Monitor(tmp_path, enabled=True, total_steps=10, chance_check_steps=1, tensorboard=False, progress=False)
    learning.step(1, {"loss": 0.3, "bce": 0.3, "accuracy": 0.9}, log=True)
    assert learning.check_chance(1, {}) is None
    monitor.close(), learning.close()


def test_evaluation_plot(tmp_path):
    rng = np.random.default_rng(0)
    kinds = np.array([SampleKind.POSITIVE] * 50 + [SampleKind.SAME_SPEAKER] * 40 + [SampleKind.CROSS_SPEAKER] * 10)
    scores = np.clip(rng.normal(0.3, 0.1, 100) + 0.4 * (kinds == SampleKind.POSITIVE), 0, 1)
    path = plot_evaluation(scores, kinds, tmp_path / "plots" / "eval.png", title="test")
    assert path.is_file() and path.read_bytes()[:4] == b"\x89PNG"
