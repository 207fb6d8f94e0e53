"""Audio frontends: waveform (16 kHz) -> feature sequences, plus reading, resampling and caching.

* :mod:`.mel` – Wav2Lip-compatible log-mel (:class:`Wav2LipMel` ``(B, S) -> (B, 80, T)``, :class:`MelFrontend`).
* :mod:`.hubert` – HuBERT hidden states through transformers (:class:`HubertFrontend`, 50 frames/s).
* :mod:`.io` – audio from files and video containers (:func:`load_audio`) and from arrays (:func:`as_waveform`).
* :mod:`.resample` – band-limited sample-rate conversion; :mod:`.activity` – loudness and silence.
* :mod:`.features` – features of stored clips, cached by settings (:func:`cached_features`).
"""

from .activity import is_silent, rms_db
from .features import cached_features, compute_features, precompute_features
from .hubert import HubertFrontend
from .io import as_waveform, load_audio, read_audio
from .mel import MelFrontend, Wav2LipMel
from .resample import resample

__all__ = [
    "Wav2LipMel", "MelFrontend", "HubertFrontend", "load_audio", "read_audio", "as_waveform", "resample",
    "compute_features", "cached_features", "precompute_features", "is_silent", "rms_db",
]
