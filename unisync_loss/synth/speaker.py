"""A synthetic speaker: face identity, looks, voice and articulation style, all drawn from (seed, speaker index)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..validation import is_integer
from .appearance import Appearance
from .face_model import NUM_IDENTITY
from .settings import SynthSettings
from .speech import LANGUAGE_VOICES, VARIANTS
from .visemes import ArticulationStyle

# Split of speaker i is _SPLIT_CYCLE[i % 10]: any 3 consecutive speakers cover all splits, 10 give 8/1/1.
_SPLIT_CYCLE = ("train", "val", "test", "train", "train", "train", "train", "train", "train", "train")


def speaker_split(index: int) -> str:
    """Split of speaker ``index``: train/val/test in the ratio 8:1:1, independent of the corpus size."""
    if not is_integer(index) or index < 0:
        raise ValueError(f"index: expected a non-negative integer, got {index!r}")
    return _SPLIT_CYCLE[index % len(_SPLIT_CYCLE)]


def speaker_id(index: int) -> str:
    """``spk0007`` for speaker 7."""
    return f"spk{index:04d}"


def clip_id(speaker_index: int, clip_index: int) -> str:
    """``spk0007_c003`` for clip 3 of speaker 7."""
    return f"{speaker_id(speaker_index)}_c{clip_index:03d}"


@dataclass
class Speaker:
    """Everything constant across one speaker's clips."""

    index: int
    id: str
    split: str
    identity: np.ndarray  # (16,) identity coefficients
    look: Appearance
    voice: str
    variant: str
    rate: int  # words per minute
    pitch: int  # 0..100
    pitch_range: int  # 0..100
    style: ArticulationStyle

    @classmethod
    def sample(cls, seed: int, index: int, settings: SynthSettings) -> "Speaker":
        """Speaker ``index`` of the corpus with ``seed``; adding speakers never changes existing ones."""
        for name, value in (("seed", seed), ("index", index)):
            if not is_integer(value) or value < 0:
                raise ValueError(f"{name}: expected a non-negative integer, got {value!r}")
        rng = np.random.default_rng([seed, index, 0x5EA4E2])
        voices = LANGUAGE_VOICES[settings.language]
        return cls(index=index, id=speaker_id(index), split=speaker_split(index),
                   identity=rng.normal(0.0, 1.0, NUM_IDENTITY),
                   look=Appearance.sample(rng), voice=voices[int(rng.integers(len(voices)))],
                   variant=VARIANTS[int(rng.integers(len(VARIANTS)))], rate=int(rng.integers(140, 200)),
                   pitch=int(rng.integers(25, 75)), pitch_range=int(rng.integers(30, 80)),
                   style=ArticulationStyle.sample(rng, settings.articulation_variability))

    def describe(self) -> dict:
        """JSON-friendly summary stored with each clip."""
        return {"voice": self.voice, "variant": self.variant, "rate_wpm": self.rate, "pitch": self.pitch,
                "hair_style": self.look.hair_style, "glasses": self.look.glasses, "hat": self.look.wears_hat,
                "articulation_lead_s": round(self.style.lead, 4)}
