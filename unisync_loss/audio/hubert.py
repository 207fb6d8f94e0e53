"""HuBERT hidden states through transformers (GeneFace's audio features).

``(B, S)`` 16 kHz waveform -> ``(B, T, F)`` at 50 frames/s with ``T = ceil(S / 320)``. HuBERT itself yields
``floor((S - 80) / 320)`` frames (frame ``k`` sees samples ``320 k .. 320 k + 400``); like GeneFace, which pads its
features with zeros to twice the number of 25 fps video frames, the missing tail frame is a zero frame. So a clip of
``N`` video frames (``640 N`` samples) gives exactly ``2 N`` frames.

Input is normalised per utterance to zero mean and unit variance (``Wav2Vec2FeatureExtractor``'s ``do_normalize``,
which GeneFace's processor applies) over each item's valid samples. Long audio is processed in chunks with context on
both sides, so memory stays flat and chunked features equal unchunked ones away from the seams.
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path

import torch
from torch import nn
from ..progress import progress_bar

from ..representations.base import SAMPLE_RATE
from ..validation import check_choice, check_floating, check_rank, is_integer
from .checks import check_lengths, check_waveform

DEFAULT_MODEL = "facebook/hubert-large-ls960-ft"
PRECISIONS = {"auto": None, "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) asks for cache-only loading, read at call time."""
    return any(os.environ.get(k, "").strip().lower() in ("1", "true", "yes", "on")
               for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _how_to_get(name: str) -> str:
    return (
        f"download it once on a machine with internet access (`hf download {name}`, or "
        f"`python -c \"from transformers import HubertModel; HubertModel.from_pretrained('{name}')\"`), copy the "
        "Hugging Face cache (HF_HOME) here, or pass a local folder holding config.json and the weights "
        "(model.safetensors or pytorch_model.bin)"
    )


def load_hubert(model_name_or_path: str | os.PathLike):
    """A ``transformers.HubertModel`` in eval mode from a local folder or the Hugging Face cache/hub.

    Raises ``FileNotFoundError`` saying how to get the model when it is neither a folder nor available by name.
    With ``HF_HUB_OFFLINE=1`` only the local cache is looked at.
    """
    from transformers import HubertModel

    if not isinstance(model_name_or_path, (str, os.PathLike)) or not str(model_name_or_path).strip():
        raise ValueError(f"model_name_or_path: expected a model name or folder, got {model_name_or_path!r}")
    source = str(model_name_or_path)
    path = Path(source).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"{path}: no config.json, so it is not a saved HuBERT model; {_how_to_get(DEFAULT_MODEL)}"
            )
        source = str(path)
    elif path.exists() or source.startswith((".", "/", "~")) or source.count("/") > 1:
        raise FileNotFoundError(f"{source}: expected a model folder or a Hugging Face name like {DEFAULT_MODEL!r}")
    offline = hub_offline()
    try:
        model = HubertModel.from_pretrained(source, local_files_only=offline or path.is_dir())
    except (OSError, ValueError) as err:
        where = "the local Hugging Face cache (HF_HUB_OFFLINE is set)" if offline else "the cache or the hub"
        message = f"HuBERT model {source!r}: not found in {where} ({err}); {_how_to_get(source)}"
        raise FileNotFoundError(message) from err
    return model.eval()


def _wants_normalised_input(source: str | os.PathLike) -> bool:
    """``do_normalize`` of the model's feature-extractor config, True where there is none (as for hubert-large)."""
    from transformers import Wav2Vec2FeatureExtractor

    try:
        extractor = Wav2Vec2FeatureExtractor.from_pretrained(str(source), local_files_only=True)
    except (OSError, ValueError):
        return True
    return bool(extractor.do_normalize)


def normalise_utterances(wave: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit variance per item over its first ``lengths[i]`` samples; padding set to 0. ``(B, S)``."""
    check_rank(wave, "wave", (2,), "(B, S) waveform")
    check_floating(wave, "wave")
    lengths = check_lengths(lengths, wave, min_samples=1)
    valid = torch.arange(wave.shape[1], device=wave.device)[None, :] < lengths.to(wave.device)[:, None]
    x = wave.double() * valid
    count = valid.sum(1, keepdim=True)
    mean = x.sum(1, keepdim=True) / count
    var = ((x - mean) * valid).pow(2).sum(1, keepdim=True) / count
    return (((x - mean) / torch.sqrt(var + 1e-7)) * valid).float()


class HubertFrontend(nn.Module):
    """Frozen HuBERT: ``(B, S)`` float waveform at 16 kHz -> ``(B, ceil(S / 320), hidden_size)`` float32, 50 frames/s.

    Args:
        model_name_or_path: Hugging Face name (default ``facebook/hubert-large-ls960-ft``) or a local folder.
        layer: hidden-state index; -1 = last hidden state (GeneFace), 0 = input of the first transformer layer.
        expected_dim: if given, the model's hidden size must equal it.
        chunk_seconds: audio per chunk for long inputs; context_seconds: extra audio on each side of a chunk.
        precision: "auto" (float16 autocast on CUDA, float32 elsewhere), "float32", "float16" or "bfloat16".
        normalize: per-utterance normalisation; ``None`` reads ``do_normalize`` from the model folder (default True).
        progress: show a progress bar when there are several chunks.

    ``forward(wave, lengths=None)``: ``lengths`` ``(B,)`` gives each item's valid samples for right-padded batches;
    frames past an item's end are zero. Not differentiable (the model is a frozen feature extractor).
    """

    def __init__(self, model_name_or_path: str | os.PathLike = DEFAULT_MODEL, layer: int = -1,
                 expected_dim: int | None = None, *, chunk_seconds: float = 30.0, context_seconds: float = 2.0,
                 precision: str = "auto", normalize: bool | None = None, progress: bool = True):
        super().__init__()
        check_choice(precision, "precision", tuple(PRECISIONS))
        self.model = load_hubert(model_name_or_path)
        for p in self.model.parameters():
            p.requires_grad_(False)
        config = self.model.config
        num_layers = config.num_hidden_layers
        if not is_integer(layer) or not -(num_layers + 1) <= layer <= num_layers:
            raise ValueError(f"layer: expected an integer in [{-(num_layers + 1)}, {num_layers}] "
                             f"({num_layers} transformer layers), got {layer!r}")
        if expected_dim is not None and expected_dim != config.hidden_size:
            raise ValueError(f"expected_dim: the representation expects {expected_dim}-d features, but "
                             f"{model_name_or_path!r} has hidden_size {config.hidden_size}")
        self.hop = math.prod(config.conv_stride)
        strides, kernels = config.conv_stride, config.conv_kernel
        self.receptive_field = 1 + sum((k - 1) * math.prod(strides[:i]) for i, k in enumerate(kernels))
        self.chunk_frames = self._frames_of(chunk_seconds, "chunk_seconds", minimum=1)
        self.context_frames = self._frames_of(context_seconds, "context_seconds", minimum=0)
        self.layer, self.precision, self.progress = layer, precision, progress
        self.normalize = _wants_normalised_input(model_name_or_path) if normalize is None else bool(normalize)
        self.uses_attention_mask = config.feat_extract_norm == "layer"

    def _frames_of(self, seconds: float, name: str, minimum: int) -> int:
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
            raise ValueError(f"{name}: expected a number of seconds, got {seconds!r}")
        frames = round(seconds * self.rate)
        if frames < minimum:
            raise ValueError(f"{name}: expected at least {minimum / self.rate:g} s, got {seconds!r}")
        return frames

    @property
    def rate(self) -> float:
        """Feature frames per second (50 for HuBERT)."""
        return SAMPLE_RATE / self.hop

    @property
    def feature_dim(self) -> int:
        return self.model.config.hidden_size

    def num_frames(self, num_samples: int) -> int:
        """Frames returned for ``num_samples`` samples: ``ceil(num_samples / 320)``."""
        return -(-num_samples // self.hop)

    def model_frames(self, num_samples: torch.Tensor | int):
        """Frames HuBERT itself computes: ``floor((S - 400) / 320) + 1`` (0 when shorter than 400 samples)."""
        frames = (num_samples - self.receptive_field) // self.hop + 1
        return frames.clamp_min(0) if isinstance(frames, torch.Tensor) else max(frames, 0)

    def chunks(self, total_frames: int) -> list[tuple[int, int, int, int]]:
        """``(keep_start, keep_stop, run_start, run_stop)`` model-frame ranges covering ``total_frames``."""
        step, ctx = self.chunk_frames, self.context_frames
        if total_frames <= step + 2 * ctx:
            return [(0, total_frames, 0, total_frames)]
        return [(f0, min(f0 + step, total_frames), max(0, f0 - ctx), min(total_frames, f0 + step + ctx))
                for f0 in range(0, total_frames, step)]

    def forward(self, wave: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        check_waveform(wave, "wave")
        lengths = check_lengths(lengths, wave)
        wave = wave.float()
        if self.normalize:
            wave = normalise_utterances(wave, lengths)
        batch, samples = wave.shape
        out = wave.new_zeros(batch, self.num_frames(samples), self.feature_dim)
        total = self.model_frames(samples)
        plan = self.chunks(total)
        for f0, f1, r0, r1 in progress_bar(plan, desc="HuBERT chunks", unit="chunk", leave=False,
                                   disable=not self.progress or len(plan) < 3):
            # The last chunk keeps the tail samples that complete no frame: group-norm encoders normalise over them.
            s0, s1 = r0 * self.hop, samples if r1 == total else (r1 - 1) * self.hop + self.receptive_field
            valid = (lengths - s0).clamp(0, s1 - s0)
            items = torch.nonzero(valid >= self.receptive_field).flatten()
            if len(items) == 0:
                continue
            hidden = self._run(wave[items.to(wave.device), s0:s1], valid[items])
            out[items.to(wave.device), f0:f1] = hidden[:, f0 - r0:f1 - r0].float()
        keep = torch.arange(out.shape[1])[None, :] < self.model_frames(lengths)[:, None]
        return out * keep.to(out.device)[..., None]

    @torch.no_grad()
    def _run(self, chunk: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Hidden states ``(b, frames, F)`` of right-padded ``chunk`` ``(b, s)`` with ``valid`` samples each."""
        if bool((valid == chunk.shape[1]).all()):
            return self._hidden(chunk, None)
        if self.uses_attention_mask:
            mask = torch.arange(chunk.shape[1])[None, :] < valid[:, None]
            return self._hidden(chunk, mask.long().to(chunk.device))
        # Group-norm feature encoders (hubert-base) normalise over time, so padding would leak in: one item at a time.
        frames = self.model_frames(chunk.shape[1])
        rows = []
        for i, n in enumerate(valid.tolist()):
            hidden = self._hidden(chunk[i:i + 1, :n], None)
            rows.append(nn.functional.pad(hidden, (0, 0, 0, frames - hidden.shape[1])))
        return torch.cat(rows)

    def _hidden(self, chunk: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        dtype = PRECISIONS[self.precision]
        if dtype is None:
            dtype = torch.float16 if chunk.device.type == "cuda" else torch.float32
        autocast = (torch.autocast(chunk.device.type, dtype=dtype) if dtype != torch.float32
                    else contextlib.nullcontext())
        with autocast:
            result = self.model(chunk, attention_mask=mask, output_hidden_states=self.layer != -1)
        return result.last_hidden_state if self.layer == -1 else result.hidden_states[self.layer]

    def train(self, mode: bool = True) -> "HubertFrontend":
        """The wrapped model stays in eval mode (no dropout, no SpecAugment masking)."""
        super().train(mode)
        self.model.eval()
        return self

    def extra_repr(self) -> str:
        return (f"layer={self.layer}, hop={self.hop}, chunk_frames={self.chunk_frames}, "
                f"context_frames={self.context_frames}, precision={self.precision!r}, normalize={self.normalize}")


__all__ = ["DEFAULT_MODEL", "HubertFrontend", "load_hubert", "normalise_utterances", "hub_offline"]
