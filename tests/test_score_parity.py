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
from unisync_loss.metrics.lse import channels_first, to_syncnet_range

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
    assert result.lse_d == pytest.approx(reference["lse_d"], rel=1e-6)
    # LSE-C is a difference of two curve values (median - minimum), each held to rtol 1e-6 below (about 1.7e-5
    # absolute at these distances), so it gets their absolute tolerance, not a relative one on a small number
    assert result.lse_c == pytest.approx(reference["lse_c"], abs=2 * 1e-6 * max(reference["curve_reference_order"]))
    # distances are in ascending offset order; the reference's curve runs from offset +15 down to -15
    np.testing.assert_allclose(result.distances, reference["curve_reference_order"][::-1], rtol=1e-6)
    assert result.offsets == list(range(-15, 16))


def test_default_mode_differs_from_reference_only_by_the_jpeg_round_trip(parity, syncnet, reference_result):
    _, frames, audio = parity
    default = lse(frames, audio, syncnet, mode="default")
    assert default.mode == "default" and reference_result.mode == "reference"
    assert default.lse_d != pytest.approx(reference_result.lse_d, rel=1e-4)  # the JPEG round trip is measurable
    float_frames = torch.from_numpy(frames[:8]).permute(0, 3, 1, 2).float() / 255.0
    as_float, as_uint8 = channels_first(float_frames), channels_first(frames[:8])
    assert as_uint8.dtype == torch.uint8 and as_uint8.shape == (3, 8, 224, 224)
    torch.testing.assert_close(to_syncnet_range(as_float), to_syncnet_range(as_uint8), rtol=0, atol=1e-4)
    bgr = to_syncnet_range(as_uint8[:, :1])[:, 0]
    torch.testing.assert_close(bgr, torch.from_numpy(frames[0, :, :, ::-1].astype(np.float32)).permute(2, 0, 1))


def test_jpeg_round_trip_is_lossy_deterministic_and_checked(parity):
    from unisync_loss.metrics.jpeg import jpeg_round_trip

    frames = parity[1][:4]
    once, again = jpeg_round_trip(frames), jpeg_round_trip(frames)
    assert once.shape == frames.shape and once.dtype == np.uint8
    np.testing.assert_array_equal(once, again)
    change = np.abs(once.astype(int) - frames).mean()
    assert 1.0 < change < 20.0  # the default 200 kb/s rate control quantises visibly
    assert not np.array_equal(jpeg_round_trip(frames, chroma="444"), once)
    with pytest.raises(ValueError, match="chroma"):
        jpeg_round_trip(frames, chroma="422")
    with pytest.raises(ValueError, match="frames"):
        jpeg_round_trip(frames.astype(np.float32))
