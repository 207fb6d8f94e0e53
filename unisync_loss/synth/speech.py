"""Text-to-speech with phoneme timings: eSpeak NG driven through ctypes (library and voices from ``espeakng-loader``).

:func:`synthesize` returns a :class:`Speech`: a 16 kHz float32 waveform and the IPA phonemes that eSpeak actually
spoke, each with its start and end time in seconds (pauses are the phoneme ``""``). :func:`add_noise` mixes
background noise at a set signal-to-noise ratio.
"""

from __future__ import annotations

import ctypes
import math
import threading
from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16000

#: Languages and the eSpeak voice names of each (the first is the default).
LANGUAGE_VOICES = {
    "en": ("en-us", "en", "en-gb-x-rp", "en-gb-scotland", "en-gb-x-gbclan", "en-029", "en-us-nyc"),
    "zh": ("cmn",),
}
#: Voice variants (eSpeak ``!v`` files) that change timbre; ``""`` is the voice's own sound.
VARIANTS = ("", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2", "klatt3")

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS, _INIT_PHONEME_IPA, _INIT_DONT_EXIT = 0x0001, 0x0002, 0x8000
_EVENT_END_OF_LIST, _EVENT_PHONEME = 0, 7
_PARAM_RATE, _PARAM_PITCH, _PARAM_RANGE = 1, 3, 4
_CHARS_UTF8, _POS_CHARACTER = 1, 1
_NOISE_SEED = 1


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    """``espeak_EVENT`` of ``speak_lib.h``."""

    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass
class Speech:
    """Synthesised speech: ``wave`` float32 (S,) at 16 kHz in [-1, 1]; ``phonemes`` IPA strings ("" = pause) with
    ``starts``/``ends`` float64 (P,) in seconds."""

    wave: np.ndarray
    phonemes: list[str]
    starts: np.ndarray
    ends: np.ndarray

    @property
    def duration(self) -> float:
        return len(self.wave) / SAMPLE_RATE


class _Engine:
    """eSpeak NG loaded afresh for every utterance.

    The library keeps state between utterances (pitch flutter phase, noise generators), so the same text spoken twice
    in one process differs slightly. Loading it, speaking once and unloading it again (about 10 ms) starts every
    utterance from the same state: the same text and settings give the same bytes in any process.
    """

    _lock = threading.Lock()

    def __init__(self):
        try:
            import espeakng_loader
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("the synthetic corpus needs eSpeak NG: pip install 'unisync-loss[synth]'") from err
        self.library_path = espeakng_loader.get_library_path()
        self.data_path = espeakng_loader.get_data_path().encode()
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[str, int]] = []
        self._callback = _Callback(self._on_audio)  # keep a reference: the library calls it back

    def _on_audio(self, wav, num_samples, events) -> int:
        if num_samples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(num_samples,)).copy())
        i = 0
        while events[i].type != _EVENT_END_OF_LIST:
            if events[i].type == _EVENT_PHONEME:
                self._events.append((events[i].id.string.decode("utf-8", "replace"), events[i].sample))
            i += 1
        return 0

    def speak(self, text: str, voice: str, rate: int, pitch: int, pitch_range: int) -> tuple[np.ndarray, list, int]:
        """``(int16 samples, [(phoneme, start sample)], sample rate)`` of ``text`` spoken by ``voice``."""
        with self._lock:
            lib = ctypes.CDLL(self.library_path)
            try:
                sample_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, self.data_path,
                                                    _INIT_PHONEME_EVENTS | _INIT_PHONEME_IPA | _INIT_DONT_EXIT)
                if sample_rate <= 0:
                    raise RuntimeError(f"eSpeak NG failed to initialise (returned {sample_rate})")
                lib.espeak_SetSynthCallback(self._callback)
                if hasattr(lib, "espeak_ng_SetRandSeed"):  # breathy variants mix noise seeded from the clock
                    lib.espeak_ng_SetRandSeed(ctypes.c_long(_NOISE_SEED))
                if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                    raise ValueError(f"voice: eSpeak NG has no voice {voice!r}")
                for param, value in ((_PARAM_RATE, rate), (_PARAM_PITCH, pitch), (_PARAM_RANGE, pitch_range)):
                    lib.espeak_SetParameter(param, int(value), 0)
                self._chunks, self._events = [], []
                data = text.encode("utf-8")
                error = lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
                lib.espeak_Synchronize()
                if error != 0:
                    raise RuntimeError(f"eSpeak NG failed to synthesise {text!r} (error {error})")
                wave = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
                return wave, list(self._events), sample_rate
            finally:
                lib.espeak_Terminate()
                _unload(lib)


def _unload(lib: ctypes.CDLL) -> None:
    """Unload a shared library so that its next load starts from fresh static state."""
    import _ctypes

    close = getattr(_ctypes, "dlclose", None) or getattr(_ctypes, "FreeLibrary", None)
    if close is not None:
        close(lib._handle)


_ENGINE: _Engine | None = None


def _engine() -> _Engine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Engine()
    return _ENGINE


def _to_16k(wave: np.ndarray, rate: int) -> np.ndarray:
    """Band-limited resampling by spectrum truncation; float32 (S,) at 16 kHz.

    The utterance is zero-padded to a whole number of resampling periods, so the time axis maps exactly and the
    circular FFT does not wrap the ends together.
    """
    period = rate // math.gcd(rate, SAMPLE_RATE)  # input samples per whole number of output samples
    pad = period * max(1, 2048 // period)
    total = math.ceil((len(wave) + 2 * pad) / period) * period
    padded = np.zeros(total)
    padded[pad:pad + len(wave)] = wave
    new_len = total * SAMPLE_RATE // rate
    out = np.fft.irfft(np.fft.rfft(padded)[: new_len // 2 + 1], n=new_len) * (new_len / total)
    start = pad * SAMPLE_RATE // rate
    return out[start:start + int(round(len(wave) * SAMPLE_RATE / rate))].astype(np.float32)


def voice_name(language: str, voice: str | None = None, variant: str = "") -> str:
    """eSpeak voice name such as ``"en-us+f3"``; checks the language, voice and variant."""
    if language not in LANGUAGE_VOICES:
        raise ValueError(f"language: expected one of {list(LANGUAGE_VOICES)}, got {language!r}")
    voice = LANGUAGE_VOICES[language][0] if voice is None else voice
    if voice not in LANGUAGE_VOICES[language]:
        raise ValueError(f"voice: expected one of {list(LANGUAGE_VOICES[language])} for language {language!r}, "
                         f"got {voice!r}")
    if variant not in VARIANTS:
        raise ValueError(f"variant: expected one of {list(VARIANTS)}, got {variant!r}")
    return f"{voice}+{variant}" if variant else voice


def synthesize(text: str, language: str = "en", voice: str | None = None, variant: str = "", rate: int = 175,
               pitch: int = 50, pitch_range: int = 50) -> Speech:
    """Speak ``text`` with eSpeak NG. ``rate`` in words per minute (80..450), ``pitch``/``pitch_range`` in 0..100.

    Raises ``ValueError`` for an unknown language/voice/variant, bad numbers, or text that yields no phonemes.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"text: expected a non-empty string, got {text!r}")
    name = voice_name(language, voice, variant)
    limits = (("rate", rate, 80, 450), ("pitch", pitch, 0, 100), ("pitch_range", pitch_range, 0, 100))
    for arg, value, low, high in limits:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
            raise ValueError(f"{arg}: expected an integer in [{low}, {high}], got {value!r}")
    raw, events, source_rate = _engine().speak(text, name, rate, pitch, pitch_range)
    spoken = [(p, s) for p, s in events if p.strip(" _")]
    if not spoken or len(raw) == 0:
        raise ValueError(f"text: {text!r} produced no phonemes with voice {name!r}")
    wave = _to_16k(raw.astype(np.float32) / 32768.0, source_rate)
    wave = np.clip(wave, -1.0, 1.0).astype(np.float32)
    duration = len(wave) / SAMPLE_RATE
    phonemes = [p if p.strip(" _") else "" for p, _ in events]
    starts = np.array([s / source_rate for _, s in events], dtype=np.float64)
    ends = np.append(starts[1:], duration)
    keep = ends > starts  # events at the same instant: the later one wins
    return Speech(wave, [p for p, k in zip(phonemes, keep) if k], starts[keep], ends[keep])


def concatenate(parts: list[Speech], gaps: list[float]) -> Speech:
    """Join utterances with ``gaps[i]`` seconds of silence before part ``i`` (times shift accordingly)."""
    if not parts or len(parts) != len(gaps):
        raise ValueError(f"parts/gaps: expected equally long non-empty lists, got {len(parts)} and {len(gaps)}")
    waves, phonemes, starts, ends, offset = [], [], [], [], 0.0
    for part, gap in zip(parts, gaps):
        if gap < 0:
            raise ValueError(f"gaps: expected non-negative seconds, got {gap!r}")
        silence = int(round(gap * SAMPLE_RATE))
        if silence:
            waves.append(np.zeros(silence, np.float32))
            phonemes.append("")
            starts.append(np.array([offset]))
            ends.append(np.array([offset + silence / SAMPLE_RATE]))
            offset += silence / SAMPLE_RATE
        waves.append(part.wave)
        phonemes += part.phonemes
        starts.append(part.starts + offset)
        ends.append(part.ends + offset)
        offset += part.duration
    starts_all, ends_all = np.concatenate(starts), np.concatenate(ends)
    keep = ends_all > starts_all
    return Speech(np.concatenate(waves), [p for p, k in zip(phonemes, keep) if k], starts_all[keep], ends_all[keep])


def pad_to_frames(speech: Speech, fps: float = 25.0) -> Speech:
    """Pad with silence so the waveform spans a whole number of video frames at ``fps``."""
    per_frame = SAMPLE_RATE / fps
    frames = math.ceil(len(speech.wave) / per_frame - 1e-9)
    extra = int(round(frames * per_frame)) - len(speech.wave)
    if extra <= 0:
        return speech
    silence = Speech(np.zeros(extra, np.float32), [""], np.zeros(1), np.array([extra / SAMPLE_RATE]))
    return concatenate([speech, silence], [0.0, 0.0])


def add_noise(wave: np.ndarray, snr_db: float | None, rng: np.random.Generator) -> np.ndarray:
    """Mix pink-ish background noise at ``snr_db`` dB (relative to the speech power); ``None`` returns ``wave``."""
    if not isinstance(wave, np.ndarray) or wave.ndim != 1 or wave.dtype != np.float32:
        raise ValueError(f"wave: expected a float32 array (S,), got {getattr(wave, 'dtype', type(wave))} "
                         f"{getattr(wave, 'shape', '')}")
    if snr_db is None:
        return wave
    if not isinstance(snr_db, (int, float)) or not math.isfinite(snr_db):
        raise ValueError(f"snr_db: expected a finite number of dB or None, got {snr_db!r}")
    white = rng.standard_normal(len(wave))
    spectrum = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(len(wave), 1.0 / SAMPLE_RATE)
    spectrum /= np.sqrt(np.maximum(freqs, 50.0))  # 1/f power: pink noise, like room and street background
    noise = np.fft.irfft(spectrum, n=len(wave))
    speech_power = float(np.mean(wave.astype(np.float64) ** 2))
    noise *= math.sqrt(speech_power / (10 ** (snr_db / 10)) / max(float(np.mean(noise ** 2)), 1e-12))
    mixed = wave + noise.astype(np.float32)
    peak = float(np.abs(mixed).max())
    return (mixed / peak * 0.99 if peak > 0.99 else mixed).astype(np.float32)
