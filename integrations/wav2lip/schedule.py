"""Weight of the sync loss during generator training.

Wav2Lip's schedule ("original"): 0 until an evaluation's mean sync loss on validation data drops below 0.75, then
0.01 (0.03 with the GAN) for the rest of training; the switch happens once. "fixed" uses one weight throughout.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

MODES = ("original", "fixed")


@dataclass
class SyncWeightSchedule:
    """``weight`` now; :meth:`observe` an evaluation's mean sync loss to let the original schedule switch."""

    mode: str = "original"
    threshold: float = 0.75
    after: float = 0.01
    weight: float = 0.0
    switched_at: int | None = None

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"schedule: expected one of {MODES}, got {self.mode!r}")
        for name in ("threshold", "after", "weight"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name}: expected a non-negative number, got {value!r}")
        if self.after >= 1 or self.weight >= 1:
            raise ValueError(f"sync weight: expected < 1 (it is mixed with the L1 term), got {self.after}, {self.weight}")

    @classmethod
    def original(cls, gan: bool, threshold: float = 0.75, after: float | None = None) -> "SyncWeightSchedule":
        """Wav2Lip's default: 0, then ``after`` (0.03 with the GAN, else 0.01) once val sync loss < ``threshold``."""
        return cls("original", threshold, (0.03 if gan else 0.01) if after is None else after, 0.0)

    @classmethod
    def fixed(cls, weight: float) -> "SyncWeightSchedule":
        return cls("fixed", 0.0, weight, weight)

    def observe(self, val_sync_loss: float, step: int) -> bool:
        """Record an evaluation; returns True if the weight switched now."""
        if self.mode == "original" and self.switched_at is None and val_sync_loss < self.threshold:
            self.weight, self.switched_at = self.after, step
            return True
        return False

    def state_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_state_dict(cls, state: dict) -> "SyncWeightSchedule":
        return cls(**state)
