"""SyncNet (Chung & Zisserman 2016), the "S" model behind LSE-D / LSE-C, rebuilt from its published layer list.

Audio branch: MFCC window ``(N, 1, 13, 20)`` (13 cepstra x 20 frames of 10 ms = 0.2 s) -> ``(N, 1024)``.
Video branch: BGR window ``(N, 3, 5, 224, 224)``, float in [0, 255] -> ``(N, 1024)``.

Module names and indices follow the published weights file ``syncnet_v2.model`` (a plain ``state_dict`` without the
batch-norm ``num_batches_tracked`` counters), so that it loads with strict key and shape checks.

Every temporal kernel of the video branch after the first is 1, so the whole branch also runs on a full sequence
``(1, 3, T, 224, 224) -> (T - 4, 1024)``: window ``v`` is output ``v``, without copying each frame into 5 windows.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch
from einops import rearrange
from torch import nn

from ..validation import check_rank, describe

EMBED_DIM = 1024
#: Video frames and MFCC frames in one window (0.2 s).
VIDEO_WINDOW, MFCC_WINDOW = 5, 20
CROP_SIZE = 224

# Layer lists: ("conv", c_out, kernel, stride, padding) adds conv + batch norm + ReLU (3 modules); ("pool", kernel,
# stride, padding) adds one max pool. Indices of the resulting Sequential match the published weights' keys.
_AUDIO_LAYERS = [
    ("conv", 64, (3, 3), 1, 1), ("pool", (1, 1), 1, 0),
    ("conv", 192, (3, 3), 1, 1), ("pool", (3, 3), (1, 2), 0),
    ("conv", 384, (3, 3), 1, 1),
    ("conv", 256, (3, 3), 1, 1),
    ("conv", 256, (3, 3), 1, 1), ("pool", (3, 3), 2, 0),
    ("conv", 512, (5, 4), 1, 0),
]
_VIDEO_LAYERS = [
    ("conv", 96, (5, 7, 7), (1, 2, 2), 0), ("pool", (1, 3, 3), (1, 2, 2), 0),
    ("conv", 256, (1, 5, 5), (1, 2, 2), (0, 1, 1)), ("pool", (1, 3, 3), (1, 2, 2), (0, 1, 1)),
    ("conv", 256, (1, 3, 3), 1, (0, 1, 1)),
    ("conv", 256, (1, 3, 3), 1, (0, 1, 1)),
    ("conv", 256, (1, 3, 3), 1, (0, 1, 1)), ("pool", (1, 3, 3), (1, 2, 2), 0),
    ("conv", 512, (1, 6, 6), 1, 0),
]


def _conv_stack(layers: list[tuple], c_in: int, dims: int) -> nn.Sequential:
    if dims == 2:
        conv, norm, pool = nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d
    else:
        conv, norm, pool = nn.Conv3d, nn.BatchNorm3d, nn.MaxPool3d
    modules: list[nn.Module] = []
    for kind, *spec in layers:
        if kind == "conv":
            c_out, kernel, stride, padding = spec
            modules += [conv(c_in, c_out, kernel, stride, padding), norm(c_out), nn.ReLU(inplace=True)]
            c_in = c_out
        else:
            kernel, stride, padding = spec
            modules.append(pool(kernel, stride, padding))
    return nn.Sequential(*modules)


def _projection(embed_dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(512, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, embed_dim))


class SyncNet(nn.Module):
    """The "S" SyncNet. Use :meth:`embed_audio` / :meth:`embed_video` (windows) or :meth:`embed_video_sequence`."""

    def __init__(self, embed_dim: int = EMBED_DIM):
        super().__init__()
        self.netcnnaud = _conv_stack(_AUDIO_LAYERS, 1, dims=2)
        self.netfcaud = _projection(embed_dim)
        self.netfclip = _projection(embed_dim)
        self.netcnnlip = _conv_stack(_VIDEO_LAYERS, 3, dims=3)

    def embed_audio(self, mfcc_windows: torch.Tensor) -> torch.Tensor:
        """``(N, 1, 13, 20)`` MFCC windows -> ``(N, 1024)``."""
        check_rank(mfcc_windows, "mfcc_windows", (4,), "(N, 1, 13, 20)")
        if tuple(mfcc_windows.shape[1:]) != (1, 13, MFCC_WINDOW):
            raise ValueError(f"mfcc_windows: expected shape (N, 1, 13, 20), got {describe(mfcc_windows)}")
        return self.netfcaud(rearrange(self.netcnnaud(mfcc_windows), "n c 1 1 -> n c"))

    def embed_video(self, video_windows: torch.Tensor) -> torch.Tensor:
        """``(N, 3, 5, 224, 224)`` BGR windows in [0, 255] -> ``(N, 1024)``."""
        check_rank(video_windows, "video_windows", (5,), "(N, 3, 5, 224, 224)")
        if tuple(video_windows.shape[1:]) != (3, VIDEO_WINDOW, CROP_SIZE, CROP_SIZE):
            raise ValueError(f"video_windows: expected shape (N, 3, 5, 224, 224), got {describe(video_windows)}")
        return self.netfclip(rearrange(self.netcnnlip(video_windows), "n c 1 1 1 -> n c"))

    def embed_video_sequence(self, frames: torch.Tensor) -> torch.Tensor:
        """``(3, T, 224, 224)`` BGR frames in [0, 255], ``T >= 5`` -> ``(T - 4, 1024)``, row ``v`` = frames v..v+4."""
        check_rank(frames, "frames", (4,), "(3, T, 224, 224)")
        if frames.shape[0] != 3 or tuple(frames.shape[2:]) != (CROP_SIZE, CROP_SIZE) or frames.shape[1] < VIDEO_WINDOW:
            raise ValueError(f"frames: expected shape (3, T >= 5, 224, 224), got {describe(frames)}")
        clip = frames[None]
        if clip.device.type == "cpu":  # oneDNN's channels-last 3-D convolutions are faster on CPU
            clip = clip.contiguous(memory_format=torch.channels_last_3d)
        features = self.netcnnlip(clip)  # (1, 512, T - 4, 1, 1)
        return self.netfclip(rearrange(features, "1 c t 1 1 -> t c"))


def _fill_num_batches_tracked(model: nn.Module, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The published file lacks the batch-norm counters (unused in eval mode): add them as zeros."""
    state = dict(state)
    for key, value in model.state_dict().items():
        if key.endswith("num_batches_tracked") and key not in state:
            state[key] = torch.zeros(value.shape, dtype=value.dtype)
    return state


def check_syncnet_state(model: SyncNet, state: dict, source: str) -> dict[str, torch.Tensor]:
    """Validate a SyncNet state dict against ``model``: raise ``ValueError`` naming wrong keys and shapes."""
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{source}: expected a state dict of tensors (syncnet_v2.model format), got {describe(state)}")
    state = _fill_num_batches_tracked(model, state)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [f"{k}: expected {tuple(expected[k].shape)}, got {tuple(state[k].shape)}"
             for k in expected if k in state and state[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        def show(items):
            return f"{items[:6]}{' ...' if len(items) > 6 else ''}"
        raise ValueError(
            f"{source}: not SyncNet 'S' weights (syncnet_v2.model): missing keys {show(missing)}, "
            f"unexpected keys {show(unexpected)}, wrong shapes {show(wrong)}"
        )
    return state


def load_syncnet(path: str | os.PathLike, device: str | torch.device = "cpu") -> SyncNet:
    """Load ``syncnet_v2.model`` (or any file in its format) strictly, with ``weights_only=True``; eval mode."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"syncnet weights: no file at {path} (expected syncnet_python's syncnet_v2.model)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle errors of all kinds: say which file and why
        raise ValueError(f"{path}: cannot be read as a SyncNet weights file: {err}") from None
    with torch.device("meta"):  # no random init: every tensor comes from the file
        model = SyncNet()
    model.load_state_dict(check_syncnet_state(model, state, str(path)), strict=True, assign=True)
    return model.to(device).eval().requires_grad_(False)


def random_syncnet_state(seed: int, shared_bias: float = 0.0) -> dict[str, torch.Tensor]:
    """A seeded random state dict in the published file's format (no ``num_batches_tracked``), for tests and benchmarks.

    Conv/linear weights ~ U(-1, 1) / sqrt(fan_in), their biases ~ U(-0.1, 0.1); batch-norm scales and running
    variances in [0.5, 1.5], shifts and running means in [-0.1, 0.1]. Drawn key by key in sorted order from one CPU
    generator in float64, so the values depend only on ``seed``.

    ``shared_bias``: add the same vector (drawn after the others, components U(-1, 1) times ``shared_bias``) to the
    last bias of both branches. Audio and video embeddings then lie near each other and far from the zero rows the
    offset search pads with, so an offset curve has its minimum inside the search instead of at an edge.
    """
    if isinstance(shared_bias, bool) or not isinstance(shared_bias, (int, float)) or not shared_bias >= 0:
        raise ValueError(f"shared_bias: expected a non-negative number, got {shared_bias!r}")
    with torch.device("meta"):  # shapes only
        model = SyncNet()
    norms = {name for name, m in model.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)}
    generator = torch.Generator().manual_seed(int(seed))
    state = {}
    for key, ref in sorted(model.state_dict().items()):
        if key.endswith("num_batches_tracked"):
            continue
        u = torch.rand(ref.shape, generator=generator, dtype=torch.float64) * 2 - 1
        module, name = key.rsplit(".", 1)
        if ref.ndim > 1:
            value = u / math.sqrt(ref[0].numel())
        elif module in norms and name in ("weight", "running_var"):
            value = 1.0 + 0.5 * u
        else:
            value = 0.1 * u
        state[key] = value.float()
    if shared_bias:
        common = (torch.rand(EMBED_DIM, generator=generator, dtype=torch.float64) * 2 - 1) * shared_bias
        for branch in ("netfcaud", "netfclip"):
            state[f"{branch}.3.bias"] = (state[f"{branch}.3.bias"].double() + common).float()
    return state
