"""Window access of a clip store split: indices of any integral type, clear errors for anything else."""

from __future__ import annotations

import numpy as np
import pytest

from test_trainer_toystore import make_store
from train_expert.windows import WindowSource
from unisync_loss import create_representation
from unisync_loss.audio.features import precompute_features


def test_numpy_indices_give_the_same_windows_and_others_are_refused(tmp_path):
    store = make_store(tmp_path / "store", speakers=2, clips_per_speaker=1, frames=40)
    audio, visual = create_representation("mel"), create_representation({"name": "3dmm", "num_coeffs": 8})
    precompute_features(store, audio, progress=False)
    source = WindowSource(store, audio, visual, "train")
    start = source.clips[0].num_starts - 1
    for clip, at in ((np.int64(0), np.int64(start)), (np.int32(0), np.uint8(start))):
        np.testing.assert_array_equal(source.audio_window(clip, at), source.audio_window(0, start))
        np.testing.assert_array_equal(source.visual_window(clip, at), source.visual_window(0, start))
    with pytest.raises(ValueError, match="start: .* got 3.0"):
        source.audio_window(0, 3.0)
    with pytest.raises(ValueError, match="clip: expected an integer index"):
        source.visual_window(True, 0)
    with pytest.raises(ValueError, match="window starts"):
        source.audio_window(0, start + 1)
