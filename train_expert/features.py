"""Audio features of a clip store, computed once with the representation's frontend and cached in the store."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from unisync_loss.data import ClipStore, feature_key
from unisync_loss.representations import AudioRepresentation


def frontend_compute(rep: AudioRepresentation, device: str | torch.device = "cpu") -> Callable[[np.ndarray], np.ndarray]:
    """``compute(waveform (S,) float32 16 kHz) -> features (T_a, F)`` using ``rep.build_frontend()``."""
    frontend = rep.build_frontend().to(device).eval()

    @torch.no_grad()
    def compute(audio: np.ndarray) -> np.ndarray:
        wave = torch.as_tensor(np.asarray(audio, dtype=np.float32), device=device)[None]
        return frontend(wave)[0].float().cpu().numpy()

    return compute


def cache_features(store: ClipStore, rep: AudioRepresentation, clip_ids: Sequence[str],
                   device: str | torch.device = "cpu", progress: bool = True) -> int:
    """Make sure every clip of ``clip_ids`` has cached ``rep`` features; returns how many were computed."""
    if not isinstance(rep, AudioRepresentation):
        raise ValueError(f"rep: expected an audio representation, got {rep!r}")
    compute = None
    computed = 0
    for clip_id in tqdm(clip_ids, desc=f"{rep.name} features", disable=not progress, leave=False):
        if cached_feature_path(store, rep, clip_id).is_file():
            continue
        if compute is None:
            compute = frontend_compute(rep, device)
        store.features(clip_id, rep.config(), compute)
        computed += 1
    return computed


def cached_feature_path(store: ClipStore, rep: AudioRepresentation, clip_id: str) -> Path:
    """Where :meth:`ClipStore.features` keeps ``rep``'s features of ``clip_id``."""
    return store.clip_dir(clip_id) / "features" / f"{feature_key(rep.config())}.npy"


def load_cached_features(store: ClipStore, rep: AudioRepresentation, clip_id: str) -> np.ndarray:
    """Memory-mapped cached features ``(T_a, F)``; raises if :func:`cache_features` has not run for the clip."""
    def missing(_audio):
        raise FileNotFoundError(
            f"{store.root}: no cached {rep.name} features for clip {clip_id!r}; run cache_features first"
        )

    values = store.features(clip_id, rep.config(), missing)
    if values.ndim != 2 or values.shape[1] != rep.feature_dim:
        raise ValueError(
            f"{store.root}: cached {rep.name} features of clip {clip_id!r} have shape {values.shape}, "
            f"expected (T, {rep.feature_dim})"
        )
    return values
