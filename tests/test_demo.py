"""The main job, reduced: synthesise a small corpus, train with the UniSync recipe, leave chance on unseen speakers."""

from __future__ import annotations

import argparse
import json

import pytest
import torch

from train_expert import demo

pytestmark = pytest.mark.slow


def test_reduced_demo_leaves_chance_and_finds_offsets(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    args = parser.parse_args(["--out", str(tmp_path / "demo"), "--speakers", "20", "--clips", "2", "--visual",
                              "landmarks", "--minutes", "0", "--steps", "150", "--workers", "2", "--threads", "1"])
    torch.set_num_threads(1)
    assert demo.run(args) == 0
    report = json.loads((tmp_path / "demo" / "report.json").read_text())
    protocol_a = report["evaluation"]["protocol_a"]
    assert protocol_a["auc"] > 0.65, protocol_a  # chance: 0.5
    offsets = report["offsets"]
    assert offsets["loss_delayed"] > offsets["loss_synced"]
    assert (tmp_path / "demo" / "offset_curves.png").stat().st_size > 10_000
    assert "validation AUC by evaluation" in capsys.readouterr().out
