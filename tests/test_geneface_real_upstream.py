"""Opt-in: GeneFace's real trainer (``tasks/run.py`` through ``train.sh --geneface-dir``) with a UniSync expert.

    UNISYNC_GENEFACE_DIR=~/GeneFace python -m pytest tests/test_geneface_real_upstream.py

The checkout's code is copied into a temporary folder (the run writes configs, binarized data and checkpoints there).
A few clips in GeneFace's binarized LRS3 layout are written with GeneFace's own ``IndexedDatasetBuilder``. When the
checkout has no ``deep_3drecon/BFM/BFM_model_front.mat`` (licensed), the test first checks that the launcher names it,
then writes a random stand-in with the same keys into the copy: the run checks the plumbing (GeneFace's trainer,
data loader and task calling the UniSync loss), not faces. One training update (``max_updates=1``), then GeneFace's
validation and checkpoint. Needs the ``geneface-upstream`` extra (numba): ``pip install -e '.[geneface-upstream]'``.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from unisync_loss import UniSyncExpert

GENEFACE_DIR = os.environ.get("UNISYNC_GENEFACE_DIR")
pytestmark = pytest.mark.skipif(not GENEFACE_DIR, reason="set UNISYNC_GENEFACE_DIR to a GeneFace checkout to run")
REPO = Path(__file__).resolve().parents[1]
TRAIN_SH = REPO / "integrations" / "geneface" / "train.sh"
BFM = "deep_3drecon/BFM/BFM_model_front.mat"
FRAMES = 40  # video frames per clip (80 HuBERT frames)


def write_stand_in_bfm(path: Path, vertices: int = 120) -> None:
    """Random arrays under the keys and shapes GeneFace's Face3DHelper reads (68 keypoints, 1-based indices)."""
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    n3 = 3 * vertices
    savemat(path, {"meanshape": rng.normal(size=(1, n3)), "idBase": rng.normal(size=(n3, 80)) * 0.01,
                   "exBase": rng.normal(size=(n3, 64)) * 0.01, "meantex": rng.uniform(0, 255, size=(1, n3)),
                   "texBase": rng.normal(size=(n3, 80)), "point_buf": np.ones((vertices, 8)),
                   "tri": np.ones((2 * vertices, 3)), "keypoints": np.arange(1, 69, dtype=np.float64)[None]})


def write_binary_data(root: Path) -> None:
    """``data/binary/lrs3/{train,val}.data`` with GeneFace's own builder: mel, hubert, coeff, idexp_lm3d per clip."""
    builder_module = importlib.import_module("utils.commons.indexed_datasets")
    rng = np.random.default_rng(1)
    folder = root / "data/binary/lrs3"
    folder.mkdir(parents=True)
    for split, clips in (("train", 4), ("val", 2)):
        builder = builder_module.IndexedDatasetBuilder(str(folder / split))
        for i in range(clips):
            builder.add_item({
                "item_id": f"spk{i}_{split}", "mel": rng.normal(size=(2 * FRAMES, 80)).astype(np.float32),
                "hubert": rng.normal(size=(2 * FRAMES, 1024)).astype(np.float32),
                "coeff": (rng.normal(size=(FRAMES, 257)) * 0.1).astype(np.float32),
                "idexp_lm3d": (rng.normal(size=(FRAMES, 68, 3)) * 0.1).astype(np.float32),
            })
        builder.finalize()


def test_one_update_of_genefaces_trainer_with_the_unisync_loss(tmp_path):
    from integrations.geneface.launcher import INSTALL_HINT

    pytest.importorskip("numba", reason=f"GeneFace's data utilities import numba: {INSTALL_HINT}")
    source = Path(GENEFACE_DIR).expanduser()
    root = tmp_path / "GeneFace"
    shutil.copytree(source, root, ignore=shutil.ignore_patterns(".git", "*.mp4", "*.pth", "*.ckpt", "checkpoints",
                                                                "data", "assets"), symlinks=True)
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    torch.manual_seed(0)
    expert = UniSyncExpert(audio={"name": "hubert", "dim": 1024},
                           visual={"name": "landmarks", "num_points": 20, "dims": 3}, channels=8, embed_dim=16)
    expert.save_pretrained(tmp_path / "expert")
    command = ["bash", str(TRAIN_SH), "--geneface-dir", str(root), "--expert", str(tmp_path / "expert"),
               "--exp-name", "unisync_trial", "--", "--reset", "--hparams",
               "max_updates=1,num_sanity_val_steps=0,val_check_interval=1,load_db_to_memory=False"]
    if not (root / BFM).is_file():
        missing = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
        assert missing.returncode == 2 and "BFM_model_front.mat is missing" in missing.stderr, missing.stderr[-2000:]
        write_stand_in_bfm(root / BFM)
    sys.path.insert(0, str(root))
    try:
        write_binary_data(root)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.split(".")[0] == "utils"]:
            del sys.modules[name]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=1200)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    assert "UniSyncAudio2MotionTask" in log and "Face3DHelper builds on the CPU" in log
    assert "'sync': " in log  # GeneFace's trainer logged the UniSync loss of its step
    checkpoints = sorted((root / "checkpoints/unisync_trial").glob("model_ckpt_steps_*.ckpt"))
    assert checkpoints, log[-4000:]
    state = torch.load(checkpoints[-1], map_location="cpu", weights_only=False)
    assert state["global_step"] >= 1
    assert not any("syncnet" in key or "expert" in key for key in state["state_dict"]["model"])
