"""Objectives on clip-grouped batches (:mod:`train_expert.clip_batches`): which (visual, audio) pairs count as what,
the paper's margin BCE on pairs drawn from the batch, and a multi-way contrastive term over all of the batch's audio.

Pair ``(i, j)`` = visual window ``i`` with audio window ``j``:

* ``i == j``: positive;
* same clip, ``|start_i - start_j| < min_shift``: ignored (nearly synchronised: neither positive nor negative);
* same speaker otherwise (same clip shifted by ``>= min_shift`` frames, or another clip of the speaker): same-speaker
  negative;
* another speaker: cross-speaker negative.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from unisync_loss import SampleKind
from unisync_loss.validation import check_rank, check_same_batch

#: Kind of a pair that no objective uses.
IGNORED = -1


def pair_kinds(clip: torch.Tensor, start: torch.Tensor, speaker: torch.Tensor, min_shift: int) -> torch.Tensor:
    """``(N,), (N,), (N,) -> (N, N)`` int64 kind of every (visual i, audio j) pair (module docstring)."""
    for name, x in (("clip", clip), ("start", start), ("speaker", speaker)):
        check_rank(x, name, (1,), "(N,)")
    check_same_batch(clip, "clip", start, "start")
    check_same_batch(clip, "clip", speaker, "speaker")
    if min_shift < 1:
        raise ValueError(f"min_shift: expected a positive number of frames, got {min_shift!r}")
    n = clip.shape[0]
    same_clip = clip[:, None] == clip[None, :]
    near = same_clip & ((start[:, None] - start[None, :]).abs() < min_shift)
    kinds = torch.full((n, n), int(SampleKind.CROSS_SPEAKER), dtype=torch.long, device=clip.device)
    kinds[speaker[:, None] == speaker[None, :]] = int(SampleKind.SAME_SPEAKER)
    kinds[near] = IGNORED
    kinds.fill_diagonal_(int(SampleKind.POSITIVE))
    return kinds


def draw_negatives(kinds: torch.Tensor, cross_share: float, generator: torch.Generator | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One negative audio window per visual window: ``round(N * cross_share)`` rows (chosen at random) take a
    cross-speaker one, the others a same-speaker one; a row lacking its kind takes the other kind, a row with no
    negative at all is dropped.

    Returns ``(rows, columns, kind)`` int64 tensors of the chosen pairs.
    """
    check_rank(kinds, "kinds", (2,), "(N, N)")
    if not 0.0 <= cross_share <= 1.0:
        raise ValueError(f"cross_share: expected a share in [0, 1], got {cross_share!r}")
    n = kinds.shape[0]
    wants_cross = torch.zeros(n, dtype=torch.bool)
    wants_cross[torch.randperm(n, generator=generator)[:math.floor(n * cross_share + 0.5)]] = True
    wants_cross = wants_cross.to(kinds.device)
    cross, same = kinds == SampleKind.CROSS_SPEAKER, kinds == SampleKind.SAME_SPEAKER
    wanted = torch.where(wants_cross[:, None], cross, same)
    fallback = torch.where(wants_cross[:, None], same, cross)
    candidates = torch.where(wanted.any(dim=1, keepdim=True), wanted, fallback)
    noise = torch.rand(kinds.shape, generator=generator).to(kinds.device)
    columns = torch.where(candidates, noise, torch.full_like(noise, -1.0)).argmax(dim=1)
    rows = torch.nonzero(candidates.any(dim=1)).flatten()
    columns = columns[rows]
    return rows, columns, kinds[rows, columns]


def balanced_pairs(probability: torch.Tensor, kinds: torch.Tensor, cross_share: float,
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch's ``N`` positives and ``N`` drawn negatives (:func:`draw_negatives`), balanced as in the paper's
    training: ``(p, kind)``, each ``(2N,)`` or a little less, for :class:`~unisync_loss.MarginBCELoss`.

    ``probability``: ``(N, N)`` sync probabilities in [0, 1] of every (visual i, audio j) pair.
    """
    check_rank(probability, "probability", (2,), "(N, N)")
    if probability.shape != kinds.shape:
        raise ValueError(f"probability, kinds: expected the same (N, N) shape, got {tuple(probability.shape)} and "
                         f"{tuple(kinds.shape)}")
    rows, columns, negative_kinds = draw_negatives(kinds, cross_share, generator)
    p = torch.cat([probability.diagonal(), probability[rows, columns]])
    kind = torch.cat([torch.zeros(probability.shape[0], dtype=torch.long, device=p.device), negative_kinds])
    return p, kind


def multiway_contrastive(similarity: torch.Tensor, kinds: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE: each visual window picks its audio among all of the batch's, and each audio its visual.

    ``similarity``: ``(N, N)`` cosine similarities of (visual i, audio j); ignored pairs are left out of the
    softmax. This is multi-way matching in the sense of Perfect Match: the positive is scored against many offsets of
    the same clip at once, plus other clips and speakers.
    """
    check_rank(similarity, "similarity", (2,), "(N, N)")
    if not temperature > 0:
        raise ValueError(f"temperature: expected > 0, got {temperature!r}")
    logits = (similarity.float() / temperature).masked_fill(kinds == IGNORED, float("-inf"))
    target = torch.arange(similarity.shape[0], device=similarity.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
