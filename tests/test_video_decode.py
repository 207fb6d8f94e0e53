"""Decoding: constant 25 fps by timestamps, 16 kHz mono audio aligned to the first frame, bad files refused."""

import math
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from test_video_media import frame_index, index_frame, tone, write_video

from unisync_loss.video import VideoDecodeError, iter_frames, probe_video, read_audio, read_video


def decoded_indices(frames) -> list[int]:
    return [frame_index(f) for f in frames]


def expected_indices(times: list[float], fps: float, count: int) -> list[int]:
    """The fps filter's rule: output n shows the last source frame whose rounded slot (ties up) is <= n."""
    slots = [math.floor((Fraction(t) - Fraction(times[0])) * Fraction(fps) + Fraction(1, 2)) for t in times]
    return [max(i for i, s in enumerate(slots) if s <= n) for n in range(count)]


def test_30fps_source_becomes_25fps_by_timestamps(tmp_path):
    path = write_video(tmp_path / "v30.mp4", [index_frame(i) for i in range(30)], fps=30)
    frames = list(iter_frames(path))
    assert len(frames) == 25  # 1.0 s
    indices = decoded_indices(frames)
    assert indices == expected_indices([Fraction(i, 30) for i in range(30)], 25, 25)
    # exact half slots round up: source frame 3 (0.1 s = slot 2.5) goes to slot 3, where frame 4 (slot 3.33)
    # replaces it; rounding the tie down would have put frame 3 in slot 2 instead of frame 2 (slot 1.67)
    assert indices[2] == 2 and indices[3] == 4


REAL_30FPS = "StyleTalk__feifeili_clip3_muxed.mp4"  # 256x256, 30 fps H.264, 7.07 s


def _real_30fps_clip():
    from conftest import SHARED_DATA

    path = SHARED_DATA / "real_corpus" / REAL_30FPS
    if not path.is_file():
        pytest.skip(f"real 30 fps clip {REAL_30FPS} not found under the shared data folder ({path.parent})")
    return path


def _ffmpeg_fps_filter_in_process(path) -> list[bytes]:
    """Frames of libavfilter's fps=25 (FFmpeg's own filter, through PyAV) as yuv420p bytes."""
    import av

    out = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        graph = av.filter.Graph()
        source, fps, sink = graph.add_buffer(template=stream), graph.add("fps", "25"), graph.add("buffersink")
        source.link_to(fps)
        fps.link_to(sink)
        graph.configure()

        def drain():
            while True:
                try:
                    out.append(graph.pull().to_ndarray(format="yuv420p").tobytes())
                except (av.BlockingIOError, av.EOFError):
                    return

        for frame in container.decode(stream):
            graph.push(frame)
            drain()
        graph.push(None)
        drain()
    return out


def test_frame_selection_equals_ffmpeg_fps_filter_on_a_real_30fps_clip():
    path = _real_30fps_clip()
    ours = [f.tobytes() for f in iter_frames(path, pixel_format="yuv420p")]
    theirs = _ffmpeg_fps_filter_in_process(path)
    assert len(ours) == len(theirs) == 177  # 212 source frames, 7.07 s
    assert sum(a != b for a, b in zip(ours, theirs)) == 0


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="the ffmpeg executable is not on PATH")
def test_frame_selection_equals_the_ffmpeg_command_on_a_real_30fps_clip():
    path = _real_30fps_clip()
    ours = np.stack(list(iter_frames(path, pixel_format="yuv420p")))
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v", "-vf", "fps=25",
                          "-pix_fmt", "yuv420p", "-f", "rawvideo", "-"], capture_output=True, check=True).stdout
    theirs = np.frombuffer(raw, np.uint8).reshape(-1, *ours.shape[1:])
    assert theirs.shape == ours.shape
    assert [np.array_equal(a, b) for a, b in zip(ours, theirs)].count(False) == 0
    # the RGB frames are these planes converted: the same selection
    rgb = list(iter_frames(path))
    assert len(rgb) == len(ours)


def test_variable_frame_rate_is_resampled_by_timestamps(tmp_path):
    rng = np.random.default_rng(0)
    times = np.cumsum(rng.uniform(0.03, 0.06, 24)).tolist()
    times = [0.0] + np.round(times, 3).tolist()
    path = write_video(tmp_path / "vfr.mkv", [index_frame(i) for i in range(len(times))], times=times)
    frames = list(iter_frames(path))
    end = times[-1] + 1 / float(probe_video(path).source_fps)
    assert abs(len(frames) - (end - times[0]) * 25) <= 1
    assert decoded_indices(frames) == expected_indices(times, 25, len(frames))


def test_audio_is_16k_mono_and_keeps_its_pitch(tmp_path):
    path = write_video(tmp_path / "a.mp4", [index_frame(i) for i in range(25)], fps=25, audio=tone(1.0, freq=440))
    video = read_video(path)
    assert video.frames.shape == (25, 64, 64, 3) and video.audio.dtype == np.float32 and video.audio.ndim == 1
    assert abs(len(video.audio) - 16000) < 16000 * 0.05
    spectrum = np.abs(np.fft.rfft(video.audio[2000:14000]))
    assert np.fft.rfftfreq(12000, 1 / 16000)[spectrum.argmax()] == pytest.approx(440, abs=3)


@pytest.mark.parametrize("video_codec, audio_codec, suffix, decoder", [
    ("libx264", "aac", ".mp4", "h264"), ("libx265", "mp3", ".mkv", "hevc"), ("libvpx-vp9", "pcm_s16le", ".mkv", "vp9")])
def test_common_codecs_decode(tmp_path, video_codec, audio_codec, suffix, decoder):
    path = write_video(tmp_path / f"v{suffix}", [index_frame(i) for i in range(13)], fps=25, codec=video_codec,
                       audio=tone(0.52), audio_codec=audio_codec)
    video = read_video(path)
    assert video.info.video_codec.startswith(decoder) and decoded_indices(video.frames) == list(range(13))
    assert abs(len(video.audio) - 0.52 * 16000) < 0.05 * 16000 and np.abs(video.audio).max() > 0.1


def test_leading_audio_before_the_first_frame_is_cut(tmp_path):
    # The video starts at 0.2 s, the audio at 0: sample 0 must be the sound at 0.2 s.
    times = [0.2 + i / 25 for i in range(25)]
    wave = np.zeros((1, 44100), np.float32)
    wave[0, int(0.2 * 44100):int(0.25 * 44100)] = 0.5  # a click at 0.2 s
    path = write_video(tmp_path / "late.mkv", [index_frame(i) for i in range(25)], times=times, audio=wave)
    audio = read_audio(path)
    onset = int(np.argmax(np.abs(audio) > 0.25))
    assert onset < 0.01 * 16000


def test_real_clips_frame_count_matches_duration_at_25fps(real_clips):
    for name in ("clip_a.mp4", "clip_b.mp4", "clip_c.mp4"):
        path = real_clips / name
        info = probe_video(path)
        count = sum(1 for _ in iter_frames(path))
        assert abs(count - info.duration * 25) <= 1, (name, count, info.duration)
        audio = read_audio(path)
        assert abs(len(audio) / 16000 - info.duration) < 0.1


def test_real_clip_at_22fps_is_resampled_not_relabelled(real_clips):
    info = probe_video(real_clips / "clip_a.mp4")
    assert info.source_fps == pytest.approx(1350 / 61, rel=1e-3)
    assert sum(1 for _ in iter_frames(info.path)) > 135 + 15  # 135 source frames, 6.1 s -> about 152 at 25 fps


def test_no_audio_stream_is_refused(tmp_path):
    path = write_video(tmp_path / "mute.mp4", [index_frame(i) for i in range(5)])
    with pytest.raises(VideoDecodeError, match="no audio stream"):
        read_audio(path)
    assert read_video(path, with_audio=False).audio is None


@pytest.mark.parametrize("content", [b"", b"\x00" * 10, np.random.default_rng(1).bytes(5000)])
def test_corrupt_or_empty_files_are_refused(tmp_path, content):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(VideoDecodeError):
        read_video(path)


def test_audio_only_file_has_no_video(tmp_path):
    import av

    path = tmp_path / "audio.wav"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1600), np.int16), format="s16", layout="mono")
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    with pytest.raises(VideoDecodeError, match="no video stream"):
        read_video(path)
    assert len(read_audio(path)) == 1600


def test_frame_size_change_mid_stream_is_refused(tmp_path):
    first = write_video(tmp_path / "a.ts", [index_frame(i, (64, 64)) for i in range(10)], codec="libx264")
    second = write_video(tmp_path / "b.ts", [index_frame(i, (80, 96)) for i in range(10)], codec="libx264")
    joined = tmp_path / "joined.ts"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    with pytest.raises(VideoDecodeError, match="frame size changes"):
        list(iter_frames(joined))


def test_long_hole_in_timestamps_is_refused(tmp_path):
    times = [i / 25 for i in range(10)] + [2.0 + i / 25 for i in range(10)]
    path = write_video(tmp_path / "hole.mkv", [index_frame(i) for i in range(20)], times=times)
    with pytest.raises(VideoDecodeError, match="without video frames"):
        list(iter_frames(path, max_gap=0.5))


def test_bad_arguments():
    with pytest.raises(FileNotFoundError, match="path"):
        read_video("missing.mp4")
    with pytest.raises(ValueError, match="fps"):
        list(iter_frames(__file__, fps=0))
    with pytest.raises(ValueError, match="path"):
        read_video(42)


def write_mkv_with_an_empty_stream(path, video_frames: int, audio_samples: int):
    """Matroska keeps a declared track even when no packet of it was written: a zero-length stream."""
    import av

    with av.open(str(path), "w") as out:
        video = out.add_stream("mpeg4", rate=25)
        video.width = video.height = 64
        video.pix_fmt = "yuv420p"
        audio = out.add_stream("pcm_s16le", rate=16000, layout="mono")
        for i in range(video_frames):
            frame = av.VideoFrame.from_ndarray(index_frame(i), format="rgb24")
            frame.pts = i
            for packet in video.encode(frame):
                out.mux(packet)
        if audio_samples:
            frame = av.AudioFrame.from_ndarray(np.full((1, audio_samples), 1000, np.int16), format="s16", layout="mono")
            frame.sample_rate, frame.pts = 16000, 0
            for packet in audio.encode(frame):
                out.mux(packet)
        for packet in [*video.encode(), *audio.encode()]:
            out.mux(packet)
    return path


def test_zero_length_streams_are_refused(tmp_path):
    no_audio = write_mkv_with_an_empty_stream(tmp_path / "a.mkv", video_frames=5, audio_samples=0)
    assert len(list(iter_frames(no_audio))) == 5
    with pytest.raises(VideoDecodeError, match="no samples"):
        read_audio(no_audio)
    no_video = write_mkv_with_an_empty_stream(tmp_path / "v.mkv", video_frames=0, audio_samples=1600)
    with pytest.raises(VideoDecodeError, match="no decodable frame"):
        list(iter_frames(no_video))


def test_a_missing_start_time_falls_back_to_zero_with_a_warning(caplog):
    from types import SimpleNamespace

    from unisync_loss.video.decode import _stream_start

    with caplog.at_level("WARNING", logger="unisync_loss.video.decode"):
        start = _stream_start(SimpleNamespace(start_time=None, time_base=None, type="audio"), Path("talk.mp4"))
    assert start == 0.0
    assert "talk.mp4: the audio stream announces no start time" in caplog.text
    assert _stream_start(SimpleNamespace(start_time=512, time_base=Fraction(1, 12800), type="video"),
                         Path("talk.mp4")) == 0.04
