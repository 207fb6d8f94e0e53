"""Plain-language checks of a scored video's inputs: is there speech, and was the face there the whole time?

Sync scores of silence or of frames without a face mean nothing, so scoring says so in the record's ``warnings``.
"""

from __future__ import annotations

import numpy as np
import torch

from ..audio.activity import rms_db
from ..validation import describe

#: Whole-track level below which the audio counts as silent (dBFS), as in preprocessing.
SILENT_DB = -60.0
#: A 0.2 s window counts as sound when its level is at most this far below the track's loudest windows (dB).
SPEECH_RANGE_DB = 30.0
#: Fewer sounding windows than this share: "little speech".
MIN_SPEECH_SHARE = 0.2
#: A face found in fewer frames than this share of the video: "face lost".
MIN_FACE_SHARE = 0.9


def speech_warnings(wave: np.ndarray, sample_rate: int = 16000) -> list[str]:
    """Warnings for a float ``(S,)`` waveform that is silent or holds little sound (empty list when fine)."""
    if not isinstance(wave, np.ndarray) or wave.ndim != 1 or not np.issubdtype(wave.dtype, np.floating):
        raise ValueError(f"wave: expected a float (S,) waveform, got {describe(wave)}")
    window = sample_rate // 5
    if len(wave) < window:
        return [f"no speech: the audio lasts {len(wave) / sample_rate:.2f} s, less than one 0.2 s window"]
    level = float(rms_db(torch.from_numpy(np.array(wave, dtype=np.float32))[None])[0])
    if level < SILENT_DB:
        return [f"no speech: the audio is silent (RMS {level:.0f} dBFS); sync scores of silence are meaningless"]
    windows = torch.from_numpy(np.array(wave[:len(wave) // window * window], dtype=np.float32))
    levels = rms_db(windows.reshape(-1, window)).numpy()
    loud = np.percentile(levels, 95)
    share = float((levels > loud - SPEECH_RANGE_DB).mean())
    if share < MIN_SPEECH_SHARE:
        return [f"little speech: sound in {share:.0%} of the 0.2 s windows; scores rest on few windows"]
    return []


def face_warnings(track_spans: list[tuple[int, int]], num_frames: int, detected: list[float] | None = None) -> list[str]:
    """Warnings when face tracks ``[(start, num_frames), ...]`` cover too little of a ``num_frames`` video or were
    mostly interpolated (``detected``: each track's share of frames with a real detection)."""
    if num_frames <= 0:
        return []
    covered = np.zeros(num_frames, bool)
    for start, length in track_spans:
        covered[start:start + length] = True
    share = float(covered.mean())
    warnings = []
    if share < MIN_FACE_SHARE:
        missing = np.flatnonzero(~covered)
        warnings.append(f"face lost: a face was tracked in {share:.0%} of the {num_frames} frames; the "
                        f"{len(missing)} frames without one (first at {missing[0] / 25:.2f} s) are not scored")
    for index, fraction in enumerate(detected or []):
        if fraction < MIN_FACE_SHARE:
            warnings.append(f"face lost: track {index} was detected in only {fraction:.0%} of its frames "
                            "(the rest interpolated)")
    return warnings
