"""SyncNet weights loading, MFCC settings and the LSE protocol's pieces (offset sign, windows, filters, bad input)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.signal import medfilt

from unisync_loss.metrics import SyncNet, load_syncnet, lse, random_syncnet_state
from unisync_loss.metrics.lse import median_filter, mfcc_windows, num_windows, offset_distances, summarise
from unisync_loss.metrics.mfcc import syncnet_mfcc, to_int16_scale


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "syncnet_v2.model"
    torch.save(random_syncnet_state(3), path)
    return path


def test_published_format_loads_strictly_and_fills_batch_norm_counters(weights):
    state = torch.load(weights, weights_only=True)
    assert not any(k.endswith("num_batches_tracked") for k in state)
    model = load_syncnet(weights)
    assert not model.training
    loaded = model.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in state.items())
    assert int(loaded["netcnnlip.1.num_batches_tracked"]) == 0
    assert sorted(k for k in state if k.startswith("netfcaud")) == [
        f"netfcaud.{i}.{n}" for i, n in [(0, "bias"), (0, "weight"), (1, "bias"), (1, "running_mean"),
                                          (1, "running_var"), (1, "weight"), (3, "bias"), (3, "weight")]]


def test_random_state_is_deterministic():
    a, b = random_syncnet_state(7), random_syncnet_state(7)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["netcnnaud.0.weight"], random_syncnet_state(8)["netcnnaud.0.weight"])


def test_wrong_keys_and_shapes_are_named(tmp_path):
    state = random_syncnet_state(0)
    state["extra.weight"] = torch.zeros(1)
    del state["netfclip.3.bias"]
    state["netcnnaud.0.weight"] = torch.zeros(64, 1, 5, 5)
    path = tmp_path / "bad.model"
    torch.save(state, path)
    with pytest.raises(ValueError) as err:
        load_syncnet(path)
    message = str(err.value)
    assert "netfclip.3.bias" in message and "extra.weight" in message
    assert "netcnnaud.0.weight: expected (64, 1, 3, 3), got (64, 1, 5, 5)" in message


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="syncnet_v2.model"):
        load_syncnet(tmp_path / "absent.model")
    (tmp_path / "junk.model").write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="junk.model"):
        load_syncnet(tmp_path / "junk.model")
    torch.save(torch.zeros(3), tmp_path / "tensor.model")
    with pytest.raises(ValueError, match="state dict"):
        load_syncnet(tmp_path / "tensor.model")


def test_sequence_embedding_equals_window_embedding(weights):
    model = load_syncnet(weights)
    frames = torch.rand(3, 8, 224, 224) * 255
    windows = torch.stack([frames[:, v:v + 5] for v in range(4)])
    with torch.no_grad():
        torch.testing.assert_close(model.embed_video_sequence(frames), model.embed_video(windows), rtol=1e-4, atol=1e-4)
        assert model.embed_audio(torch.randn(2, 1, 13, 20)).shape == (2, 1024)
    with pytest.raises(ValueError, match="video_windows"):
        model.embed_video(torch.zeros(1, 3, 5, 96, 96))


def test_mfcc_uses_python_speech_features_defaults():
    import python_speech_features

    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(16000) * 3000).astype(np.int16)
    mfcc = syncnet_mfcc(audio)
    expected = python_speech_features.mfcc(audio.astype(float), 16000, winlen=0.025, winstep=0.01, numcep=13,
                                           nfilt=26, nfft=512, preemph=0.97, ceplifter=22, appendEnergy=True)
    np.testing.assert_array_equal(mfcc, expected.T)
    assert mfcc.shape == (13, 99)
    np.testing.assert_array_equal(syncnet_mfcc(audio.astype(np.float32) / 32768.0), mfcc)  # float in [-1, 1]
    windows = mfcc_windows(mfcc, 20)
    assert windows.shape == (20, 1, 13, 20)
    np.testing.assert_array_equal(windows[3, 0].numpy(), mfcc[:, 12:32].astype(np.float32))


def test_audio_checks():
    with pytest.raises(ValueError, match="audio"):
        to_int16_scale(np.ones(100, np.float32) * 2)
    with pytest.raises(ValueError, match="audio"):
        to_int16_scale(np.zeros((2, 100), np.float32))
    with pytest.raises(ValueError, match="audio"):
        to_int16_scale(np.zeros(100, np.int32))


def test_offset_sign_window_count_and_confidence_filter():
    # video window v equals audio window v - 3: the sound comes 3 frames before the picture -> offset +3
    torch.manual_seed(0)
    audio = torch.randn(40, 16)
    video = torch.cat([torch.randn(3, 16), audio[:-3]])
    dists = offset_distances(video, audio)
    result = summarise(dists, 15, "default")
    assert result.offset == 3
    assert result.distances[result.offsets.index(3)] == pytest.approx(result.lse_d)
    assert result.lse_c == pytest.approx(float(torch.tensor(result.distances).median()) - result.lse_d, rel=1e-6)
    assert num_windows(40, 40 * 640) == 35 and num_windows(50, 30 * 640 + 639) == 25
    values = torch.randn(30)
    np.testing.assert_allclose(median_filter(values, 9).numpy(), medfilt(values.numpy(), 9), rtol=1e-6)


def test_lse_bad_inputs():
    model = SyncNet().eval()
    audio = np.zeros(16000, np.float32)
    with pytest.raises(ValueError, match="6 frames"):
        lse(np.zeros((5, 224, 224, 3), np.uint8), audio, model)
    with pytest.raises(ValueError, match="6 frames"):
        lse(np.zeros((20, 224, 224, 3), np.uint8), audio[:3000], model)
    with pytest.raises(ValueError, match="224"):
        lse(np.zeros((20, 96, 96, 3), np.uint8), audio, model)
    with pytest.raises(ValueError, match="reference mode"):
        lse(torch.zeros(20, 3, 224, 224), audio, model, mode="reference")
    with pytest.raises(ValueError, match="mode"):
        lse(np.zeros((20, 224, 224, 3), np.uint8), audio, model, mode="fast")
    with pytest.raises(ValueError, match="syncnet"):
        lse(np.zeros((20, 224, 224, 3), np.uint8), audio, object())
