"""Configuration: defaults < YAML file < command line; resolved config saved; bad settings named."""

from __future__ import annotations

import pytest
import yaml

from train_expert.__main__ import build_parser
from train_expert.config import load_saved_config, make_config, save_config
from train_expert.schedule import warmup_cosine_factor


def test_yaml_then_command_line(tmp_path):
    file = tmp_path / "run.yaml"
    file.write_text(yaml.safe_dump({"lr": 1e-3, "batch_size": 32, "visual": "3dmm", "betas": [0.8, 0.99]}))
    args = vars(build_parser().parse_args(["--batch-size", "16", "--audio-options", "{dim: 768, model: m}",
                                           "--no-pin-memory"]))
    args.pop("config")
    config = make_config(file, args)
    assert (config.lr, config.batch_size, config.visual, config.betas) == (1e-3, 16, "3dmm", (0.8, 0.99))
    assert config.audio_options == {"dim": 768, "model": "m"} and config.pin_memory is False
    assert config.cross_share == 0.2 and (config.same_margin, config.cross_margin) == (0.1, 0.3)
    save_config(config, tmp_path / "out")
    assert load_saved_config(tmp_path / "out") == config


@pytest.mark.parametrize("bad, name", [({"cross_share": 1.2}, "cross_share"), ({"audio": "wav"}, "audio"),
                                       ({"min_shift": 5, "max_shift": 3}, "max_shift"), ({"colour": 1}, "unknown"),
                                       ({"same_margin": 1.0}, "same_margin"), ({"batch_size": 0}, "batch_size")])
def test_bad_settings_are_named(bad, name):
    with pytest.raises(ValueError, match=name):
        make_config(None, bad)


def test_missing_yaml_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such YAML"):
        make_config(tmp_path / "absent.yaml")


def test_warmup_then_cosine_decay():
    factors = [warmup_cosine_factor(s, 10, 110, 0.05) for s in range(111)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert factors[10] == pytest.approx(1.0) and factors[60] == pytest.approx(0.525)
    assert factors[110] == pytest.approx(0.05) and all(a >= b for a, b in zip(factors[10:], factors[11:]))


def test_cosine_follows_elapsed_time_when_it_is_ahead_of_the_steps():
    assert warmup_cosine_factor(20, 10, 110, 0.05, time_fraction=0.5) == pytest.approx(0.525)
    assert warmup_cosine_factor(20, 10, 110, 0.05, time_fraction=1.0) == pytest.approx(0.05)
    assert warmup_cosine_factor(60, 10, 110, 0.05, time_fraction=0.1) == pytest.approx(0.525)  # steps ahead
    assert warmup_cosine_factor(5, 10, 110, 0.05, time_fraction=0.9) == pytest.approx(0.6)  # warm-up first


def test_recipes_set_their_settings_and_flags_override_them():
    paper = make_config(overrides=dict(recipe="paper"))
    assert (paper.batching, paper.contrastive_weight, paper.temporal_centring) == ("pairs", 0.0, False)
    assert paper.visual_spec()["temporal_centring"] is False
    wav2lip = make_config(overrides=dict(recipe="wav2lip", lr=3e-4))
    assert (wav2lip.lr, wav2lip.same_margin, wav2lip.min_shift, wav2lip.cross_share) == (3e-4, 0.0, 1, 0.0)
    assert make_config().visual_spec() == {"name": "rgb", "temporal_centring": True}
    with pytest.raises(ValueError, match="recipe"):
        make_config(overrides=dict(recipe="fast"))
    with pytest.raises(ValueError, match="contrastive_weight"):
        make_config(overrides=dict(batching="pairs", contrastive_weight=1.0))
    with pytest.raises(ValueError, match="windows_per_clip"):
        make_config(overrides=dict(batch_size=30, windows_per_clip=8))
