import json

import numpy as np
import pytest

from unisync_loss.data import Clip, ClipStore, feature_key


def make_clip(clip_id="c0", speaker="s0", split="train", frames=10, seed=0):
    rng = np.random.default_rng(seed)
    return Clip(
        id=clip_id, speaker=speaker, split=split,
        audio=rng.standard_normal(frames * 640).astype(np.float32) * 0.1,
        frames=rng.integers(0, 255, (frames, 96, 96, 3), dtype=np.uint8),
        landmarks=rng.random((frames, 68, 2), dtype=np.float32) * 96,
        parsing=rng.integers(0, 19, (frames, 96, 96), dtype=np.uint8),
        coeffs3dmm=rng.standard_normal((frames, 64)).astype(np.float32),
        extra={"source": "unit test"},
    )


def test_round_trip_memory_mapped(tmp_path):
    store = ClipStore.create(tmp_path / "store", info={"kind": "test"})
    clip = make_clip()
    store.write_clip(clip)
    store.write_clip(make_clip("c1", "s1", "val", frames=7, seed=1))
    store.reindex()
    reopened = ClipStore(tmp_path / "store")
    assert reopened.clip_ids() == ["c0", "c1"] and reopened.clip_ids("val") == ["c1"]
    assert reopened.speakers() == ["s0", "s1"]
    loaded = reopened.load_clip("c0")
    assert isinstance(loaded.frames, np.memmap)
    for name in ("audio", "frames", "landmarks", "parsing", "coeffs3dmm"):
        assert np.array_equal(getattr(loaded, name), getattr(clip, name))
    assert loaded.extra == {"source": "unit test"} and loaded.num_frames == 10
    meta = reopened.meta("c0")
    assert meta["num_samples"] == 6400 and meta["arrays"]["frames"]["shape"] == [10, 96, 96, 3]


def test_different_corpus_in_same_folder_is_refused(tmp_path):
    ClipStore.create(tmp_path / "s", info={"seed": 0})
    ClipStore.create(tmp_path / "s", info={"seed": 0})  # same: reopened
    with pytest.raises(ValueError, match="holds a different store"):
        ClipStore.create(tmp_path / "s", info={"seed": 1})
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="not an empty folder"):
        ClipStore.create(tmp_path / "other")
    with pytest.raises(FileNotFoundError, match="not a clip store"):
        ClipStore(tmp_path / "other")


def test_validation_names_the_field(tmp_path):
    store = ClipStore.create(tmp_path / "s")
    clip = make_clip()
    clip.audio = clip.audio[:3000]
    with pytest.raises(ValueError, match="must agree within one frame"):
        store.write_clip(clip)
    clip = make_clip()
    clip.landmarks = clip.landmarks[:5]
    with pytest.raises(ValueError, match="differ in length"):
        store.write_clip(clip)
    with pytest.raises(ValueError, match="split must be"):
        store.write_clip(make_clip(split="dev"))
    store.write_clip(make_clip())
    with pytest.raises(FileExistsError):
        store.write_clip(make_clip())


def test_partial_writes_are_invisible_and_cleaned(tmp_path):
    store = ClipStore.create(tmp_path / "s")
    (tmp_path / "s" / "clips" / ".tmp-c9-dead").mkdir()
    store.write_clip(make_clip())
    assert store.reindex() and store.clip_ids() == ["c0"]
    assert store.clean_partial() == 1


def test_feature_cache_keyed_by_settings(tmp_path):
    store = ClipStore.create(tmp_path / "s")
    store.write_clip(make_clip())
    calls = []

    def compute(audio):
        calls.append(len(audio))
        return np.ones((20, 4), np.float32) * len(calls)

    a = store.features("c0", {"name": "mel", "n_mels": 80}, compute)
    b = store.features("c0", {"name": "mel", "n_mels": 80}, compute)
    c = store.features("c0", {"name": "mel", "n_mels": 40}, compute)
    assert calls == [6400, 6400] and a[0, 0] == b[0, 0] == 1 and c[0, 0] == 2
    assert feature_key({"name": "mel", "n_mels": 80}) != feature_key({"name": "mel", "n_mels": 40})
    key_file = next((tmp_path / "s" / "clips" / "c0" / "features").glob("*.json"))
    assert json.loads(key_file.read_text())["name"] == "mel"
