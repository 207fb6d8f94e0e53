"""Audio features of clips: computed with a representation's frontend, cached once per clip in the clip store.

The cache key is a hash of the representation's config (name and every option, e.g. HuBERT model and layer, mel
hop) plus :data:`FRONTEND_VERSION`, so a change of settings never reuses stale features. Cached arrays are plain
``.npy`` files ``(T_a, F)`` float32 that load memory-mapped.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import torch
from torch import nn
from ..progress import progress_bar

from ..data.clip_store import ClipStore, feature_key
from ..representations import AudioRepresentation, create_representation
from ..representations.base import SAMPLE_RATE
from ..validation import describe
from .io import as_waveform

#: Bumped whenever a frontend's output changes for the same settings (invalidates every cached feature).
FRONTEND_VERSION = 1

_FRONTENDS: dict[tuple[str, str], nn.Module] = {}


def audio_representation(rep: str | dict[str, Any] | AudioRepresentation) -> AudioRepresentation:
    """An audio representation from a name (``"mel"``, ``"hubert"``), a config dict or an instance."""
    return create_representation(rep, modality="audio")


def feature_config(rep: str | dict[str, Any] | AudioRepresentation) -> dict[str, Any]:
    """What the cached features depend on: the representation's config plus the frontend version."""
    return {**audio_representation(rep).config(), "frontend_version": FRONTEND_VERSION}


def frontend_for(rep: str | dict[str, Any] | AudioRepresentation, device: str | torch.device = "cpu") -> nn.Module:
    """The representation's frontend on ``device``, built once per settings and device and then reused (eval mode).

    Frontends stay loaded for the life of the process (a HuBERT-large holds about 1.2 GB); ``_FRONTENDS.clear()``
    releases them.
    """
    rep = audio_representation(rep)
    key = (feature_key(feature_config(rep)), str(torch.device(device)))
    if key not in _FRONTENDS:
        _FRONTENDS[key] = rep.build_frontend().eval().to(device)
    return _FRONTENDS[key]


@torch.no_grad()
def compute_features(rep: str | dict[str, Any] | AudioRepresentation, wave, sample_rate: int = SAMPLE_RATE,
                     device: str | torch.device = "cpu") -> torch.Tensor:
    """Features of one waveform: ``(S,)`` samples (float, or int16/int32 PCM) at ``sample_rate`` -> ``(T, F)`` float32
    on the CPU, at the representation's frame rate."""
    if isinstance(wave, torch.Tensor) and wave.ndim == 1 and wave.is_floating_point() and sample_rate == SAMPLE_RATE:
        waveform = wave.float()
    elif isinstance(wave, (torch.Tensor, np.ndarray)) and np.ndim(wave) == 1:
        waveform = as_waveform(wave, sample_rate, name="wave")
    else:
        raise ValueError(f"wave: expected one waveform of shape (S,), got {describe(wave)}")
    frontend = frontend_for(rep, device)
    return frontend(waveform[None].to(device))[0].float().cpu()


def cached_features(store: ClipStore, clip_id: str, rep: str | dict[str, Any] | AudioRepresentation,
                    device: str | torch.device = "cpu", mmap: bool = True) -> np.ndarray:
    """Features ``(T_a, F)`` float32 of a stored clip: read from the store's cache, computed and stored on a miss."""
    if not isinstance(store, ClipStore):
        raise ValueError(f"store: expected a ClipStore, got {describe(store)}")
    if not store.has_clip(clip_id):
        raise ValueError(f"clip_id: {store.root} has no clip {clip_id!r}")
    rep = audio_representation(rep)
    return store.features(clip_id, feature_config(rep),
                          lambda audio: compute_features(rep, np.asarray(audio), device=device).numpy(), mmap=mmap)


def precompute_features(store: ClipStore, rep: str | dict[str, Any] | AudioRepresentation,
                        clip_ids: Iterable[str] | None = None, device: str | torch.device = "cpu",
                        progress: bool = True) -> int:
    """Fill the cache for ``clip_ids`` (default: every clip); returns how many clips were processed."""
    ids = list(store.clip_ids() if clip_ids is None else clip_ids)
    desc = f"{audio_representation(rep).name} features"
    for clip_id in progress_bar(ids, desc=desc, unit="clip", disable=not progress):
        cached_features(store, clip_id, rep, device=device)
    return len(ids)
