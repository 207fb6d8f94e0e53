"""The experiment's report: per-row means with 95 % bootstrap intervals over test clips and the spread over seeds,
the judge's separation checks, the Markdown table and the offsets plot.

Data layout: ``clips[row][seed]`` is a list (one entry per test clip, same order for every row and seed) of metric
dicts (:func:`.evaluation.clip_sync_metrics` plus ``mouth_error``, ``mouth_motion_error``,
``syncnet_judge_loss`` and ``mse``). A row's value for a metric is the
mean over clips of the per-clip mean over seeds; its interval resamples test clips (percentile bootstrap,
:func:`train_expert.metrics.bootstrap_interval`); ``seed_sd`` is the standard deviation over seeds of the clip means.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from train_expert.metrics import bootstrap_interval

#: Table columns: (metric key, title, decimals, with interval).
COLUMNS = (("sync_loss", "judge sync loss ↓", 3, True), ("p_sync", "judge p(sync) ↑", 3, True),
           ("distance", "judge D ↓", 3, False), ("confidence", "judge C ↑", 3, False),
           ("abs_offset", "abs. offset ↓", 2, False), ("mouth_error", "mouth err ↓", 4, True),
           ("syncnet_judge_loss", "SyncNet judge loss ↓", 3, True),
           ("mouth_motion_error", "mouth motion err ↓", 4, False),
           ("mse", "recon MSE ↓", 3, False))


def clip_values(per_seed: list[list[dict]], metric: str) -> np.ndarray:
    """``(clips,)`` per-clip values of ``metric`` averaged over seeds."""
    if not per_seed or any(len(s) != len(per_seed[0]) for s in per_seed) or not per_seed[0]:
        raise ValueError(f"per_seed: expected equally long, non-empty clip lists per seed, got lengths "
                         f"{[len(s) for s in per_seed]}")
    return np.mean([[clip[metric] for clip in seed] for seed in per_seed], axis=0)


def summarise(per_seed: list[list[dict]], metric: str) -> dict:
    """``{"mean", "ci": [low, high], "seed_sd", "per_seed"}`` of ``metric`` (module docstring)."""
    values = clip_values(per_seed, metric)
    means = [float(np.mean([clip[metric] for clip in seed])) for seed in per_seed]
    low, high = bootstrap_interval(values) if len(values) > 1 and np.isfinite(values).all() else (np.nan, np.nan)
    return {"mean": float(values.mean()), "ci": [low, high],
            "seed_sd": float(np.std(means, ddof=1)) if len(means) > 1 else 0.0, "per_seed": means}


def separation(better: list[list[dict]], worse: list[list[dict]], metric: str = "sync_loss") -> dict:
    """Does the judge tell ``better`` (lower ``metric``) from ``worse``? The gap of the means, each row's 95 %
    interval, the interval of the paired per-clip difference, the spread (sd) of that difference over test clips;
    ``separated`` when the gap is positive and larger than that spread and the two intervals do not overlap."""
    a, b = clip_values(better, metric), clip_values(worse, metric)
    if a.shape != b.shape:
        raise ValueError(f"better, worse: expected the same test clips, got {a.shape} and {b.shape}")
    diff = b - a
    ci_a, ci_b, ci_diff = bootstrap_interval(a), bootstrap_interval(b), bootstrap_interval(diff)
    gap, spread = float(diff.mean()), float(diff.std(ddof=1))
    return {"metric": metric, "gap": gap, "clip_sd": spread, "ci_better": list(ci_a), "ci_worse": list(ci_b),
            "ci_gap": list(ci_diff), "separated": bool(gap > spread and ci_a[1] < ci_b[0])}


def format_cell(summary: dict, decimals: int, interval: bool) -> str:
    cell = f"{summary['mean']:.{decimals}f}"
    if interval and np.isfinite(summary["ci"]).all():
        low, high = summary["ci"]
        cell += f" [{low:.{decimals}f}, {high:.{decimals}f}]"
    if summary["seed_sd"] > 0:
        cell += f" ±{summary['seed_sd']:.{decimals}f}"
    return cell


def format_table(rows: dict[str, dict], names: dict[str, str]) -> str:
    """Markdown table: one line per row (``rows[key][metric]`` = :func:`summarise` output), a column per metric."""
    missing = [key for key in rows if key not in names]
    if missing:
        raise ValueError(f"rows: expected keys with names ({sorted(names)}), got unnamed {missing}")
    lines = ["| Method | " + " | ".join(title for _, title, _, _ in COLUMNS) + " |",
             "| --- | " + " | ".join("---:" for _ in COLUMNS) + " |"]
    for key, row in rows.items():
        lines.append(f"| {names[key]} | " + " | ".join(format_cell(row[m], d, ci) for m, _, d, ci in COLUMNS) + " |")
    return "\n".join(lines)


def format_checks(checks: dict[str, dict], names: dict[str, str]) -> str:
    """One line per separation check (:func:`separation`), ``checks["better_vs_worse"]`` (a suffix ``@metric`` tells
    checks of one pair on several metrics apart)."""
    lines = []
    for key, check in checks.items():
        better, worse = key.split("@")[0].split("_vs_")
        verdict = "separated" if check["separated"] else "NOT separated"
        lines.append(
            f"Judge check, {names[better]} vs {names[worse]}: {check['metric']} gap {check['gap']:.3f} "
            f"(95% interval {check['ci_gap'][0]:.3f} to {check['ci_gap'][1]:.3f}; sd over test clips "
            f"{check['clip_sd']:.3f}; rows {check['ci_better'][0]:.3f}-{check['ci_better'][1]:.3f} vs "
            f"{check['ci_worse'][0]:.3f}-{check['ci_worse'][1]:.3f}): {verdict}.")
    return "\n".join(lines)


def format_experts(experts: dict[str, list[dict]]) -> str:
    """Pair accuracy (protocol A on test speakers), mean over seeds with its range."""
    parts = []
    for name, results in experts.items():
        acc, auc = [r["accuracy"] for r in results], [r["auc"] for r in results]
        spread = f" ({min(acc):.3f}-{max(acc):.3f})" if len(acc) > 1 else ""
        parts.append(f"{name} {np.mean(acc):.3f}{spread}, AUC {np.mean(auc):.3f}")
    return "Pair accuracy on the test speakers (protocol A): " + "; ".join(parts) + "."


def plot_offsets(profiles: dict[str, list[dict[int, np.ndarray]]], names: dict[str, str], path: Path) -> None:
    """The judge's mean sync probability against audio offset, one curve per row (pooled over seeds and clips)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for key, clip_profiles in profiles.items():
        offsets = sorted(clip_profiles[0])
        ax.plot(offsets, [np.mean([p[k].mean() for p in clip_profiles]) for k in offsets], marker="o",
                label=names[key], linestyle="--" if key.startswith("shifted") else "-")
    ax.set_xlabel("audio offset (video frames)")
    ax.set_ylabel("judge p(sync)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
