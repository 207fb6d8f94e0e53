"""50 frames/s audio features: a (tiny, random) HuBERT loaded from a folder and the mel stand-in, both aligned."""

import numpy as np
import pytest
from transformers import HubertConfig, HubertModel

from integrations.geneface.conventions import hubert_num_frames
from integrations.geneface.features import AudioFeatureSpec, clip_features, compute_features
from integrations.geneface.vowel_corpus import build_vowel_corpus


@pytest.fixture(scope="module")
def tiny_hubert(tmp_path_factory):
    config = HubertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                          conv_dim=(16,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2)
    folder = tmp_path_factory.mktemp("hubert")
    HubertModel(config).save_pretrained(folder)
    return str(folder)


def test_hubert_folder_gives_genefaces_frame_count(tiny_hubert):
    spec = AudioFeatureSpec("hubert", tiny_hubert, 32)
    for samples in (16000, 25600, 32080):
        wave = np.random.default_rng(samples).normal(0, 0.1, samples).astype(np.float32)
        features = compute_features(wave, spec)
        assert features.shape == (hubert_num_frames(samples), 32)
    with pytest.raises(ValueError, match="gives 32-d features"):
        compute_features(np.zeros(16000, np.float32), AudioFeatureSpec("hubert", tiny_hubert, 1024))
    with pytest.raises(ValueError, match="local HubertModel folder"):
        AudioFeatureSpec("hubert")


def test_store_features_are_cached_and_aligned_to_two_per_frame(tmp_path, tiny_hubert):
    store = build_vowel_corpus(tmp_path / "v", {"train": 1, "val": 1, "test": 1}, 1, 1.2, seed=3)
    clip_id = store.clip_ids("train")[0]
    for spec in (AudioFeatureSpec(), AudioFeatureSpec("hubert", tiny_hubert, 32)):
        first = clip_features(store, clip_id, spec, 30)
        assert first.shape == (60, spec.dim) and first.flags.writeable
        np.testing.assert_array_equal(clip_features(store, clip_id, spec, 30), first)
    assert len(list((store.clip_dir(clip_id) / "features").glob("*.npy"))) == 2
