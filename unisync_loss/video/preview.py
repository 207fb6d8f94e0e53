"""A contact sheet of a clip store: first, middle and last crop of some clips with their landmarks drawn on top,
to check crops and landmarks at a glance after preprocessing (matplotlib, Agg backend)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..data.clip_store import ClipStore
from ..validation import check_positive_int


def save_preview(store: ClipStore | str | os.PathLike, path: str | os.PathLike, max_clips: int = 6) -> Path:
    """Write a PNG grid (one row per clip, columns = first / middle / last frame) and return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    store = store if isinstance(store, ClipStore) else ClipStore(store)
    check_positive_int(max_clips, "max_clips")
    ids = [i for i in store.clip_ids() if store.load_array(i, "frames") is not None][:max_clips]
    if not ids:
        raise ValueError(f"store: {store.root} holds no clip with face crops to preview")
    fig, axes = plt.subplots(len(ids), 3, figsize=(6, 2 * len(ids)), squeeze=False)
    for row, clip_id in zip(axes, ids):
        frames, points = store.load_array(clip_id, "frames"), store.load_array(clip_id, "landmarks")
        for ax, index in zip(row, (0, len(frames) // 2, len(frames) - 1)):
            ax.imshow(np.asarray(frames[index]))
            if points is not None:
                ax.scatter(points[index, :, 0], points[index, :, 1], s=2, c="lime")
            ax.set_title(f"{clip_id} [{index}]", fontsize=7)
            ax.axis("off")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
