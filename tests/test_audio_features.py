"""Feature cache: computed once per clip with the representation's frontend, keyed by settings, memory-mapped."""

import numpy as np
import pytest
import torch

from unisync_loss.audio import features
from unisync_loss.audio.features import cached_features, compute_features, feature_config, precompute_features
from unisync_loss.audio.mel import MelFrontend
from unisync_loss.data.clip_store import Clip, ClipStore


@pytest.fixture()
def store(tmp_path):
    store = ClipStore.create(tmp_path / "store")
    g = torch.Generator().manual_seed(0)
    for i in range(2):
        audio = (0.1 * torch.randn(640 * 20, generator=g)).numpy().astype(np.float32)
        store.write_clip(Clip(id=f"clip{i}", speaker=f"s{i}", split="train", audio=audio,
                              coeffs3dmm=np.zeros((20, 64), np.float32)))
    return store


def test_compute_features_matches_the_frontend():
    wave = 0.1 * torch.randn(8000, generator=torch.Generator().manual_seed(1))
    mel = compute_features("mel", wave)
    torch.testing.assert_close(mel, MelFrontend()(wave[None])[0])
    pcm = compute_features("mel", (wave.numpy() * 32767).astype(np.int16))
    torch.testing.assert_close(pcm, mel, atol=2e-3, rtol=0)
    resampled = compute_features("mel", np.repeat(wave.numpy(), 2), sample_rate=32000)
    assert resampled.shape == mel.shape
    with pytest.raises(ValueError, match=r"wave: expected one waveform of shape \(S,\)"):
        compute_features("mel", wave[None])
    with pytest.raises(ValueError, match="audio representation"):
        compute_features("rgb", wave)


def test_cache_computes_once_and_memory_maps(store, monkeypatch):
    calls = []
    original = features.compute_features
    monkeypatch.setattr(features, "compute_features", lambda *a, **k: calls.append(1) or original(*a, **k))
    first = cached_features(store, "clip0", "mel")
    again = cached_features(store, "clip0", "mel")
    assert len(calls) == 1
    assert isinstance(again, np.memmap) and again.dtype == np.float32 and again.shape == (20 * 640 // 200 + 1, 80)
    np.testing.assert_array_equal(first, again)
    expected = MelFrontend()(torch.from_numpy(store.load_array("clip0", "audio", mmap=False))[None])[0]
    np.testing.assert_allclose(again, expected.numpy(), atol=1e-6)


def test_changed_settings_never_reuse_features(store):
    default = cached_features(store, "clip0", "mel")
    other = cached_features(store, "clip0", {"name": "mel", "fmin": 95.0})
    assert not np.array_equal(default, other)
    files = sorted(p.name for p in (store.clip_dir("clip0") / "features").glob("*.npy"))
    assert len(files) == 2 and all(f.startswith("mel-") for f in files)
    assert feature_config("mel")["frontend_version"] == features.FRONTEND_VERSION


def test_precompute_fills_every_clip(store):
    assert precompute_features(store, "mel", progress=False) == 2
    for clip_id in store.clip_ids():
        assert len(list((store.clip_dir(clip_id) / "features").glob("mel-*.npy"))) == 1
    with pytest.raises(ValueError, match="clip_id: .* no clip 'absent'"):
        cached_features(store, "absent", "mel")
