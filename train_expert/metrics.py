"""Threshold-free binary metrics of sync scores: ROC curve, ROC-AUC and equal error rate (numpy only)."""

from __future__ import annotations

import numpy as np


def _check(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(labels).ravel()
    if scores.shape != labels.shape or scores.size == 0:
        raise ValueError(f"scores, labels: expected equal non-empty lengths, got {scores.shape} and {labels.shape}")
    if not np.isfinite(scores).all():
        raise ValueError("scores: expected finite values, got NaN or inf")
    labels = labels.astype(bool)
    if labels.all() or not labels.any():
        raise ValueError(f"labels: expected both positives and negatives, got {int(labels.sum())} of {labels.size}")
    return scores, labels


def roc_curve(scores, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fpr, tpr, thresholds)``, from (0, 0) to (1, 1); ``labels`` true for synced pairs, higher score = synced."""
    scores, labels = _check(scores, labels)
    order = np.argsort(-scores, kind="mergesort")
    scores, labels = scores[order], labels[order]
    distinct = np.r_[np.flatnonzero(np.diff(scores)), labels.size - 1]  # last index of each tied score
    tps = np.cumsum(labels)[distinct]
    fps = (distinct + 1) - tps
    tpr = np.r_[0.0, tps / labels.sum()]
    fpr = np.r_[0.0, fps / (~labels).sum()]
    return fpr, tpr, np.r_[np.inf, scores[distinct]]


def roc_auc(scores, labels) -> float:
    """Area under the ROC curve (0.5 = chance, 1 = perfect ranking); ties count one half."""
    fpr, tpr, _ = roc_curve(scores, labels)
    return float(np.trapezoid(tpr, fpr))


def equal_error_rate(scores, labels) -> float:
    """The error rate where false-accept and false-reject rates are equal (interpolated on the ROC curve)."""
    fpr, tpr, _ = roc_curve(scores, labels)
    fnr = 1.0 - tpr
    diff = fpr - fnr  # rises from -1 to +1
    i = int(np.flatnonzero(diff >= 0)[0])
    if i == 0 or diff[i] == 0:
        return float(fpr[i])
    w = diff[i] / (diff[i] - diff[i - 1])  # linear interpolation between points i - 1 and i
    return float(w * fpr[i - 1] + (1 - w) * fpr[i])


def bootstrap_interval(values, statistic=np.mean, resamples: int = 1000, level: float = 0.95,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over the items of ``values`` (resampled with replacement).

    ``values``: a 1-D sequence, or a tuple of equally long arrays resampled together (e.g. scores and labels, with
    ``statistic=roc_auc``). Resampling whole test clips (or pairs) is the uncertainty that a small test set has.
    """
    arrays = tuple(np.asarray(v) for v in values) if isinstance(values, tuple) else (np.asarray(values),)
    n = len(arrays[0])
    if n < 2 or any(len(a) != n for a in arrays):
        raise ValueError(f"values: expected at least 2 items (and equal lengths), got lengths {[len(a) for a in arrays]}")
    if not 0 < level < 1 or resamples < 10:
        raise ValueError(f"level, resamples: expected a level in (0, 1) and >= 10 resamples, got {level}, {resamples}")
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(resamples):
        pick = rng.integers(0, n, n)
        sample = tuple(a[pick] for a in arrays)
        try:
            stats.append(float(statistic(*sample)))
        except ValueError:  # e.g. an AUC resample with one class only
            continue
    tail = (1 - level) / 2 * 100
    low, high = np.nanpercentile(stats, [tail, 100 - tail])
    return float(low), float(high)
