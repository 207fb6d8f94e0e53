"""The Table VI analogue from per-clip scores: means with 95 % intervals, the separation check, pictures.

Per-clip scores (one dict per test clip and row, for each seed) come from the experiment's scoring stage:
``lse_d`` / ``lse_c`` / ``offset`` from the judge, ``mouth_corr`` / ``mouth_motion`` from :mod:`.mouth_motion`.
Each clip's value is first averaged over seeds, then the row's mean gets a percentile-bootstrap interval over clips;
the spread over seeds is the standard deviation of the per-seed means. Rows are compared with the real videos on the
same clips (paired differences), which is what says whether a table can show a difference at all.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from train_expert.metrics import bootstrap_interval

METRICS = (("lse_d", "LSE-D ↓"), ("lse_c", "LSE-C ↑"), ("in_sync", "offset 0±1 ↑"), ("mouth_corr", "mouth corr ↑"),
           ("mouth_motion", "mouth motion"))
SYNCNET_METRICS = (("syncnet_lse_d", "SyncNet LSE-D ↓"), ("syncnet_lse_c", "SyncNet LSE-C ↑"))


def metrics_of(per_seed: list[list[dict]]) -> tuple[tuple[str, str], ...]:
    """The columns the scores hold: the judge's, the mouth metrics when the store has landmarks, and
    syncnet_python's LSE when it was run."""
    first = per_seed[0][0]
    return tuple((k, t) for k, t in METRICS + SYNCNET_METRICS if k in first or (k == "in_sync" and "offset" in first))


def clip_matrix(per_seed: list[list[dict]], key: str) -> np.ndarray:
    """``(seeds, clips)`` values of ``key`` (``in_sync``: 1 where the judge's offset is within one frame of 0)."""
    if not per_seed or not per_seed[0]:
        raise ValueError("per_seed: expected at least one seed with at least one clip")
    clips = [item["clip"] for item in per_seed[0]]
    rows = []
    for items in per_seed:
        if [item["clip"] for item in items] != clips:
            raise ValueError("per_seed: every seed must score the same clips in the same order")
        rows.append([float(abs(i["offset"]) <= 1) if key == "in_sync" else float(i[key]) for i in items])
    return np.array(rows)


def summarise_row(per_seed: list[list[dict]]) -> dict[str, dict[str, float]]:
    """``{metric: {"mean", "low", "high", "seed_sd", "clip_sd"}}`` of one row."""
    out = {}
    for key, _ in metrics_of(per_seed):
        values = clip_matrix(per_seed, key)
        per_clip = values.mean(axis=0)
        low, high = bootstrap_interval(per_clip) if len(per_clip) > 1 else (float("nan"),) * 2
        out[key] = {"mean": float(per_clip.mean()), "low": low, "high": high,
                    "seed_sd": float(values.mean(axis=1).std(ddof=1)) if len(values) > 1 else 0.0,
                    "clip_sd": float(per_clip.std(ddof=1)) if len(per_clip) > 1 else 0.0}
    return out


def paired_difference(row: list[list[dict]], reference: list[list[dict]], key: str = "lse_c") -> dict[str, float]:
    """Mean per-clip difference ``row - reference`` of ``key`` (seed-averaged) with its 95 % bootstrap interval."""
    diff = clip_matrix(row, key).mean(axis=0) - clip_matrix(reference, key).mean(axis=0)
    low, high = bootstrap_interval(diff)
    return {"mean": float(diff.mean()), "low": low, "high": high}


def separation(real: list[list[dict]], baseline: list[list[dict]], key: str = "lse_c") -> dict[str, float | bool]:
    """Does the judge tell real videos from ``baseline`` (the generator without sync loss)? Yes when the paired
    difference's 95 % interval excludes 0 and the gap exceeds the baseline's spread (SD) over test clips."""
    diff = paired_difference(real, baseline, key)
    spread = float(clip_matrix(baseline, key).mean(axis=0).std(ddof=1))
    if key == "lse_d":  # lower is better: real below the baseline
        separated = diff["high"] < 0 and -diff["mean"] > spread
    else:
        separated = diff["low"] > 0 and diff["mean"] > spread
    return {"key": key, "gap": diff["mean"], "low": diff["low"], "high": diff["high"], "clip_sd": spread,
            "separated": bool(separated)}


def format_table(summaries: dict[str, dict], seeds: list[int], note: str) -> str:
    """Markdown: one line per row, ``mean [low, high]`` per metric (± seed SD when there are several seeds)."""
    columns = [(key, title) for key, title in METRICS + SYNCNET_METRICS if all(key in s for s in summaries.values())]
    head = "| Method | " + " | ".join(title for _, title in columns) + " |"
    lines = [note, "", head, "| --- |" + " ---: |" * len(columns)]
    for row, summary in summaries.items():
        cells = []
        for key, _ in columns:
            s = summary[key]
            cell = f"{s['mean']:.3f} [{s['low']:.3f}, {s['high']:.3f}]"
            if len(seeds) > 1 and row != "Real videos":
                cell += f" ±{s['seed_sd']:.3f}"
            cells.append(cell)
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Cells: mean over test clips [95 % bootstrap interval over clips]" +
                 (f"; ± standard deviation of the {len(seeds)} seeds' means" if len(seeds) > 1 else "") +
                 ". LSE by the judge (distances sqrt(2 - 2p), offsets -15..15); offset 0±1: share of clips whose "
                 "judge offset is within one frame of 0; mouth corr / motion: correlation / SD ratio of the mouth "
                 "region's darkness against the real clip (1 / 1 for the real videos).")
    return "\n".join(lines)


def plot_curves(curves: dict[str, np.ndarray], offsets: list[int], path: str | Path) -> Path:
    """Mean judge distance against audio offset, one line per row (``curves[row]``: ``(clips, offsets)``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for row, values in curves.items():
        ax.plot(offsets, np.asarray(values).mean(axis=0), marker=".", label=row)
    ax.set_xlabel("audio offset (video frames)")
    ax.set_ylabel("judge distance (mean over clips)")
    ax.set_title("Judge curve per row: a dip at 0 = in sync")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def save_strips(strips: dict[str, np.ndarray], folder: str | Path, caption: str) -> Path:
    """One PNG per row (``strips[row]``: ``(K, h, w, 3)`` uint8 mouth crops of the same frames) and one figure
    with every row under the other (``strips.png``); returns the figure's path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = list(strips)
    for row in rows:
        image = np.concatenate(list(strips[row]), axis=1)
        Image.fromarray(image).save(folder / f"strip_{row.lower().replace(' ', '_').replace('+', 'plus')}.png")
    height, width = np.concatenate(list(strips[rows[0]]), axis=1).shape[:2]
    fig, axes = plt.subplots(len(rows), 1, figsize=(10, len(rows) * (8.5 * height / width + 0.15) + 0.5))
    for ax, row in zip(np.atleast_1d(axes), rows):
        ax.imshow(np.concatenate(list(strips[row]), axis=1))
        ax.set_ylabel(row, rotation=0, ha="right", va="center", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(caption, fontsize=9)
    fig.tight_layout()
    path = folder / "strips.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
