"""Input checks shared by every public entry point.

Each helper raises ``ValueError`` with a message naming the argument, what was expected and what came, so that a
user sees at once which tensor is wrong and why.
"""

from __future__ import annotations

import numbers
from typing import Sequence

import torch


def describe(x) -> str:
    """Short description of a value for error messages: shape and dtype for tensors and arrays."""
    if isinstance(x, torch.Tensor):
        return f"tensor of shape {tuple(x.shape)} and dtype {x.dtype}"
    shape = getattr(x, "shape", None)
    if shape is not None:
        return f"array of shape {tuple(shape)} and dtype {getattr(x, 'dtype', '?')}"
    return f"{type(x).__name__} {x!r}"[:200]


def check_tensor(x, name: str) -> torch.Tensor:
    """Require a ``torch.Tensor``."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name}: expected a torch.Tensor, got {describe(x)}")
    return x


def check_rank(x: torch.Tensor, name: str, ranks: Sequence[int], layout: str) -> torch.Tensor:
    """Require ``x.ndim`` to be one of ``ranks``; ``layout`` spells the expected shape, e.g. ``"(B, T, 80)"``."""
    check_tensor(x, name)
    if x.ndim not in tuple(ranks):
        raise ValueError(f"{name}: expected shape {layout}, got {describe(x)}")
    return x


def check_floating(x: torch.Tensor, name: str) -> torch.Tensor:
    """Require a floating-point dtype (integers are ambiguous in scale and are refused rather than guessed)."""
    if not x.is_floating_point():
        raise ValueError(f"{name}: expected a floating-point tensor, got {describe(x)}")
    return x


def check_finite(x: torch.Tensor, name: str) -> torch.Tensor:
    """Require every value to be finite. This reads the tensor, so on CUDA it synchronises with the host."""
    if x.is_floating_point() and not bool(torch.isfinite(x).all()):
        n_bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"{name}: expected finite values, got {n_bad} NaN/inf values in {describe(x)}")
    return x


def check_same_batch(a: torch.Tensor, a_name: str, b: torch.Tensor, b_name: str) -> None:
    """Require equal leading (batch) dimensions."""
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{a_name} and {b_name}: expected the same batch size, got {a.shape[0]} ({describe(a)}) "
            f"and {b.shape[0]} ({describe(b)})"
        )


def check_choice(value, name: str, choices: Sequence) -> None:
    """Require ``value`` to be one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name}: expected one of {list(choices)}, got {value!r}")


def is_integer(value) -> bool:
    """Whether ``value`` is an integer of any integral type (``int``, ``np.int64``, ...) and not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    """Require an integer of any integral type (not bool) of at least ``minimum``; returns it as ``int``."""
    if not is_integer(value) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)
