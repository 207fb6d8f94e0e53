"""One offset scorer: the reductions every scorer used before sharing :mod:`unisync_loss.metrics.offsets` give
exactly the same numbers through it."""

from __future__ import annotations

import numpy as np
import pytest

from integrations.geneface.evaluation import sync_metrics
from train_expert.evaluate import offset_accuracy
from unisync_loss.metrics.offsets import best_offset, offset_curve


def _matrix(rng, windows: int, vshift: int, dtype=np.float64) -> np.ndarray:
    p = rng.random((windows, 2 * vshift + 1)).astype(dtype)
    p[:, rng.integers(0, 2 * vshift + 1)] += 0.3  # one offset stands out
    if windows > 3:
        p[rng.random(p.shape) < 0.1] = np.nan  # windows whose audio falls outside the clip
    p[0, 1] = p[0, 0]  # a tie
    return p


def test_unisync_scores_reduction_is_unchanged():
    rng = np.random.default_rng(0)
    for _ in range(300):
        vshift = int(rng.integers(1, 16))
        p = _matrix(rng, int(rng.integers(1, 60)), vshift)
        counts = (~np.isnan(p)).sum(axis=0)  # the former unisync_scores._mean_over_windows and _best
        before = np.where(counts > 0, np.nansum(p, axis=0) / np.maximum(counts, 1), np.nan)
        curve = offset_curve(p)
        np.testing.assert_array_equal(curve, before)
        best = int(np.nanargmax(before))
        offset, confidence = best_offset(curve, range(-vshift, vshift + 1))
        assert (offset, float(confidence)) == (best - vshift, float(before[best] - np.nanmedian(before)))


def test_protocol_b_argmax_is_unchanged():
    rng = np.random.default_rng(1)
    for _ in range(300):
        max_offset = int(rng.integers(1, 16))
        scores = rng.random((int(rng.integers(1, 40)), 2 * max_offset + 1)).astype(np.float32)
        scores[:, max_offset + int(rng.integers(-1, 2))] += 0.2
        for context in (5, 7, 9, 15):
            width = context - 4
            before = None
            if len(scores) >= width:  # the former body of offset_accuracy
                cumulative = np.cumsum(np.vstack([np.zeros((1, scores.shape[1])), scores]), axis=0)
                averaged = (cumulative[width:] - cumulative[:-width]) / width
                before = float((np.abs(averaged.argmax(axis=1) - max_offset) <= 1).mean())
            assert offset_accuracy(scores, context, max_offset) == before


def test_geneface_judge_metrics_are_unchanged():
    rng = np.random.default_rng(2)
    for _ in range(100):
        max_offset = int(rng.integers(1, 7))
        profiles = []
        for _ in range(int(rng.integers(1, 4))):
            t = int(rng.integers(12, 40))
            profiles.append({k: rng.random(t - 4 - abs(k)).astype(np.float32)
                             for k in range(-max_offset, max_offset + 1)})
        before = []  # the former per-clip reduction of sync_metrics
        for profile in profiles:
            offsets = sorted(profile)
            d = np.array([1.0 - profile[k].mean() for k in offsets])
            before.append({"distance": d.min(), "confidence": np.median(d) - d.min(),
                           "offset": offsets[int(d.argmin())]})
        after = sync_metrics(profiles)
        for key in ("distance", "confidence", "offset"):
            assert after[key] == float(np.mean([c[key] for c in before])), key


def test_best_offset_of_a_stack_and_of_distances():
    curves = np.array([[0.1, 0.9, 0.2], [0.7, 0.1, np.nan]])
    offsets, confidence = best_offset(curves, [-1, 0, 1])
    assert offsets.tolist() == [0, -1] and np.allclose(confidence, [0.7, 0.3])
    offset, confidence = best_offset(1 - curves[0], [-1, 0, 1], lower_is_better=True)
    assert offset == 0 and np.isclose(confidence, 0.7)


def test_offset_functions_say_what_they_expected():
    with pytest.raises(ValueError, match="3 integers"):
        best_offset(np.zeros(3), [0, 1])
    with pytest.raises(ValueError, match="all NaN"):
        best_offset(np.full((2, 3), np.nan), [-1, 0, 1])
    with pytest.raises(ValueError, match="float array"):
        offset_curve(np.zeros(4))
