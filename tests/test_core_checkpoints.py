"""Finding experts by name: explicit checkpoint, then $UNISYNC_HOME, then the experts shipped in the package."""

import fnmatch
import json
import tomllib
from pathlib import Path

import pytest
import torch

from unisync_loss import UniSyncExpert, UniSyncLoss, checkpoints, export_expert, install_expert, list_experts
from unisync_loss.checkpoints import find_expert
from unisync_loss.cli import main

ROOT = Path(__file__).resolve().parents[1]


def small(visual="landmarks", seed=0):
    torch.manual_seed(seed)
    return UniSyncExpert("mel", visual, channels=16, embed_dim=32)


@pytest.fixture
def places(tmp_path, monkeypatch):
    """An empty user home and an empty shipped folder."""
    home, shipped = tmp_path / "home", tmp_path / "shipped"
    shipped.mkdir()
    monkeypatch.setenv("UNISYNC_HOME", str(home))
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", shipped)
    return home, shipped


def first_weight(loss: UniSyncLoss) -> torch.Tensor:
    return next(loss.expert.parameters())


def test_missing_pair_names_every_place_looked_at(places):
    home, shipped = places
    with pytest.raises(FileNotFoundError) as err:
        UniSyncLoss("mel", "landmarks")
    message = str(err.value)
    assert str(home / "experts" / "mel-landmarks") in message and str(shipped / "mel-landmarks") in message
    assert "python -m train_expert" in message and "unisync experts" in message


def test_shipped_float16_expert_is_found_by_name_and_loads_as_float32(places):
    home, shipped = places
    original = small()
    target = export_expert(original, shipped / "mel-landmarks")
    assert (target / "model.safetensors").stat().st_size < 0.6 * sum(
        p.numel() * 4 for p in original.state_dict().values())
    assert find_expert("mel", "landmarks") == ("shipped", target)
    loss = UniSyncLoss("mel", "landmarks")
    assert first_weight(loss).dtype == torch.float32
    audio, visual = torch.randn(2, 32, 80).clamp(-4, 4), torch.randn(2, 10, 68, 2)
    expected = UniSyncLoss("mel", "landmarks", expert=original.eval()).sync_probability(audio, visual)
    torch.testing.assert_close(loss.sync_probability(audio, visual), expected, atol=5e-3, rtol=0)


def test_precedence_explicit_then_user_home_then_shipped(places, tmp_path):
    home, shipped = places
    shipped_expert, home_expert, given = small(seed=1), small(seed=2), small(seed=3)
    export_expert(shipped_expert, shipped / "mel-landmarks", dtype=torch.float32)
    assert torch.equal(first_weight(UniSyncLoss("mel", "landmarks")), next(shipped_expert.parameters()))
    install_expert(home_expert)
    assert find_expert("mel", "landmarks")[0] == "user home"
    assert torch.equal(first_weight(UniSyncLoss("mel", "landmarks")), next(home_expert.parameters()))
    given.save_pretrained(tmp_path / "given")
    loaded = UniSyncLoss("mel", "landmarks", checkpoint=tmp_path / "given")
    assert torch.equal(first_weight(loaded), next(given.parameters()))
    with pytest.raises(FileNotFoundError, match="nowhere") as err:  # an explicit path never falls back
        UniSyncLoss("mel", "landmarks", checkpoint=tmp_path / "nowhere")
    assert str(home) not in str(err.value)


def test_list_and_cli_show_sources_and_active_expert(places, tmp_path, capsys):
    home, shipped = places
    export_expert(small(), shipped / "mel-landmarks")
    export_expert(small("rgb"), shipped / "mel-rgb")
    install_expert(small())
    infos = {(i.pair, i.source): i for i in list_experts()}
    assert set(infos) == {("mel-landmarks", "user home"), ("mel-landmarks", "shipped"), ("mel-rgb", "shipped")}
    assert infos["mel-landmarks", "user home"].active and not infos["mel-landmarks", "shipped"].active
    assert infos["mel-rgb", "shipped"].active and infos["mel-rgb", "shipped"].dtype == "F16"
    assert infos["mel-landmarks", "user home"].dtype == "F32"
    assert infos["mel-rgb", "shipped"].parameters == sum(p.numel() for p in small("rgb").parameters()) + sum(
        b.numel() for n, b in small("rgb").named_buffers() if b.is_floating_point())

    assert main(["experts"]) == 0
    table = capsys.readouterr().out
    assert "mel-rgb" in table and "shipped" in table and "user home" in table and "lookup order" in table
    small("rgb", seed=4).save_pretrained(tmp_path / "run" / "best")
    assert main(["experts", "--export", str(tmp_path / "run" / "best"), "--json"]) == 0
    out = capsys.readouterr().out
    rows = json.loads(out[out.index("["):])
    assert any(r["pair"] == "mel-rgb" and r["source"] == "shipped" for r in rows)
    exported = UniSyncExpert.from_pretrained(shipped / "mel-rgb")
    torch.testing.assert_close(next(exported.parameters()), next(small("rgb", seed=4).parameters()), atol=1e-3,
                               rtol=1e-3)


def test_wheel_package_data_covers_the_shipped_layout():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["unisync_loss"]
    for name in ("config.json", "model.safetensors"):
        assert any(fnmatch.fnmatch(f"pretrained/mel-rgb/{name}", p) for p in patterns), name
    assert checkpoints.SHIPPED_DIR == ROOT / "unisync_loss" / "pretrained"


SHIPPED = [pytest.param(p, id=p.name) for p in sorted((ROOT / "unisync_loss" / "pretrained").glob("*-*")) if p.is_dir()]


@pytest.mark.parametrize("folder", SHIPPED or [pytest.param(None, marks=pytest.mark.skip(
    reason="no expert is shipped in unisync_loss/pretrained yet"))])
def test_every_shipped_expert_loads_by_name_with_an_empty_home(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("UNISYNC_HOME", str(tmp_path / "empty"))
    audio, visual = folder.name.split("-", 1)
    source, path = find_expert(audio, visual)
    assert (source, path) == ("shipped", folder)
    expert = UniSyncLoss(audio, visual).expert
    assert all(p.dtype == torch.float32 for p in expert.parameters())
    assert (folder / "model.safetensors").stat().st_size < 20e6  # keeps the wheel small
