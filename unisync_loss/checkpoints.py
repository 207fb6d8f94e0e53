"""Where expert checkpoints live and how they are found by name.

A checkpoint is a folder with ``config.json`` and ``model.safetensors``. ``load_expert(audio, visual)`` looks, in
order, at

1. an explicit ``checkpoint`` folder (nothing else is tried when one is given);
2. the user's expert: ``$UNISYNC_HOME/experts/<audio>-<visual>/`` (``UNISYNC_HOME`` defaults to
   ``~/.cache/unisync``), where ``install_expert`` and ``python -m train_expert --install`` put them;
3. the shipped expert: ``unisync_loss/pretrained/<audio>-<visual>/``, package data of the wheel (float16 weights
   are allowed; loading casts them to the model's float32).

:func:`list_experts` tells what is available and where each comes from; :func:`export_expert` writes a trained
expert to the shipped location in float16.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .expert import WEIGHTS_NAME, UniSyncExpert
from .representations import list_representations
from .validation import describe

#: Folder of the experts shipped inside the package (one ``<audio>-<visual>`` folder each).
SHIPPED_DIR = Path(__file__).resolve().parent / "pretrained"
#: Names of the places an expert can come from, in lookup order.
SOURCES = ("path", "user home", "shipped")


def unisync_home() -> Path:
    """``$UNISYNC_HOME`` or ``~/.cache/unisync``."""
    return Path(os.environ.get("UNISYNC_HOME") or Path.home() / ".cache" / "unisync").expanduser()


def _pair(audio: str, visual: str) -> str:
    if audio not in list_representations("audio"):
        raise ValueError(f"audio: expected one of {list_representations('audio')}, got {audio!r}")
    if visual not in list_representations("visual"):
        raise ValueError(f"visual: expected one of {list_representations('visual')}, got {visual!r}")
    return f"{audio}-{visual}"


def default_expert_dir(audio: str, visual: str) -> Path:
    """``<home>/experts/<audio>-<visual>`` (where the user's own expert of the pair goes)."""
    return unisync_home() / "experts" / _pair(audio, visual)


def shipped_expert_dir(audio: str, visual: str) -> Path:
    """``unisync_loss/pretrained/<audio>-<visual>`` (where the package's expert of the pair is, if it ships one)."""
    return SHIPPED_DIR / _pair(audio, visual)


def is_checkpoint(path: str | os.PathLike) -> bool:
    """True if ``path`` is a folder holding ``config.json`` and ``model.safetensors``."""
    path = Path(path)
    return (path / UniSyncExpert.config_name).is_file() and (path / WEIGHTS_NAME).is_file()


def expert_candidates(audio: str, visual: str, checkpoint: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """``(source, folder)`` pairs looked at, in order: the explicit checkpoint alone, else user home then shipped."""
    if checkpoint is not None:
        _pair(audio, visual)
        return [("path", Path(checkpoint).expanduser())]
    return [("user home", default_expert_dir(audio, visual)), ("shipped", shipped_expert_dir(audio, visual))]


def find_expert(audio: str, visual: str, checkpoint: str | os.PathLike | None = None) -> tuple[str, Path]:
    """``(source, folder)`` of the expert :func:`load_expert` would load; raises naming every place looked at."""
    candidates = expert_candidates(audio, visual, checkpoint)
    for source, path in candidates:
        if is_checkpoint(path):
            return source, path
    notes = {"path": "the checkpoint given", "user home": "user home; set UNISYNC_HOME to move it",
             "shipped": "shipped with the package"}
    looked = "\n".join(f"  {path} ({notes[source]})" for source, path in candidates)
    raise FileNotFoundError(
        f"No {audio}-{visual} UniSync expert checkpoint found (expected config.json and {WEIGHTS_NAME}); looked in:\n"
        f"{looked}\nTrain one with `python -m train_expert --audio {audio} --visual {visual} --data STORE --out DIR "
        f"--install` (installs it in the user home), or pass checkpoint=DIR. `unisync experts` lists what exists."
    )


def resolve_expert_dir(audio: str, visual: str, checkpoint: str | os.PathLike | None = None) -> Path:
    """The checkpoint folder to load (see the module docstring for the order); raise if there is none."""
    return find_expert(audio, visual, checkpoint)[1]


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


def export_expert(expert: UniSyncExpert | str | os.PathLike, target: str | os.PathLike | None = None,
                  dtype: torch.dtype = torch.float16) -> Path:
    """Write ``expert`` (or the checkpoint folder it names) as a shippable checkpoint: floating weights cast to
    ``dtype`` (float16 halves the file; loading casts back to float32), ``config.json`` unchanged. ``target``
    defaults to the shipped location ``unisync_loss/pretrained/<pair>``. Returns the folder."""
    from safetensors.torch import save_file

    if not isinstance(expert, UniSyncExpert):
        if not isinstance(expert, (str, os.PathLike)) or not is_checkpoint(expert):
            raise ValueError(f"expert: expected a UniSyncExpert or a checkpoint folder, got {describe(expert)}")
        expert = UniSyncExpert.from_pretrained(expert)
    if dtype not in (torch.float16, torch.bfloat16, torch.float32):
        raise ValueError(f"dtype: expected torch.float16, torch.bfloat16 or torch.float32, got {dtype!r}")
    target = Path(target) if target is not None else SHIPPED_DIR / expert.pair
    target.mkdir(parents=True, exist_ok=True)
    expert.save_config(target)
    state = {k: (v.to(dtype) if v.is_floating_point() else v).detach().contiguous().cpu()
             for k, v in expert.state_dict().items()}
    save_file(state, str(target / WEIGHTS_NAME), metadata={"format": "pt", "pair": expert.pair,
                                                           "dtype": str(dtype).removeprefix("torch.")})
    return target


@dataclass
class ExpertInfo:
    """One available checkpoint: its pair, where it comes from, whether name lookup picks it, and a summary."""

    pair: str
    source: str                      # path | user home | shipped
    path: str
    active: bool                     # what load_expert(audio, visual) loads (a user expert shadows a shipped one)
    size_bytes: int
    dtype: str
    parameters: int
    audio: dict
    visual: dict
    channels: int | None
    embed_dim: int | None
    version: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def describe_checkpoint(path: str | os.PathLike, source: str = "path", active: bool = False) -> ExpertInfo:
    """Summary of a checkpoint folder from its config and the safetensors header (the weights are not loaded)."""
    from safetensors import safe_open

    path = Path(path)
    if not is_checkpoint(path):
        raise FileNotFoundError(f"{path}: not a UniSync expert checkpoint (expected config.json and {WEIGHTS_NAME})")
    config = UniSyncExpert.read_config(path)
    count, dtypes = 0, set()
    with safe_open(str(path / WEIGHTS_NAME), framework="pt") as f:
        for key in f.keys():
            sliced = f.get_slice(key)
            dtype = sliced.get_dtype()
            if dtype.startswith(("F", "BF")):
                dtypes.add(dtype)
                numel = 1
                for side in sliced.get_shape():
                    numel *= side
                count += numel
    audio, visual = config.get("audio"), config.get("visual")
    audio = audio if isinstance(audio, dict) else {"name": audio}
    visual = visual if isinstance(visual, dict) else {"name": visual}
    return ExpertInfo(pair=f"{audio.get('name')}-{visual.get('name')}", source=source, path=str(path), active=active,
                      size_bytes=(path / WEIGHTS_NAME).stat().st_size, dtype=",".join(sorted(dtypes)) or "-",
                      parameters=count, audio=audio, visual=visual, channels=config.get("channels"),
                      embed_dim=config.get("embed_dim"), version=config.get("unisync_version"))


def list_experts(extra: list[str | os.PathLike] | None = None) -> list[ExpertInfo]:
    """Every checkpoint in the user home and shipped with the package (plus the folders ``extra``), sorted by pair
    and lookup order; ``active`` marks the one that name lookup loads for each pair."""
    found = [("path", Path(p)) for p in extra or []]
    for source, root in (("user home", unisync_home() / "experts"), ("shipped", SHIPPED_DIR)):
        if root.is_dir():
            found += [(source, p) for p in sorted(root.iterdir()) if is_checkpoint(p)]
    infos, chosen = [], set()
    for source, path in found:
        info = describe_checkpoint(path, source)
        if source != "path" and path.name == info.pair and info.pair not in chosen:
            info.active = True
            chosen.add(info.pair)
        infos.append(info)
    return sorted(infos, key=lambda i: (i.pair, SOURCES.index(i.source)))


def _name(spec) -> str | None:
    return spec.get("name") if isinstance(spec, dict) else spec
