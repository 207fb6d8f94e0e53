"""GeneFace's landmark SyncNet, rebuilt from its published architecture, as the baseline expert.

Two stacks of 1-D conv units (conv -> batch norm -> optional identity residual -> ReLU) over time:

* audio: ``(N, 10, 1024)`` HuBERT window -> 128 -> 256 (stride 2) -> 512 (stride 2) -> valid 3-tap conv -> (N, 512)
* mouth: ``(N, 5, 60)`` mouth landmarks (20 x 3) -> 96 -> 128 -> 256 (stride 2) -> 512 -> valid 3-tap conv -> (N, 512)

Both embeddings are L2-normalised; the sync score is their cosine (in [0, 1], since the last unit is a ReLU) and the
expert is trained with binary cross-entropy on it. State-dict keys are GeneFace's (``hubert_encoder.<i>.conv_block.
<0 conv | 1 norm>.*``, ``mouth_encoder.*``), so its checkpoints load strictly, and ours load in GeneFace.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from unisync_loss.validation import check_floating, check_rank, check_same_batch, describe

from .conventions import HUBERT_DIM, HUBERT_WINDOW, MOUTH_DIM, VIDEO_WINDOW

EMBED_DIM = 512
# (in, out, kernel, stride, padding, residual); "in" of the first unit is the input feature size.
_AUDIO_UNITS = [(None, 128, 3, 1, 1, False), (128, 128, 3, 1, 1, False), (128, 128, 3, 1, 1, True),
                (128, 128, 3, 1, 1, True), (128, 256, 3, 2, 1, False), (256, 256, 3, 1, 1, True),
                (256, 256, 3, 1, 1, True), (256, 512, 3, 2, 1, False), (512, 512, 3, 1, 1, True),
                (512, 512, 3, 1, 1, True), (512, 512, 3, 1, 1, False), (512, 512, 3, 1, 0, False),
                (512, 512, 1, 1, 0, False)]
_MOUTH_UNITS = [(None, 96, 3, 1, 1, False), (96, 128, 3, 1, 1, False), (128, 128, 3, 1, 1, True),
                (128, 128, 3, 1, 1, True), (128, 256, 3, 2, 1, False), (256, 256, 3, 1, 1, True),
                (256, 256, 3, 1, 1, True), (256, 512, 3, 1, 1, False), (512, 512, 3, 1, 1, True),
                (512, 512, 3, 1, 1, True), (512, 512, 3, 1, 1, False), (512, 512, 3, 1, 0, False),
                (512, 512, 1, 1, 0, False)]


class ConvUnit(nn.Module):
    """``(N, C_in, T) -> (N, C_out, T')``: conv1d + batch norm (+ identity) + ReLU; submodule names as GeneFace's."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, residual: bool):
        super().__init__()
        self.conv_block = nn.Sequential(nn.Conv1d(c_in, c_out, kernel, stride, padding), nn.BatchNorm1d(c_out))
        self.act = nn.ReLU()
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv_block(x)
        return self.act(y + x if self.residual else y)


def _stack(units, in_dim: int) -> nn.Sequential:
    return nn.Sequential(*(ConvUnit(in_dim if c_in is None else c_in, *rest) for c_in, *rest in units))


class GeneFaceSyncNet(nn.Module):
    """``forward(audio (N, 10, audio_dim), mouth (N, 5, 60)) -> (a, m)``, L2-normalised ``(N, 512)`` each.

    ``audio_dim`` is 1024 for GeneFace's HuBERT-large features; other sizes build the same network on other
    50 frames/s features (the first conv's input width is the only change).
    """

    def __init__(self, audio_dim: int = HUBERT_DIM, mouth_dim: int = MOUTH_DIM):
        super().__init__()
        self.audio_dim, self.mouth_dim = audio_dim, mouth_dim
        self.hubert_encoder = _stack(_AUDIO_UNITS, audio_dim)
        self.mouth_encoder = _stack(_MOUTH_UNITS, mouth_dim)

    def forward(self, audio: torch.Tensor, mouth: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(audio, "audio", HUBERT_WINDOW, self.audio_dim)
        self._check(mouth, "mouth", VIDEO_WINDOW, self.mouth_dim)
        check_same_batch(audio, "audio", mouth, "mouth")
        return self.embed_audio(audio), self.embed_mouth(mouth)

    def embed_audio(self, audio: torch.Tensor) -> torch.Tensor:
        """``(N, 10, audio_dim)`` -> L2-normalised ``(N, 512)``."""
        self._check(audio, "audio", HUBERT_WINDOW, self.audio_dim)
        return F.normalize(rearrange(self.hubert_encoder(rearrange(audio, "n t f -> n f t")), "n e 1 -> n e"), dim=1)

    def embed_mouth(self, mouth: torch.Tensor) -> torch.Tensor:
        """``(N, 5, mouth_dim)`` -> L2-normalised ``(N, 512)``."""
        self._check(mouth, "mouth", VIDEO_WINDOW, self.mouth_dim)
        return F.normalize(rearrange(self.mouth_encoder(rearrange(mouth, "n t f -> n f t")), "n e 1 -> n e"), dim=1)

    def sync_probability(self, audio: torch.Tensor, mouth: torch.Tensor) -> torch.Tensor:
        """Cosine of the two embeddings, ``(N,)`` in [0, 1]."""
        return F.cosine_similarity(*self(audio, mouth), dim=1)

    def bce_loss(self, audio: torch.Tensor, mouth: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """GeneFace's expert loss: binary cross-entropy of the cosine against ``labels`` (1 = in sync)."""
        p = self.sync_probability(audio, mouth).clamp(1e-7, 1 - 1e-7)
        return F.binary_cross_entropy(p, labels.to(p))

    @staticmethod
    def _check(x: torch.Tensor, name: str, window: int, dim: int) -> None:
        check_rank(x, name, (3,), f"(N, {window}, {dim})")
        check_floating(x, name)
        if tuple(x.shape[1:]) != (window, dim):
            raise ValueError(f"{name}: expected (N, {window}, {dim}), got {describe(x)}")


# ================================================================================================= checkpoints
_STEP = re.compile(r"model_ckpt_steps_(\d+)\.ckpt$")


def find_checkpoint(path: str | os.PathLike, steps: int | None = None) -> Path:
    """A ``.ckpt`` file, or in a GeneFace work dir the ``model_ckpt_steps_<steps>.ckpt`` (latest when None)."""
    path = Path(path)
    if path.is_file():
        return path
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no GeneFace checkpoint file or work dir")
    found = {int(m.group(1)): p for p in path.glob("model_ckpt_steps_*.ckpt") if (m := _STEP.search(p.name))}
    if not found:
        raise FileNotFoundError(f"{path}: no model_ckpt_steps_*.ckpt in this GeneFace work dir")
    if steps is None:
        return found[max(found)]
    if steps not in found:
        raise FileNotFoundError(f"{path}: no model_ckpt_steps_{steps}.ckpt (found steps {sorted(found)})")
    return found[steps]


def model_state_dict(checkpoint: dict, model_name: str = "model") -> dict[str, torch.Tensor]:
    """The ``model_name`` entry of a GeneFace trainer checkpoint (nested ``{"model": {...}}`` or ``"model."`` keys)."""
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), dict):
        raise ValueError(f"checkpoint: expected GeneFace's {{'state_dict': ...}} dict, got {describe(checkpoint)}")
    state = checkpoint["state_dict"]
    if isinstance(state.get(model_name), dict):
        return state[model_name]
    prefix = f"{model_name}."
    flat = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if not flat:
        raise ValueError(f"checkpoint: no '{model_name}' weights; state_dict holds {sorted(state)[:5]}")
    return flat


def load_geneface_syncnet(path: str | os.PathLike, steps: int | None = None, audio_dim: int = HUBERT_DIM,
                          trust_pickle: bool = False) -> GeneFaceSyncNet:
    """Load a GeneFace SyncNet checkpoint strictly (every key and shape must match); returns it in eval mode.

    GeneFace checkpoints are pickles that also hold numpy values; they are read with ``weights_only=True`` unless
    ``trust_pickle=True`` (only for files you trust).
    """
    file = find_checkpoint(path, steps)
    try:
        checkpoint = torch.load(file, map_location="cpu", weights_only=not trust_pickle)
    except Exception as err:  # an unpickling refusal names the offending global
        if trust_pickle:
            raise
        raise ValueError(f"{file}: cannot be read with weights_only=True ({str(err).splitlines()[0]}); "
                         "pass trust_pickle=True if you trust this file") from None
    state = model_state_dict(checkpoint)
    model = GeneFaceSyncNet(audio_dim=audio_dim)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ValueError(f"{file}: weights do not fit GeneFace's SyncNet (audio_dim={audio_dim}): {err}") from None
    return model.eval()


def save_geneface_checkpoint(model: GeneFaceSyncNet, work_dir: str | os.PathLike, steps: int) -> Path:
    """Write ``model`` as GeneFace's trainer does: ``<work_dir>/model_ckpt_steps_<steps>.ckpt``."""
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    file = work_dir / f"model_ckpt_steps_{steps}.ckpt"
    torch.save({"epoch": 0, "global_step": steps, "state_dict": {"model": state}, "optimizer_states": []}, file)
    return file
