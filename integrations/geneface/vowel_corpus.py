"""A small talking-motion corpus made of synthetic vowels, for when no other clip store is given.

Each speaker has a pitch, a vocal-tract length (formant scale), an articulation gain and a face (a static landmark
offset). A clip is a random sequence of syllables: a consonant closure (lips shut, a short murmur or silence), then a
vowel out of five, each vowel with its formants (F1, F2) and its mouth shape (opening, spread, rounding); pauses in
between. Audio is a harmonic source shaped by the two formants; the mouth follows the same articulation through a
first-order lag (about 30 ms), so sound and motion share one time line.

Per clip: ``audio (S,)`` float32 at 16 kHz, ``coeffs3dmm (T, 64)`` (0 opening, 1 spread, 2 rounding; 3..63 slow
speech-unrelated nuisance) and ``landmarks (T, 68, 3)`` = mean face + per-speaker offset + linear basis @ coeffs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from unisync_loss.progress import progress_bar

from unisync_loss.data.clip_store import Clip, ClipStore

SAMPLE_RATE, FPS, STEP_RATE = 16000, 25, 100
NUM_COEFFS, NUM_POINTS = 64, 68
#: F1, F2 (Hz) and mouth opening, spread, rounding of the five vowels.
VOWELS = np.array([[800, 1200, 1.0, 0.3, 0.0], [500, 1900, 0.55, 0.7, 0.0], [300, 2300, 0.2, 1.0, 0.0],
                   [500, 900, 0.6, 0.0, 0.8], [320, 800, 0.2, 0.0, 1.0]])
_FACE_SEED = 1234


@dataclass(frozen=True)
class Speaker:
    name: str
    f0: float
    formant_scale: float
    gain: float
    face_offset: np.ndarray  # (68, 3)


def face_model() -> tuple[np.ndarray, np.ndarray]:
    """Fixed ``mean (68, 3)`` and ``basis (68, 3, 64)``; coefficients 0-2 move only the jaw and mouth points."""
    rng = np.random.default_rng(_FACE_SEED)
    angle = np.linspace(0, 2 * np.pi, 68, endpoint=False)
    mean = np.stack([np.cos(angle), 1.2 * np.sin(angle), 0.3 * np.cos(2 * angle)], 1)
    mouth_angle = np.linspace(0, 2 * np.pi, 20, endpoint=False)
    mean[48:68] = np.stack([0.35 * np.cos(mouth_angle), 0.6 + 0.12 * np.sin(mouth_angle), 0.4 + 0 * mouth_angle], 1)
    basis = np.zeros((68, 3, NUM_COEFFS))
    lower = np.sin(mouth_angle) > 0
    basis[48:68, 1, 0] = np.where(lower, 0.25, -0.05)          # opening: lower lip and jaw down
    basis[5:12, 1, 0] = 0.15
    basis[48:68, 0, 1] = 0.12 * np.cos(mouth_angle)            # spread: corners apart
    basis[48:68, 0, 2] = -0.10 * np.cos(mouth_angle)           # rounding: corners together, lips forward
    basis[48:68, 2, 2] = 0.10
    nuisance = rng.normal(0, 0.02, (68, 3, NUM_COEFFS - 3))
    nuisance[48:68] *= 0.1
    basis[:, :, 3:] = nuisance
    return mean, basis


def make_speaker(name: str, rng: np.random.Generator) -> Speaker:
    return Speaker(name=name, f0=float(rng.uniform(95, 230)), formant_scale=float(rng.uniform(0.85, 1.2)),
                   gain=float(rng.uniform(0.7, 1.3)), face_offset=rng.normal(0, 0.05, (68, 3)))


def articulation(num_steps: int, rng: np.random.Generator) -> np.ndarray:
    """Target track ``(num_steps, 6)`` at 100 steps/s: F1, F2, loudness, opening, spread, rounding."""
    track = np.zeros((num_steps, 6))
    track[:, :2] = [500, 1500]
    t = 0
    while t < num_steps:
        if rng.random() < 0.15:  # pause
            t += int(rng.integers(15, 40))
            continue
        closure = int(rng.integers(3, 8))
        track[t:t + closure, 2] = rng.choice([0.0, 0.08])  # silence or a nasal murmur, lips shut
        t += closure
        vowel = VOWELS[rng.integers(len(VOWELS))]
        length = int(rng.integers(10, 26))
        track[t:t + length, :2] = vowel[:2]
        track[t:t + length, 2] = rng.uniform(0.6, 1.0)
        track[t:t + length, 3:] = vowel[2:] * rng.uniform(0.8, 1.1)
        t += length
    return track[:num_steps]


def lag(x: np.ndarray, tau_steps: float) -> np.ndarray:
    """First-order low-pass along axis 0 (time constant in steps)."""
    out, alpha, state = np.empty_like(x), 1.0 / (1.0 + tau_steps), x[0].copy()
    for i, value in enumerate(x):
        state = state + alpha * (value - state)
        out[i] = state
    return out


def render_audio(track: np.ndarray, speaker: Speaker, rng: np.random.Generator, num_samples: int) -> np.ndarray:
    """Harmonic source at the speaker's pitch, each harmonic weighted by the two formant resonances."""
    steps = np.arange(len(track)) / STEP_RATE
    t = np.arange(num_samples) / SAMPLE_RATE
    f0 = speaker.f0 * (1 + 0.05 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    formants = lag(track[:, :2], 2.0) * speaker.formant_scale
    loudness = lag(track[:, 2:3], 1.5)[:, 0]
    audio = np.zeros(num_samples)
    for k in range(1, int(4000 // speaker.f0)):
        freq = k * speaker.f0
        weight = sum(g / (1 + ((freq - formants[:, i]) / bw) ** 2) for i, (g, bw) in enumerate(((1.0, 90), (0.6, 150))))
        audio += np.interp(t, steps, weight * loudness) * np.sin(k * phase)
    audio += rng.normal(0, 0.003, num_samples)
    return (0.3 * audio / max(np.abs(audio).max(), 1e-6)).astype(np.float32)


def make_clip(clip_id: str, speaker: Speaker, split: str, seconds: float, rng: np.random.Generator) -> Clip:
    num_frames = int(round(seconds * FPS))
    num_samples = num_frames * SAMPLE_RATE // FPS
    track = articulation(num_frames * STEP_RATE // FPS, rng)
    audio = render_audio(track, speaker, rng, num_samples)
    mouth = lag(track[:, 3:], 3.0)[1::STEP_RATE // FPS] * speaker.gain  # value at each frame's centre
    coeffs = np.zeros((num_frames, NUM_COEFFS))
    coeffs[:, :3] = mouth[:num_frames]
    slow = rng.normal(0, 1, (num_frames // 10 + 2, NUM_COEFFS - 3))
    coeffs[:, 3:] = 0.3 * np.stack([np.interp(np.arange(num_frames) / 10, np.arange(len(slow)), s) for s in slow.T], 1)
    mean, basis = face_model()
    landmarks = mean + speaker.face_offset + np.einsum("kdc,tc->tkd", basis, coeffs)
    return Clip(id=clip_id, speaker=speaker.name, split=split, audio=audio,
                coeffs3dmm=coeffs.astype(np.float32), landmarks=landmarks.astype(np.float32),
                extra={"landmark_space": "model units, 3D, no pose"})


def build_vowel_corpus(root: str | Path, speakers: dict[str, int] | None = None, clips_per_speaker: int = 6,
                       seconds: float = 3.2, seed: int = 0) -> ClipStore:
    """Write the corpus into a clip store at ``root`` (reused if it exists with the same settings).

    ``speakers`` maps split -> number of speakers (default train 16, val 4, test 4): splits never share a speaker.
    """
    speakers = speakers or {"train": 16, "val": 4, "test": 4}
    info = {"generator": "geneface-vowel-corpus", "version": 1, "speakers": speakers,
            "clips_per_speaker": clips_per_speaker, "seconds": seconds, "seed": seed}
    store = ClipStore.create(root, info=info)
    rng = np.random.default_rng(seed)
    jobs = [(split, i) for split, n in speakers.items() for i in range(n)]
    for split, i in progress_bar(jobs, desc="vowel corpus", unit="speaker", leave=False):
        speaker = make_speaker(f"{split}{i:02d}", rng)
        clip_rngs = rng.spawn(clips_per_speaker)
        for c, clip_rng in enumerate(clip_rngs):
            clip_id = f"{speaker.name}-{c:02d}"
            if not store.has_clip(clip_id):
                store.write_clip(make_clip(clip_id, speaker, split, seconds, clip_rng))
    store.reindex()
    return store
