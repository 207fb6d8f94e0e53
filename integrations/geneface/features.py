"""Audio features at GeneFace's rate (50 frames/s, 2 per video frame) for the clips of a clip store.

* ``"mel50"``: 80-bin log-mel (Wav2Lip's scaling) with a 320-sample hop, i.e. 50 frames/s. It stands in for HuBERT
  here because no pretrained HuBERT can be downloaded in this setting; it has HuBERT's rate and windowing, so every
  model below is shaped exactly as with HuBERT.
* ``"hubert"``: the last hidden layer of a local transformers ``HubertModel`` folder (e.g. a saved
  ``facebook/hubert-large-ls960-ft``), waveform normalised to zero mean and unit variance as GeneFace's processor does.

Features are cached in the store (keyed by these settings) and cut or zero-padded to exactly ``2 * T`` frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from unisync_loss.data.clip_store import ClipStore
from unisync_loss.validation import check_choice

from .conventions import HUBERT_PER_VIDEO_FRAME, align_hubert_to_video

MEL_BINS = 80


@dataclass(frozen=True)
class AudioFeatureSpec:
    """Which 50 frames/s features to use: ``kind`` "mel50" or "hubert" (then ``model`` is a local folder)."""

    kind: str = "mel50"
    model: str | None = None
    dim: int = MEL_BINS

    def __post_init__(self):
        check_choice(self.kind, "kind", ("mel50", "hubert"))
        if self.kind == "hubert" and not self.model:
            raise ValueError("model: a local HubertModel folder is required for kind='hubert'")

    def cache_config(self) -> dict:
        return {"name": f"geneface-{self.kind}", "model": self.model, "dim": self.dim, "rate": 50}

    def representation(self) -> dict:
        """The UniSync audio representation config for these features (the ``hubert`` layout: 50/s, 10 per window)."""
        return {"name": "hubert", "dim": self.dim, "model": self.model or f"precomputed:{self.kind}", "layer": -1}


@lru_cache(maxsize=2)
def _mel50():
    from unisync_loss.audio.mel import MelFrontend

    return MelFrontend(hop_length=320, n_fft=800, win_length=800, n_mels=MEL_BINS).eval()


@lru_cache(maxsize=1)
def _hubert(folder: str):
    from transformers import HubertModel

    return HubertModel.from_pretrained(folder).eval()


@torch.no_grad()
def compute_features(audio: np.ndarray, spec: AudioFeatureSpec) -> np.ndarray:
    """``(S,)`` float32 16 kHz waveform -> ``(T_a, F)`` features at 50 frames/s."""
    wave = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))[None]
    if spec.kind == "mel50":
        return _mel50()(wave)[0].numpy()
    wave = (wave - wave.mean()) / (wave.std() + 1e-7)
    hidden = _hubert(spec.model)(wave).last_hidden_state[0].numpy()
    if hidden.shape[1] != spec.dim:
        raise ValueError(f"model: {spec.model} gives {hidden.shape[1]}-d features, but dim={spec.dim} was asked for")
    return hidden


def clip_features(store: ClipStore, clip_id: str, spec: AudioFeatureSpec, num_frames: int) -> np.ndarray:
    """Cached features of one clip, ``(2 * num_frames, F)`` float32, aligned as GeneFace aligns HuBERT."""
    features = store.features(clip_id, spec.cache_config(), lambda audio: compute_features(audio, spec))
    aligned = align_hubert_to_video(np.asarray(features), num_frames, name=f"features of clip {clip_id}")
    assert aligned.shape[0] == HUBERT_PER_VIDEO_FRAME * num_frames
    return np.array(aligned, dtype=np.float32)  # a writable copy, not a view of the memory-mapped cache
