"""Rebuilt Wav2Lip networks: official key layout, parameter counts, outputs, strict checkpoint loading."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from integrations.wav2lip.models import QualityDiscriminator, SyncNetColor, Wav2LipGenerator, parameter_count
from integrations.wav2lip.weights import load_model, read_state_dict

FIXTURES = Path(__file__).parent / "fixtures" / "wav2lip"
#: Computed from Wav2Lip's own models package by fixtures/wav2lip/make_official_layout.py (commit in its "about").
FIXTURE = json.loads((FIXTURES / "official_layout.json").read_text())["models"]
MODELS = {"syncnet": SyncNetColor, "generator": Wav2LipGenerator, "discriminator": QualityDiscriminator}
_spec = importlib.util.spec_from_file_location("wav2lip_official_layout", FIXTURES / "make_official_layout.py")
_maker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_maker)
deterministic_fill, reference_inputs = _maker.deterministic_fill, _maker.reference_inputs  # the fixture's own


@pytest.mark.parametrize("kind,count", [("syncnet", 16_435_072), ("generator", 36_298_035),
                                        ("discriminator", 14_113_793)])
def test_parameter_counts_and_official_key_layout(kind, count):
    model = MODELS[kind]()
    assert parameter_count(model) == count == FIXTURE[kind]["parameters"]
    assert [[k, list(v.shape)] for k, v in model.state_dict().items()] == FIXTURE[kind]["state_dict"]


def test_outputs_match_the_published_architecture():
    x = reference_inputs()
    with torch.no_grad():
        a, v = deterministic_fill(SyncNetColor())(x["mel"], x["lower"])
        out = FIXTURE["syncnet"]["outputs"]
        torch.testing.assert_close(a[:, :8], torch.tensor(out["audio"]), atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(torch.cosine_similarity(a, v), torch.tensor(out["cosine"]), atol=1e-5, rtol=1e-4)
        g = deterministic_fill(Wav2LipGenerator())(x["mel"], x["faces"])
        out = FIXTURE["generator"]["outputs"]
        torch.testing.assert_close(g[:, :, 40, 50], torch.tensor(out["pixels"]), atol=1e-5, rtol=1e-4)
        assert g.mean().item() == pytest.approx(out["mean"], abs=1e-5)
        d = deterministic_fill(QualityDiscriminator())(x["disc"])
        torch.testing.assert_close(d.flatten(), torch.tensor(FIXTURE["discriminator"]["outputs"]["pred"]),
                                   atol=1e-5, rtol=1e-4)


def test_generator_sequence_form_keeps_time_axis():
    gen = Wav2LipGenerator(width=0.125).eval()
    with torch.no_grad():
        seq = gen(torch.zeros(2, 3, 1, 80, 16), torch.rand(2, 6, 3, 96, 96))
    assert seq.shape == (2, 3, 3, 96, 96)


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning", "ignore:.*torch.jit.load.*:FutureWarning")
def test_official_checkpoint_formats_load_strictly(tmp_path):
    model = deterministic_fill(SyncNetColor(width=0.25))  # same layout, smaller tensors; the width is read back
    official = {"state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}, "optimizer": None,
                "global_step": 10, "global_epoch": 1}
    torch.save(official, tmp_path / "lipsync_expert.pth")
    loaded = load_model("syncnet", tmp_path / "lipsync_expert.pth")
    assert torch.equal(loaded.face_encoder[0].conv_block[0].weight, model.face_encoder[0].conv_block[0].weight)
    scripted = torch.jit.trace(model, (torch.zeros(1, 1, 80, 16), torch.zeros(1, 15, 48, 96)))
    scripted.save(str(tmp_path / "lipsync_expert_ts.pt"))
    state = read_state_dict(tmp_path / "lipsync_expert_ts.pt")
    assert set(state) == set(model.state_dict())
    loaded = load_model("syncnet", tmp_path / "lipsync_expert_ts.pt")
    assert torch.equal(loaded.audio_encoder[-1].conv_block[1].running_var, model.audio_encoder[-1].conv_block[1].running_var)


def test_wrong_or_damaged_checkpoints_are_named(tmp_path):
    torch.save({"state_dict": SyncNetColor().state_dict()}, tmp_path / "expert.pth")
    with pytest.raises(ValueError, match="holds a Wav2Lip syncnet checkpoint, but a generator"):
        load_model("generator", tmp_path / "expert.pth")
    state = SyncNetColor().state_dict()
    state.pop("face_encoder.0.conv_block.0.bias")
    torch.save({"state_dict": state}, tmp_path / "partial.pth")
    with pytest.raises(ValueError, match="1 missing keys"):
        load_model("syncnet", tmp_path / "partial.pth")
    with pytest.raises(FileNotFoundError):
        load_model("syncnet", tmp_path / "absent.pth")
    (tmp_path / "text.pth").write_text("not a checkpoint")
    with pytest.raises(ValueError, match="text.pth"):
        load_model("syncnet", tmp_path / "text.pth")


def test_bad_image_sizes_are_refused():
    with pytest.raises(ValueError, match="96x96"):
        Wav2LipGenerator()(torch.zeros(1, 1, 80, 16), torch.zeros(1, 6, 128, 128))
    with pytest.raises(ValueError, match=r"\(B, 15, 48, 96\)"):
        SyncNetColor()(torch.zeros(1, 1, 80, 16), torch.zeros(1, 15, 64, 128))
    with pytest.raises(ValueError, match="mel"):
        SyncNetColor()(torch.zeros(1, 80, 16), torch.zeros(1, 15, 48, 96))
