"""One PNG per scored video: the curve over offsets (left) and sync over time (right), for every face track.

Left: SyncNet's mean distance per offset (lower = better; its minimum is LSE-D) and, on a second axis, the UniSync
expert's mean sync probability per offset (higher = better). Right: SyncNet's per-window confidence and the UniSync
probability at offset 0 over time, with the 0.5 decision threshold and the drift segments' best offsets.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .unisync_scores import SYNC_THRESHOLD

FPS = 25.0


def plot_record(record: dict, path: str | os.PathLike) -> Path:
    """Draw a :func:`score_video` record (``status == "ok"``) into the PNG ``path``; returns the path."""
    if not isinstance(record, dict) or record.get("status") != "ok" or not record.get("tracks"):
        raise ValueError(f"record: expected a successful score_video record with tracks, got {str(record)[:200]}")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tracks = record["tracks"]
    fig, axes = plt.subplots(len(tracks), 2, figsize=(12, 3.4 * len(tracks)), squeeze=False)
    for row, track in zip(axes, tracks):
        _plot_offsets(row[0], track)
        _plot_time(row[1], track)
    fig.suptitle(_title(record), fontsize=10)
    return _save(fig, path, dpi=90)


def _save(fig, path: str | os.PathLike, dpi: int) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def _title(record: dict) -> str:
    parts = [Path(record["video"]).name]
    if "lse_d" in record:
        parts.append(f"LSE-D {record['lse_d']:.3f}  LSE-C {record['lse_c']:.3f}  offset {record['offset']:+d}")
    if "unisync_offset" in record:
        parts.append(f"UniSync p {record['unisync_mean_probability']:.3f}  in sync "
                     f"{100 * record['unisync_in_sync_share']:.0f}%  offset {record['unisync_offset']:+d}")
    return "   |   ".join(parts)


def _plot_offsets(ax, track: dict) -> None:
    ax.set_title(f"track {track['track']} (frames {track['start_frame']}..."
                 f"{track['start_frame'] + track['num_frames'] - 1}): curve over offsets", fontsize=9)
    ax.set_xlabel("offset (frames; + = sound before picture)")
    if "lse" in track:
        lse = track["lse"]
        ax.plot(lse["offsets"], lse["distances"], "o-", ms=3, color="tab:blue", label="SyncNet distance")
        ax.axvline(lse["offset"], color="tab:blue", ls=":", lw=1)
        ax.set_ylabel("mean distance", color="tab:blue")
    if "unisync" in track:
        uni = track["unisync"]
        other = ax.twinx() if "lse" in track else ax
        values = np.array([np.nan if v is None else v for v in uni["probabilities"]], float)
        other.plot(uni["offsets"], values, "s-", ms=3, color="tab:orange", label="UniSync probability")
        other.axvline(uni["offset"], color="tab:orange", ls=":", lw=1)
        other.set_ylabel("mean sync probability", color="tab:orange")


def _plot_time(ax, track: dict) -> None:
    ax.set_title("sync over time", fontsize=9)
    ax.set_xlabel("time (s, window start)")
    start = track["start_frame"] / FPS
    if "lse" in track:
        conf = np.array(track["lse"]["window_confidence"], float)
        ax.plot(start + np.arange(len(conf)) / FPS, conf, color="tab:blue", lw=1, label="SyncNet confidence")
        ax.set_ylabel("SyncNet confidence (median - distance)", color="tab:blue")
    if "unisync" in track:
        uni = track["unisync"]
        other = ax.twinx() if "lse" in track else ax
        p = np.array([np.nan if v is None else v for v in uni["window_probability"]], float)
        other.plot(start + np.arange(len(p)) / FPS, p, color="tab:orange", lw=1, label="UniSync p at offset 0")
        other.axhline(SYNC_THRESHOLD, color="tab:orange", ls="--", lw=0.8)
        other.set_ylim(0, 1)
        other.set_ylabel("UniSync probability", color="tab:orange")
        for seg in uni["drift"]:
            other.annotate(f"{seg['offset']:+d}", ((start + seg["start_s"] + start + seg["stop_s"]) / 2, 0.04),
                           ha="center", fontsize=7, color="tab:red")


def plot_comparison(records: list[dict], methods: list[str], path: str | os.PathLike) -> Path:
    """One PNG comparing methods: per metric (LSE-D, LSE-C, UniSync probability, offsets; those present) a box of
    each method's per-file values with the files as dots. ``records``: per-file dicts with ``method``, ``status`` and
    the ``score_video`` values; returns the path."""
    from .comparison import METRICS, metric_values

    if not isinstance(methods, list) or not methods:
        raise ValueError(f"methods: expected a non-empty list of method names, got {methods!r}")
    ok = [r for r in records if isinstance(r, dict) and r.get("status") == "ok"]
    panels = [(key, label, better) for key, label, better in METRICS
              if any(key in metric_values(r) for r in ok)]
    if not panels:
        raise ValueError("records: no successful record with a score to plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels) + 1, 3.8), squeeze=False)
    rng = np.random.default_rng(0)
    for ax, (key, label, better) in zip(axes[0], panels):
        data = [[metric_values(r)[key] for r in ok if r["method"] == m and key in metric_values(r)] for m in methods]
        shown = [d if d else [np.nan] for d in data]
        ax.boxplot(shown, showfliers=False)
        for i, values in enumerate(data, start=1):
            ax.plot(i + rng.uniform(-0.12, 0.12, len(values)), values, "o", ms=3, alpha=0.6, color="tab:blue")
        ax.set_xticks(range(1, len(methods) + 1), methods, rotation=30, ha="right")
        ax.set_title(f"{label} ({better} is better)", fontsize=10)
        ax.grid(alpha=0.3, axis="y")
    return _save(fig, path, dpi=110)
