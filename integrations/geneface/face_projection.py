"""Landmarks from expression coefficients through a corpus' linear face model (differentiable, so a landmark expert
can supervise a model that predicts coefficients).

The built-in corpora move their 68 3D landmarks linearly with the 64 expression coefficients:
``landmarks = mean + identity + basis @ coeffs`` (then head pose, for the synthetic corpus). The part that
depends on the coefficients, ``basis @ coeffs``, is what :class:`FaceProjection` computes: expression landmark
displacements, no identity and no pose (as GeneFace's ``idexp_lm3d`` has no pose; the identity part is constant per
speaker and carries nothing about sync).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from unisync_loss.data.clip_store import ClipStore
from unisync_loss.validation import describe

from .conventions import MOUTH, NUM_LANDMARKS

NUM_COEFFS = 64


def expression_basis(store: ClipStore) -> np.ndarray | None:
    """``(64, 68, 3)`` landmark displacement per expression coefficient of the corpus' face model, or ``None`` when the
    store was not written by a generator whose face model is known here."""
    generator = store.header.get("info", {}).get("generator")
    if generator == "unisync-synth":
        from unisync_loss.synth.face_model import expression_basis as synth_basis

        return synth_basis().astype(np.float32)
    if generator == "geneface-vowel-corpus":
        from .vowel_corpus import face_model

        return face_model()[1].transpose(2, 0, 1).astype(np.float32)
    return None


class FaceProjection(nn.Module):
    """``(..., 64)`` coefficients -> ``(..., 68, 3)`` expression landmarks, or their ``(..., 20, 3)`` mouth points
    (48-67) with ``mouth_only``."""

    def __init__(self, basis: np.ndarray | torch.Tensor, mouth_only: bool = False):
        super().__init__()
        basis = torch.as_tensor(np.asarray(basis), dtype=torch.float32)
        if basis.shape != (NUM_COEFFS, NUM_LANDMARKS, 3):
            raise ValueError(f"basis: expected ({NUM_COEFFS}, {NUM_LANDMARKS}, 3), got {tuple(basis.shape)}")
        self.mouth_only = bool(mouth_only)
        self.register_buffer("basis", basis[:, MOUTH] if mouth_only else basis, persistent=False)

    @property
    def points(self) -> int:
        return self.basis.shape[1]

    def forward(self, coeffs: torch.Tensor) -> torch.Tensor:
        if coeffs.ndim < 1 or coeffs.shape[-1] != NUM_COEFFS:
            raise ValueError(f"coeffs: expected (..., {NUM_COEFFS}) expression coefficients, got {describe(coeffs)}")
        return torch.einsum("...c,ckd->...kd", coeffs.to(self.basis.dtype), self.basis)
