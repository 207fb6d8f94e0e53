"""The self-contained audio-to-motion trainer: a few steps with the UniSync loss beat the no-sync twin (judged)."""

import numpy as np
import pytest
import torch

from integrations.geneface.evaluation import mouth_error, offset_profile, sync_metrics
from integrations.geneface.experts import sample_windows, train_unisync_expert, unisync_expert_for
from integrations.geneface.features import AudioFeatureSpec
from integrations.geneface.motion_data import load_motion_clips, random_crops
from integrations.geneface.motion_model import AudioToMotion
from integrations.geneface.sync_criteria import GeneFaceSyncLoss, unisync_criterion
from integrations.geneface.syncnet import GeneFaceSyncNet
from integrations.geneface.trainer import MotionTrainConfig, predict, train_motion_model
from integrations.geneface.vowel_corpus import build_vowel_corpus
from unisync_loss import SampleKind


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A tiny vowel corpus, a UniSync expert on its train speakers and a judge on its val speakers."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    store = build_vowel_corpus(tmp_path_factory.mktemp("vowels"), {"train": 4, "val": 2, "test": 2}, 3, 2.4, seed=0)
    spec = AudioFeatureSpec()
    clips = {split: load_motion_clips(store, split, spec, "landmarks") for split in ("train", "val", "test")}
    expert = train_unisync_expert(unisync_expert_for(spec, (68, 3)), clips["train"], steps=60, seed=0)
    judge = train_unisync_expert(unisync_expert_for(spec, (68, 3), channels=24, embed_dim=48), clips["val"], steps=60,
                                 seed=7)
    yield store, clips, expert, judge
    torch.set_num_threads(threads)


def judge_sync_loss(judge, model, clips):
    score = unisync_criterion(judge, reduction="none").sync_probability
    profiles = [offset_profile(score, torch.from_numpy(c.features), predict(model, c), max_offset=2) for c in clips]
    return sync_metrics(profiles)["sync_loss"]


def test_sync_loss_lowers_the_judges_sync_loss_over_its_no_sync_twin(corpus):
    _, clips, expert, judge = corpus
    runs = {}
    for schedule in ("off", "always"):
        config = MotionTrainConfig(steps=30, batch_size=8, crop_frames=24, lr=2e-3, hidden=32, sync_weight=1.0,
                                   sync_schedule=schedule, val_every=15, seed=0)
        runs[schedule] = train_motion_model(clips["train"], clips["val"], config,
                                            None if schedule == "off" else unisync_criterion(expert))
    with_sync = judge_sync_loss(judge, runs["always"].model, clips["test"])
    without = judge_sync_loss(judge, runs["off"].model, clips["test"])
    assert with_sync < without, (with_sync, without)
    assert runs["always"].sync_enabled_at == 0 and runs["off"].sync_enabled_at is None
    assert "val_sync" in runs["always"].history[-1] and "val_sync" not in runs["off"].history[-1]


def test_geneface_schedule_switches_on_below_the_threshold(corpus):
    _, clips, expert, _ = corpus
    calls = []

    def criterion(features, motion):
        calls.append(features.shape[0])
        return unisync_criterion(expert)(features, motion)

    for threshold, expected in ((100.0, 2), (0.0, None)):
        config = MotionTrainConfig(steps=4, batch_size=2, crop_frames=10, hidden=16, sync_schedule="geneface",
                                   sync_threshold=threshold, val_every=2)
        result = train_motion_model(clips["train"][:2], clips["val"][:1], config, criterion)
        assert result.sync_enabled_at == expected
    with pytest.raises(ValueError, match="sync criterion is needed"):
        train_motion_model(clips["train"], clips["val"], MotionTrainConfig(sync_schedule="always"))


def test_windows_crops_and_model_shapes(corpus):
    _, clips, _, _ = corpus
    audio, motion, kind = sample_windows(clips["train"], 64, np.random.default_rng(0))
    assert audio.shape == (64, 10, 80) and motion.shape == (64, 5, 68, 3)
    assert set(kind.tolist()) == {int(k) for k in SampleKind}
    features, target = random_crops(clips["train"], 3, 12, np.random.default_rng(0))
    assert features.shape == (3, 24, 80) and target.shape == (3, 12, 68, 3)
    model = AudioToMotion(80, (68, 3), hidden=16)
    assert model(features).shape == (3, 12, 68, 3)
    with pytest.raises(ValueError, match="even length"):
        model(features[:, :23])
    assert mouth_error(target[0], target[0]) == 0.0


def test_geneface_sync_loss_scores_every_window_and_stays_frozen():
    syncnet = GeneFaceSyncNet(audio_dim=80)
    loss = GeneFaceSyncLoss(syncnet, "landmarks", reduction="none")
    loss.train()
    assert not syncnet.training and not any(p.requires_grad for p in syncnet.parameters())
    motion = torch.randn(2, 9, 68, 3, requires_grad=True)
    values = loss(torch.randn(2, 18, 80), motion)
    assert values.shape == (2, 5)
    values.mean().backward()
    assert motion.grad[:, :, 48:68].abs().sum() > 0 and motion.grad[:, :, :48].abs().sum() == 0
    with pytest.raises(ValueError, match="features, motion"):
        loss(torch.randn(2, 10, 80), motion)
