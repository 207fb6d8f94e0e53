"""The GeneFace task subclasses, against a stand-in package with GeneFace's module layout and interfaces."""

import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from unisync_loss import UniSyncExpert

REPO = Path(__file__).resolve().parents[1]
TRAIN_SH = REPO / "integrations" / "geneface" / "train.sh"

# A stand-in for GeneFace: same module paths, same task interfaces (build_model / build_syncnet_task /
# syncnet_task.run_model(sample, infer=True, batch_size=...)), and a trainer that calls task.eval() then task.train().
STAND_IN = {
    "utils/commons/hparams.py": "hparams = {}\n",
    "utils/commons/base_task.py": """
        from torch import nn
        class BaseTask(nn.Module):
            pass
    """,
    "modules/audio2motion/vae.py": """
        import torch
        from torch import nn
        class VAEModel(nn.Module):
            def __init__(self, in_out_dim):
                super().__init__()
                self.proj = nn.Linear(2 * 1024, in_out_dim)
            def forward(self, sample, model_out, train=True, temperature=1.0):
                h = sample['hubert']
                h = h.reshape(h.shape[0], h.shape[1] // 2, 2 * h.shape[2])
                model_out['pred'] = self.proj(h)
                model_out['mask'] = sample['y_mask']
                return model_out
    """,
    "tasks/syncnet/lm3d_syncnet.py": """
        class SyncNetTask:
            def __init__(self):
                raise AssertionError("GeneFace's SyncNet must not be built when UniSync replaces it")
    """,
    "tasks/audio2motion/lm3d_vae_sync.py": """
        from utils.commons.base_task import BaseTask
        from modules.audio2motion.vae import VAEModel
        from tasks.syncnet.lm3d_syncnet import SyncNetTask
        class VAESyncAudio2MotionTask(BaseTask):
            def build_model(self):
                self.syncnet_task = SyncNetTask()
                self.model = VAEModel(in_out_dim=68 * 3)
                return self.model
            def run_model(self, sample, infer=False, temperature=1.0, sync_batch_size=1024):
                model_out = {}
                self.model(sample, model_out, train=not infer)
                if infer:
                    return model_out
                pred = model_out['pred']
                mouth = pred.reshape(pred.shape[0], pred.shape[1], 68, 3)[:, :, 48:68]
                syncnet_sample = {'mouth_idexp_lm3d': mouth.reshape(mouth.shape[0], mouth.shape[1], -1),
                                  'hubert': sample['hubert'], 'y_mask': model_out['mask']}
                out = self.syncnet_task.run_model(syncnet_sample, infer=True, batch_size=sync_batch_size)
                return {'sync': out['sync_loss'], 'mse': (pred - sample['idexp_lm3d']).pow(2).mean()}, model_out
    """,
    "tasks/postnet/lm3d_postnet_adv_sync.py": """
        import importlib
        from torch import nn
        from utils.commons.base_task import BaseTask
        from utils.commons.hparams import hparams
        from tasks.syncnet.lm3d_syncnet import SyncNetTask
        class PostnetAdvSyncTask(BaseTask):
            def __init__(self):
                super().__init__()
                self.audio2motion_task = self.build_audio2motion_task()
                self.syncnet_task = self.build_syncnet_task()
            def build_audio2motion_task(self):
                pkg, name = hparams['audio2motion_task_cls'].rsplit('.', 1)
                task = getattr(importlib.import_module(pkg), name)()
                task.build_model()
                task.eval()
                return task
            def build_syncnet_task(self):
                self.syncnet_task = SyncNetTask()
                return self.syncnet_task
            def build_model(self):
                self.model = nn.Linear(204, 204)
                return self.model
            def run_model(self, sample, infer=False):
                raw = self.audio2motion_task.run_model(sample, infer=True)['pred']
                refined = self.model(raw)
                mouth = refined.reshape(refined.shape[0], refined.shape[1], 68, 3)[:, :, 48:68]
                syncnet_sample = {'idexp_lm3d': refined, 'hubert': sample['hubert'], 'y_mask': sample['y_mask'],
                                  'mouth_idexp_lm3d': mouth.reshape(mouth.shape[0], mouth.shape[1], -1)}
                out = self.syncnet_task.run_model(syncnet_sample, infer=True, batch_size=1024)
                return {'sync': out['sync_loss']}, {'refine_lm3d': refined}
    """,
    "tasks/run.py": """
        import argparse, importlib, json, os, sys
        import torch, yaml
        from utils.commons.hparams import hparams
        def load_config(path):
            with open(path) as f:
                config = yaml.safe_load(f)
            merged = {}
            for base in config.pop('base_config', []):
                merged.update(load_config(base))
            merged.update(config)
            return merged
        parser = argparse.ArgumentParser()
        parser.add_argument('--config'); parser.add_argument('--exp_name'); parser.add_argument('--steps', type=int)
        args = parser.parse_args()
        hparams.update(load_config(args.config))
        pkg, name = hparams['task_cls'].rsplit('.', 1)
        task = getattr(importlib.import_module(pkg), name)()
        task.model = task.build_model()
        torch.manual_seed(0)
        batch = {'hubert': torch.randn(2, 48, 1024), 'y_mask': torch.ones(2, 24), 'idexp_lm3d': torch.randn(2, 24, 204)}
        losses, _ = task.run_model(batch)
        sum(losses.values()).backward()
        task.eval(); task.train()  # what GeneFace's trainer does around each validation
        print(json.dumps({'exp_name': args.exp_name, 'steps': args.steps, 'task': type(task).__name__,
                          'sync': float(losses['sync']), 'expert_training': task.syncnet_task.loss.expert.training,
                          'task_training': task.training, 'model_has_grad': task.model.weight.grad is not None
                          if hasattr(task.model, 'weight') else task.model.proj.weight.grad is not None,
                          'state_keys': sorted(task.state_dict())[:3],
                          'has_syncnet_params': any('syncnet' in k for k in task.state_dict())}))
    """,
}


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: on a shared, loaded CPU this is many times faster than several."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture()
def geneface(tmp_path, monkeypatch):
    """A stand-in GeneFace checkout on sys.path; its modules are removed from sys.modules afterwards."""
    root = tmp_path / "GeneFace"
    for rel, text in STAND_IN.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    for folder in {p.parent for p in root.rglob("*.py")} - {root}:
        walk = folder
        while walk != root:
            (walk / "__init__.py").touch()
            walk = walk.parent
    (root / "egs/datasets/lrs3").mkdir(parents=True)
    (root / "egs/datasets/lrs3/lm3d_vae_sync.yaml").write_text("lambda_sync: 0.01\ntask_cls: theirs.Task\n")
    monkeypatch.syspath_prepend(str(root))
    before = set(sys.modules)
    yield root
    for name in set(sys.modules) - before:
        if name.split(".")[0] in ("utils", "tasks", "modules") or name == "integrations.geneface.upstream":
            del sys.modules[name]


def save_expert(path, num_points=20, dim=1024, dims=3):
    torch.manual_seed(0)
    expert = UniSyncExpert(audio={"name": "hubert", "dim": dim}, visual={"name": "landmarks", "num_points": num_points,
                                                                         "dims": dims}, channels=8, embed_dim=16)
    return expert.save_pretrained(path)


def batch(frames=24, valid=20, hubert_frames=None):
    mask = torch.zeros(2, frames)
    mask[:, :valid] = 1
    return {"hubert": torch.randn(2, hubert_frames or 2 * frames, 1024), "y_mask": mask,
            "mouth_idexp_lm3d": torch.randn(2, frames, 60, requires_grad=True)}


def test_audio2motion_task_uses_a_frozen_unisync_expert(geneface, tmp_path):
    upstream = importlib.import_module("integrations.geneface.upstream")
    from utils.commons.hparams import hparams

    hparams.clear()
    hparams["unisync_expert_dir"] = str(save_expert(tmp_path / "expert"))
    task = upstream.UniSyncAudio2MotionTask()
    model = task.build_model()
    assert isinstance(task.syncnet_task, upstream.UniSyncSyncNetTask)
    assert not any(k.startswith("syncnet_task") for k in task.state_dict())  # never in GeneFace's checkpoints
    assert all(p in set(model.parameters()) for p in task.parameters())  # the optimizer sees only the model
    task.train()
    assert not task.syncnet_task.loss.expert.training and not task.syncnet_task.training

    sample = batch()
    out = task.syncnet_task.run_model(sample, infer=True, batch_size=1024)
    out["sync_loss"].backward()
    assert torch.isfinite(out["sync_loss"]) and sample["mouth_idexp_lm3d"].grad.abs().sum() > 0
    assert sample["mouth_idexp_lm3d"].grad[:, 20:].abs().sum() == 0  # padded frames are masked out
    losses, info = task.syncnet_task.run_model(batch(), infer=False)
    assert info["cosine_sim"].shape == (2 * 16,)


def test_bad_inputs_and_experts_are_named(geneface, tmp_path):
    upstream = importlib.import_module("integrations.geneface.upstream")
    from utils.commons.hparams import hparams

    hparams.clear()
    with pytest.raises(ValueError, match="unisync_expert_dir"):
        upstream.build_unisync_syncnet_task()
    hparams["unisync_expert_dir"] = str(save_expert(tmp_path / "e2d", dims=2))
    with pytest.raises(ValueError, match="3D landmarks"):
        upstream.build_unisync_syncnet_task()
    hparams["unisync_expert_dir"] = str(save_expert(tmp_path / "e768", dim=768))
    with pytest.raises(ValueError, match="dim 1024"):
        upstream.build_unisync_syncnet_task()
    hparams["unisync_expert_dir"] = str(save_expert(tmp_path / "e68", num_points=68))
    task68 = upstream.build_unisync_syncnet_task()
    with pytest.raises(ValueError, match="needs 'idexp_lm3d'"):
        task68.run_model(batch(), infer=True)
    hparams["unisync_expert_dir"] = str(save_expert(tmp_path / "e20"))
    task = upstream.build_unisync_syncnet_task()
    with pytest.raises(ValueError, match="looks like 25 Hz"):
        task.run_model(batch(hubert_frames=24), infer=True)


def test_train_sh_runs_genefaces_entry_point_with_our_yaml(geneface, tmp_path):
    expert = save_expert(tmp_path / "expert")
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(["bash", str(TRAIN_SH), "--geneface-dir", str(geneface), "--expert", str(expert),
                           "--", "--steps", "3"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["task"] == "UniSyncAudio2MotionTask" and report["steps"] == 3
    assert report["exp_name"] == "unisync_audio2motion_lm3d_vae_sync"
    assert not report["expert_training"] and report["task_training"] and report["model_has_grad"]
    assert not report["has_syncnet_params"]
    generated = (geneface / "egs/unisync/audio2motion_lm3d_vae_sync.yaml").read_text()
    assert str(geneface / "egs/datasets/lrs3/lm3d_vae_sync.yaml") in generated and str(expert) in generated


def test_postnet_task_replaces_both_experts(geneface, tmp_path):
    upstream = importlib.import_module("integrations.geneface.upstream")
    from utils.commons.hparams import hparams

    hparams.clear()
    hparams.update({"unisync_expert_dir": str(save_expert(tmp_path / "expert")),
                    "audio2motion_task_cls": "integrations.geneface.upstream.UniSyncAudio2MotionTask"})
    task = upstream.UniSyncPostnetTask()
    task.model = task.build_model()
    assert isinstance(task.syncnet_task, upstream.UniSyncSyncNetTask)
    assert isinstance(task.audio2motion_task.syncnet_task, upstream.UniSyncSyncNetTask)
    sample = {"hubert": torch.randn(2, 48, 1024), "y_mask": torch.ones(2, 24)}
    losses, _ = task.run_model(sample)
    losses["sync"].backward()
    task.eval()
    task.train()
    assert task.model.weight.grad is not None and not task.syncnet_task.loss.expert.training


def test_train_sh_refuses_what_is_not_a_checkout_or_an_expert(geneface, tmp_path):
    run = lambda *args: subprocess.run(["bash", str(TRAIN_SH), *args], capture_output=True, text=True, timeout=60)
    bad = run("--geneface-dir", str(geneface), "--expert", str(tmp_path))
    assert bad.returncode == 2 and "not a UniSync expert folder" in bad.stderr
    bad = run("--geneface-dir", str(tmp_path), "--expert", str(tmp_path))
    assert bad.returncode == 2 and "not a GeneFace checkout" in bad.stderr
    expert = save_expert(tmp_path / "expert")
    bad = run("--geneface-dir", str(geneface), "--expert", str(expert), "--stage", "postnet")
    assert bad.returncode == 2 and "--stage postnet needs --config" in bad.stderr


def test_launcher_names_the_bfm_file_and_missing_modules_before_running(geneface, tmp_path):
    from integrations.geneface import launcher

    (geneface / "data_util").mkdir(exist_ok=True)
    (geneface / launcher.BFM_USERS).write_text("class Face3DHelper:\n    pass\n")
    expert = save_expert(tmp_path / "expert")
    run = subprocess.run(["bash", str(TRAIN_SH), "--geneface-dir", str(geneface), "--expert", str(expert)],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHON": sys.executable})
    assert run.returncode == 2
    assert "BFM_model_front.mat is missing" in run.stderr
    assert "No such file or directory: 'deep_3drecon/BFM/BFM_model_front.mat'" in run.stderr
    (geneface / launcher.BFM_FILE).parent.mkdir(parents=True)
    (geneface / launcher.BFM_FILE).write_bytes(b"")
    euler = geneface / "tasks/audio2motion/dataset_utils/euler2quaterion.py"
    euler.parent.mkdir(parents=True, exist_ok=True)
    euler.write_text("import numba\n")
    if importlib.util.find_spec("numba") is None:
        assert launcher.main(["--geneface-dir", str(geneface)]) == 2


def test_launcher_adapts_numpy_cuda_and_rsync_for_the_run_only(geneface, tmp_path, monkeypatch):
    import contextlib

    import numpy as np

    from integrations.geneface import launcher

    with launcher.numpy_aliases() as added:
        assert np.Inf == float("inf") and np.isnan(np.NaN) and np.long(3) == 3
    assert "Inf" not in added or not hasattr(np, "Inf")  # removed again afterwards
    (geneface / "data_util").mkdir(exist_ok=True)
    (geneface / launcher.BFM_USERS).write_text(
        "class Face3DHelper:\n    def __init__(self, bfm_dir='BFM', use_gpu=True):\n        self.use_gpu = use_gpu\n")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with contextlib.ExitStack() as stack:
        assert "CPU" in launcher.face3d_on_cpu(stack, geneface)
        helper = importlib.import_module("data_util.face3d_helper").Face3DHelper
        assert helper().use_gpu is False and helper("BFM", True).use_gpu is False
    assert helper().use_gpu is True  # restored
    (tmp_path / "src/pkg/__pycache__").mkdir(parents=True)
    for name in ("pkg/a.py", "pkg/b.yaml", "pkg/c.txt", "pkg/__pycache__/a.cpython-311.py"):
        (tmp_path / "src" / name).write_text("x")
    monkeypatch.chdir(tmp_path / "src")
    assert launcher.copy_sources(["pkg", "absent"], tmp_path / "codes") == 2
    assert sorted(p.name for p in (tmp_path / "codes/pkg").iterdir()) == ["a.py", "b.yaml"]
