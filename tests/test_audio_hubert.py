"""HuBERT frontend with tiny randomly initialised models saved to a folder and loaded through the real code path."""

import numpy as np
import pytest
import torch
from transformers import HubertConfig, HubertModel, Wav2Vec2FeatureExtractor

from unisync_loss import UniSyncLoss
from unisync_loss.audio.hubert import HubertFrontend, normalise_utterances
from unisync_loss.expert import UniSyncExpert
from unisync_loss.representations import create_representation
from unisync_loss.timing import audio_frames_needed

TINY = dict(hidden_size=32, num_attention_heads=2, intermediate_size=64, conv_dim=(16,) * 7,
            num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4)
LARGE_STYLE = dict(feat_extract_norm="layer", do_stable_layer_norm=True)  # as hubert-large
BASE_STYLE = dict(feat_extract_norm="group", do_stable_layer_norm=False)  # as hubert-base


def save_tiny_hubert(folder, layers=2, style=LARGE_STYLE, seed=0):
    torch.manual_seed(seed)
    HubertModel(HubertConfig(num_hidden_layers=layers, **TINY, **style)).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=True).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return save_tiny_hubert(tmp_path_factory.mktemp("tiny_hubert"))


def speech(seconds, seed=0, batch=1):
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(int(seconds * 16000)) / 16000
    tone = torch.sin(2 * torch.pi * 180 * t) * torch.sin(2 * torch.pi * 3 * t).clamp_min(0)
    return 0.3 * tone + 0.05 * torch.randn(batch, t.numel(), generator=g)


def test_matches_genefaces_processor_and_model_pipeline(tiny):
    wave = speech(1.3)
    ours = HubertFrontend(tiny, expected_dim=32)(wave)[0]
    processor = Wav2Vec2FeatureExtractor.from_pretrained(tiny)
    model = HubertModel.from_pretrained(tiny).eval()
    inputs = processor(wave[0].numpy(), sampling_rate=16000, return_tensors="pt").input_values
    with torch.no_grad():
        reference = model(inputs).last_hidden_state[0]
    kept = (wave.shape[1] - 80) // 320  # GeneFace's expected_T
    assert reference.shape[0] == kept
    assert ours.shape == (-(-wave.shape[1] // 320), 32)
    torch.testing.assert_close(ours[:kept], reference, atol=1e-4, rtol=1e-4)
    assert bool((ours[kept:] == 0).all())  # GeneFace's zero padding of the tail


@pytest.mark.parametrize("num_video_frames", [5, 12, 37])
def test_video_frames_get_twice_as_many_frames(tiny, num_video_frames):
    frontend = HubertFrontend(tiny)
    features = frontend(torch.randn(1, 640 * num_video_frames))
    assert features.shape[1] == 2 * num_video_frames == frontend.num_frames(640 * num_video_frames)
    assert features.shape[1] >= audio_frames_needed(num_video_frames, 25.0, frontend.rate)
    assert frontend.rate == 50.0


def test_chunked_equals_unchunked_without_attention(tmp_path):
    # With no transformer layer every frame depends on a bounded neighbourhood, so the chunk arithmetic (which
    # samples feed which frames, how much context, where to cut) must reproduce the unchunked result exactly.
    folder = save_tiny_hubert(tmp_path, layers=0)
    wave = speech(3.0)
    whole = HubertFrontend(folder, chunk_seconds=100.0)(wave)
    frontend = HubertFrontend(folder, chunk_seconds=0.7, context_seconds=0.3)
    assert len(frontend.chunks(frontend.model_frames(wave.shape[1]))) >= 4
    torch.testing.assert_close(frontend(wave), whole, atol=1e-5, rtol=1e-5)


def test_chunk_context_removes_seam_errors(tiny):
    wave = speech(3.0, seed=1)
    whole = HubertFrontend(tiny, chunk_seconds=100.0)(wave)[0]
    seams = torch.arange(35, whole.shape[0] - 1, 35)  # chunk_seconds=0.7 -> 35 frames
    errors = {}
    for context in (0.0, 0.6):
        chunked = HubertFrontend(tiny, chunk_seconds=0.7, context_seconds=context)(wave)[0]
        errors[context] = (chunked - whole).abs().amax(-1)
    near_seams = torch.cat([seams - 1, seams])
    assert errors[0.6][near_seams].max() < 0.25 * errors[0.0][near_seams].max()
    assert errors[0.6].mean() < 0.05 * whole.abs().mean()


def test_padded_batch_equals_items_alone(tiny):
    frontend = HubertFrontend(tiny)
    a, b = speech(1.6, seed=2)[0], speech(1.0, seed=3)[0]
    batch = torch.stack([a, torch.cat([b, torch.zeros(a.numel() - b.numel())])])
    out = frontend(batch, lengths=torch.tensor([a.numel(), b.numel()]))
    alone_b = frontend(b[None])[0]
    torch.testing.assert_close(out[0], frontend(a[None])[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out[1, : alone_b.shape[0]], alone_b, atol=1e-5, rtol=1e-5)
    assert bool((out[1, alone_b.shape[0]:] == 0).all())


def test_group_norm_models_run_items_separately(tmp_path):
    frontend = HubertFrontend(save_tiny_hubert(tmp_path, style=BASE_STYLE))
    a, b = speech(1.2, seed=4)[0], speech(0.5, seed=5)[0]
    batch = torch.stack([a, torch.cat([b, torch.zeros(a.numel() - b.numel())])])
    out = frontend(batch, lengths=[a.numel(), b.numel()])
    alone_b = frontend(b[None])[0]
    torch.testing.assert_close(out[1, : alone_b.shape[0]], alone_b, atol=1e-5, rtol=1e-5)


def test_layer_selection(tiny):
    wave = speech(0.5)
    model = HubertModel.from_pretrained(tiny).eval()
    normalised = normalise_utterances(wave, torch.tensor([wave.shape[1]]))
    with torch.no_grad():
        states = model(normalised, output_hidden_states=True).hidden_states
    kept = (wave.shape[1] - 80) // 320
    for layer in (0, 1):
        torch.testing.assert_close(HubertFrontend(tiny, layer=layer)(wave)[0, :kept], states[layer][0], atol=1e-4,
                                   rtol=1e-4)
    with pytest.raises(ValueError, match="layer"):
        HubertFrontend(tiny, layer=3)


def test_normalisation_follows_the_feature_extractor(tiny):
    wave = speech(0.4) * 3 + 0.2
    expected = Wav2Vec2FeatureExtractor(do_normalize=True)(wave[0].numpy(), sampling_rate=16000).input_values[0]
    np.testing.assert_allclose(normalise_utterances(wave, torch.tensor([wave.shape[1]]))[0].numpy(), expected,
                               atol=1e-5)


def test_representation_and_loss_use_the_frontend(tiny):
    rep = create_representation({"name": "hubert", "model": tiny, "dim": 32})
    frontend = rep.build_frontend()
    assert isinstance(frontend, HubertFrontend) and frontend.feature_dim == 32
    torch.manual_seed(0)
    expert = UniSyncExpert({"name": "hubert", "model": tiny, "dim": 32}, "3dmm", channels=8, embed_dim=16)
    loss = UniSyncLoss("hubert", "3dmm", expert=expert)
    coeffs = torch.randn(2, 12, 64, requires_grad=True)
    value = loss(speech(12 / 25, batch=2), coeffs)
    value.backward()
    assert torch.isfinite(value) and coeffs.grad.abs().sum() > 0


def test_silence_is_finite(tiny):
    assert torch.isfinite(HubertFrontend(tiny)(torch.zeros(2, 4000))).all()


def test_bad_input(tiny, tmp_path):
    frontend = HubertFrontend(tiny)
    with pytest.raises(ValueError, match="NaN"):
        frontend(torch.full((1, 4000), float("nan")))
    with pytest.raises(ValueError, match="at least 3200 samples"):
        frontend(torch.zeros(1, 1000))
    with pytest.raises(ValueError, match="lengths"):
        frontend(torch.zeros(2, 4000), lengths=torch.tensor([4000, 100]))
    with pytest.raises(ValueError, match="expected_dim"):
        HubertFrontend(tiny, expected_dim=1024)
    with pytest.raises(ValueError, match="precision"):
        HubertFrontend(tiny, precision="float8")


def test_missing_model_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="hf download unisync-tests/no-such-hubert"):
        HubertFrontend("unisync-tests/no-such-hubert")
    with pytest.raises(FileNotFoundError, match="no config.json"):
        HubertFrontend(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="expected a model folder"):
        HubertFrontend(str(tmp_path / "absent"))


def test_hubert_features_are_cached_per_model(tiny, tmp_path):
    from unisync_loss.audio.features import cached_features
    from unisync_loss.data.clip_store import Clip, ClipStore

    store = ClipStore.create(tmp_path / "store")
    audio = speech(20 / 25)[0].numpy()
    store.write_clip(Clip(id="c", speaker="s", split="train", audio=audio, coeffs3dmm=np.zeros((20, 64), np.float32)))
    cached = cached_features(store, "c", {"name": "hubert", "model": tiny, "dim": 32})
    assert cached.shape == (40, 32)
    np.testing.assert_allclose(cached, HubertFrontend(tiny)(torch.from_numpy(audio)[None])[0].numpy(), atol=1e-5)
    other = cached_features(store, "c", {"name": "hubert", "model": tiny, "dim": 32, "layer": 1})
    assert not np.allclose(cached, other)


def test_bfloat16_autocast_runs_and_returns_float32(tiny):
    wave = speech(0.5)
    full = HubertFrontend(tiny, precision="float32")(wave)
    reduced = HubertFrontend(tiny, precision="bfloat16")(wave)
    assert reduced.dtype == torch.float32 and reduced.shape == full.shape
    assert (reduced - full).abs().max() < 0.1 * full.abs().max()
    assert not torch.equal(reduced, full)  # the bfloat16 path really ran
