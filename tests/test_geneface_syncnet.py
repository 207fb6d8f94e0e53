"""GeneFace's landmark SyncNet: key names, shapes and outputs pinned against the published model."""

import json
import math
from pathlib import Path

import pytest
import torch

from integrations.geneface.syncnet import (GeneFaceSyncNet, find_checkpoint, load_geneface_syncnet,
                                           save_geneface_checkpoint)

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "geneface" / "syncnet_reference.json").read_text())



def deterministic_state(model):
    """The weights the fixture was made with: a sine of the element index, scaled per tensor role."""
    state = {}
    for j, (key, value) in enumerate(model.state_dict().items()):
        if value.dtype == torch.long:
            state[key] = torch.full_like(value, 7)
            continue
        wave = torch.sin(12.9898 * torch.arange(value.numel(), dtype=torch.float64) + 78.233 * j)
        if key.endswith("running_var"):
            vals = 1.0 + 0.2 * wave.abs()
        elif key.endswith("running_mean"):
            vals = 0.05 * wave
        elif value.ndim == 3:
            vals = math.sqrt(3.0 / (value.shape[1] * value.shape[2])) * wave
        elif "conv_block.1.weight" in key:
            vals = 1.0 + 0.1 * wave
        else:
            vals = 0.1 * wave
        state[key] = vals.reshape(value.shape).float()
    return state


def reference_inputs():
    hubert = torch.sin(1.37 * torch.arange(2 * 10 * 1024, dtype=torch.float64)).reshape(2, 10, 1024).float()
    mouth = torch.cos(2.11 * torch.arange(2 * 5 * 60, dtype=torch.float64)).reshape(2, 5, 60).float()
    return hubert, mouth


def test_state_dict_keys_and_shapes_are_genefaces():
    state = GeneFaceSyncNet().state_dict()
    assert [k for k, _, _ in REFERENCE["keys"]] == list(state)
    assert [s for _, s, _ in REFERENCE["keys"]] == [list(v.shape) for v in state.values()]
    assert sum(p.numel() for p in GeneFaceSyncNet().parameters()) == REFERENCE["num_parameters"]


def test_outputs_match_the_published_model():
    model = GeneFaceSyncNet()
    model.load_state_dict(deterministic_state(model), strict=True)
    model.eval()
    with torch.no_grad():
        a, m = model(*reference_inputs())
        cos = model.sync_probability(*reference_inputs())
    ref = REFERENCE["numeric"]
    torch.testing.assert_close(a[:, :8], torch.tensor(ref["audio_embedding_first8"]), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(m[:, :8], torch.tensor(ref["mouth_embedding_first8"]), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(a.sum(1), torch.tensor(ref["audio_embedding_sum"]), atol=1e-4, rtol=1e-5)
    torch.testing.assert_close(cos, torch.tensor(ref["cosine"]), atol=1e-5, rtol=1e-5)


def test_checkpoint_round_trip_in_genefaces_format(tmp_path):
    model = GeneFaceSyncNet()
    model.load_state_dict(deterministic_state(model))
    save_geneface_checkpoint(model, tmp_path, steps=100)
    save_geneface_checkpoint(GeneFaceSyncNet(), tmp_path, steps=40)
    assert find_checkpoint(tmp_path).name == "model_ckpt_steps_100.ckpt"
    loaded = load_geneface_syncnet(tmp_path)
    assert not loaded.training
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    with pytest.raises(FileNotFoundError, match="steps_7.ckpt"):
        load_geneface_syncnet(tmp_path, steps=7)


def test_flat_prefixed_state_dict_also_loads(tmp_path):
    model = GeneFaceSyncNet()
    flat = {f"model.{k}": v for k, v in model.state_dict().items()}
    torch.save({"state_dict": flat}, tmp_path / "model_ckpt_steps_5.ckpt")
    loaded = load_geneface_syncnet(tmp_path / "model_ckpt_steps_5.ckpt")
    assert torch.equal(loaded.hubert_encoder[0].conv_block[0].weight, model.hubert_encoder[0].conv_block[0].weight)


def test_strict_load_names_the_bad_keys(tmp_path):
    state = GeneFaceSyncNet().state_dict()
    state.pop("mouth_encoder.12.conv_block.1.running_var")
    state["extra.weight"] = torch.zeros(1)
    torch.save({"state_dict": {"model": state}}, tmp_path / "model_ckpt_steps_1.ckpt")
    with pytest.raises(ValueError, match="running_var"):
        load_geneface_syncnet(tmp_path)
    with pytest.raises(ValueError, match="audio_dim=80"):
        torch.save({"state_dict": {"model": GeneFaceSyncNet().state_dict()}}, tmp_path / "model_ckpt_steps_2.ckpt")
        load_geneface_syncnet(tmp_path, steps=2, audio_dim=80)


def test_bad_windows_are_refused():
    model = GeneFaceSyncNet(audio_dim=16)
    with pytest.raises(ValueError, match=r"audio: expected \(N, 10, 16\)"):
        model(torch.zeros(2, 5, 16), torch.zeros(2, 5, 60))
    with pytest.raises(ValueError, match="mouth"):
        model(torch.zeros(2, 10, 16), torch.zeros(2, 5, 68 * 3))
    with pytest.raises(ValueError, match="same batch"):
        model(torch.zeros(2, 10, 16), torch.zeros(3, 5, 60))
