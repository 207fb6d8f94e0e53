"""Offset curves: per-window sync scores at a range of audio offsets -> the best offset and how clearly it wins.

Every scorer of the project that finds an audio offset (``unisync_scores``, protocol B of ``train_expert.evaluate``,
the GeneFace judge) reduces its scores with these two functions, so "best offset" and "confidence" mean one thing:

* :func:`offset_curve`: ``(N, O)`` scores of ``N`` windows at ``O`` offsets -> ``(O,)`` mean over the windows that
  could be paired at each offset (NaN marks a window that could not);
* :func:`best_offset`: a curve ``(..., O)`` -> the offset at its best score and the confidence ``|best - median|``
  (probabilities: highest is best; distances: ``lower_is_better``). NaN entries are ignored.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..validation import describe


def offset_curve(scores: np.ndarray) -> np.ndarray:
    """``(N, O)`` per-window scores (NaN = not scorable) -> ``(O,)`` float mean over rows; NaN where a column has
    no value."""
    scores = np.asarray(scores)
    if scores.ndim != 2 or not np.issubdtype(scores.dtype, np.floating):
        raise ValueError(f"scores: expected a float array (windows, offsets), got {describe(scores)}")
    counts = (~np.isnan(scores)).sum(axis=0)
    sums = np.nansum(scores, axis=0)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def best_offset(curve: np.ndarray, offsets: Sequence[int], lower_is_better: bool = False):
    """The offset at the best score of ``curve`` and its confidence (best minus median, in the curve's units, >= 0).

    ``curve``: ``(O,)`` or ``(..., O)`` scores, column ``j`` belonging to ``offsets[j]``; NaN entries are skipped.
    Returns ``(int, confidence)`` for one curve (the confidence a NumPy scalar of the curve's dtype), arrays
    ``(offsets (...), confidences (...))`` for a stack of curves.
    """
    curve = np.asarray(curve)
    offsets = np.asarray(offsets)
    if curve.ndim < 1 or not np.issubdtype(curve.dtype, np.floating):
        raise ValueError(f"curve: expected a float array (..., offsets), got {describe(curve)}")
    if offsets.ndim != 1 or not np.issubdtype(offsets.dtype, np.integer) or len(offsets) != curve.shape[-1]:
        raise ValueError(f"offsets: expected {curve.shape[-1]} integers (one per column of the curve), "
                         f"got {describe(offsets)}")
    if np.isnan(curve).all(axis=-1).any():
        raise ValueError("curve: a curve has no score at any offset (all NaN)")
    index = (np.nanargmin if lower_is_better else np.nanargmax)(curve, axis=-1)
    best = np.take_along_axis(curve, index[..., None], axis=-1)[..., 0]
    median = np.nanmedian(curve, axis=-1)
    confidence = median - best if lower_is_better else best - median
    if curve.ndim == 1:
        return int(offsets[index]), confidence[()]
    return offsets[index], confidence
