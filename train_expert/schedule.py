"""Learning-rate schedule: linear warm-up from 0, then cosine decay to ``min_ratio`` of the base rate."""

from __future__ import annotations

import math
from typing import Callable

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


def warmup_cosine_factor(step: int, warmup_steps: int, total_steps: int, min_ratio: float,
                         time_fraction: float = 0.0) -> float:
    """Multiplier of the base learning rate at optimizer step ``step`` (0-based). ``time_fraction``: share of a
    wall-clock budget already spent; the cosine follows it when it is ahead of the steps."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, max((step - warmup_steps) / span, time_fraction))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def warmup_cosine(optimizer: Optimizer, warmup_steps: int, total_steps: int, min_ratio: float = 0.05,
                  time_fraction: Callable[[], float] | None = None) -> LambdaLR:
    """A :class:`LambdaLR` applying :func:`warmup_cosine_factor` (stepped once per optimizer step);
    ``time_fraction()``, when given, is read at every step (see :func:`warmup_cosine_factor`)."""
    if warmup_steps < 0 or total_steps < 1 or not 0.0 <= min_ratio <= 1.0:
        raise ValueError(
            f"warmup_steps, total_steps, min_ratio: expected >= 0, >= 1 and in [0, 1], got "
            f"{warmup_steps}, {total_steps}, {min_ratio}"
        )
    spent = time_fraction or (lambda: 0.0)
    return LambdaLR(optimizer, lambda step: warmup_cosine_factor(step, warmup_steps, total_steps, min_ratio, spent()))
