"""LSE parity with syncnet_python on real encoded clips (25 fps H.264, 30 fps H.264, HEVC): the unmodified reference
produced tests/fixtures/score/real_reference.json (make_real_reference.py); the clips are read from the shared data
folder and the cut ones rebuilt by real_parity_clips.py."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import SHARED_DATA
from unisync_loss.metrics import lse, random_syncnet_state
from unisync_loss.metrics.reference_input import reference_input
from unisync_loss.metrics.syncnet import SyncNet

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "score"
REFERENCE = json.loads((FIXTURES / "real_reference.json").read_text())
_spec = importlib.util.spec_from_file_location("real_parity_clips", FIXTURES / "real_parity_clips.py")
CLIPS = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(CLIPS)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """name -> the file the reference scored (source or rebuilt cut), or a skip reason."""
    folder, files = tmp_path_factory.mktemp("real_parity"), {}
    for name, expected in REFERENCE["clips"].items():
        source = SHARED_DATA / expected["source"]
        if not source.is_file():
            files[name] = f"real clip {expected['source']} not found under {SHARED_DATA} (the shared data folder)"
            continue
        path = CLIPS.build(name, SHARED_DATA, folder)
        if expected["sha256"] is not None and CLIPS.sha256(path) != expected["sha256"]:
            files[name] = (f"rebuilt {name} differs from the file the fixture was made from (this PyAV's encoders "
                           "differ from those that made it)")
            continue
        files[name] = path
    return files


def _syncnet(expected: dict) -> SyncNet:
    net = SyncNet()
    net.load_state_dict(random_syncnet_state(expected["weights_seed"], expected["shared_bias"]), strict=False)
    return net.eval().requires_grad_(False)


def _score(built, name: str, encoder: str):
    path = built[name]
    if isinstance(path, str):
        pytest.skip(path)
    torch.set_num_threads(1)
    expected = REFERENCE["clips"][name]
    inputs = reference_input(path, encoder)
    return expected, lse(inputs.frames, inputs.audio, _syncnet(expected), mode="reference", round_tripped=True)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="the ffmpeg executable (what syncnet_python runs) is "
                    "not on PATH: the byte-identical JPEG path needs it")
@pytest.mark.parametrize("name", sorted(REFERENCE["clips"]))
def test_reference_mode_equals_syncnet_python_on_real_clips(built, name):
    expected, result = _score(built, name, "ffmpeg")
    assert result.offset == expected["offset"]
    assert result.num_windows == expected["num_windows"]
    assert result.lse_d == pytest.approx(expected["lse_d"], rel=1e-6)
    assert result.lse_c == pytest.approx(expected["lse_c"], rel=1e-5)
    np.testing.assert_allclose(result.distances, expected["curve_reference_order"][::-1], rtol=1e-6)


def test_fixtures_cover_an_interior_minimum_30fps_and_hevc():
    clips = REFERENCE["clips"]
    assert any(abs(c["offset"]) < 15 for c in clips.values())
    assert "libx265" in {c["codec"] for c in clips.values()}
    assert any("30fps" in name for name in clips)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="the ffmpeg executable (what syncnet_python runs) is "
                    "not on PATH: the byte-identical JPEG path needs it")
def test_score_command_precropped_reference_mode_reports_the_reference_numbers(built, tmp_path, capsys):
    from unisync_loss.cli import main

    name = "h264_25fps_b"
    if isinstance(built[name], str):
        pytest.skip(built[name])
    expected = REFERENCE["clips"][name]
    weights = tmp_path / "syncnet_v2.model"
    torch.save(random_syncnet_state(expected["weights_seed"], expected["shared_bias"]), weights)
    out = tmp_path / "scores.jsonl"
    assert main(["score", str(built[name]), "--syncnet", str(weights), "--precropped", "--mode", "reference",
                 "--jpeg-encoder", "ffmpeg", "--json", str(out), "--device", "cpu"]) == 0
    record = json.loads(out.read_text().splitlines()[0])
    assert record["status"] == "ok" and record["crop"] == "none"
    assert record["tracks"][0]["jpeg_encoder"] == "ffmpeg"
    assert record["offset"] == expected["offset"]
    assert record["lse_d"] == pytest.approx(expected["lse_d"], rel=1e-6)
    assert record["lse_c"] == pytest.approx(expected["lse_c"], rel=1e-5)
