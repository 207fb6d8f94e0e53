import pytest
import torch

from unisync_loss.cli import main
from unisync_loss.timing import audio_frame_index, audio_frames_needed, audio_window_indices, frames_per_window


def test_wav2lip_convention():
    # Wav2Lip: mel window of video frame i starts at int(80 * (i / 25)) and spans 16 frames.
    for i in range(0, 500):
        assert audio_frame_index(i, 25, 80) == int(80.0 * (i / 25.0))
    assert frames_per_window(80) == 16


def test_geneface_convention():
    idx = audio_window_indices(torch.arange(100), 25, 50, frames_per_window(50))
    assert torch.equal(idx[:, 0], 2 * torch.arange(100)) and torch.equal(idx[:, -1], 2 * torch.arange(100) + 9)


def test_frames_needed():
    assert audio_frames_needed(5, 25, 80) == 16
    assert audio_frames_needed(25, 25, 50) == 50
    with pytest.raises(ValueError, match="at least 5"):
        audio_frames_needed(4, 25, 80)
    with pytest.raises(ValueError, match="fps"):
        audio_frame_index(3, 0, 80)


def test_cli_lists_commands_and_reports_errors(capsys, unisync_commands):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "demo" in out and "score" in out


def test_indices_of_any_integral_type_are_accepted():
    import numpy as np

    for index in (82, np.int64(82), np.int32(82), np.uint16(82)):
        assert audio_frame_index(index, 25, 80) == 262
    for bad in (82.0, True, "82", np.float32(82)):
        with pytest.raises(ValueError, match="non-negative integer"):
            audio_frame_index(bad, 25, 80)
