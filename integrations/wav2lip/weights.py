"""Strict loading of Wav2Lip checkpoints into the rebuilt models.

Accepted files: the official ``torch.save`` dicts (``{"state_dict": ..., "optimizer": ..., "global_step": ...}``, keys
possibly prefixed ``module.`` by DataParallel), a bare state dict, and TorchScript archives (newer releases). Pickled
files are read with ``weights_only=True``; a file that needs arbitrary unpickling is refused unless ``trusted=True``.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import torch
from torch import nn

from .models import QualityDiscriminator, SyncNetColor, Wav2LipGenerator

#: A key and its shape after the first axis (which the width multiplier scales) that identify each kind.
SIGNATURES = {
    "syncnet": ("face_encoder.0.conv_block.0.weight", (15, 7, 7)),
    "generator": ("face_encoder_blocks.0.0.conv_block.0.weight", (6, 7, 7)),
    "discriminator": ("face_encoder_blocks.0.0.conv_block.0.weight", (3, 7, 7)),
}
#: The 1x1 bottleneck conv (512 x width output channels) of the networks that take a width multiplier.
BOTTLENECKS = {"syncnet": "face_encoder.16.conv_block.0.weight", "generator": "face_encoder_blocks.6.1.conv_block.0.weight"}
MODELS = {"syncnet": SyncNetColor, "generator": Wav2LipGenerator, "discriminator": QualityDiscriminator}


def is_torchscript(path: Path) -> bool:
    """True for a TorchScript archive (a zip holding ``code/`` and ``constants.pkl``)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(n.endswith("constants.pkl") or "/code/" in n for n in archive.namelist())


def read_state_dict(path: str | os.PathLike, trusted: bool = False) -> dict[str, torch.Tensor]:
    """The tensors of a Wav2Lip checkpoint file, with any ``module.`` prefix removed (on CPU)."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; a Wav2Lip checkpoint is a file such as lipsync_expert.pth")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint file")
    if is_torchscript(path):
        obj = torch.jit.load(str(path), map_location="cpu")
    else:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=not trusted)
        except pickle.UnpicklingError as err:
            raise ValueError(
                f"{path}: cannot be read with weights_only=True ({str(err).splitlines()[0]}); if you trust the file, "
                "load it with trusted=True"
            ) from None
        except (RuntimeError, EOFError) as err:
            raise ValueError(f"{path}: not a PyTorch checkpoint ({err})") from None
    if isinstance(obj, nn.Module):
        state = obj.state_dict()
    elif isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        state = obj["state_dict"]
    elif isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        state = obj
    else:
        raise ValueError(f"{path}: expected a dict with 'state_dict', a state dict or a TorchScript module, got "
                         f"{type(obj).__name__} with keys {list(obj)[:5] if isinstance(obj, dict) else '-'}")
    return {k.removeprefix("module."): v for k, v in state.items()}


def checkpoint_kind(state: dict[str, torch.Tensor]) -> str | None:
    """"syncnet", "generator" or "discriminator" from the state dict's signature key, or None."""
    for kind, (key, shape) in SIGNATURES.items():
        if key in state and tuple(state[key].shape[1:]) == shape:
            return kind
    return None


def checkpoint_width(kind: str, state: dict[str, torch.Tensor]) -> float:
    """Width multiplier of a syncnet/generator state dict (1.0 for the official checkpoints)."""
    key = BOTTLENECKS.get(kind)
    return state[key].shape[0] / 512 if key in state else 1.0


def load_weights(model: nn.Module, path: str | os.PathLike, trusted: bool = False) -> nn.Module:
    """Load ``path`` into ``model`` strictly; a checkpoint of another network is named as such."""
    return load_state(model, read_state_dict(path, trusted), path)


def load_state(model: nn.Module, state: dict[str, torch.Tensor], path: str | os.PathLike) -> nn.Module:
    """Load ``state`` (read from ``path``) into ``model`` strictly, with errors naming the file."""
    wanted = next((k for k, cls in MODELS.items() if isinstance(model, cls)), type(model).__name__)
    found = checkpoint_kind(state)
    if found is not None and found != wanted:
        raise ValueError(f"{path}: holds a Wav2Lip {found} checkpoint, but a {wanted} checkpoint is needed here")
    _check_shapes(model, state, path)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(
            f"{path}: does not fit the Wav2Lip {wanted}: {len(missing)} missing keys (e.g. {missing[:3]}), "
            f"{len(unexpected)} unexpected keys (e.g. {unexpected[:3]})"
        )
    return model


def _check_shapes(model: nn.Module, state: dict[str, torch.Tensor], path) -> None:
    own = model.state_dict()
    bad = [(k, tuple(v.shape), tuple(own[k].shape)) for k, v in state.items() if k in own and v.shape != own[k].shape]
    if bad:
        raise ValueError(f"{path}: {len(bad)} tensors have the wrong shape, e.g. {bad[0][0]}: {bad[0][1]} "
                         f"(expected {bad[0][2]})")


def load_model(kind: str, path: str | os.PathLike, trusted: bool = False,
               map_location: str | torch.device = "cpu") -> nn.Module:
    """Build the ``kind`` network ("syncnet", "generator", "discriminator"), load ``path`` strictly, eval mode.

    The width multiplier of syncnet and generator checkpoints is read from the file.
    """
    if kind not in MODELS:
        raise ValueError(f"kind: expected one of {sorted(MODELS)}, got {kind!r}")
    state = read_state_dict(path, trusted)
    model = MODELS[kind](checkpoint_width(kind, state)) if kind in BOTTLENECKS else MODELS[kind]()
    return load_state(model, state, path).to(map_location).eval()
