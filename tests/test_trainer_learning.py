"""Experts learn: clip batches, the batch objectives, the time budget, and held-out accuracy well above chance."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from test_trainer_resume import CPU, tiny_config
from test_trainer_toystore import make_store
from train_expert.clip_batches import ClipGroupBatches
from train_expert.evaluate import evaluate_expert
from train_expert.objectives import IGNORED, balanced_pairs, draw_negatives, multiway_contrastive, pair_kinds
from train_expert.trainer import Trainer
from train_expert.windows import WindowSource
from unisync_loss import SampleKind, UniSyncExpert, create_representation
from unisync_loss.audio.features import precompute_features
from unisync_loss.data import ClipStore

P, S, C = int(SampleKind.POSITIVE), int(SampleKind.SAME_SPEAKER), int(SampleKind.CROSS_SPEAKER)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("learning") / "store"
    return make_store(root, speakers=8, clips_per_speaker=2, frames=64, val_speakers=3, seed=3)


def test_pair_kinds_label_every_pair():
    clip = torch.tensor([0, 0, 0, 1, 2])
    start = torch.tensor([10, 11, 20, 10, 10])
    speaker = torch.tensor([0, 0, 0, 0, 1])
    kinds = pair_kinds(clip, start, speaker, min_shift=2)
    expected = torch.tensor([
        [P, IGNORED, S, S, C],
        [IGNORED, P, S, S, C],
        [S, S, P, S, C],
        [S, S, S, P, C],
        [C, C, C, C, P],
    ])
    assert torch.equal(kinds, expected)
    with pytest.raises(ValueError, match="min_shift"):
        pair_kinds(clip, start, speaker, min_shift=0)
    with pytest.raises(ValueError, match="start"):
        pair_kinds(clip, start[:3], speaker, min_shift=2)


def test_drawn_negatives_follow_the_kinds_and_the_cross_share():
    n = 40
    clip = torch.arange(n) // 8
    start = (torch.arange(n) % 8) * 3
    speaker = clip // 2  # two clips per speaker
    kinds = pair_kinds(clip, start, speaker, min_shift=2)
    generator = torch.Generator().manual_seed(0)
    rows, columns, kind = draw_negatives(kinds, cross_share=0.25, generator=generator)
    assert torch.equal(rows, torch.arange(n))
    assert torch.equal(kinds[rows, columns], kind)
    assert (kind != P).all() and (kind != IGNORED).all()
    assert int((kind == C).sum()) == 10  # round(40 * 0.25), exactly
    p, pair_kind = balanced_pairs(torch.rand(n, n), kinds, 0.25, torch.Generator().manual_seed(0))
    assert p.shape == (2 * n,) and int((pair_kind == P).sum()) == n
    with pytest.raises(ValueError, match="cross_share"):
        draw_negatives(kinds, cross_share=1.5)


def test_contrastive_term_prefers_the_aligned_audio():
    kinds = pair_kinds(torch.zeros(6, dtype=torch.long), torch.arange(6) * 3, torch.zeros(6, dtype=torch.long), 2)
    aligned = torch.eye(6) * 0.9 + 0.05
    shuffled = aligned[:, torch.tensor([1, 2, 3, 4, 5, 0])]
    assert multiway_contrastive(aligned, kinds, 0.1) < 0.01 < multiway_contrastive(shuffled, kinds, 0.1)
    with pytest.raises(ValueError, match="temperature"):
        multiway_contrastive(aligned, kinds, 0.0)


def test_clip_batches_are_reproducible_and_grouped(store):
    rep_a, rep_v = create_representation("mel"), create_representation({"name": "3dmm", "num_coeffs": 8})
    precompute_features(store, rep_a, store.clip_ids("train"), progress=False)
    source = WindowSource(store, rep_a, rep_v, "train", min_starts=8)
    batches = ClipGroupBatches(source, length=5, clips_per_batch=3, windows_per_clip=4, seed=1)
    first, again = batches[2], batches[2]
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert first["audio"].shape == (12, 16, 80) and first["visual"].shape == (12, 5, 8)
    clips = first["clip"].view(3, 4)
    assert (clips == clips[:, :1]).all() and len(set(clips[:, 0].tolist())) == 3
    assert all(len(set(row.tolist())) == 4 for row in first["start"].view(3, 4))
    batches.set_epoch(1)
    assert not torch.equal(batches[2]["start"], first["start"])
    with pytest.raises(ValueError, match="windows_per_clip"):
        ClipGroupBatches(source, length=5, clips_per_batch=3, windows_per_clip=500)
    with pytest.raises(IndexError):
        batches[5]


def test_time_budget_stops_evaluates_and_exports(store, tmp_path):
    config = tiny_config(store.root, tmp_path / "run", max_steps=10_000, max_minutes=0.002, eval_every=10_000,
                         checkpoint_every=10_000)
    summary = Trainer(config, CPU, progress=False, tensorboard=False).train()
    assert summary["stopped_by"] == "time" and 1 <= summary["steps"] < 10_000
    assert [h["step"] for h in summary["history"]] == [summary["steps"]]
    assert (tmp_path / "run" / "best" / "model.safetensors").is_file()
    assert (tmp_path / "run" / "checkpoints" / "last.pt").is_file()


def _train_and_test(store, out, recipe: str, steps: int) -> dict:
    config = tiny_config(store.root, out, recipe=recipe, visual="rgb", visual_options={"height": 16, "width": 32},
                         channels=16, embed_dim=32, batch_size=32, windows_per_clip=8, max_steps=steps,
                         warmup_steps=5, eval_every=steps, checkpoint_every=steps, samples_per_epoch=640,
                         val_pairs=128, lr=2e-3, seed=0)
    Trainer(config, CPU, progress=False, tensorboard=False).train()
    expert = UniSyncExpert.from_pretrained(out / "best")
    return evaluate_expert(expert, ClipStore(store.root), "test", pairs=512, seed=0)


def test_unisync_recipe_learns_rgb_sync_of_unseen_speakers(store, tmp_path):
    """Mouth height follows loudness; 100 steps of the UniSync recipe separate synced from shifted windows of held-out
    speakers far above chance (AUC 0.5, offset accuracy 3/31 = 0.10)."""
    torch.set_num_threads(1)
    result = _train_and_test(store, tmp_path / "unisync", "unisync", steps=100)
    assert result["protocol_a"]["auc"] > 0.75, result["protocol_a"]
    assert result["protocol_b"]["K11"] > 0.4, result["protocol_b"]  # chance: about 0.1
    assert np.isfinite(result["protocol_a"]["eer"])


def test_init_from_starts_from_the_expert_and_checks_its_settings(store, tmp_path):
    first = Trainer(tiny_config(store.root, tmp_path / "a", max_steps=2), CPU, progress=False, tensorboard=False)
    first.train()
    source = UniSyncExpert.from_pretrained(tmp_path / "a" / "best")
    second = Trainer(tiny_config(store.root, tmp_path / "b", init_from=str(tmp_path / "a" / "best")), CPU,
                     progress=False, tensorboard=False)
    for key, value in source.state_dict().items():
        assert torch.equal(value, second.model.state_dict()[key]), key
    with pytest.raises(ValueError, match="embed_dim"):
        Trainer(tiny_config(store.root, tmp_path / "c", embed_dim=8, init_from=str(tmp_path / "a" / "best")), CPU,
                progress=False, tensorboard=False)
