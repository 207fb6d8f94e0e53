"""The Table VI experiment end to end at its reduced ("ci") size: every stage, the table, the pictures, and a judge
that finds sync on real videos and a known delay on unsynchronised ones."""

import json

import pytest

from integrations.wav2lip import experiment
from unisync_loss.checkpoints import resolve_expert_dir


@pytest.mark.slow
def test_reduced_experiment_runs_every_stage_and_its_judge_finds_sync(tmp_path, capsys):
    judge = resolve_expert_dir("mel", "rgb")  # the shipped expert: never a loss in this experiment
    out = tmp_path / "run"
    argv = ["--preset", "ci", "--out", str(out), "--judge", str(judge), "--workers", "1", "--test-clips", "4"]
    assert experiment.main(argv) == 0
    table = capsys.readouterr().out
    for row in experiment.ROWS:
        assert f"| {row} |" in table
    assert "Separation (LSE-C" in table and "Judge on the real test clips" in table
    results = json.loads((out / "results.json").read_text())
    assert set(results["summary"]) == set(experiment.ROWS)
    assert {"separation", "lse_c_differences", "expert_accuracy", "judge_check"} <= set(results)
    assert all(len(results["per_clip"][row][0]) == 4 for row in experiment.ROWS)
    real = results["summary"]["Real videos"]
    assert real["mouth_corr"]["mean"] == pytest.approx(1.0) and real["in_sync"]["mean"] >= 0.75
    # the judge tells real videos from unsynchronised ones: the same clips with the audio 8 frames late
    check = results["judge_check"]
    assert check["synced_within_1"] >= 0.75 and check["delayed_found_within_1"] >= 0.75, check
    assert check["delay_moves_offset"] >= 0.75, check
    for name in ("judge_curves.png", "strips/strips.png", "strips/strip_unisync_expert.png", "table.md"):
        assert (out / name).stat().st_size > 0
    # stages resume: a second run trains nothing and prints the same table
    assert experiment.main(argv) == 0
    assert "| UniSync expert |" in capsys.readouterr().out


def test_experiment_refuses_bad_arguments(tmp_path, capsys):
    assert experiment.main(["--preset", "full", "--out", str(tmp_path)]) == 2
    assert "needs --data" in capsys.readouterr().err
    assert experiment.main(["--seeds", "0", "0", "--out", str(tmp_path)]) == 2
    assert "distinct seeds" in capsys.readouterr().err
    assert experiment.main(["--data", str(tmp_path), "--out", str(tmp_path / "run")]) == 2
    assert "--judge-data" in capsys.readouterr().err
