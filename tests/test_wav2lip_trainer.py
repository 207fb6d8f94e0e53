"""Generator training from the clip store: data flow, schedule switch, exact resume, bad clips."""

import numpy as np
import pytest
import torch

from integrations.wav2lip.data import Wav2LipWindows
from integrations.wav2lip.schedule import SyncWeightSchedule
from integrations.wav2lip.trainer import GeneratorTrainer, TrainConfig, main
from integrations.wav2lip.weights import load_model
from unisync_loss import UniSyncExpert
from unisync_loss.data.clip_store import Clip, ClipStore


def make_store(root, splits=("train", "train", "val"), frames=24, size=64, audio_frames=None):
    store = ClipStore.create(root, {"test": "wav2lip"})
    rng = np.random.default_rng(0)
    for i, split in enumerate(splits):
        video = rng.integers(0, 255, (frames, size, size, 3), dtype=np.uint8)
        audio = (rng.standard_normal((audio_frames or frames) * 640) * 0.1).astype(np.float32)
        store.write_clip(Clip(id=f"c{i}", speaker=f"s{i}", split=split, audio=audio, frames=video))
    store.reindex()
    return store


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("wav2lip")
    make_store(root / "store")
    torch.manual_seed(0)
    UniSyncExpert("mel", "rgb", channels=16, embed_dim=32).eval().save_pretrained(root / "expert")
    return root


def config(root, out, **kw):
    base = dict(data=str(root / "store"), out=str(out), expert=str(root / "expert"), steps=3, batch_size=1,
                width=0.125, eval_batches=1, eval_interval=100, checkpoint_interval=2)
    return TrainConfig(**{**base, **kw})


def test_samples_follow_the_original_data_flow(setup):
    data = Wav2LipWindows(setup / "store", "train", seed=1)
    x, indiv, mel, y = data[5]
    assert x.shape == (6, 5, 96, 96) and indiv.shape == (5, 1, 80, 16) and mel.shape == (1, 80, 16)
    assert y.shape == (3, 5, 96, 96)
    assert torch.all(x[:3, :, 48:] == 0) and torch.equal(x[:3, :, :48], y[:, :, :48])
    assert not torch.equal(x[3:], y)  # the reference is another window
    assert torch.equal(indiv[1, 0], mel[0])  # frame start+1's window starts at the target window's start
    assert torch.equal(data[5][0], x)  # a pure function of (seed, index)


def test_bad_clips_are_reported_not_retried(tmp_path):
    make_store(tmp_path / "s", splits=("train", "train"), frames=24)
    store = ClipStore(tmp_path / "s")
    short = np.zeros((10, 64, 64, 3), np.uint8)
    store.write_clip(Clip(id="short", speaker="x", split="train", audio=np.zeros(6400, np.float32), frames=short))
    store.reindex()
    data = Wav2LipWindows(store, "train")
    assert set(data.skipped) == {"short"} and "at least 16" in data.describe_skipped()
    with pytest.raises(ValueError, match="no usable 'val' clips"):
        Wav2LipWindows(store, "val")


def test_original_schedule_switches_once_below_threshold():
    schedule = SyncWeightSchedule.original(gan=False)
    assert schedule.weight == 0.0
    assert not schedule.observe(0.9, step=1) and schedule.weight == 0.0
    assert schedule.observe(0.7, step=2) and schedule.weight == 0.01
    assert not schedule.observe(0.8, step=3) and schedule.weight == 0.01
    assert SyncWeightSchedule.original(gan=True).after == 0.03
    with pytest.raises(ValueError, match="schedule"):
        SyncWeightSchedule("cosine")


def test_trainer_switches_sync_weight_and_resumes_exactly(setup, tmp_path):
    straight = GeneratorTrainer(config(setup, tmp_path / "a", steps=3, sync_threshold=5.0))
    final = straight.fit()
    assert straight.schedule.switched_at == 1 and final["sync_weight"] == 0.01 and final["sync"] > 0
    first = GeneratorTrainer(config(setup, tmp_path / "b", steps=2, sync_threshold=5.0))
    first.fit()
    resumed = GeneratorTrainer(config(setup, tmp_path / "b", steps=3, sync_threshold=5.0, resume="auto"))
    assert resumed.step == 2 and resumed.schedule.weight == 0.01
    resumed.fit()
    for (name, a), b in zip(straight.generator.state_dict().items(), resumed.generator.state_dict().values()):
        assert torch.equal(a, b), name
    assert resumed.optimizer.state_dict()["state"][0]["step"] == straight.optimizer.state_dict()["state"][0]["step"]
    reloaded = load_model("generator", tmp_path / "b" / "checkpoint_step000000003.pth")
    assert torch.equal(reloaded.output_block[1].weight, straight.generator.output_block[1].weight)


def test_gan_variant_with_wav2lip_expert_and_mixed_precision(setup, tmp_path):
    from integrations.wav2lip.models import SyncNetColor

    torch.save({"state_dict": SyncNetColor(width=0.125).state_dict()}, tmp_path / "lipsync_expert.pth")
    trainer = GeneratorTrainer(config(setup, tmp_path / "hq", steps=1, gan=True, sync_expert="wav2lip",
                                      expert=str(tmp_path / "lipsync_expert.pth"), schedule="fixed",
                                      sync_weight=0.03, amp=True))
    metrics = trainer.fit()
    assert {"disc_real", "disc_fake"} <= set(metrics) and metrics["sync_weight"] == 0.03
    assert not trainer.expert.training


def test_cli_names_a_wrong_expert(setup, tmp_path, capsys):
    landmarks = tmp_path / "lm"
    UniSyncExpert("mel", "landmarks", channels=16, embed_dim=32).save_pretrained(landmarks)
    code = main(["--data", str(setup / "store"), "--out", str(tmp_path / "r"), "--expert", str(landmarks)])
    assert code == 2 and "cannot judge RGB frames" in capsys.readouterr().err
