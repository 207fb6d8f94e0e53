"""Articulation: IPA phonemes -> viseme targets -> smooth, anticipating mouth trajectories at the video frame rate.

A viseme target has six components (:data:`MOUTH_PARAMS`): jaw/lip opening, lip spread, lip rounding, lip closure
(bilabials), lower-lip tuck under the upper teeth (labiodentals) and tongue tip visibility (dentals). Coarticulation
follows the dominance model of Cohen and Massaro for opening, spread and rounding: every phoneme pulls each of them
towards its target with a weight that is flat over the middle of the phoneme and decays exponentially outside, so
neighbours blend and anticipate. Closure, tuck and tongue are gestures: each reaches its full value over the middle of
its phoneme and fades within a few tens of milliseconds, so /p b m/ always shut the lips. The whole trajectory is
shifted earlier by the speaker's anticipation (the mouth leads the sound by a few tens of milliseconds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MOUTH_PARAMS = ("open", "spread", "round", "close", "tuck", "tongue")

# Vowel targets (open, spread, round), keyed by the IPA vowel letter.
_VOWELS = {
    "i": (0.25, 0.85, 0.0), "ɪ": (0.3, 0.6, 0.0), "e": (0.4, 0.6, 0.0), "ɛ": (0.5, 0.5, 0.0), "æ": (0.75, 0.5, 0.0),
    "a": (0.85, 0.3, 0.0), "ɑ": (0.9, 0.1, 0.0), "ɒ": (0.8, 0.0, 0.4), "ɔ": (0.6, 0.0, 0.6), "o": (0.45, 0.0, 0.8),
    "ʊ": (0.3, 0.0, 0.7), "u": (0.2, 0.0, 1.0), "ʌ": (0.6, 0.2, 0.0), "ə": (0.4, 0.2, 0.0), "ɜ": (0.45, 0.2, 0.1),
    "ɚ": (0.35, 0.0, 0.3), "ɐ": (0.6, 0.2, 0.0), "y": (0.2, 0.0, 0.9), "ø": (0.35, 0.0, 0.7), "ɨ": (0.25, 0.4, 0.0),
    "ɯ": (0.25, 0.4, 0.0), "ɤ": (0.4, 0.2, 0.0), "ɵ": (0.4, 0.0, 0.5), "ɘ": (0.35, 0.3, 0.0), "ɝ": (0.35, 0.0, 0.3),
}
# Consonant targets: letter -> (open, spread, round, close, tuck, tongue), and its class for dominance.
_CONSONANTS = {
    **{c: ((0.0, 0.0, 0.0, 1.0, 0.0, 0.0), "bilabial") for c in "pbmɸβ"},
    **{c: ((0.1, 0.2, 0.0, 0.0, 1.0, 0.0), "labiodental") for c in "fvʋɱ"},
    **{c: ((0.2, 0.3, 0.0, 0.0, 0.0, 1.0), "dental") for c in "θð"},
    **{c: ((0.15, 0.4, 0.0, 0.0, 0.0, 0.2), "alveolar") for c in "tdnszlɾɬ"},
    **{c: ((0.2, 0.1, 0.3, 0.0, 0.0, 0.0), "alveolar") for c in "ɹrɻ"},
    **{c: ((0.15, 0.0, 0.6, 0.0, 0.0, 0.0), "postalveolar") for c in "ʃʒɕʑʂʐ"},
    **{c: ((0.3, 0.2, 0.0, 0.0, 0.0, 0.0), "velar") for c in "kgŋxχɣqɡ"},
    "w": ((0.1, 0.0, 1.0, 0.0, 0.0, 0.0), "glide"),
    "ɥ": ((0.1, 0.0, 0.9, 0.0, 0.0, 0.0), "glide"),
    "j": ((0.2, 0.6, 0.0, 0.0, 0.0, 0.0), "glide"),
    "h": ((0.35, 0.2, 0.0, 0.0, 0.0, 0.0), "weak"),
    "ʔ": ((0.2, 0.2, 0.0, 0.0, 0.0, 0.0), "weak"),
}
_PAUSE = (0.02, 0.1, 0.0, 0.0, 0.0, 0.0)
# Dominance of each class over the blended components (open, spread, round).
_DOMINANCE = {
    "vowel": (2.0, 2.0, 2.0), "bilabial": (0.5, 1.0, 1.0), "labiodental": (0.7, 1.0, 1.0), "dental": (1.0, 1.0, 1.0),
    "alveolar": (0.7, 0.7, 0.7), "postalveolar": (0.8, 0.8, 3.0), "velar": (0.6, 0.6, 0.6), "glide": (1.0, 2.0, 3.0),
    "weak": (0.2, 0.2, 0.2), "pause": (0.8, 0.8, 0.8),
}
_BLENDED = 3  # open, spread, round blend by dominance; close, tuck, tongue are gestures that peak per phoneme
_GESTURE_WIDTH = 0.025  # s: how fast a closure, tuck or tongue gesture fades outside its phoneme core
_IGNORED = set("ˈˌː.ˑ̃ʰ'-_ ")
BILABIALS = frozenset("pbm")


@dataclass
class Segment:
    """One articulatory target held from ``start`` to ``end`` seconds."""

    start: float
    end: float
    target: tuple[float, ...]
    kind: str


def phoneme_segments(phonemes: list[str], starts: np.ndarray, ends: np.ndarray) -> list[Segment]:
    """Viseme segments of a phoneme timeline; diphthongs and consonant clusters are split evenly into their parts."""
    if not (len(phonemes) == len(starts) == len(ends)):
        raise ValueError("phonemes/starts/ends: expected equal lengths, "
                         f"got {len(phonemes)}, {len(starts)}, {len(ends)}")
    segments = []
    for phoneme, start, end in zip(phonemes, starts, ends):
        parts = [_letter_target(c) for c in phoneme if c not in _IGNORED]
        parts = [p for p in parts if p is not None] or [(_PAUSE, "pause")]
        step = (end - start) / len(parts)
        for k, (target, kind) in enumerate(parts):
            segments.append(Segment(start + k * step, start + (k + 1) * step, target, kind))
    return segments


def _letter_target(letter: str):
    if letter in _VOWELS:
        return (*_VOWELS[letter], 0.0, 0.0, 0.0), "vowel"
    return _CONSONANTS.get(letter)


@dataclass
class ArticulationStyle:
    """How one speaker articulates: per-component ``amplitude`` (6,), anticipation ``lead`` (s), blend ``span`` (s),
    and ``jitter`` (std of random per-phoneme target changes)."""

    amplitude: np.ndarray
    lead: float = 0.04
    span: float = 0.035
    jitter: float = 0.05

    @classmethod
    def sample(cls, rng: np.random.Generator, variability: float = 1.0) -> "ArticulationStyle":
        """A random speaker style; ``variability`` >= 0 scales how much speakers differ and how sloppy they are."""
        if not isinstance(variability, (int, float)) or not 0 <= variability <= 5:
            raise ValueError(f"variability: expected a number in [0, 5], got {variability!r}")
        amplitude = np.exp(rng.normal(0.0, 0.25 * variability, len(MOUTH_PARAMS)))
        amplitude[MOUTH_PARAMS.index("close")] = 1.0  # lips always meet for /p b m/
        return cls(amplitude=np.clip(amplitude, 0.3, 2.0), lead=float(rng.uniform(0.02, 0.06)),
                   span=float(rng.uniform(0.025, 0.05)), jitter=0.08 * variability)


def trajectory(segments: list[Segment], num_frames: int, fps: float, style: ArticulationStyle,
               rng: np.random.Generator, subsamples: int = 4) -> np.ndarray:
    """Mouth parameters per video frame: float32 ``(num_frames, 6)`` in [0, 1] (order :data:`MOUTH_PARAMS`).

    Each frame averages ``subsamples`` instants of its exposure ``[i / fps, (i + 1) / fps)``.
    """
    if not segments:
        raise ValueError("segments: expected at least one phoneme segment, got none")
    if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
        raise ValueError(f"num_frames: expected a positive integer, got {num_frames!r}")
    targets = np.array([s.target for s in segments])
    jitter = rng.normal(0.0, style.jitter, (len(segments), _BLENDED)) * (targets[:, :_BLENDED] > 0)
    targets[:, :_BLENDED] = np.clip(targets[:, :_BLENDED] + jitter, 0.0, 1.0)
    dominance = np.array([_DOMINANCE[s.kind] for s in segments])
    centres = np.array([(s.start + s.end) / 2 for s in segments]) - style.lead
    halves = np.array([(s.end - s.start) / 2 for s in segments]) * 0.6
    times = (np.arange(num_frames)[:, None] + (np.arange(subsamples)[None, :] + 0.5) / subsamples) / fps
    distance = np.maximum(np.abs(times.reshape(-1, 1) - centres[None, :]) - halves[None, :], 0.0)  # (N, S)
    weight = np.exp(-distance / style.span)[:, :, None] * dominance[None, :, :] + 1e-12  # (N, S, 3)
    blended = (weight * targets[None, :, :_BLENDED]).sum(1) / weight.sum(1)
    bump = np.exp(-((distance / _GESTURE_WIDTH) ** 2))[:, :, None]  # (N, S, 1)
    gestures = (bump * targets[None, :, _BLENDED:]).max(1)
    params = np.concatenate([blended, gestures], axis=1).reshape(num_frames, subsamples, -1).mean(1)
    return np.clip(params * style.amplitude, 0.0, 1.0).astype(np.float32)


def bilabial_intervals(phonemes: list[str], starts: np.ndarray, ends: np.ndarray) -> list[tuple[float, float]]:
    """``(start, end)`` seconds of every phoneme that contains a bilabial stop or nasal (/p/, /b/, /m/)."""
    return [(float(s), float(e)) for p, s, e in zip(phonemes, starts, ends) if BILABIALS & set(p)]


def frame_of(time: float, fps: float) -> int:
    """Index of the video frame whose exposure contains ``time`` seconds."""
    return int(math.floor(time * fps + 1e-9))
