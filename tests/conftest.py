"""Shared fixtures: deterministic seeds and small inputs for every expert pair."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

from unisync_loss import UniSyncExpert

AUDIO_REPS = ("mel", "hubert")
VISUAL_REPS = ("rgb", "parsing", "landmarks", "3dmm")
PAIRS = list(itertools.product(AUDIO_REPS, VISUAL_REPS))

#: Shared material kept beside the project, ``../shared/data`` (absent on some machines).
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
#: Folder of real talking-face clips, ``../shared/data/real_clips``.
_REAL_CLIPS = SHARED_DATA / "real_clips"
REAL_CLIP_NAMES = ("clip_a.mp4", "clip_b.mp4", "clip_c.mp4")


@pytest.fixture(scope="session")
def real_clips() -> Path:
    """The folder holding the real clips :data:`REAL_CLIP_NAMES`; the test is skipped when one is missing."""
    missing = [name for name in REAL_CLIP_NAMES if not (_REAL_CLIPS / name).is_file()]
    if missing:
        pytest.skip(f"real clips {', '.join(missing)} not found in ../shared/data/real_clips beside the repository")
    return _REAL_CLIPS


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def declared_commands() -> dict[str, str]:
    """``unisync`` subcommands that ``pyproject.toml`` declares as entry points (name -> module)."""
    import tomllib

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    return project["entry-points"]["unisync.commands"]


def write_entry_points(folder: Path, commands: dict[str, str]) -> Path:
    """A distribution's metadata in ``folder`` declaring ``commands`` (name -> module) as ``unisync`` subcommands;
    put ``folder`` on ``sys.path`` to install them. Returns ``folder``."""
    info = folder / "unisync_test_commands-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: unisync-test-commands\nVersion: 0\n")
    lines = [f"{name} = {target}" for name, target in commands.items()]
    (info / "entry_points.txt").write_text("[unisync.commands]\n" + "\n".join(lines) + "\n")
    return folder


@pytest.fixture
def unisync_commands(tmp_path, monkeypatch) -> Path:
    """The subcommands ``pyproject.toml`` declares, installed on ``sys.path`` (an editable install made before they
    were declared lacks them). Returns the folder holding their metadata."""
    folder = write_entry_points(tmp_path / "entry_points", declared_commands())
    monkeypatch.syspath_prepend(str(folder))
    return folder


def audio_features(expert: UniSyncExpert, batch: int, frames: int) -> torch.Tensor:
    """Random features ``(B, T_a, F)`` covering ``frames`` video frames (mel clipped to its [-4, 4] range)."""
    rep = expert.audio_rep
    t = int(frames / 25 * rep.rate) + 1
    x = torch.randn(batch, t, rep.feature_dim)
    return x.clamp(-4, 4) if rep.name == "mel" else x


def visual_sequence(expert: UniSyncExpert, batch: int, frames: int) -> torch.Tensor:
    """Random visual sequence ``(B, T, *frame_shape)`` in the representation's valid range (parsing: one-hot)."""
    rep = expert.visual_rep
    if rep.name == "parsing":
        idx = torch.randint(0, rep.options["num_classes"], (batch, frames, *rep.frame_shape[1:]))
        return rep.prepare(idx, "visual")
    return torch.rand(batch, frames, *rep.frame_shape)
