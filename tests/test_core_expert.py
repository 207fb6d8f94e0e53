import json

import pytest
import torch

from conftest import PAIRS, audio_features, visual_sequence
from unisync_loss import UniSyncExpert, create_representation, list_representations, register_representation
from unisync_loss.representations.registry import _REGISTRY
from unisync_loss.representations.morphable import MorphableModelRepresentation


def windows(expert, n=3):
    a = audio_features(expert, n, 5)[:, : expert.audio_rep.window]
    v = visual_sequence(expert, n, 5)
    return a, v


@pytest.mark.parametrize("audio,visual", PAIRS)
def test_every_pair_runs_forward_backward_and_gives_probabilities(audio, visual):
    expert = UniSyncExpert(audio, visual)
    a, v = windows(expert)
    emb_a, emb_v = expert(a, v)
    assert emb_a.shape == emb_v.shape == (3, 512)
    p = expert.sync_probability(a, v)
    assert p.shape == (3,) and torch.all((p >= 0) & (p <= 1))
    p.sum().backward()
    grads = [q.grad for q in expert.parameters()]
    assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)


def test_registry_lists_and_builds_by_name_and_dict():
    assert list_representations("audio") == ["hubert", "mel"]
    assert list_representations("visual") == ["3dmm", "landmarks", "parsing", "rgb"]
    rep = create_representation({"name": "landmarks", "num_points": 468, "dims": 3})
    assert rep.frame_shape == (468, 3) and rep.window == 5
    assert create_representation("mel").window == 16 and create_representation("hubert").window == 10
    with pytest.raises(ValueError, match="unknown name 'flow'"):
        create_representation("flow")
    with pytest.raises(ValueError, match="unknown options"):
        create_representation({"name": "rgb", "channels": 4})
    with pytest.raises(ValueError, match="is visual, but a audio"):
        UniSyncExpert(audio="rgb", visual="rgb")


def test_new_representation_is_one_class_and_one_registry_entry():
    try:
        @register_representation("blendshapes")
        class Blendshapes(MorphableModelRepresentation):
            defaults = {"num_coeffs": 52}

        expert = UniSyncExpert("mel", "blendshapes")
        a = torch.randn(2, 16, 80)
        assert expert.sync_probability(a, torch.randn(2, 5, 52)).shape == (2,)
    finally:
        _REGISTRY.pop("blendshapes", None)


def test_save_load_round_trip_is_bit_exact(tmp_path):
    expert = UniSyncExpert({"name": "hubert", "dim": 768}, {"name": "landmarks", "dims": 3}).eval()
    a, v = windows(expert)
    expert.save_pretrained(tmp_path / "ckpt")
    config = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert config["audio"]["dim"] == 768 and config["audio"]["model"] == "facebook/hubert-large-ls960-ft"
    assert config["visual"] == {"name": "landmarks", "num_points": 68, "dims": 3, "temporal_centring": False}
    assert config["fps"] == 25.0 and config["sample_rate"] == 16000 and "unisync_version" in config
    loaded = UniSyncExpert.from_pretrained(tmp_path / "ckpt")
    for (k1, t1), (k2, t2) in zip(expert.state_dict().items(), loaded.state_dict().items()):
        assert k1 == k2 and torch.equal(t1, t2)
    with torch.no_grad():
        assert torch.equal(expert.sync_probability(a, v), loaded.sync_probability(a, v))


def test_load_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="no config.json"):
        UniSyncExpert.from_pretrained(tmp_path)
    UniSyncExpert("mel", "3dmm").save_pretrained(tmp_path / "a")
    UniSyncExpert("mel", {"name": "3dmm", "num_coeffs": 80}).save_pretrained(tmp_path / "b")
    (tmp_path / "a" / "model.safetensors").replace(tmp_path / "b" / "model.safetensors")
    with pytest.raises(ValueError, match="do not fit"):
        UniSyncExpert.from_pretrained(tmp_path / "b")


def test_window_length_and_batch_checked():
    expert = UniSyncExpert("mel", "3dmm")
    with pytest.raises(ValueError, match="expected 16 mel frames"):
        expert(torch.randn(2, 15, 80), torch.randn(2, 5, 64))
    with pytest.raises(ValueError, match="expected 5 3dmm frames"):
        expert(torch.randn(2, 16, 80), torch.randn(2, 6, 64))
    with pytest.raises(ValueError, match="same batch size"):
        expert(torch.randn(2, 16, 80), torch.randn(3, 5, 64))
    # Wav2Lip's (N, 1, 80, 16) mel layout is accepted.
    assert expert.sync_probability(torch.randn(2, 1, 80, 16), torch.randn(2, 5, 64)).shape == (2,)


@pytest.mark.parametrize("visual", ["rgb", "3dmm"])
def test_temporal_centring_ignores_what_is_constant_within_the_window(visual):
    """With the option on, adding the same frame to all 5 frames (identity, lighting) leaves the embedding unchanged;
    with it off, the embedding moves."""
    embeddings = {}
    for centring in (True, False):
        torch.manual_seed(0)
        expert = UniSyncExpert("mel", {"name": visual, "temporal_centring": centring}, channels=8, embed_dim=16).eval()
        v = visual_sequence(expert, 2, 5) * 0.5
        constant = torch.rand_like(v[:, :1]) * 0.5  # one frame, repeated over time
        with torch.no_grad():
            embeddings[centring] = (expert.embed_visual(v), expert.embed_visual(v + constant))
    change = {c: float((first - second).abs().max()) for c, (first, second) in embeddings.items()}
    assert change[True] < 1e-6 and change[False] > 100 * max(change[True], 1e-7), change
    with pytest.raises(ValueError, match="temporal_centring"):
        create_representation({"name": visual, "temporal_centring": "yes"})


def test_pairwise_probability_matches_the_paired_one():
    from unisync_loss import pairwise_sync_probability, sync_probability

    a, v = torch.randn(4, 16), torch.randn(3, 16)
    matrix = pairwise_sync_probability(a, v)
    assert matrix.shape == (3, 4) and (matrix >= 0).all() and (matrix <= 1).all()
    assert torch.allclose(matrix.diagonal(), sync_probability(a[:3], v), atol=1e-6)
    with pytest.raises(ValueError, match="embedding size"):
        pairwise_sync_probability(a, torch.randn(3, 8))
