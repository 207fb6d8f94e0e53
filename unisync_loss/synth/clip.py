"""One synthetic clip: speech -> articulation -> expression coefficients -> 3D landmarks -> RGB, parsing, audio."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..data import Clip
from ..validation import is_integer
from .appearance import Appearance, Lighting
from .camera import Camera
from .face_model import NUM_EXPRESSION, FaceModel
from .layers import face_layers
from .motion import HeadPose, head_pose, nuisance_expression
from .render import background, face_centre_pixels, render_parsing, render_rgb
from .sentences import phrase
from .settings import SynthSettings
from .speaker import Speaker, clip_id
from .speech import SAMPLE_RATE, Speech, add_noise, concatenate, pad_to_frames, synthesize
from .visemes import MOUTH_PARAMS, phoneme_segments, trajectory

FPS = 25.0


@lru_cache(maxsize=1)
def face_model() -> FaceModel:
    return FaceModel.default()


def speak_clip(speaker: Speaker, settings: SynthSettings, rng: np.random.Generator) -> tuple[Speech, list[str]]:
    """Sentences by ``speaker`` joined by short pauses, ``min_seconds``..``max_seconds`` long in total.

    A sentence that would overrun ``max_seconds`` is replaced by another (up to 6 tries); if none fits, the clip is
    completed with silence.
    """
    target = rng.uniform(settings.min_seconds, settings.max_seconds)
    lead_in, tail = rng.uniform(0.15, 0.5), rng.uniform(0.1, 0.4)
    parts, gaps, texts, total, misses = [], [], [], tail, 0
    while total < target and misses < 6:
        text = phrase(rng, settings.language)
        part = synthesize(text, settings.language, speaker.voice, speaker.variant, speaker.rate, speaker.pitch,
                          speaker.pitch_range)
        gap = lead_in if not parts else rng.uniform(0.1, 0.4)
        if parts and total + gap + part.duration > settings.max_seconds:
            misses += 1
            continue
        parts.append(part)
        gaps.append(gap)
        texts.append(text)
        total += gap + part.duration
    tail += max(0.0, settings.min_seconds - total)
    silence = int(round(tail * SAMPLE_RATE))
    speech = concatenate(parts + [Speech(np.zeros(silence, np.float32), [""], np.zeros(1),
                                         np.array([silence / SAMPLE_RATE]))], gaps + [0.0])
    return pad_to_frames(speech, FPS), texts


def expression_coefficients(mouth: np.ndarray, nuisance: np.ndarray) -> np.ndarray:
    """``(T, 64)`` float32 from mouth parameters ``(T, 6)`` (order ``MOUTH_PARAMS``) and nuisance ``(T, 58)``."""
    if mouth.ndim != 2 or mouth.shape[1] != len(MOUTH_PARAMS) or nuisance.shape != (len(mouth), NUM_EXPRESSION - 6):
        raise ValueError(f"mouth/nuisance: expected (T, {len(MOUTH_PARAMS)}) and (T, {NUM_EXPRESSION - 6}), "
                         f"got {mouth.shape} and {nuisance.shape}")
    p = {name: mouth[:, i] for i, name in enumerate(MOUTH_PARAMS)}
    open_lips = p["open"] * (1.0 - p["close"]) ** 2 * (1.0 - 0.6 * p["tuck"])
    mouth_coeffs = np.stack([open_lips, p["spread"], p["round"], p["close"], p["tuck"], p["tongue"]], 1)
    return np.concatenate([mouth_coeffs, nuisance], 1).astype(np.float32)


def generate_clip(speaker: Speaker, seed: int, index: int, settings: SynthSettings) -> Clip:
    """Clip ``index`` of ``speaker`` in the corpus with ``seed``: deterministic, independent of other clips.

    Arrays: ``frames`` uint8 (T, S, S, 3), ``parsing`` uint8 (T, S, S), ``landmarks`` float32 (T, 68, 2) crop pixels,
    ``landmarks3d`` float32 (T, 68, 3), ``coeffs3dmm`` float32 (T, 64), ``audio`` float32 (T * 640,) at 16 kHz.
    """
    if not is_integer(index) or index < 0:
        raise ValueError(f"index: expected a non-negative clip index, got {index!r}")
    if not isinstance(speaker, Speaker) or not isinstance(settings, SynthSettings):
        raise ValueError(f"speaker/settings: expected a Speaker and a SynthSettings, got "
                         f"{type(speaker).__name__} and {type(settings).__name__}")
    rng = np.random.default_rng([seed, speaker.index, index, 0xC11B])
    speech, texts = speak_clip(speaker, settings, rng)
    num_frames = int(round(speech.duration * FPS))
    segments = phoneme_segments(speech.phonemes, speech.starts, speech.ends)
    mouth = trajectory(segments, num_frames, FPS, speaker.style, rng)
    coeffs = expression_coefficients(mouth, nuisance_expression(rng, num_frames, FPS, settings.head_motion))
    pose = head_pose(rng, num_frames, FPS, settings.head_motion, settings.size)
    model = face_model()
    shapes = model.shape(speaker.identity, coeffs)
    neutral = model.shape(speaker.identity, np.zeros((1, NUM_EXPRESSION)))[0]
    light = Lighting.sample(rng, settings.lighting)
    frames, parsing, points3d = render_frames(shapes, neutral, coeffs, pose, speaker.look, light, settings.size, rng)
    audio = add_noise(speech.wave, settings.snr_db, rng)
    extra = {"text": " ".join(texts), "language": settings.language, **speaker.describe(),
             "phonemes": [[p, round(float(s), 4), round(float(e), 4)]
                          for p, s, e in zip(speech.phonemes, speech.starts, speech.ends)]}
    return Clip(id=clip_id(speaker.index, index), speaker=speaker.id, split=speaker.split, audio=audio, frames=frames,
                landmarks=np.ascontiguousarray(points3d[:, :, :2]), landmarks3d=points3d, parsing=parsing,
                coeffs3dmm=coeffs, extra=extra)


def render_frames(shapes: np.ndarray, neutral: np.ndarray, coeffs: np.ndarray, pose: HeadPose, look: Appearance,
                  light: Lighting, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame RGB ``(T, S, S, 3)`` uint8, parsing ``(T, S, S)`` uint8 and posed landmarks ``(T, 68, 3)`` float32
    from model-space shapes ``(T, 68, 3)``, the neutral shape ``(68, 3)``, coefficients ``(T, 64)`` and head pose."""
    num_frames = len(shapes)
    flicker = 1.0 + light.flicker * np.clip(rng.standard_normal(num_frames), -3, 3)
    backdrop = background(size, look)
    frames = np.empty((num_frames, size, size, 3), np.uint8)
    parsing = np.empty((num_frames, size, size), np.uint8)
    points3d = np.empty((num_frames, 68, 3), np.float32)
    for t in range(num_frames):
        camera = Camera(pose.angles[t], pose.shift[t], float(pose.scale[t]), size)
        points3d[t] = camera(shapes[t])
        layers = face_layers(shapes[t], neutral, coeffs[t], camera, look)
        parsing[t] = render_parsing(layers, size)
        centre, radius = face_centre_pixels(camera)
        frames[t] = render_rgb(layers, backdrop, light, centre, radius, float(flicker[t]), rng)
    return frames, parsing, points3d
