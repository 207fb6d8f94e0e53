"""Seeing what training does: progress bar, TensorBoard scalars, evaluation plots and the chance-level check.

Only the main rank monitors. The chance check looks at plain BCE (margins 0) of the training batches: when it is still
within ``tolerance`` of ln 2 = 0.693 after ``chance_check_steps`` steps, the expert has learnt nothing, and a warning
names what was checked: collapsed embeddings, positives scored no higher than negatives (unsynchronised data), and the
learning rate and gradient size.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from unisync_loss.progress import progress_bar  # noqa: E402

from unisync_loss import SampleKind  # noqa: E402

from .metrics import roc_curve  # noqa: E402

CHANCE_LOSS = math.log(2.0)


class ChanceLevelWarning(UserWarning):
    """Training loss still at chance level."""


def chance_advice(diagnostics: dict[str, float]) -> str:
    """Concrete advice from batch diagnostics: ``embedding_spread``, ``dead_embeddings``, ``p_gap``, ``lr``,
    ``grad_norm``, ``p_mean``."""
    advice = []
    if diagnostics.get("embedding_spread", 1.0) < 1e-3 or diagnostics.get("dead_embeddings", 0.0) > 0.5:
        advice.append(
            f"embeddings have collapsed (spread {diagnostics.get('embedding_spread', float('nan')):.2e}, "
            f"{diagnostics.get('dead_embeddings', float('nan')):.0%} all-zero after ReLU): lower the learning rate, "
            "check the input normalisation (RGB in [0, 1], mel in [-4, 4])"
        )
    if abs(diagnostics.get("p_gap", 0.0)) < 0.01:
        advice.append(
            f"positives score no higher than negatives (gap {diagnostics.get('p_gap', float('nan')):+.4f}): check that "
            "audio and video are synchronised in the store (a constant offset, a wrong fps or sample rate), and that "
            "the visual crop contains the mouth"
        )
    lr = diagnostics.get("lr", float("nan"))
    if lr > 5e-3:
        advice.append(f"learning rate {lr:.1e} is high for Adam on this model: try 1e-4 .. 5e-4")
    elif lr < 1e-5:
        advice.append(f"learning rate {lr:.1e} is very low: try 1e-4 .. 5e-4, or check the warm-up length")
    if diagnostics.get("grad_norm", 1.0) < 1e-6:
        advice.append("gradients are ~0: the sync probability may be saturated at 0 or 1 (check p_mean)")
    if not advice:
        advice.append(
            "no single cause found: train longer (experts often sit at 0.693 for a while), raise the batch size, or "
            "try a larger cross-speaker share and margins, which give a signal before fine offsets are learnt"
        )
    return "; ".join(advice)


class Monitor:
    """Progress bar, TensorBoard and plots of one run (all no-ops when ``enabled`` is false, i.e. not rank 0)."""

    def __init__(self, out_dir: str | Path, enabled: bool, total_steps: int, start_step: int = 0,
                 chance_check_steps: int = 500, tolerance: float = 0.02, tensorboard: bool = True,
                 progress: bool = True):
        self.enabled, self.out_dir = enabled, Path(out_dir)
        self.chance_check_steps, self.tolerance = chance_check_steps, tolerance
        self.recent_bce: deque[float] = deque(maxlen=50)
        self.warned = False
        self.bar = None
        self.writer = None
        if not enabled:
            return
        self.bar = progress_bar(total=total_steps, initial=start_step, desc="train", disable=not progress,
                                dynamic_ncols=True)
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(self.out_dir / "tensorboard"))

    def step(self, step: int, values: dict[str, float], log: bool) -> None:
        """After optimizer step ``step`` (1-based): advance the bar; if ``log``, show and record ``values``."""
        if not self.enabled:
            return
        if "bce" in values:
            self.recent_bce.append(values["bce"])
        self.bar.update(1)
        if log:
            self.bar.set_postfix(loss=f"{values['loss']:.4f}", acc=f"{values['accuracy']:.3f}", refresh=False)
            self.scalars(step, values, "train")

    def scalars(self, step: int, values: dict[str, Any], prefix: str) -> None:
        if self.writer is None:
            return
        for key, value in values.items():
            if isinstance(value, (int, float)) and math.isfinite(value):
                self.writer.add_scalar(f"{prefix}/{key}", value, step)

    def check_chance(self, step: int, diagnostics: dict[str, float]) -> str | None:
        """Warn once (and return the message) if the recent plain BCE is still at 0.693 after the configured steps."""
        if not self.enabled or self.warned or step < self.chance_check_steps or not self.recent_bce:
            return None
        mean = float(np.mean(self.recent_bce))
        if abs(mean - CHANCE_LOSS) > self.tolerance:
            return None
        self.warned = True
        message = (f"step {step}: the loss is still at chance level (BCE {mean:.4f} ~ ln 2 = 0.693). "
                   + chance_advice(diagnostics))
        warnings.warn(message, ChanceLevelWarning, stacklevel=2)
        if self.bar is not None:
            self.bar.write(f"WARNING: {message}")
        return message

    def evaluation(self, step: int, result: dict[str, Any]) -> Path | None:
        """Record a protocol-A result: scalars and a PNG of score histograms per kind plus the ROC curve."""
        if not self.enabled:
            return None
        self.scalars(step, {k: v for k, v in result.items() if isinstance(v, float)}, "val")
        path = self.out_dir / "plots" / f"eval_{step:07d}.png"
        plot_evaluation(result["scores"], result["kinds"], path, title=f"step {step}: accuracy "
                        f"{result['accuracy']:.3f}, AUC {result['auc']:.3f}")
        if self.bar is not None:
            self.bar.write(f"step {step}: val accuracy {result['accuracy']:.4f} AUC {result['auc']:.4f} "
                           f"EER {result['eer']:.4f}")
        return path

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.writer is not None:
            self.writer.close()


def plot_evaluation(scores: np.ndarray, kinds: np.ndarray, path: str | Path, title: str = "") -> Path:
    """PNG: histograms of sync probability for positives / same-speaker / cross-speaker negatives, and the ROC."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    bins = np.linspace(0, 1, 41)
    for kind, color in ((SampleKind.POSITIVE, "tab:green"), (SampleKind.SAME_SPEAKER, "tab:orange"),
                        (SampleKind.CROSS_SPEAKER, "tab:red")):
        mask = kinds == kind
        if mask.any():
            left.hist(scores[mask], bins=bins, alpha=0.5, color=color, density=True,
                      label=f"{kind.name.lower().replace('_', '-')} ({int(mask.sum())})")
    left.axvline(0.5, color="k", lw=0.8, ls="--")
    left.set(xlabel="sync probability p", ylabel="density", title="scores by kind")
    left.legend()
    labels = kinds == SampleKind.POSITIVE
    if labels.any() and not labels.all():
        fpr, tpr, _ = roc_curve(scores, labels)
        right.plot(fpr, tpr, color="tab:blue")
    right.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
    right.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
