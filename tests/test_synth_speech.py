"""eSpeak NG speech: waveform format, phoneme timings, languages, noise, bad input."""

import numpy as np
import pytest

pytest.importorskip("espeakng_loader", reason="the synthetic corpus needs eSpeak NG (pip install espeakng-loader)")

from unisync_loss.synth.speech import (  # noqa: E402
    LANGUAGE_VOICES, SAMPLE_RATE, VARIANTS, _to_16k, add_noise, concatenate, pad_to_frames, synthesize,
)


def test_english_speech_has_ordered_phonemes_covering_the_audio():
    speech = synthesize("Maybe we should buy five apples.", variant="f2", rate=160)
    assert speech.wave.dtype == np.float32 and speech.wave.ndim == 1
    assert 1.0 < speech.duration < 3.0 and np.abs(speech.wave).max() <= 1.0
    assert np.all(np.diff(speech.starts) > 0) and np.all(speech.ends > speech.starts)
    assert speech.ends[-1] == pytest.approx(speech.duration)
    spoken = [p for p in speech.phonemes if p]
    assert spoken[:4] == ["m", "ˈeɪ", "b", "iː"]
    # after 0.3 s of leading silence, every vowel's audio is loud and the silence is silent
    padded = concatenate([speech], [0.3])
    assert padded.starts[1] == pytest.approx(0.3) and padded.phonemes[0] == ""
    vowels = [(s, e) for p, s, e in zip(padded.phonemes, padded.starts, padded.ends) if p and p[-1] in "ɪːeæəʊ"]
    assert len(vowels) >= 4
    for s, e in vowels:
        assert np.sqrt(np.mean(padded.wave[int(s * SAMPLE_RATE):int(e * SAMPLE_RATE)] ** 2)) > 0.02
    assert np.abs(padded.wave[: int(0.3 * SAMPLE_RATE)]).max() == 0.0


def test_mandarin_voice_and_every_listed_voice_speak():
    speech = synthesize("你好，我们明天去北京。", language="zh")
    assert {"n", "i", "p"} <= set(speech.phonemes) and speech.duration > 1.0
    for language, voices in LANGUAGE_VOICES.items():
        for voice in voices:
            text = "hello" if language == "en" else "你好"
            assert synthesize(text, language=language, voice=voice).duration > 0.2


def test_variant_and_pitch_change_the_sound():
    a = synthesize("hello there", variant="m1", pitch=30).wave
    b = synthesize("hello there", variant="f3", pitch=70).wave
    assert len(a) != len(b) or not np.allclose(a, b)


def test_same_text_and_voice_give_the_same_bytes_every_time():
    # eSpeak keeps state between utterances (pitch flutter, clock-seeded noise); the engine must reset it
    for variant in ("", "f3", "klatt"):
        first = synthesize("hello there", variant=variant).wave.tobytes()
        synthesize("something else entirely", variant="m2")
        assert synthesize("hello there", variant=variant).wave.tobytes() == first


@pytest.mark.parametrize("kwargs, message", [
    ({"language": "fr"}, "language"), ({"voice": "de"}, "voice"), ({"variant": "robot9"}, "variant"),
    ({"rate": 10}, "rate"), ({"pitch": 101}, "pitch"),
])
def test_bad_settings_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        synthesize("hello", **kwargs)


@pytest.mark.parametrize("text", ["", "   ", "...", "\n\t"])
def test_text_without_phonemes_is_rejected(text):
    with pytest.raises(ValueError, match="text"):
        synthesize(text)


def test_noise_is_mixed_at_the_requested_snr():
    rng = np.random.default_rng(0)
    wave = (0.3 * np.sin(2 * np.pi * 220 * np.arange(SAMPLE_RATE) / SAMPLE_RATE)).astype(np.float32)
    noisy = add_noise(wave, 10.0, rng)
    snr = 10 * np.log10(np.mean(wave.astype(np.float64) ** 2) / np.mean((noisy - wave).astype(np.float64) ** 2))
    assert snr == pytest.approx(10.0, abs=0.05)
    assert add_noise(wave, None, rng) is wave
    with pytest.raises(ValueError, match="snr_db"):
        add_noise(wave, float("nan"), rng)
    with pytest.raises(ValueError, match="wave"):
        add_noise(wave.astype(np.float64), 10.0, rng)


def test_resampling_keeps_frequency_and_length():
    t = np.arange(22050) / 22050
    tone = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    out = _to_16k(tone, 22050)
    assert len(out) == SAMPLE_RATE
    expected = np.sin(2 * np.pi * 1000 * np.arange(SAMPLE_RATE) / SAMPLE_RATE)
    assert np.abs(out - expected)[500:-500].max() < 0.01


def test_padding_makes_whole_video_frames():
    speech = pad_to_frames(synthesize("yes"))
    assert len(speech.wave) % (SAMPLE_RATE // 25) == 0 and speech.phonemes[-1] == ""
    assert VARIANTS[0] == ""
