"""Where expert checkpoints live and how they are found by name.

Default location: ``$UNISYNC_HOME/experts/<audio>-<visual>/`` with ``UNISYNC_HOME`` defaulting to
``~/.cache/unisync``. A checkpoint is a folder with ``config.json`` and ``model.safetensors``.
"""

from __future__ import annotations

import os
from pathlib import Path

from .expert import WEIGHTS_NAME, UniSyncExpert
from .representations import list_representations


def unisync_home() -> Path:
    """``$UNISYNC_HOME`` or ``~/.cache/unisync``."""
    return Path(os.environ.get("UNISYNC_HOME") or Path.home() / ".cache" / "unisync").expanduser()


def default_expert_dir(audio: str, visual: str) -> Path:
    """``<home>/experts/<audio>-<visual>``."""
    if audio not in list_representations("audio"):
        raise ValueError(f"audio: expected one of {list_representations('audio')}, got {audio!r}")
    if visual not in list_representations("visual"):
        raise ValueError(f"visual: expected one of {list_representations('visual')}, got {visual!r}")
    return unisync_home() / "experts" / f"{audio}-{visual}"


def resolve_expert_dir(audio: str, visual: str, checkpoint: str | os.PathLike | None = None) -> Path:
    """The checkpoint folder to load: ``checkpoint`` if given, else the default location; raise if absent."""
    path = Path(checkpoint).expanduser() if checkpoint is not None else default_expert_dir(audio, visual)
    if not (path / "config.json").is_file() or not (path / WEIGHTS_NAME).is_file():
        where = f"{path}" if checkpoint is not None else f"{path} (default location; set UNISYNC_HOME to move it)"
        raise FileNotFoundError(
            f"No {audio}-{visual} UniSync expert checkpoint at {where}: expected config.json and {WEIGHTS_NAME}.\n"
            f"Train one with `python -m train_expert --audio {audio} --visual {visual} --data STORE --out DIR "
            f"--install` (installs it at the default location), or pass checkpoint=DIR."
        )
    return path


def load_expert(audio: str, visual: str, checkpoint: str | os.PathLike | None = None,
                map_location: str = "cpu") -> UniSyncExpert:
    """Load the ``audio``-``visual`` expert; a checkpoint of another pair is an error naming both."""
    path = resolve_expert_dir(audio, visual, checkpoint)
    config = UniSyncExpert.read_config(path)
    found = (_name(config.get("audio")), _name(config.get("visual")))
    if found != (audio, visual):
        raise ValueError(
            f"{path}: holds a {found[0]}-{found[1]} expert, but a {audio}-{visual} expert was asked for"
        )
    return UniSyncExpert.from_pretrained(path, map_location=map_location)


def install_expert(expert: UniSyncExpert, home: str | os.PathLike | None = None) -> Path:
    """Save ``expert`` at its default location (under ``home`` if given) so that it is found by name."""
    root = Path(home) if home is not None else unisync_home()
    target = root / "experts" / expert.pair
    return expert.save_pretrained(target)


def _name(spec) -> str | None:
    return spec.get("name") if isinstance(spec, dict) else spec
