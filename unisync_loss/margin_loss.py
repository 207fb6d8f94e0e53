"""Margin binary cross-entropy on sync probabilities, with a margin per kind of sample.

With ``z = logit(p)`` and ``d = 2 * atanh(m)`` for a margin ``m`` in [0, 1):

* positive:                ``softplus(-(z - d_pos))``  = ``-log sigmoid(z - d_pos)``
* same-speaker negative:   ``softplus(z + d_same)``    = ``-log(1 - sigmoid(z + d_same))``
* cross-speaker negative:  ``softplus(z + d_cross)``

``d = 2 * atanh(m) = logit((1 + m) / 2)``: a negative with margin ``m`` is scored as if its probability were shifted
so that p = 0.5 counts as ``(1 + m) / 2``, so the loss keeps pushing until ``p`` is well below the threshold. With all
margins 0 this is exactly BCE on ``p`` (Wav2Lip's expert loss). ``d/dp`` of each term is ``sigmoid(.) / (p (1 - p))``
(or minus that), never zero for ``p`` in (0, 1). ``p`` is clamped to ``[eps, 1 - eps]`` so the loss is finite at 0, 1.

L2 regularisation is a separate term, :func:`l2_penalty`, added to the loss (not Adam's weight decay, which for Adam
is not the same thing): ``weight * sum ||w||^2`` over conv and linear weights (not biases or norm parameters). The
paper normalises its L2 term by the number of weights ``N``; this is a plain sum, so its ``lambda`` is ``weight * N``.
"""

from __future__ import annotations

import math
from enum import IntEnum

import torch
import torch.nn.functional as F
from torch import nn

from .validation import check_choice, check_floating, check_rank, check_same_batch, describe


class SampleKind(IntEnum):
    """Kind of a training pair, as carried by each sample."""

    POSITIVE = 0
    SAME_SPEAKER = 1
    CROSS_SPEAKER = 2


def margin_to_logit_shift(margin: float) -> float:
    """``d = 2 * atanh(m)`` for a margin ``m`` in [0, 1)."""
    if not 0.0 <= margin < 1.0:
        raise ValueError(f"margin: expected a value in [0, 1), got {margin!r}")
    return 2.0 * math.atanh(margin)


class MarginBCELoss(nn.Module):
    """``forward(p, kind) -> loss``; ``p`` float ``(N,)`` in [0, 1], ``kind`` integer ``(N,)`` of :class:`SampleKind`.

    Args:
        positive_margin, same_speaker_margin, cross_speaker_margin: margins in [0, 1). Same / cross default to
            (0.1, 0.3), the paper's best with mel audio; its best with HuBERT is (0.3, 0.7). The paper gives no
            positive margin: 0 (plain BCE on positives) is this project's choice.
        reduction: "mean", "sum" or "none".
        eps: clamp of ``p``.
    """

    def __init__(self, positive_margin=0.0, same_speaker_margin=0.1, cross_speaker_margin=0.3, reduction="mean",
                 eps=1e-6):
        super().__init__()
        check_choice(reduction, "reduction", ("mean", "sum", "none"))
        shifts = [margin_to_logit_shift(m) for m in (positive_margin, same_speaker_margin, cross_speaker_margin)]
        # Signed shift added to z before the softplus: positives use softplus(-(z - d)), negatives softplus(z + d).
        self.register_buffer("shift", torch.tensor(shifts, dtype=torch.float32), persistent=False)
        self.reduction, self.eps = reduction, eps

    def forward(self, p: torch.Tensor, kind: torch.Tensor) -> torch.Tensor:
        check_rank(p, "p", (1,), "(N,)")
        check_floating(p, "p")
        check_rank(kind, "kind", (1,), "(N,)")
        check_same_batch(p, "p", kind, "kind")
        if kind.is_floating_point():
            raise ValueError(f"kind: expected integer SampleKind values, got {describe(kind)}")
        p = p.float().clamp(self.eps, 1.0 - self.eps)
        z = torch.log(p) - torch.log1p(-p)
        kind = kind.long()
        d = self.shift[kind]
        is_pos = kind == SampleKind.POSITIVE
        loss = torch.where(is_pos, F.softplus(-(z - d)), F.softplus(z + d))
        if self.reduction == "none":
            return loss
        return loss.sum() if self.reduction == "sum" else loss.mean()


def l2_penalty(module: nn.Module, weight: float) -> torch.Tensor:
    """``weight * sum of squared conv/linear weights`` of ``module`` (biases and norm layers excluded)."""
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
        raise ValueError(f"weight: expected a non-negative L2 weight, got {weight!r}")
    terms = [m.weight.pow(2).sum() for m in module.modules() if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear))]
    if not terms:
        raise ValueError(f"module: expected conv or linear layers to regularise, found none in {type(module).__name__}")
    return weight * torch.stack(terms).sum()
