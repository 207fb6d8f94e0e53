"""Sync scores from any UniSync expert: per-window probability, best offset with confidence, share in sync, drift.

For a clip of ``T`` frames there are ``N = T - 4`` video windows. At offset ``o`` (frames, ``-vshift..+vshift``)
video window ``v`` is paired with the audio window that starts at video frame ``v - o`` (same sign as LSE's offset:
the sound comes ``o`` frames before the picture). Pairs whose audio falls outside the clip are left out, so each
offset's mean probability is over the windows it can see.

* ``probabilities``: mean sync probability per offset; ``offset``: its argmax; ``confidence``: its maximum minus its
  median (how clearly one offset stands out, in probability units); both from :mod:`.offsets`.
* ``window_probability``: probability of each window at offset 0; ``in_sync_share``: the share above 0.5.
* ``drift``: the best offset in sliding segments (default 2 s every 1 s); ``drift_per_minute``: the slope of a line
  fitted through them, in frames per minute, which a slowly drifting dub shows and one global offset cannot.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange

from ..expert import UniSyncExpert
from ..representations import SAMPLE_RATE
from ..timing import audio_window_indices
from ..validation import check_positive_int, check_tensor, describe
from .offsets import best_offset, offset_curve

VSHIFT = 15
SYNC_THRESHOLD = 0.5


@dataclass
class DriftSegment:
    """Best offset of one segment of windows ``[start, stop)``; times in seconds of the window starts."""

    start: int
    stop: int
    start_s: float
    stop_s: float
    offset: int
    confidence: float


@dataclass
class UniSyncScores:
    """Scores of one clip by one expert (see the module docstring for definitions)."""

    pair: str
    offset: int
    confidence: float
    in_sync_share: float
    mean_probability: float
    offsets: list[int]
    probabilities: list[float]
    window_probability: list[float] = field(repr=False)
    drift: list[DriftSegment] = field(repr=False, default_factory=list)
    drift_per_minute: float = 0.0
    num_windows: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def _batched(fn, x: torch.Tensor, batch_size: int) -> torch.Tensor:
    return torch.cat([fn(x[s:s + batch_size]) for s in range(0, len(x), batch_size)])


def audio_features(expert: UniSyncExpert, audio: torch.Tensor) -> torch.Tensor:
    """``(S,)`` 16 kHz waveform -> ``(T_a, F)`` features of the expert's audio representation; ``(T_a, F)`` passes."""
    check_tensor(audio, "audio")
    device = next(expert.parameters()).device
    if audio.ndim == 1:
        if not audio.is_floating_point() or len(audio) < SAMPLE_RATE // 5:
            raise ValueError(f"audio: expected a float 16 kHz waveform (S,) of at least 0.2 s, got {describe(audio)}")
        frontend = expert.audio_rep.build_frontend().to(device).eval()
        return frontend(audio.float().to(device)[None])[0]
    if audio.ndim == 2 and audio.shape[1] == expert.audio_rep.feature_dim:
        return audio.to(device)
    raise ValueError(
        f"audio: expected a 16 kHz waveform (S,) or {expert.audio_rep.name} features (T_a, "
        f"{expert.audio_rep.feature_dim}), got {describe(audio)}"
    )


@torch.inference_mode()
def probability_matrix(expert: UniSyncExpert, audio: torch.Tensor, visual: torch.Tensor, vshift: int = VSHIFT,
                       batch_size: int = 256) -> torch.Tensor:
    """``(N, 2 vshift + 1)`` sync probabilities, column ``j`` = offset ``j - vshift``; NaN where audio is missing.

    ``audio``: waveform ``(S,)`` or features ``(T_a, F)``; ``visual``: ``(T, *frame_shape)`` at 25 fps, ``T >= 5``.
    """
    vrep, arep = expert.visual_rep, expert.audio_rep
    check_tensor(visual, "visual")
    device = next(expert.parameters()).device
    visual = vrep.prepare(visual[None].to(device), "visual")[0]
    if len(visual) < vrep.window:
        raise ValueError(f"visual: expected at least {vrep.window} frames (0.2 s at 25 fps), got {describe(visual)}")
    features = audio_features(expert, audio)
    windows = rearrange(visual.unfold(0, vrep.window, 1), "n ... w -> n w ...")  # (N, 5, ...), a view
    n = len(windows)
    starts = torch.arange(n + vshift, device=device)
    index = audio_window_indices(starts, vrep.rate, arep.rate, arep.window)
    n_audio = int((index[:, -1] < len(features)).sum())
    if n_audio < 1:
        raise ValueError(f"audio: shorter than one 0.2 s window ({describe(audio)})")
    video_emb = F.normalize(F.relu(_batched(expert.embed_visual, windows, batch_size).float()), dim=-1)
    audio_emb = F.normalize(F.relu(_batched(expert.embed_audio, features[index[:n_audio]], batch_size).float()), dim=-1)
    offsets = torch.arange(-vshift, vshift + 1, device=device)
    source = torch.arange(n, device=device)[:, None] - offsets[None, :]  # audio window paired with each (v, o)
    valid = (source >= 0) & (source < n_audio)
    paired = audio_emb[source.clamp(0, n_audio - 1)]  # (N, 2 vshift + 1, E)
    p = torch.einsum("ne,noe->no", video_emb, paired).clamp(0.0, 1.0)
    return torch.where(valid, p, torch.full_like(p, float("nan")))


@torch.inference_mode()
def unisync_scores(expert: UniSyncExpert, audio: torch.Tensor, visual: torch.Tensor, vshift: int = VSHIFT,
                   segment: int = 50, hop: int = 25, batch_size: int = 256) -> UniSyncScores:
    """Score one clip: ``audio`` waveform ``(S,)`` at 16 kHz (or features ``(T_a, F)``), ``visual`` ``(T, ...)``.

    ``segment`` / ``hop``: windows per drift segment and between segment starts (50 / 25 = 2 s every 1 s).
    """
    if not isinstance(expert, UniSyncExpert):
        raise ValueError(f"expert: expected a UniSyncExpert, got {describe(expert)}")
    for value, name in ((vshift, "vshift"), (segment, "segment"), (hop, "hop"), (batch_size, "batch_size")):
        check_positive_int(value, name)
    p = probability_matrix(expert, audio, visual, vshift, batch_size).cpu().double().numpy()
    offsets = list(range(-vshift, vshift + 1))
    curve = offset_curve(p)
    offset, confidence = best_offset(curve, offsets)
    at_zero = p[:, vshift]
    seen = at_zero[~np.isnan(at_zero)]
    fps = expert.visual_rep.rate
    drift = []
    for start in range(0, max(1, len(p) - segment + hop), hop):
        stop = min(len(p), start + segment)
        seg_curve = offset_curve(p[start:stop])
        if np.isnan(seg_curve).all():
            continue
        seg_offset, seg_conf = best_offset(seg_curve, offsets)
        drift.append(DriftSegment(start, stop, start / fps, stop / fps, seg_offset, float(seg_conf)))
        if stop == len(p):
            break
    slope = 0.0
    if len(drift) >= 2:
        times = np.array([(d.start_s + d.stop_s) / 2 for d in drift])
        slope = float(np.polyfit(times, [d.offset for d in drift], 1)[0] * 60.0)
    return UniSyncScores(
        pair=expert.pair, offset=offset, confidence=float(confidence),
        in_sync_share=float((seen > SYNC_THRESHOLD).mean()) if len(seen) else 0.0,
        mean_probability=float(seen.mean()) if len(seen) else 0.0,
        offsets=offsets, probabilities=[None if np.isnan(v) else float(v) for v in curve],
        window_probability=[None if np.isnan(v) else float(v) for v in at_zero],
        drift=drift, drift_per_minute=slope, num_windows=len(p),
    )
