"""A hand-made sync signal that needs no training: mouth opening from 68-point landmarks against audio energy.

* :func:`mouth_opening`: distance of the inner-lip mid points (iBUG 62 and 66) per frame;
* :func:`energy_per_frame`: mean log-mel of each video frame's share of the audio (80 mel frames/s, 25 fps);
* :func:`window_score`: their correlation over one 0.2 s window, in [0, 1]: the floor any learnt expert must beat;
* :func:`lag_curve` / :func:`estimate_offset`: their correlation over a whole clip at audio lags ``-max..+max``
  frames. In speech the mouth moves a little before the sound, so offsets are reported relative to
  :data:`NATURAL_LEAD` = -1 frame; on the synthetic corpus (true offset 0) the estimate is then 0 for 55 of its first 60
  clips and +/-1 for the others (``python benchmarks/bench_offsets.py --data STORE --mouth-energy --clips 60``).

Offsets follow :mod:`~unisync_loss.metrics.sync_correction`: positive when the sound comes before the picture.
"""

from __future__ import annotations

import numpy as np

UPPER_LIP, LOWER_LIP = 62, 66
#: Lag (frames) at which mouth opening and energy correlate best when audio and video are in sync.
NATURAL_LEAD = -1
MEL_FRAMES_PER_VIDEO_FRAME = 80 / 25


def mouth_opening(landmarks: np.ndarray) -> np.ndarray:
    """``(T, 68, D)`` iBUG landmarks -> ``(T,)`` inner-lip opening, in the landmarks' unit."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.ndim != 3 or landmarks.shape[1] != 68:
        raise ValueError(f"landmarks: expected (T, 68, D) iBUG points, got shape {landmarks.shape}")
    return np.linalg.norm(landmarks[:, LOWER_LIP] - landmarks[:, UPPER_LIP], axis=-1)


def energy_per_frame(mel: np.ndarray, num_frames: int) -> np.ndarray:
    """``(T_mel, n_mels)`` log-mel at 80 frames/s -> ``(num_frames,)`` mean log-mel per 25 fps video frame."""
    mel = np.asarray(mel, dtype=np.float64)
    if mel.ndim != 2 or num_frames < 1 or len(mel) < 1:
        raise ValueError(f"mel, num_frames: expected (T, n_mels) features and >= 1 frame, got {mel.shape}, {num_frames}")
    energy = mel.mean(axis=1)
    edges = np.linspace(0, len(energy), num_frames + 1)
    return np.array([energy[int(a):max(int(a) + 1, int(b))].mean() for a, b in zip(edges[:-1], edges[1:])])


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3 or a.std() < 1e-9 or b.std() < 1e-9:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def window_score(landmark_window: np.ndarray, mel_window: np.ndarray) -> float:
    """One window: ``(5, 68, D)`` landmarks and ``(16, n_mels)`` log-mel -> correlation mapped to [0, 1]."""
    opening = mouth_opening(landmark_window)
    return (_correlation(opening, energy_per_frame(mel_window, len(opening))) + 1.0) / 2.0


def lag_curve(opening: np.ndarray, energy: np.ndarray, max_lag: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Correlation of ``opening[t]`` with ``energy[t - lag]`` for ``lag = -max_lag .. max_lag`` (both ``(T,)``
    per video frame). Returns ``(lags, correlations)``; a negative lag means the mouth moves before the sound."""
    opening, energy = np.asarray(opening, dtype=np.float64), np.asarray(energy, dtype=np.float64)
    n = min(len(opening), len(energy))
    if n < 2 * max_lag + 3:
        raise ValueError(f"opening, energy: need at least {2 * max_lag + 3} frames for lags +/-{max_lag}, got {n}")
    lags = np.arange(-max_lag, max_lag + 1)
    values = [_correlation(opening[max(0, lag):n + min(0, lag)], energy[max(0, -lag):n - max(0, lag)])
              for lag in lags]
    return lags, np.array(values)


def estimate_offset(landmarks: np.ndarray, mel: np.ndarray, max_lag: int = 10) -> tuple[int, float]:
    """A clip's ``(offset, peak correlation)``: the best lag relative to :data:`NATURAL_LEAD`, in frames, positive
    when the sound comes early. ``landmarks`` ``(T, 68, D)``, ``mel`` ``(T_mel, n_mels)`` log-mel at 80 frames/s."""
    opening = mouth_opening(landmarks)
    frames = min(len(opening), int(len(mel) / MEL_FRAMES_PER_VIDEO_FRAME))
    lags, values = lag_curve(opening[:frames], energy_per_frame(mel[:round(frames * MEL_FRAMES_PER_VIDEO_FRAME)],
                                                                frames), max_lag)
    best = int(np.argmax(values))
    return int(lags[best] - NATURAL_LEAD), float(values[best])
