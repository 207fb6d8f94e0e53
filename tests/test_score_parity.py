"""LSE parity with syncnet_python: its own code produced tests/fixtures/score/parity_reference.json on the clip that
tests/fixtures/score/parity_clip.py rebuilds, with random_syncnet_state(seed) weights saved in its file format."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from unisync_loss.metrics import lse, load_syncnet, random_syncnet_state

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "score"


def _recipe():
    spec = importlib.util.spec_from_file_location("score_parity_clip", FIXTURES / "parity_clip.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def parity():
    reference = json.loads((FIXTURES / "parity_reference.json").read_text())
    frames = _recipe().parity_frames(reference["num_frames"])
    audio = np.load(FIXTURES / "parity_audio.npy")
    return reference, frames, audio


@pytest.fixture(scope="module")
def syncnet(tmp_path_factory, parity):
    path = tmp_path_factory.mktemp("syncnet") / "syncnet_v2.model"
    torch.save(random_syncnet_state(parity[0]["weights_seed"]), path)  # the published format: a plain state dict
    return load_syncnet(path)


@pytest.fixture(scope="module")
def reference_result(parity, syncnet):
    _, frames, audio = parity
    return lse(frames, audio, syncnet, mode="reference")


def test_reference_mode_matches_syncnet_python(parity, reference_result):
    reference = parity[0]
    result = reference_result
    assert result.offset == reference["offset"]
    assert result.num_windows == reference["num_windows"]
    assert result.lse_d == pytest.approx(reference["lse_d"], rel=1e-3)
    assert result.lse_c == pytest.approx(reference["lse_c"], rel=1e-3)
    # distances are in ascending offset order; the reference's curve runs from offset +15 down to -15
    np.testing.assert_allclose(result.distances, reference["curve_reference_order"][::-1], rtol=1e-4)
    assert result.offsets == list(range(-15, 16))


def test_default_mode_differs_from_reference_only_by_the_jpeg_round_trip(parity, syncnet, reference_result):
    _, frames, audio = parity
    default = lse(frames, audio, syncnet, mode="default")
    assert default.mode == "default" and reference_result.mode == "reference"
    assert default.lse_d != pytest.approx(reference_result.lse_d, rel=1e-4)  # the JPEG round trip is measurable
    float_frames = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0
    same = lse(float_frames, torch.from_numpy(audio.astype(np.float32) / 32768.0), syncnet)
    assert same.lse_d == pytest.approx(default.lse_d, rel=1e-5)
    assert same.offset == default.offset
