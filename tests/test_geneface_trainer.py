"""The experiment's experts (trained by train_expert from a run-folder store) and its audio-to-motion trainer: a few
steps with the UniSync loss beat the no-sync twin (judged)."""

import dataclasses

import numpy as np
import pytest
import torch

from integrations.geneface.evaluation import mouth_error, offset_profile, sync_metrics
from integrations.geneface.experts import (expert_config, pair_accuracy, pair_dataset, train_geneface_syncnet,
                                           train_unisync_expert, visual_spec, write_expert_store)
from integrations.geneface.features import AudioFeatureSpec
from integrations.geneface.motion_data import load_motion_clips, random_crops
from integrations.geneface.motion_model import AudioToMotion
from integrations.geneface.sync_criteria import GeneFaceSyncLoss, unisync_criterion
from integrations.geneface.syncnet import GeneFaceSyncNet
from integrations.geneface.trainer import MotionTrainConfig, predict, train_motion_model
from integrations.geneface.vowel_corpus import build_vowel_corpus
from unisync_loss import SampleKind, UniSyncExpert
from unisync_loss.data import ClipStore


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A tiny vowel corpus, its run-folder store, a UniSync expert on its train speakers and a judge on its val
    speakers, both trained by train_expert's Trainer."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("vowels")
    store = build_vowel_corpus(root / "corpus", {"train": 4, "val": 2, "test": 2}, 3, 2.4, seed=0)
    spec = AudioFeatureSpec()
    clips = {split: load_motion_clips(store, split, spec, "landmarks") for split in ("train", "val", "test")}
    expert_store = write_expert_store(root / "expert-store", store, clips, spec)
    common = dict(spec=spec, motion_shape=(68, 3), data=expert_store.root, steps=60, batch_size=32, warmup_steps=5)
    config = expert_config(out=root / "expert", seed=0, channels=16, embed_dim=32, **common)
    expert = train_unisync_expert(config, progress=False)
    judge = train_unisync_expert(expert_config(out=root / "judge", seed=7, channels=24, embed_dim=48,
                                               train_split="val", val_split="train", **common), progress=False)
    yield store, clips, expert, judge, config
    torch.set_num_threads(threads)


def judge_sync_loss(judge, model, clips):
    score = unisync_criterion(judge, reduction="none").sync_probability
    profiles = [offset_profile(score, torch.from_numpy(c.features), predict(model, c), max_offset=2) for c in clips]
    return sync_metrics(profiles)["sync_loss"]


def test_sync_loss_lowers_the_judges_sync_loss_over_its_no_sync_twin(corpus):
    _, clips, expert, judge, _ = corpus
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
    _, clips, expert, _, _ = corpus
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


def test_sync_term_sees_the_audio_of_sync_clips_only(corpus):
    _, clips, expert, _, _ = corpus
    marked = [dataclasses.replace(c, features=np.full_like(c.features, 7.0)) for c in clips["val"]]
    seen = []

    def criterion(features, motion):
        seen.append(features)
        return unisync_criterion(expert)(features, motion)

    config = MotionTrainConfig(steps=3, batch_size=2, crop_frames=10, hidden=16, sync_schedule="always", val_every=3)
    train_motion_model(clips["train"], clips["val"][:1], config, criterion, sync_clips=marked)
    training_calls = seen[:3]  # the calls of the 3 steps (validation follows)
    assert all(bool((f == 7.0).all()) for f in training_calls)
    seen.clear()
    train_motion_model(clips["train"], clips["val"][:1], config, criterion)
    assert not any(bool((f == 7.0).all()) for f in seen[:3])
    with pytest.raises(ValueError, match="sync_clips: expected None"):
        train_motion_model(clips["train"], clips["val"], config, criterion, sync_clips=[])


def test_expert_store_holds_what_the_motion_model_sees_and_the_trainer_trained_from_it(corpus, tmp_path):
    store, clips, expert, _, config = corpus
    expert_store = ClipStore(config.data)
    clip = clips["train"][0]
    assert expert_store.clip_ids("train") == [c.id for c in clips["train"]]
    np.testing.assert_array_equal(expert_store.load_array(clip.id, "landmarks"), clip.motion)
    pairs = pair_dataset(config, visual_spec((68, 3)), "train", 64, seed=0)
    first = pairs.source.clips.index(next(c for c in pairs.source.clips if c.clip_id == clip.id))
    np.testing.assert_array_equal(pairs.source.audio_window(first, 3), clip.features[6:16])  # cached, not recomputed
    batch = [pairs[i] for i in range(64)]
    assert batch[0]["audio"].shape == (10, 80) and batch[0]["visual"].shape == (5, 68, 3)
    assert {int(b["kind"]) for b in batch} == {int(k) for k in SampleKind}
    assert pair_dataset(config, visual_spec((68, 3), mouth_only=True), "train", 1, 0)[0]["visual"].shape == (5, 20, 3)
    saved = UniSyncExpert.from_pretrained(f"{config.out}/best")
    assert saved.visual_rep.config()["temporal_centring"] and (config.same_margin, config.cross_margin) == (0.1, 0.3)
    hubert = expert_config(tmp_path, tmp_path / "h", AudioFeatureSpec("hubert", "DIR"), (64,), 10, 0)
    assert (hubert.same_margin, hubert.cross_margin) == (0.3, 0.7) and hubert.visual == "3dmm"
    (tmp_path / "notes.txt").write_text("not a store")
    with pytest.raises(ValueError, match="not a clip store"):
        write_expert_store(tmp_path, store, clips, AudioFeatureSpec())


def test_geneface_syncnet_trains_on_the_shared_pairs_and_both_experts_are_scored_alike(corpus):
    _, clips, expert, _, config = corpus
    syncnet = train_geneface_syncnet(config, (68, 3), progress=False)
    assert isinstance(syncnet, GeneFaceSyncNet) and not syncnet.training and syncnet.mouth_dim == 60
    for model in (expert, syncnet):
        result = pair_accuracy(model, config, (68, 3), pairs=128)
        assert set(result) == {"accuracy", "auc"} and 0.0 <= result["accuracy"] <= 1.0
    assert pair_accuracy(expert, config, (68, 3), split="train", pairs=256)["auc"] > 0.6


def test_geneface_syncnet_pairs_share_the_trainers_meaning_of_the_shares(corpus):
    """Half positives; of the negatives exactly cross_share cross-speaker, as the Trainer draws them per clip batch."""
    from train_expert.objectives import draw_negatives, pair_kinds

    _, _, _, _, config = corpus
    pairs = pair_dataset(config, visual_spec((68, 3), mouth_only=True), "train", 200, seed=config.seed)
    kinds = [pairs.kind_of(i)[0] for i in range(200)]
    negatives = [k for k in kinds if k != SampleKind.POSITIVE]
    assert len(negatives) == 200 * (1 - config.positive_share)
    assert sum(k == SampleKind.CROSS_SPEAKER for k in negatives) == round(len(negatives) * config.cross_share)
    clip, speaker = torch.arange(4).repeat_interleave(8), torch.tensor([0, 0, 1, 2]).repeat_interleave(8)
    batch_kinds = pair_kinds(clip, torch.arange(8).repeat(4) * 3, speaker, config.min_shift)
    _, _, drawn = draw_negatives(batch_kinds, config.cross_share, torch.Generator().manual_seed(0))
    assert int((drawn == SampleKind.CROSS_SPEAKER).sum()) == round(32 * config.cross_share)


def test_crops_and_model_shapes(corpus):
    _, clips, _, _, _ = corpus
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
