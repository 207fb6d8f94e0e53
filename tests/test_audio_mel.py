"""Wav2Lip-compatible mel: parity with Wav2Lip's own librosa pipeline (stored fixture), layout and bad input."""

from pathlib import Path

import numpy as np
import pytest
import torch

from unisync_loss.audio.mel import MelFrontend, Wav2LipMel
from unisync_loss.representations import create_representation

FIXTURE = Path(__file__).parent / "fixtures" / "audio" / "wav2lip_mel_reference.npz"


@pytest.fixture(scope="module")
def reference():
    data = np.load(FIXTURE)
    return torch.from_numpy(data["wave"])[None], {"reflect": data["mel_reflect"], "constant": data["mel_constant"]}


@pytest.mark.parametrize("pad_mode", ["reflect", "constant"])
def test_matches_wav2lip_pipeline_away_from_edges(reference, pad_mode):
    wave, mels = reference
    ours = Wav2LipMel(pad_mode=pad_mode)(wave)[0].numpy()
    assert ours.shape == mels[pad_mode].shape == (80, 24000 // 200 + 1)
    assert np.abs(ours - mels[pad_mode])[:, 2:-2].max() < 1e-3
    # With the matching pad mode even the edge frames agree.
    assert np.abs(ours - mels[pad_mode]).max() < 1e-3


def test_pad_mode_only_changes_first_and_last_two_frames(reference):
    _, mels = reference
    per_frame = np.abs(mels["reflect"] - mels["constant"]).max(axis=0)
    assert per_frame[2:-2].max() == 0.0
    assert per_frame[:2].max() > 1e-2 and per_frame[-2:].max() > 1e-2


def test_frontend_is_time_major_and_batched(reference):
    wave, _ = reference
    batch = torch.cat([wave, 0.5 * wave])
    mel = Wav2LipMel()(batch)
    frames = MelFrontend()(batch)
    assert frames.shape == (2, 121, 80)
    torch.testing.assert_close(frames, mel.transpose(1, 2))
    torch.testing.assert_close(mel[:1], Wav2LipMel()(wave))
    assert Wav2LipMel().num_frames(wave.shape[1]) == mel.shape[-1]


def test_representation_builds_the_frontend(reference):
    wave, mels = reference
    frontend = create_representation("mel").build_frontend()
    np.testing.assert_allclose(frontend(wave)[0].T.numpy(), mels["reflect"], atol=1e-3)


def test_differentiable_and_half_precision_input(reference):
    wave, _ = reference
    wave = wave.clone().requires_grad_(True)
    Wav2LipMel()(wave).sum().backward()
    assert wave.grad is not None and torch.isfinite(wave.grad).all() and wave.grad.abs().sum() > 0
    half = Wav2LipMel()(wave.detach().half())
    assert half.dtype == torch.float32


def test_silence_gives_finite_floor_values():
    mel = Wav2LipMel()(torch.zeros(1, 4000))
    assert torch.isfinite(mel).all() and bool((mel == -4.0).all())


@pytest.mark.parametrize(
    "wave, message",
    [
        (torch.zeros(3200), "wave: expected shape (B, S)"),
        (torch.zeros(1, 3199), "at least 3200 samples"),
        (torch.zeros(1, 8000, dtype=torch.int16), "floating-point"),
        (torch.tensor([[0.0, float("nan")] * 2000]), "NaN"),
        (torch.zeros(0, 8000), "at least one waveform"),
    ],
)
def test_bad_waveforms(wave, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Wav2LipMel()(wave)


def test_bad_settings():
    with pytest.raises(ValueError, match="pad_mode"):
        Wav2LipMel(pad_mode="edge")
    with pytest.raises(ValueError, match="fmax"):
        Wav2LipMel(fmax=9000.0)
