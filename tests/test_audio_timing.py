"""Video frame <-> audio feature frame alignment at any frame rate; Wav2Lip and GeneFace conventions pinned."""

import pytest
import torch

from unisync_loss.audio.mel import Wav2LipMel
from unisync_loss.timing import (audio_frame_index, audio_frames_needed, audio_window_indices, frames_per_window,
                                 samples_for_video_frames, video_frames_in, window_sample_span)


def test_wav2lip_training_convention():
    # Wav2Lip's SyncNet dataset: start = int(80. * (frame / float(fps))), 16 mel frames, fps 25.
    starts = torch.arange(5000)
    windows = audio_window_indices(starts, fps=25.0, rate=80.0, window=frames_per_window(80.0))
    expected = torch.tensor([int(80.0 * (i / 25.0)) for i in range(5000)])
    assert windows.shape == (5000, 16)
    assert torch.equal(windows[:, 0], expected) and torch.equal(windows[:, -1], expected + 15)


@pytest.mark.parametrize("fps", [25.0, 29.97, 30.0, 22.13, 1350 / 61])
def test_wav2lip_inference_convention_at_any_fps(fps):
    # Wav2Lip's inference: start = int(i * (80. / fps)).
    assert all(audio_frame_index(i, fps, 80.0) == int(i * (80.0 / fps)) for i in range(20000))


def test_geneface_convention():
    # GeneFace: video frame i pairs with HuBERT frames 2i .. 2i + 10.
    windows = audio_window_indices(torch.arange(1000), fps=25.0, rate=50.0, window=frames_per_window(50.0))
    assert torch.equal(windows, 2 * torch.arange(1000)[:, None] + torch.arange(10))


@pytest.mark.parametrize("fps", [25.0, 29.97, 22.13])
def test_mel_and_hubert_windows_start_at_the_same_time(fps):
    for i in range(0, 3000, 7):
        start = i / fps
        mel, hubert = audio_frame_index(i, fps, 80.0) / 80.0, audio_frame_index(i, fps, 50.0) / 50.0
        assert 0 <= start - mel < 1 / 80 + 1e-9 and 0 <= start - hubert < 1 / 50 + 1e-9
        sample_start, sample_stop = window_sample_span(i, fps)
        assert abs(sample_start / 16000 - start) < 1 / 16000 and sample_stop - sample_start == 3200


@pytest.mark.parametrize("frames", [5, 6, 25, 101])
def test_frontends_cover_every_window(frames):
    samples = samples_for_video_frames(frames, 25.0)
    assert samples == 640 * frames and video_frames_in(samples, 25.0) == frames
    assert Wav2LipMel().num_frames(samples) >= audio_frames_needed(frames, 25.0, 80.0)
    assert -(-samples // 320) == audio_frames_needed(frames, 25.0, 50.0) == 2 * frames


def test_frame_counts_at_ntsc_and_odd_rates():
    assert video_frames_in(16000 * 10, 29.97) == 299
    assert video_frames_in(97710, 1350 / 61) == 135
    assert samples_for_video_frames(135, 1350 / 61) == 97600
    with pytest.raises(ValueError, match="num_samples"):
        video_frames_in(-1, 25.0)
    with pytest.raises(ValueError, match="fps"):
        samples_for_video_frames(3, 0.0)
