"""Training pairs: kinds and shares as configured, speakers never mislabelled, determinism, sharded order."""

from __future__ import annotations

import numpy as np
import pytest

from test_trainer_toystore import make_store
from unisync_loss.audio.features import precompute_features
from train_expert.sampling import ResumableDistributedSampler, SyncPairDataset
from train_expert.windows import WindowSource
from unisync_loss import SampleKind, create_representation


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    store = make_store(tmp_path_factory.mktemp("sampling") / "store", speakers=3, clips_per_speaker=2, frames=40)
    audio, visual = create_representation("mel"), create_representation({"name": "3dmm", "num_coeffs": 8})
    precompute_features(store, audio, progress=False)
    return WindowSource(store, audio, visual, "train", min_starts=3)


def _items(dataset, n=None):
    return [dataset[i] for i in range(n or len(dataset))]


def test_kinds_and_shares_follow_the_config(source):
    dataset = SyncPairDataset(source, 200, seed=1, positive_share=0.5, cross_share=0.2, other_clip_share=0.5)
    kinds = np.array([int(dataset.kind_of(i)[0]) for i in range(200)])
    assert (kinds == SampleKind.POSITIVE).sum() == 100
    assert (kinds == SampleKind.CROSS_SPEAKER).sum() == 20  # 0.2 of the 100 negatives
    assert (kinds == SampleKind.SAME_SPEAKER).sum() == 80
    other = [dataset.kind_of(i)[1] for i in range(200) if kinds[i] == SampleKind.SAME_SPEAKER]
    assert sum(other) == 40
    none_cross = SyncPairDataset(source, 50, cross_share=0.0)
    assert all(none_cross.kind_of(i)[0] != SampleKind.CROSS_SPEAKER for i in range(50))


def test_pairs_match_their_kind(source):
    dataset = SyncPairDataset(source, 120, seed=3, cross_share=0.3, min_shift=3, max_shift=6)
    for item in _items(dataset):
        kind, same_speaker = int(item["kind"]), int(item["audio_speaker"]) == int(item["visual_speaker"])
        same_clip = int(item["audio_clip"]) == int(item["visual_clip"])
        if kind == SampleKind.POSITIVE:
            assert same_clip and int(item["offset"]) == 0
        elif kind == SampleKind.CROSS_SPEAKER:
            assert not same_speaker  # a same-speaker pair is never labelled cross
        else:
            assert same_speaker
            if same_clip:
                assert 3 <= abs(int(item["offset"])) <= 6
        assert item["audio"].shape == (16, 80) and item["visual"].shape == (5, 8)


def test_positive_audio_is_the_aligned_window(source):
    dataset = SyncPairDataset(source, 10, seed=0)
    item = dataset[1]  # the low-discrepancy rule makes odd items positive at share 0.5
    assert int(item["kind"]) == SampleKind.POSITIVE
    clip = int(item["visual_clip"])
    # the store's coeff 0 is the loudness of the frame: find the start from it
    coeffs = source.store.load_array(source.clips[clip].clip_id, "coeffs3dmm")
    start = int(np.flatnonzero(np.isclose(coeffs[:, 0], item["visual"][0, 0].item()))[0])
    np.testing.assert_array_equal(item["audio"].numpy(), source.audio_window(clip, start))


def test_deterministic_given_seed_and_epoch(source):
    a, b = SyncPairDataset(source, 20, seed=5), SyncPairDataset(source, 20, seed=5)
    for x, y in zip(_items(a), _items(b)):
        assert all(np.array_equal(x[k].numpy(), y[k].numpy()) for k in x)
    b.set_epoch(1)
    assert any(not np.array_equal(x["audio"].numpy(), y["audio"].numpy()) for x, y in zip(_items(a), _items(b)))


def test_sharded_order_is_disjoint_and_resumable(source):
    dataset = SyncPairDataset(source, 64)
    ranks = [ResumableDistributedSampler(dataset, 2, r, batch_size=4, seed=0) for r in range(2)]
    for s in ranks:
        s.set_position(epoch=2)
    orders = [list(s) for s in ranks]
    assert not set(orders[0]) & set(orders[1]) and len(orders[0]) == 32
    ranks[0].set_position(epoch=2, batches_done=3)
    assert list(ranks[0]) == orders[0][12:]


def test_bad_settings_are_named(source):
    with pytest.raises(ValueError, match="max_shift"):
        SyncPairDataset(source, 10, min_shift=4, max_shift=2)
    with pytest.raises(ValueError, match="cross_share"):
        SyncPairDataset(source, 10, cross_share=1.5)
    one_speaker = WindowSource.__new__(WindowSource)
    one_speaker.__dict__.update(source.__dict__, clips_of_speaker={0: [0]})
    with pytest.raises(ValueError, match="two speakers"):
        SyncPairDataset(one_speaker, 10, cross_share=0.2)
