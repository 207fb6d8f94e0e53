"""Opt-in: the launcher against a real Wav2Lip checkout, one training step of its own ``wav2lip_train.py``.

    UNISYNC_WAV2LIP_DIR=~/Wav2Lip python -m pytest tests/test_wav2lip_real_upstream.py

The checkout is copied (code only) into a temporary folder, because upstream reads ``filelists/{train,val}.txt``
relative to its folder; a few clips in its preprocessed layout (JPEG frames + ``audio.wav``) are written beside it.
The run stops right after upstream saves its first checkpoint, before its 700-batch evaluation. Needs the ``wav2lip``
extra (librosa): ``pip install -e '.[wav2lip]'``.
"""

from __future__ import annotations

import os
import shutil
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import torch

from integrations.wav2lip.expert_adapter import UniSyncSyncNet
from integrations.wav2lip.launcher import INSTALL_HINT, launch
from unisync_loss import UniSyncExpert

WAV2LIP_DIR = os.environ.get("UNISYNC_WAV2LIP_DIR")
pytestmark = pytest.mark.skipif(not WAV2LIP_DIR, reason="set UNISYNC_WAV2LIP_DIR to a Wav2Lip checkout to run")

FRAMES = 40  # 1.6 s at 25 fps


class FirstCheckpointSaved(Exception):
    """Raised after upstream's first ``checkpoint_step*.pth``: one step is all this test needs."""


def write_clip(folder: Path, seed: int) -> None:
    """Wav2Lip's preprocessed layout: ``0.jpg ... 39.jpg`` (96 x 96 BGR faces) and a 16 kHz ``audio.wav``."""
    import cv2

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for i in range(FRAMES):
        face = np.full((96, 96, 3), 120, np.uint8)
        cv2.ellipse(face, (48, 70), (20, 2 + (i * 3 + seed) % 12), 0, 0, 360, (40, 40, 160), -1)  # a moving mouth
        cv2.imwrite(str(folder / f"{i}.jpg"), face)
    t = np.arange(FRAMES * 640) / 16000
    speech = 0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + 0.01 * rng.standard_normal(len(t))
    with wave.open(str(folder / "audio.wav"), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(16000)
        out.writeframes((np.clip(speech, -1, 1) * 32767).astype(np.int16).tobytes())


def test_one_step_of_the_official_script_with_the_unisync_expert(tmp_path, monkeypatch):
    pytest.importorskip("librosa", reason=f"Wav2Lip's audio.py needs librosa: {INSTALL_HINT}")
    source = Path(WAV2LIP_DIR).expanduser()
    repo = tmp_path / "Wav2Lip"
    shutil.copytree(source, repo, ignore=shutil.ignore_patterns(".git", "*.pth", "*.mp4", "*.jpg", "*.png", "temp",
                                                                 "results", "checkpoints"))
    data = tmp_path / "lrs2_preprocessed"
    for split, names in (("train", ("spk1/00001", "spk2/00001")), ("val", ("spk3/00001",))):
        for name in names:
            write_clip(data / name, seed=int(name[3]))
        (repo / "filelists" / f"{split}.txt").write_text("\n".join(names) + "\n")
    torch.manual_seed(0)
    UniSyncExpert("mel", "rgb", channels=8, embed_dim=16).eval().save_pretrained(tmp_path / "expert")

    calls = []
    forward = UniSyncSyncNet.forward

    def counted(self, mel, faces):
        calls.append((tuple(mel.shape), tuple(faces.shape), self.training))
        return forward(self, mel, faces)

    save = torch.save

    def save_then_stop(obj, path, *args, **kwargs):
        save(obj, path, *args, **kwargs)
        if Path(str(path)).name.startswith("checkpoint_step"):
            raise FirstCheckpointSaved(str(path))

    monkeypatch.setattr(UniSyncSyncNet, "forward", counted)
    monkeypatch.setattr(torch, "save", save_then_stop)
    checkpoints = tmp_path / "ckpt"
    with pytest.raises(FirstCheckpointSaved):
        launch(repo, ["--data_root", str(data), "--checkpoint_dir", str(checkpoints), "--syncnet_checkpoint_path",
                      str(tmp_path / "expert")],
               overrides={"batch_size": 2, "num_workers": 0, "checkpoint_interval": 1, "syncnet_wt": 0.01})
    monkeypatch.setattr(torch, "save", save)
    state = torch.load(checkpoints / "checkpoint_step000000001.pth", map_location="cpu", weights_only=False)
    assert state["global_step"] == 1
    assert not any("syncnet" in key or "expert" in key for key in state["state_dict"])  # the expert is not trained
    assert calls == [((2, 1, 80, 16), (2, 15, 48, 96), False)]  # the training step's sync loss, in eval mode
    assert "models" not in sys.modules or not str(getattr(sys.modules["models"], "__file__", "")).startswith(str(repo))
