"""Reading audio from audio files and video containers, and bringing any samples to 16 kHz mono float32."""


import av
import numpy as np
import pytest
import torch

from unisync_loss.audio.activity import is_silent, rms_db
from unisync_loss.audio.io import as_waveform, load_audio, read_audio, to_float
from unisync_loss.audio.resample import resample

RATE = 44100


def stereo_tone(seconds=1.0, rate=RATE):
    t = np.arange(int(seconds * rate)) / rate
    return np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 440 * t)]).astype(np.float32)


def write_media(path, codec, sample_format, samples, rate=RATE, video=False, audio=True):
    """Encode ``samples`` (2, S) into ``path`` with PyAV, optionally beside a tiny black video track."""
    with av.open(str(path), "w") as out:  # every stream is added before the first packet is written
        picture = out.add_stream("mpeg4", rate=25) if video else None
        track = out.add_stream(codec, rate=rate, layout="stereo") if audio else None
        packets = []
        if picture is not None:
            picture.width, picture.height, picture.pix_fmt = 32, 32, "yuv420p"
            black = np.zeros((32, 32, 3), np.uint8)
            for _ in range(25):
                packets += picture.encode(av.VideoFrame.from_ndarray(black, format="rgb24"))
            packets += picture.encode()
        if track is not None:
            data = samples if sample_format == "fltp" else (samples.T.reshape(1, -1) * 32767).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(data, format=sample_format, layout="stereo")
            frame.sample_rate = rate
            packets += [*track.encode(frame), *track.encode(None)]
        for packet in packets:
            out.mux(packet)
    return path


def dominant_hz(wave, rate=16000):
    spectrum = np.abs(np.fft.rfft(wave.numpy() * np.hanning(wave.numel())))
    return np.argmax(spectrum) * rate / wave.numel()


@pytest.mark.parametrize("name, codec, fmt", [("a.wav", "pcm_s16le", "s16"), ("a.flac", "flac", "s16"),
                                              ("a.mkv", "pcm_s16le", "s16")])
def test_lossless_files_decode_to_the_expected_waveform(tmp_path, name, codec, fmt):
    samples = stereo_tone()
    wave = load_audio(write_media(tmp_path / name, codec, fmt, samples, video=name.endswith("mkv")))
    expected = resample(torch.from_numpy(samples.mean(0)), RATE, 16000)
    assert wave.dtype == torch.float32 and wave.shape == (16000,)
    torch.testing.assert_close(wave, expected, atol=2e-4, rtol=0)


@pytest.mark.parametrize("name, codec", [("a.mp3", "libmp3lame"), ("a.mp4", "aac"), ("a.avi", "libmp3lame")])
def test_lossy_files_and_video_containers(tmp_path, name, codec):
    path = write_media(tmp_path / name, codec, "fltp", stereo_tone(), video=name != "a.mp3")
    samples, rate = read_audio(path)
    assert rate == RATE and samples.shape[0] == 2
    wave = load_audio(path)
    assert abs(wave.numel() - 16000) < 0.1 * 16000  # codec priming/padding only
    assert abs(dominant_hz(wave) - 440) < 2
    assert abs(float(rms_db(wave[None])[0]) - 20 * np.log10(0.4 / np.sqrt(2))) < 1.0


def test_video_without_audio_track(tmp_path):
    path = write_media(tmp_path / "silent.mp4", None, None, None, video=True, audio=False)
    with pytest.raises(ValueError, match=r"silent\.mp4: has no audio track \(streams: video"):
        load_audio(path)


def test_unreadable_and_missing_files(tmp_path):
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not audio" * 100)
    with pytest.raises(ValueError, match="junk.wav: unreadable"):
        load_audio(junk)
    with pytest.raises(FileNotFoundError, match="nothing.mp3"):
        load_audio(tmp_path / "nothing.mp3")
    with pytest.raises(ValueError, match="stream: .* has 1 audio track"):
        read_audio(write_media(tmp_path / "a.wav", "pcm_s16le", "s16", stereo_tone()), stream=1)


def test_sample_types_and_layouts():
    tone = stereo_tone(0.5, rate=16000)
    pcm = (tone * 32767).astype(np.int16)
    np.testing.assert_allclose(to_float(pcm), tone, atol=1e-4)
    np.testing.assert_allclose(to_float((tone * 2**31 * 0.999).astype(np.int32)), tone * 0.999, atol=1e-6)
    np.testing.assert_allclose(to_float(np.array([0, 128, 255], np.uint8)), [-1.0, 0.0, 127 / 128])
    channels_first = as_waveform(pcm, 16000)
    channels_last = as_waveform(pcm.T, 16000)
    torch.testing.assert_close(channels_first, channels_last)
    torch.testing.assert_close(channels_first, torch.from_numpy(tone.mean(0)), atol=1e-4, rtol=0)
    assert as_waveform(np.zeros(22050, np.float32), 22050.0).shape == (16000,)


@pytest.mark.parametrize(
    "samples, rate, message",
    [
        (np.zeros(100, np.float32), 44100.5, "sample_rate: expected an integer sample rate"),
        (np.zeros(100, np.float32), -16000, "sample_rate: expected a positive"),
        (np.array([0.1, np.nan], np.float32), 16000, "2 NaN/inf|1 NaN/inf"),
        (np.zeros(0, np.float32), 16000, "at least one sample"),
        (np.zeros((30, 40), np.float32), 16000, r"\(C, S\) or \(S, C\)"),
        (np.zeros(10, np.complex64), 16000, "PCM or float"),
    ],
)
def test_bad_samples(samples, rate, message):
    with pytest.raises(ValueError, match=message):
        as_waveform(samples, rate)


def test_silence_is_detectable():
    wave = torch.stack([torch.zeros(3200), 0.1 * torch.randn(3200, generator=torch.Generator().manual_seed(0))])
    assert is_silent(wave).tolist() == [True, False]
    assert float(rms_db(wave)[0]) == -120.0


@pytest.mark.parametrize("clip, seconds", [("clip_a.mp4", 6.1), ("clip_b.mp4", 5.0), ("clip_c.mp4", 10.0)])
def test_real_clips(real_clips, clip, seconds):
    path = real_clips / clip
    samples, rate = read_audio(path)
    assert rate == 44100 and samples.shape[0] == 2
    wave = load_audio(path)
    assert abs(wave.numel() / 16000 - seconds) < 0.1
    assert not bool(is_silent(wave[None])[0]) and float(wave.abs().max()) <= 1.0
