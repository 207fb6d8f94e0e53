"""A run killed mid-way and restarted ends with exactly the weights of an uninterrupted run; exports load back."""

from __future__ import annotations

import pytest
import torch
import yaml

from test_trainer_toystore import make_store
from train_expert.config import make_config
from train_expert.distributed import DistContext
from train_expert.trainer import Trainer
from unisync_loss import UniSyncLoss, load_expert

CPU = DistContext(rank=0, world_size=1, local_rank=0, device=torch.device("cpu"))


class Killed(Exception):
    pass


def tiny_config(store, out, **overrides):
    settings = dict(data=str(store), out=str(out), visual="3dmm", visual_options={"num_coeffs": 8}, channels=8,
                    embed_dim=16, batch_size=4, samples_per_epoch=12, max_steps=4, warmup_steps=2, eval_every=4,
                    checkpoint_every=2, val_pairs=16, num_workers=0, num_threads=1, log_every=1, lr=1e-3, chance_check_steps=2,
                    windows_per_clip=2)
    return make_config(None, {**settings, **overrides})


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume") / "store"
    make_store(root, speakers=2, clips_per_speaker=2, frames=24, val_speakers=2)
    return root


@pytest.mark.parametrize("recipe", ["unisync", "paper"])
def test_kill_and_resume_gives_the_same_weights(store, tmp_path, monkeypatch, recipe):
    straight = Trainer(tiny_config(store, tmp_path / "straight", recipe=recipe), CPU, progress=False, tensorboard=False)
    straight.train()

    original = Trainer._after_step

    def dies_after_step_3(self):
        original(self)
        if self.step == 3:
            raise Killed  # like a kill: step 3 is lost, the checkpoint of step 2 remains

    monkeypatch.setattr(Trainer, "_after_step", dies_after_step_3)
    with pytest.raises(Killed):
        Trainer(tiny_config(store, tmp_path / "resumed", recipe=recipe), CPU, progress=False, tensorboard=False).train()
    monkeypatch.setattr(Trainer, "_after_step", original)
    resumed = Trainer(tiny_config(store, tmp_path / "resumed", recipe=recipe), CPU, progress=False, tensorboard=False)
    assert resumed.resumed_from == 2 and (resumed.epoch, resumed.batches_done) == (0, 2)
    summary = resumed.train()
    assert summary["steps"] == 4
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    assert [h["step"] for h in summary["history"]] == [4]
    assert straight.history == resumed.history


def test_outputs_config_best_export_install_and_pair_check(store, tmp_path):
    config = tiny_config(store, tmp_path / "run", max_steps=2, install=True, install_home=str(tmp_path / "home"))
    summary = Trainer(config, CPU, progress=False, tensorboard=True).train()
    run = tmp_path / "run"
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["max_steps"] == 2 and saved["visual_options"] == {"num_coeffs": 8}
    assert (run / "checkpoints" / "last.pt").is_file() and list((run / "plots").glob("eval_*.png"))
    assert list((run / "tensorboard").iterdir())
    assert 0.0 <= summary["best_accuracy"] <= 1.0 and summary["samples_per_second"] > 0
    expert = load_expert("mel", "3dmm", checkpoint=tmp_path / "home" / "experts" / "mel-3dmm")
    assert UniSyncLoss("mel", "3dmm", checkpoint=run / "best").expert.pair == expert.pair == "mel-3dmm"
    assert not any(p.name.endswith(".tmp") for p in (run / "checkpoints").iterdir())
    with pytest.raises(ValueError, match="mel-3dmm run"):
        Trainer(tiny_config(store, tmp_path / "run", visual="landmarks", visual_options={"num_points": 20}), CPU,
                progress=False, tensorboard=False)
