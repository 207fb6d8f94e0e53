"""Training a Wav2Lip-style expert (``SyncNet_color`` architecture, Wav2Lip's objective) from the clip store.

Wav2Lip's recipe (``color_syncnet_train.py``): a random 5-frame window of a random clip; with probability 1/2 the
mel window of that window (label 1), otherwise the faces of another random window of the same clip against the
original mel (label 0); loss = BCE of ``cos(a, v)``; Adam. Faces are lower halves, BGR in [0, 1].
"""

from __future__ import annotations

import time

import numpy as np
import torch
from einops import rearrange
from torch.utils.data import DataLoader, Dataset
from unisync_loss.progress import progress_bar

from unisync_loss.data.clip_store import ClipStore

from .data import clip_mel, mel_window, to_bgr96, usable_windows
from .models import IMG_SIZE, SYNC_FRAMES, SyncNetColor


class SyncPairs(Dataset):
    """``(mel (1, 80, 16), faces (15, 48, 96), label)``; item ``i`` depends only on ``(seed, i)``."""

    def __init__(self, store: ClipStore | str, split: str, seed: int = 0, length: int = 10**9):
        self.store = store if isinstance(store, ClipStore) else ClipStore(store)
        self.clips = [w for w in (usable_windows(self.store, c)[0] for c in self.store.clip_ids(split)) if w]
        if not self.clips:
            raise ValueError(f"{self.store.root}: no usable {split!r} clips to train a sync expert on")
        self.seed, self.length = seed, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int):
        rng = np.random.default_rng([self.seed, int(index)])
        clip = self.clips[rng.integers(len(self.clips))]
        start = int(rng.integers(clip.first, clip.last + 1))
        synced = bool(rng.integers(2))
        shown = start
        if not synced:
            shown = int(rng.integers(clip.first, clip.last))
            shown += shown >= start
        frames = to_bgr96(self.store.load_array(clip.clip_id, "frames")[shown:shown + SYNC_FRAMES])
        faces = rearrange(torch.from_numpy(frames[:, IMG_SIZE // 2:].copy()), "t h w c -> (t c) h w")
        mel = torch.from_numpy(mel_window(clip_mel(self.store, clip.clip_id), start))[None]
        return mel, faces, torch.tensor(float(synced))


def bce_of_cosine(model: SyncNetColor, mel: torch.Tensor, faces: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    a, v = model(mel, faces)
    p = torch.cosine_similarity(a, v).clamp(1e-7, 1 - 1e-7)
    return torch.nn.functional.binary_cross_entropy(p, label)


@torch.no_grad()
def accuracy(model: SyncNetColor, data: SyncPairs, pairs: int = 256, batch_size: int = 64) -> float:
    """Share of balanced pairs classified right at the 0.5 threshold (eval mode)."""
    model.eval()
    right = 0
    for mel, faces, label in DataLoader(torch.utils.data.Subset(data, range(pairs)), batch_size=batch_size):
        a, v = model(mel, faces)
        right += int(((torch.cosine_similarity(a, v) > 0.5).float() == label).sum())
    return right / pairs


def train_syncnet(store: str, out: str, steps: int, width: float = 1.0, batch_size: int = 64, lr: float = 1e-4,
                  seed: int = 0, max_minutes: float | None = None) -> dict[str, float]:
    """Train and save ``{"state_dict": ...}`` to ``out`` (loadable with ``load_model("syncnet", out)``).

    Stops after ``steps`` steps or ``max_minutes`` minutes of training, whichever comes first (the same wall-time
    budget as ``train_expert --max-minutes``, so that two recipes can be compared at equal time).
    """
    if steps < 1 or batch_size < 1 or (max_minutes is not None and max_minutes <= 0):
        raise ValueError(f"steps, batch_size, max_minutes: expected positive values, got {steps}, {batch_size}, "
                         f"{max_minutes}")
    torch.manual_seed(seed)
    model = SyncNetColor(width)
    train, val = SyncPairs(store, "train", seed), SyncPairs(store, "val", seed + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    batches = DataLoader(torch.utils.data.Subset(train, range(steps * batch_size)), batch_size=batch_size)
    bar = progress_bar(batches, desc="wav2lip-style expert", unit="step")
    loss, done, start = torch.zeros(()), 0, time.perf_counter()
    for mel, faces, label in bar:
        model.train()
        loss = bce_of_cosine(model, mel, faces, label)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        done += 1
        bar.set_postfix(loss=f"{loss.item():.3f}")
        if max_minutes is not None and time.perf_counter() - start >= 60 * max_minutes:
            break
    bar.close()
    result = {"steps": done, "minutes": (time.perf_counter() - start) / 60, "final_loss": loss.item(),
              "val_accuracy": accuracy(model, val)}
    torch.save({"state_dict": model.state_dict(), "global_step": done, "global_epoch": 0, "result": result}, out)
    return result
