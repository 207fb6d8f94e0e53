"""Settings of a synthetic corpus: language, crop size, clip length and the difficulty knobs (with their defaults)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .speech import LANGUAGE_VOICES


@dataclass(frozen=True)
class SynthSettings:
    """Everything that decides a corpus' content besides the seed and the number of speakers and clips.

    Difficulty knobs (0 = off, 1 = default, up to 5):

    - ``snr_db``: background noise level in dB SNR (``None`` = clean speech). Default 20 dB.
    - ``head_motion``: head rotation/translation/zoom and speech-unrelated face motion (brows, smile, cheeks).
    - ``articulation_variability``: how much speakers differ in articulation amplitude and how much each phoneme's
      target is perturbed.
    - ``lighting``: strength of directional light, colour tint, flicker and sensor noise.
    """

    language: str = "en"
    size: int = 96
    min_seconds: float = 3.0
    max_seconds: float = 8.0
    snr_db: float | None = 20.0
    head_motion: float = 1.0
    articulation_variability: float = 1.0
    lighting: float = 1.0

    def __post_init__(self):
        if self.language not in LANGUAGE_VOICES:
            raise ValueError(f"language: expected one of {list(LANGUAGE_VOICES)}, got {self.language!r}")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 48 or self.size % 16:
            raise ValueError(f"size: expected a multiple of 16 of at least 48 pixels, got {self.size!r}")
        if not (isinstance(self.min_seconds, (int, float)) and isinstance(self.max_seconds, (int, float))
                and 1.0 <= self.min_seconds <= self.max_seconds <= 60.0):
            raise ValueError(f"min_seconds/max_seconds: expected 1 <= min <= max <= 60, got {self.min_seconds!r} "
                             f"and {self.max_seconds!r}")
        if self.snr_db is not None and (not isinstance(self.snr_db, (int, float)) or not math.isfinite(self.snr_db)):
            raise ValueError(f"snr_db: expected a finite number of dB or None, got {self.snr_db!r}")
        for name in ("head_motion", "articulation_variability", "lighting"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 5:
                raise ValueError(f"{name}: expected a number in [0, 5], got {value!r}")

    def to_dict(self) -> dict:
        return asdict(self)
