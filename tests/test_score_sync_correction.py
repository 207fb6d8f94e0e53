"""Sync correction of a clip store: keep / shift / drop, what is recorded, resuming, and the command."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from unisync_loss import UniSyncExpert
from unisync_loss.cli import main
from unisync_loss.data import Clip, ClipStore
from unisync_loss.metrics.sync_correction import correct_store, decide, shift_clip


def indexed_clip(clip_id: str, frames: int = 40, size: int = 32) -> Clip:
    """Frame v is filled with v, and audio samples of frame slot v hold v / 1000: alignment is readable."""
    video = np.broadcast_to(np.arange(frames, dtype=np.uint8)[:, None, None, None], (frames, size, size, 3)).copy()
    audio = np.repeat(np.arange(frames, dtype=np.float32) / 1000, 640)
    return Clip(id=clip_id, speaker="s", split="train", audio=audio, frames=video)


@pytest.fixture
def store(tmp_path):
    store = ClipStore.create(tmp_path / "store")
    for name in ("early", "late", "fine", "weak", "edge"):
        store.write_clip(indexed_clip(name))
    store.reindex()
    return store


ESTIMATES = {"early": (3, 9.0), "late": (-2, 9.0), "fine": (1, 9.0), "weak": (0, 1.0), "edge": (15, 9.0)}


def fake_estimator(clip):
    return ESTIMATES[clip.id]


def test_shift_clip_meets_each_frame_with_its_sound():
    clip = indexed_clip("c")
    # offset +3: the sound of frame v sits 3 frames earlier in the audio, i.e. audio slot v - 3 holds what frame v
    # needs; after the shift, frame k (old k + 3) must meet audio slot k (old k).
    shifted = shift_clip(clip, 3)
    assert shifted.frames[0, 0, 0, 0] == 3 and shifted.audio[0] == 0.0
    assert shifted.num_frames == 37 and len(shifted.audio) == 37 * 640
    back = shift_clip(clip, -2)
    assert back.frames[0, 0, 0, 0] == 0 and back.audio[0] == pytest.approx(0.002)
    assert back.num_frames == 38 and len(back.audio) == 38 * 640
    shifted.validate()
    with pytest.raises(ValueError, match="offset"):
        shift_clip(clip, 40)


def test_decide_rules():
    assert decide("a", 1, 5.0, 100, 3.0).action == "kept"
    assert decide("a", -4, 5.0, 100, 3.0).action == "shifted"
    assert decide("a", 0, 2.0, 100, 3.0).action == "dropped"
    assert decide("a", -15, 5.0, 100, 3.0).action == "dropped"
    assert decide("a", 4, 5.0, 28, 3.0).action == "dropped"  # would leave 24 < 25 frames


def test_correct_store_applies_and_records(store):
    decisions = correct_store(store, fake_estimator, "fake", min_confidence=3.0, progress=False)
    actions = {d.clip_id: d.action for d in decisions}
    assert actions == {"early": "shifted", "late": "shifted", "fine": "kept", "weak": "dropped", "edge": "dropped"}
    assert store.clip_ids() == ["early", "fine", "late"]
    early = store.load_clip("early")
    assert early.num_frames == 37 and early.frames[0, 0, 0, 0] == 3
    assert early.extra["sync_correction"]["shift_frames"] == 3
    assert early.extra["sync_correction"]["scorer"] == "fake"
    assert store.load_clip("fine").num_frames == 40
    assert (store.root / "dropped" / "weak" / "meta.json").is_file()
    dropped_meta = json.loads((store.root / "dropped" / "weak" / "meta.json").read_text())
    assert dropped_meta["extra"]["sync_correction"]["action"] == "dropped"
    report = json.loads((store.root / "sync_correction.json").read_text())
    assert report["counts"] == {"shifted": 2, "kept": 1, "dropped": 2}
    # resuming: nothing left to decide, the report keeps every clip
    assert correct_store(store, fake_estimator, "fake", min_confidence=3.0, progress=False) == []
    assert len(json.loads((store.root / "sync_correction.json").read_text())["clips"]) == 5


def test_failed_estimate_drops_with_reason(store):
    def broken(clip):
        raise ValueError(f"clip {clip.id}: has no landmarks array")

    decisions = correct_store(store, broken, "broken", min_confidence=0.0, progress=False)
    assert all(d.action == "dropped" and "no landmarks" in d.reason for d in decisions)
    assert store.clip_ids() == []


def test_command_with_a_unisync_expert(tmp_path):
    torch.manual_seed(0)
    expert_dir = UniSyncExpert("mel", "rgb", channels=32, embed_dim=64).save_pretrained(tmp_path / "expert")
    store = ClipStore.create(tmp_path / "store")
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(30 * 640) * 0.1).astype(np.float32)
    frames = rng.integers(0, 255, (30, 96, 96, 3), dtype=np.uint8)
    store.write_clip(Clip(id="a", speaker="s", split="train", audio=audio, frames=frames))
    store.reindex()
    assert main(["sync-correct", str(store.root), "--expert", str(expert_dir), "--min-confidence", "0"]) == 0
    record = json.loads((store.root / "sync_correction.json").read_text())["clips"]["a"]
    assert -15 <= record["offset"] <= 15 and record["confidence"] >= 0
    assert record["action"] == decide("a", record["offset"], record["confidence"], 30, 0.0).action
    folder = store.root / ("dropped" if record["action"] == "dropped" else "clips") / "a"
    meta = json.loads((folder / "meta.json").read_text())["extra"]["sync_correction"]
    assert meta["scorer"] == "unisync:mel-rgb:expert" and meta["offset"] == record["offset"]
    assert main(["sync-correct", str(tmp_path / "nowhere"), "--expert", str(expert_dir)]) == 2


def test_dry_run_reports_and_changes_nothing(store, capsys):
    before = {i: store.meta(i) for i in store.clip_ids()}
    decisions = correct_store(store, fake_estimator, "fake", min_confidence=3.0, progress=False, apply=False)
    assert {d.clip_id: d.action for d in decisions}["early"] == "shifted"
    assert {i: store.meta(i) for i in store.clip_ids()} == before  # nothing shifted, moved or annotated
    assert not (store.root / "dropped").exists() and not (store.root / "sync_correction.json").exists()
    estimate = json.loads((store.root / "sync_estimate.json").read_text())
    assert estimate["counts"] == {"shifted": 2, "kept": 1, "dropped": 2} and estimate["clips"]["early"]["offset"] == 3
    # the real run afterwards still has every clip to decide
    assert len(correct_store(store, fake_estimator, "fake", min_confidence=3.0, progress=False)) == 5
